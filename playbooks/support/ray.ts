// What the Ray playbooks share: their settings, and kubectl reads in the Ray namespace (the
// session-token Secret, the Deployments, the HPA, the metrics API) with their rollout rules.
import type { Context } from '../../lib/index.ts'
import { noRoleReason } from './aws-role.ts'
import { CLUSTER, KUBECTL, waitFor, type Progress } from './kube.ts'
import { POD_EXPIRES_AT, SECRET_EXPIRES_AT, SESSION_KEYS, SESSION_SECRET } from './session-token.ts'
import { awsSpec } from './vars/aws.ts'
import { hpaSpec, raySpec, type RayVars } from './vars/ray.ts'

export type { RayVars }

export const DEPLOYMENTS = ['ray-head', 'ray-worker'] as const

/** What the Ray playbooks share: the cluster's settings and the ray, hpa and aws vars (`playbook<RayVars>({ ...RAY, … })`). */
export const RAY = { ...CLUSTER, specs: [...CLUSTER.specs, raySpec, hpaSpec, awsSpec] }

/** Why the AWS step is left out for these vars (no role configured), or undefined when it runs. */
export const noRole = (v: Pick<RayVars, 'aws' | 'inventory_dir'>) => noRoleReason(v.aws, v.inventory_dir)

/**
 * A kubectl read that failed. Under --check on hosts the earlier playbooks have not set up yet
 * there is no kubectl or cluster to ask, which means "nothing there yet"; otherwise it is an error.
 */
function noCluster<T>(ctx: Context, out: { exitCode: number | null; stderr: string }, empty: T): T {
  if (ctx.check) return empty
  throw new Error(`kubectl failed (exit ${out.exitCode}): ${out.stderr.trim().split('\n').slice(-3).join(' / ')}`)
}

/** The Secret as the cluster has it: its expiry annotation and its values (secret from now on). */
export type SecretState = { expiresAt?: string; values?: Record<(typeof SESSION_KEYS)[number], string> }

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
export function readRayState(ctx: Context<RayVars>, opts: { fresh?: boolean } = {}): Promise<RayState> {
  const { ray, hpa } = ctx.vars
  const read = async () => {
    const names = [
      `namespace/${ray.namespace}`,
      `secret/${SESSION_SECRET}`,
      'service/ray-head',
      ...DEPLOYMENTS.map((d) => `deployment.apps/${d}`),
      `horizontalpodautoscaler.autoscaling/${hpa.name}`,
      `apiservice.apiregistration.k8s.io/${METRICS_API}`,
    ]
    const out = await ctx.probe({ secretOutput: true, nothrow: true })`${KUBECTL} get ${names} -n ${ray.namespace} -o json --ignore-not-found`
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
  const values = {} as Record<(typeof SESSION_KEYS)[number], string>
  for (const key of SESSION_KEYS) {
    if (typeof data[key] !== 'string') return { expiresAt: undefined }
    values[key] = ctx.secret(Buffer.from(data[key], 'base64').toString('utf8'))
  }
  return { expiresAt: obj.metadata?.annotations?.[SECRET_EXPIRES_AT], values }
}

/** The pod-template expiry annotation of each Ray Deployment that exists. */
export const deploymentExpiries = (state: RayState): Map<string, string | undefined> =>
  new Map([...state.deployments].map(([name, d]) => [name, d.spec?.template?.metadata?.annotations?.[POD_EXPIRES_AT]]))

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
export function waitForRollouts(ctx: Context<RayVars>, names: readonly string[]): Promise<string> {
  let fresh = false
  return waitFor(ctx, 'Ray rollouts', ctx.vars.wait_timeout, async () => {
    try {
      return rollouts(await readRayState(ctx, { fresh }), names)
    } catch (e) {
      return { done: false, progress: (e as Error).message } // kubectl failed: look again
    } finally {
      fresh = true
    }
  })
}
