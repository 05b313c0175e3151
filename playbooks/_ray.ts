// What the Ray playbooks share: their vars (checked before anything runs), the Secret that
// carries the session credentials, and kubectl reads in the Ray namespace.
import { InventoryError } from '../lib/errors.ts'
import type { Context, Host, Vars } from '../lib/index.ts'
import { EXPIRES_AT_ANNOTATION, validateAwsVars } from './_aws.ts'
import { ADMIN_CONF, CLUSTER, deriveClusterVars, waitFor } from './_kube.ts'
import type { ClusterVars } from './defaults.ts'

export const SECRET_NAME = 'session-token'
export const SECRET_KEYS = ['AWS_ACCESS_KEY_ID_SESS', 'AWS_SECRET_ACCESS_KEY_SESS', 'AWS_SESSION_TOKEN'] as const
/** On the Ray pod templates: the expiry of the credentials they were started with (the Secret's is EXPIRES_AT_ANNOTATION). */
export const EXPIRES_ANNOTATION = 'zxplay.io/session-token-expires-at'
export const DEPLOYMENTS = ['ray-head', 'ray-worker'] as const

export type RayVars = ClusterVars & { inventory_dir: string; inventory_file: string; refresh?: boolean }

export const rayVars = (ctx: Pick<Context, 'vars'>): RayVars => ctx.vars as unknown as RayVars

// Kubernetes quantities: CPU as cores or millicores, memory with a binary or decimal suffix.
const CPU = /^(\d+(\.\d+)?|\d+m)$/
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/

/** The ray and hpa blocks as the playbooks need them; an InventoryError names the key otherwise. */
export function checkRayVars(v: Vars): void {
  const file = String(v.inventory_file ?? 'the inventory')
  const fail = (key: string, expected: string, got: unknown): never => {
    throw new InventoryError(file, key, `expected ${expected}, got ${JSON.stringify(got)}`)
  }
  const ray = (v.ray ?? {}) as Record<string, unknown>
  const hpa = (v.hpa ?? {}) as Record<string, unknown>
  if (typeof ray.namespace !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ray.namespace)) fail('ray.namespace', 'a namespace name (lowercase letters, digits, -)', ray.namespace)
  if (typeof ray.image !== 'string' || !/^[\w./:@-]+$/.test(ray.image)) fail('ray.image', 'an image reference like rayproject/ray:2.52.0', ray.image)
  for (const role of ['head', 'worker']) {
    const cpu = ray[`${role}_cpu`]
    if (typeof cpu !== 'string' || !CPU.test(cpu) || Number.parseFloat(cpu) <= 0) fail(`ray.${role}_cpu`, "a CPU quantity above zero like '1' or '500m' (the HPA measures against it)", cpu)
    const mem = ray[`${role}_memory`]
    if (typeof mem !== 'string' || !MEMORY.test(mem) || Number.parseFloat(mem) <= 0) fail(`ray.${role}_memory`, "a memory quantity like '1Gi' or '512Mi'", mem)
  }
  if (typeof hpa.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(hpa.name)) fail('hpa.name', 'an object name (lowercase letters, digits, - and .)', hpa.name)
  const int = (x: unknown) => typeof x === 'number' && Number.isInteger(x)
  if (!int(hpa.min_replicas) || (hpa.min_replicas as number) < 1) fail('hpa.min_replicas', 'an integer of at least 1', hpa.min_replicas)
  if (!int(hpa.max_replicas) || (hpa.max_replicas as number) < (hpa.min_replicas as number)) fail('hpa.max_replicas', `an integer of at least hpa.min_replicas (${String(hpa.min_replicas)})`, hpa.max_replicas)
  if (!int(hpa.cpu_utilization) || (hpa.cpu_utilization as number) < 1) fail('hpa.cpu_utilization', 'a percentage of the CPU request, an integer of at least 1', hpa.cpu_utilization)
  const window = hpa.scale_down_stabilization_seconds
  if (!int(window) || (window as number) < 0 || (window as number) > 3600) fail('hpa.scale_down_stabilization_seconds', 'an integer from 0 to 3600', window)
}

/** The cluster playbooks' settings, with the Ray, HPA and AWS vars checked before anything connects. */
export const RAY = {
  ...CLUSTER,
  derive: (v: Vars, host: Host): Vars => {
    checkRayVars(v)
    validateAwsVars(v.aws, String(v.inventory_file ?? 'the inventory'))
    return deriveClusterVars(v, host)
  },
}

/**
 * A kubectl read that failed. Under --check on hosts the earlier playbooks have not set up yet
 * there is no kubectl or cluster to ask, which means "nothing there yet"; otherwise it is an error.
 */
function noCluster<T>(ctx: Context, out: { exitCode: number | null; stderr: string }, empty: T): T {
  if (ctx.check) return empty
  throw new Error(`kubectl failed (exit ${out.exitCode}): ${out.stderr.trim().split('\n').slice(-3).join(' / ')}`)
}

/** The Secret as the cluster has it: its expiry annotation and its values (secret from now on). */
export type SecretState = { expiresAt?: string; values?: Record<(typeof SECRET_KEYS)[number], string> }

export async function readSessionSecret(ctx: Context, namespace: string): Promise<SecretState> {
  const out = await ctx.probe({ secretOutput: true, nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} get secret ${SECRET_NAME} -n ${namespace} -o json --ignore-not-found`
  if (!out.ok) return noCluster(ctx, out, {})
  if (!out.stdout.trim()) return {}
  const obj = JSON.parse(out.stdout) as { metadata?: { annotations?: Record<string, string> }; data?: Record<string, string> }
  const data = obj.data ?? {}
  const values = {} as Record<(typeof SECRET_KEYS)[number], string>
  for (const key of SECRET_KEYS) {
    if (typeof data[key] !== 'string') return { expiresAt: undefined }
    values[key] = ctx.secret(Buffer.from(data[key], 'base64').toString('utf8'))
  }
  return { expiresAt: obj.metadata?.annotations?.[EXPIRES_AT_ANNOTATION], values }
}

/** The pod-template expiry annotation of each Ray Deployment that exists. */
export async function deploymentExpiries(ctx: Context, namespace: string): Promise<Map<string, string | undefined>> {
  const out = await ctx.probe({ nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} get deployments -n ${namespace} -l app=ray -o json`
  if (!out.ok) return noCluster(ctx, out, new Map())
  const list = JSON.parse(out.stdout || '{"items":[]}') as { items: { metadata: { name: string }; spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }[] }
  return new Map(list.items.filter((d) => (DEPLOYMENTS as readonly string[]).includes(d.metadata.name)).map((d) => [d.metadata.name, d.spec?.template?.metadata?.annotations?.[EXPIRES_ANNOTATION]]))
}

/** Minutes from now until an ISO time, for messages. */
export const minutesLeft = (iso: string, now = Date.now()) => Math.round((Date.parse(iso) - now) / 60_000)

/** One look at a Deployment's rollout (`kubectl rollout status --watch=false`). */
export async function rolloutStatus(ctx: Context, namespace: string, name: string): Promise<{ done: boolean; progress: string }> {
  const out = await ctx.probe({ nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} rollout status deployment/${name} -n ${namespace} --watch=false`
  const text = (out.ok ? out.stdout : out.stderr).trim().split('\n').at(-1) ?? ''
  return { done: out.ok && /successfully rolled out/.test(text), progress: `${name}: ${text || `exit ${out.exitCode}`}` }
}

/** Wait, with progress, until every named Deployment has rolled out. */
export function waitForRollouts(ctx: Context, namespace: string, names: readonly string[]): Promise<string> {
  return waitFor(ctx, 'Ray rollouts', rayVars(ctx).wait_timeout, async () => {
    const states = await Promise.all(names.map((d) => rolloutStatus(ctx, namespace, d)))
    return { done: states.every((s) => s.done), progress: states.map((s) => s.progress).join('; ') }
  })
}
