// What the Ray playbooks share: their vars (checked before anything runs), the Secret that
// carries the session credentials, and kubectl reads in the Ray namespace.
import { InventoryError } from '../../lib/errors.ts'
import { showJson } from '../../lib/yaml.ts'
import type { Context, Host, Vars } from '../../lib/index.ts'
import { EXPIRES_AT_ANNOTATION, SESSION_SECRET, awsVarProblems, noRoleReason } from './aws.ts'
import { ADMIN_CONF, CLUSTER, derivedClusterVars, waitFor, type Progress } from './kube.ts'
import type { ClusterVars } from './defaults.ts'
import { clusterProblems, isCpuQuantity, isImageRef, isMemoryQuantity } from './validate.ts'
import { throwProblems, type Problem } from './problems.ts'

/** The Secret with the session credentials (named in aws.ts, which writes it). */
export const SECRET_NAME = SESSION_SECRET
export const SECRET_KEYS = ['AWS_ACCESS_KEY_ID_SESS', 'AWS_SECRET_ACCESS_KEY_SESS', 'AWS_SESSION_TOKEN'] as const
/** On the Ray pod templates: the expiry of the credentials they were started with (the Secret's is EXPIRES_AT_ANNOTATION). */
export const EXPIRES_ANNOTATION = 'zxplay.io/session-token-expires-at'
export const DEPLOYMENTS = ['ray-head', 'ray-worker'] as const

export type RayVars = ClusterVars & { inventory_dir: string; inventory_file: string; refresh?: boolean }

export const rayVars = (ctx: Pick<Context, 'vars'>): RayVars => ctx.vars as unknown as RayVars

/** The ray and hpa blocks as the playbooks need them; an InventoryError names every bad key. */
export function checkRayVars(v: Vars): void {
  throwProblems(String(v.inventory_file ?? 'the inventory'), rayVarProblems(v))
}

/** Every problem of the ray and hpa blocks. Pure. */
export function rayVarProblems(v: Vars): Problem[] {
  const out: Problem[] = []
  const fail = (key: string, expected: string, got: unknown) => void out.push({ key, message: `expected ${expected}, got ${showJson(got)}` })
  const ray = (v.ray ?? {}) as Record<string, unknown>
  const hpa = (v.hpa ?? {}) as Record<string, unknown>
  if (typeof ray.namespace !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ray.namespace)) fail('ray.namespace', 'a namespace name (lowercase letters, digits, -)', ray.namespace)
  if (!isImageRef(ray.image)) fail('ray.image', 'an image reference like rayproject/ray:2.52.0', ray.image)
  for (const role of ['head', 'worker']) {
    const cpu = ray[`${role}_cpu`]
    if (!isCpuQuantity(cpu) || Number.parseFloat(cpu) <= 0) fail(`ray.${role}_cpu`, "a CPU quantity above zero like '1' or '500m' (the HPA measures against it)", cpu)
    const mem = ray[`${role}_memory`]
    if (!isMemoryQuantity(mem) || Number.parseFloat(mem) <= 0) fail(`ray.${role}_memory`, "a memory quantity like '1Gi' or '512Mi'", mem)
  }
  if (typeof hpa.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(hpa.name)) fail('hpa.name', 'an object name (lowercase letters, digits, - and .)', hpa.name)
  const int = (x: unknown) => typeof x === 'number' && Number.isInteger(x)
  if (!int(hpa.min_replicas) || (hpa.min_replicas as number) < 1) fail('hpa.min_replicas', 'an integer of at least 1', hpa.min_replicas)
  if (!int(hpa.max_replicas) || (hpa.max_replicas as number) < (hpa.min_replicas as number)) fail('hpa.max_replicas', `an integer of at least hpa.min_replicas (${String(hpa.min_replicas)})`, hpa.max_replicas)
  if (!int(hpa.cpu_utilization) || (hpa.cpu_utilization as number) < 1) fail('hpa.cpu_utilization', 'a percentage of the CPU request, an integer of at least 1', hpa.cpu_utilization)
  const window = hpa.scale_down_stabilization_seconds
  if (!int(window) || (window as number) < 0 || (window as number) > 3600) fail('hpa.scale_down_stabilization_seconds', 'an integer from 0 to 3600', window)
  return out
}

/**
 * The Ray playbooks' derive: the cluster, ray/hpa and aws vars checked together, so every bad
 * key of a host is listed at once (with the lines of `also`, errors a playbook found itself).
 */
export function deriveRayVars(v: Vars, host: Host, also: InventoryError[] = []): Vars {
  throwProblems(String(v.inventory_file ?? 'the inventory'), [...clusterProblems(v, host), ...rayVarProblems(v), ...awsVarProblems(v.aws)], also)
  return derivedClusterVars(v, host)
}

/** The cluster playbooks' settings, with the Ray, HPA and AWS vars checked before anything connects. */
export const RAY = { ...CLUSTER, derive: (v: Vars, host: Host): Vars => deriveRayVars(v, host) }

/** Why the AWS step is left out for these vars (no role configured), or undefined when it runs. */
export const noRole = (v: RayVars) => noRoleReason(v.aws, v.inventory_dir)

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

/** The parts of a Deployment the playbooks read. */
export type DeploymentObj = {
  metadata: { name: string; generation?: number }
  spec?: { replicas?: number; template?: { metadata?: { annotations?: Record<string, string> }; spec?: { containers?: { name: string; resources?: { requests?: { cpu?: string } } }[] } } }
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number; conditions?: { type: string; reason?: string }[] }
}

export type HpaObj = {
  status?: {
    currentReplicas?: number
    desiredReplicas?: number
    currentMetrics?: { resource?: { name: string; current?: { averageUtilization?: number } } }[]
    conditions?: { type: string; status: string; reason?: string; message?: string }[]
  }
}

/** The metrics API's registration: the HPA reads pod CPU through it. */
export const METRICS_API = 'v1beta1.metrics.k8s.io'

export type ApiServiceObj = { status?: { conditions?: { type: string; status: string }[] } }

/** What the Ray playbooks look at, as one kubectl read saw it; `seen` has each found object's `Kind/name`. */
export type RayState = { secret: SecretState; deployments: Map<string, DeploymentObj>; hpa?: HpaObj; metricsApi?: ApiServiceObj; seen: Set<string> }

type Item = { kind?: string; metadata?: { name?: string; annotations?: Record<string, string> }; data?: Record<string, string> }

const EMPTY = (): RayState => ({ secret: {}, deployments: new Map(), seen: new Set() })

/**
 * The namespace, the Secret, Service, both Deployments, the HPA and the metrics APIService in one
 * kubectl call: each call costs a kubectl start and an API round trip, and one read gives one
 * consistent picture (and tells applyManifest which objects exist). The read is remembered for
 * the later Ray tasks and playbooks of the run until something on the host changes; `fresh`
 * (verification) always asks the cluster.
 */
export function readRayState(ctx: Context, opts: { fresh?: boolean } = {}): Promise<RayState> {
  const { ray, hpa } = rayVars(ctx)
  const read = async () => {
    const names = [
      `namespace/${ray.namespace}`,
      `secret/${SECRET_NAME}`,
      'service/ray-head',
      ...DEPLOYMENTS.map((d) => `deployment.apps/${d}`),
      `horizontalpodautoscaler.autoscaling/${hpa.name}`,
      `apiservice.apiregistration.k8s.io/${METRICS_API}`,
    ]
    const out = await ctx.probe({ secretOutput: true, nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} get ${names} -n ${ray.namespace} -o json --ignore-not-found`
    if (!out.ok) return noCluster(ctx, out, EMPTY())
    const state = EMPTY()
    for (const item of itemsOf<Item>(out.stdout)) {
      state.seen.add(`${item.kind}/${item.metadata?.name}`)
      if (item.kind === 'Secret') state.secret = secretState(ctx, item)
      else if (item.kind === 'Deployment') state.deployments.set(String(item.metadata?.name), item as unknown as DeploymentObj)
      else if (item.kind === 'HorizontalPodAutoscaler') state.hpa = item as HpaObj
      else if (item.kind === 'APIService') state.metricsApi = item as ApiServiceObj
    }
    return state
  }
  return opts.fresh ? read() : ctx.remember(`ray-state ${ray.namespace} ${hpa.name}`, read)
}

/** `kubectl get -o json` output as objects: a List's items, one object, or none (--ignore-not-found). */
export function itemsOf<T>(stdout: string): T[] {
  const text = stdout.trim()
  if (!text) return []
  const parsed = JSON.parse(text) as { kind?: string; items?: T[] }
  return parsed.kind === 'List' || Array.isArray(parsed.items) ? (parsed.items ?? []) : [parsed as T]
}

/** The values are marked secret before anything else sees them. */
function secretState(ctx: Context, obj: Item): SecretState {
  const data = obj.data ?? {}
  const values = {} as Record<(typeof SECRET_KEYS)[number], string>
  for (const key of SECRET_KEYS) {
    if (typeof data[key] !== 'string') return { expiresAt: undefined }
    values[key] = ctx.secret(Buffer.from(data[key], 'base64').toString('utf8'))
  }
  return { expiresAt: obj.metadata?.annotations?.[EXPIRES_AT_ANNOTATION], values }
}

/** The pod-template expiry annotation of each Ray Deployment that exists. */
export const deploymentExpiries = (state: RayState): Map<string, string | undefined> =>
  new Map([...state.deployments].map(([name, d]) => [name, d.spec?.template?.metadata?.annotations?.[EXPIRES_ANNOTATION]]))

/** Minutes from now until an ISO time, for messages. */
export const minutesLeft = (iso: string, now = Date.now()) => Math.round((Date.parse(iso) - now) / 60_000)

/**
 * Whether a Deployment has rolled out, by the rules (and in the words) of `kubectl rollout
 * status`, from the object itself: no extra kubectl call per Deployment.
 */
export function deploymentRollout(name: string, d: DeploymentObj | undefined): Progress {
  if (!d) return { done: false, progress: `${name}: not found` }
  const st = d.status ?? {}
  const say = (done: boolean, text: string) => ({ done, progress: `${name}: ${text}` })
  if ((d.metadata.generation ?? 0) > (st.observedGeneration ?? 0)) return say(false, 'Waiting for deployment spec update to be observed...')
  if (st.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) return say(false, `deployment "${name}" exceeded its progress deadline`)
  const updated = st.updatedReplicas ?? 0
  const total = st.replicas ?? 0
  const available = st.availableReplicas ?? 0
  if (d.spec?.replicas !== undefined && updated < d.spec.replicas) return say(false, `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${d.spec.replicas} new replicas have been updated...`)
  if (total > updated) return say(false, `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`)
  if (available < updated) return say(false, `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`)
  return say(true, `deployment "${name}" successfully rolled out`)
}

/** The rollout of every named Deployment in a state already read. */
export function rollouts(state: Pick<RayState, 'deployments'>, names: readonly string[]): Progress {
  const each = names.map((n) => deploymentRollout(n, state.deployments.get(n)))
  return { done: each.every((r) => r.done), progress: each.map((r) => r.progress).join('; ') }
}

/**
 * Wait, with progress, until every named Deployment has rolled out. The first look is the
 * remembered read when nothing changed since it was made; every later look reads afresh.
 */
export function waitForRollouts(ctx: Context, names: readonly string[]): Promise<string> {
  let fresh = false
  return waitFor(ctx, 'Ray rollouts', rayVars(ctx).wait_timeout, async () => {
    try {
      return rollouts(await readRayState(ctx, { fresh }), names)
    } catch (e) {
      return { done: false, progress: (e as Error).message } // kubectl failed: look again
    } finally {
      fresh = true
    }
  })
}
