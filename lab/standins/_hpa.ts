// The HorizontalPodAutoscaler controller of kube-controller-manager (pkg/controller/podautoscaler),
// for Resource metrics (cpu, memory; Utilization or AverageValue). It runs only while the
// control plane's kube-controller-manager static pod does, with that manifest's flags
// (--horizontal-pod-autoscaler-sync-period, -downscale-stabilization, -tolerance). Each HPA is
// synced once per sync period of the stand-in clock — the stand-ins only move when a
// kubectl/kubeadm call runs, so a sync happens on the first call after the period elapsed.
// autoscaling/v1 objects are read as the API server converts them to v2 and get v1 status.
// Simplified: pods' CPU samples are not held back during the cpu-initialization period
// (a Ready pod counts at once), and a metric that fails stops scaling for that sync.
import { readText } from './_io.ts'
import { onHost } from './_k8s-host.ts'
import { arr, clone, deepEqual, dig, isObj, loadYamlDocs, nowIso, objOr, parseDuration, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { podReady } from './_container.ts'
import { metricsApi, podUsage } from './_metrics.ts'
import { parseQuantity, selectorMatches } from './_schema.ts'
import { getObj, keyOf, listObjs, metaOf, putObj } from './_store.ts'
import type { Store } from './_store.ts'

type Rec = { t: number; r: number }
type HpaState = { lastSync: number; recs: Rec[]; up: Rec[]; down: Rec[] }
type Policy = { type: string; value: number; periodSeconds: number }
type Rules = { stabilizationWindowSeconds?: number; selectPolicy?: string; policies: Policy[] }

export type HpaEnv = { s: Store; now: number; kubeletUp(node: string): boolean }

const TARGET_KINDS: Record<string, { group: string; plural: string }> = {
  Deployment: { group: 'apps', plural: 'deployments' },
  ReplicaSet: { group: 'apps', plural: 'replicasets' },
  StatefulSet: { group: 'apps', plural: 'statefulsets' },
}

function states(s: Store): Record<string, HpaState> {
  const internal = s.internal as { hpa?: Record<string, HpaState> }
  internal.hpa ??= {}
  return internal.hpa
}

/** kube-controller-manager's flags from its static pod manifest, or undefined when it is not running. */
export function controllerManagerFlags(env: HpaEnv): Record<string, string> | undefined {
  const statics = (env.s.internal as { staticPods?: { node: string; file: string; pod: Obj }[] }).staticPods ?? []
  const sp = statics.find((x) => dig(x.pod, 'metadata', 'name') === 'kube-controller-manager')
  const host = sp ? env.s.internal.hosts[sp.node] : undefined
  if (!sp || !host || !env.kubeletUp(sp.node)) return undefined
  const text = readText(onHost(host, sp.file))
  if (text === undefined) return undefined
  let pod: unknown
  try {
    pod = loadYamlDocs(text)[0]
  } catch {
    return undefined
  }
  const c = arr(dig(pod, 'spec', 'containers'))[0]
  const flags: Record<string, string> = {}
  for (const a of [...arr(dig(c, 'command')), ...arr(dig(c, 'args'))].map(String)) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a)
    if (m) flags[m[1] as string] = m[2] ?? 'true'
  }
  return flags
}

/** The HPA as autoscaling/v2 (v1's targetCPUUtilizationPercentage becomes a cpu Utilization metric). */
function v2Spec(hpa: Obj): { min: number; max: number; metrics: Obj[]; behavior?: { up: Rules; down: Rules } } {
  const spec = objOr(hpa.spec)
  const min = typeof spec.minReplicas === 'number' ? spec.minReplicas : 1
  const max = Number(spec.maxReplicas)
  if (hpa.apiVersion === 'autoscaling/v1') {
    return { min, max, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: typeof spec.targetCPUUtilizationPercentage === 'number' ? spec.targetCPUUtilizationPercentage : 80 } } }] }
  }
  const b = spec.behavior
  const rules = (r: unknown, up: boolean): Rules => ({
    ...(typeof dig(r, 'stabilizationWindowSeconds') === 'number' ? { stabilizationWindowSeconds: dig(r, 'stabilizationWindowSeconds') as number } : up ? { stabilizationWindowSeconds: 0 } : {}),
    selectPolicy: str(dig(r, 'selectPolicy')) ?? 'Max',
    policies: arr(dig(r, 'policies')).length ? (arr(dig(r, 'policies')) as Policy[]) : up ? [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] : [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  })
  return { min, max, metrics: arr(spec.metrics) as Obj[], ...(isObj(b) ? { behavior: { up: rules(b.scaleUp, true), down: rules(b.scaleDown, false) } } : {}) }
}

type MetricResult = { proposal: number; status: Obj; name: string } | { error: string; reason: string }

/** One Resource metric → replicas (replica_calculator.go GetResourceReplicas / GetRawResourceReplicas). */
function resourceReplicas(env: HpaEnv, m: Obj, ns: string, selector: unknown, current: number, tolerance: number): MetricResult {
  const s = env.s
  const type = String(m.type)
  if (type !== 'Resource') return { reason: `FailedGet${type}Metric`, error: `zxlab: ${type} metrics are not modelled by the stand-in (Resource metrics are)` }
  const resource = String(dig(m, 'resource', 'name'))
  const target = objOr(dig(m, 'resource', 'target'))
  const fail = (err: string): MetricResult => ({ reason: 'FailedGetResourceMetric', error: `failed to get ${resource} utilization: ${err}` })
  const api = metricsApi(s)
  if (api !== 'ok') {
    const why = api === 'missing' ? 'the server could not find the requested resource (get pods.metrics.k8s.io)' : 'the server is currently unable to handle the request (get pods.metrics.k8s.io)'
    return fail(`unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${why}`)
  }
  const pods = listObjs(s, '', 'Pod', ns).filter((p) => selectorMatches(selector, objOr(metaOf(p).labels)))
  const usage = (p: Obj) => {
    const u = podUsage(s, p, env.now)
    return resource === 'cpu' ? u.cpu : u.memory * 1000
  }
  const metrics = new Map<string, number>()
  for (const p of pods) if (dig(p, 'status', 'phase') === 'Running') metrics.set(String(metaOf(p).name), usage(p))
  if (!metrics.size) return fail(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`)
  // groupPods
  let ready = 0
  const unready: string[] = []
  const missing: string[] = []
  for (const p of pods) {
    const name = String(metaOf(p).name)
    const phase = dig(p, 'status', 'phase')
    if (metaOf(p).deletionTimestamp || phase === 'Failed' || phase === 'Pending') {
      metrics.delete(name)
      continue
    }
    if (!metrics.has(name)) {
      missing.push(name)
      continue
    }
    if (resource === 'cpu' && !podReady(p)) {
      unready.push(name)
      metrics.delete(name)
      continue
    }
    ready++
  }
  // requests of every pod (calculatePodRequests)
  const requests = new Map<string, number>()
  for (const p of pods) {
    let sum = 0
    for (const c of arr(dig(p, 'spec', 'containers'))) {
      const r = parseQuantity(dig(c, 'resources', 'requests', resource))
      if (r === undefined) return fail(`missing request for ${resource} in container ${String(dig(c, 'name'))} of Pod ${String(metaOf(p).name)}`)
      sum += r
    }
    requests.set(String(metaOf(p).name), sum)
  }
  const utilization = (ms: Map<string, number>) => {
    let used = 0
    let req = 0
    let n = 0
    for (const [name, v] of ms) {
      const r = requests.get(name)
      if (r === undefined) continue
      used += v
      req += r
      n++
    }
    return { used, req, n }
  }
  const averageUtilization = typeof target.averageUtilization === 'number' ? target.averageUtilization : undefined
  const first = utilization(metrics)
  if (averageUtilization !== undefined) {
    if (first.req === 0) return fail('no metrics returned matched known pods')
    const util = Math.trunc((first.used * 100) / first.req)
    const ratio = util / averageUtilization
    const status = { type: 'Resource', resource: { name: resource, current: { averageUtilization: util, averageValue: quantity(resource, first.used / first.n) } } }
    const withUnready = unready.length > 0 && ratio > 1
    let proposal: number
    if (!withUnready && !missing.length) proposal = Math.abs(1 - ratio) <= tolerance ? current : Math.ceil(ratio * ready)
    else {
      const adjusted = new Map(metrics)
      // a scale-down counts missing pods at max(100%, target) of their request, a scale-up at 0
      for (const name of missing) adjusted.set(name, ratio < 1 ? ((requests.get(name) ?? 0) * Math.max(100, averageUtilization)) / 100 : 0)
      if (withUnready) for (const name of unready) adjusted.set(name, 0)
      const again = utilization(adjusted)
      const newRatio = again.req ? Math.trunc((again.used * 100) / again.req) / averageUtilization : 0
      if (Math.abs(1 - newRatio) <= tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) proposal = current
      else {
        const n = Math.ceil(newRatio * adjusted.size)
        proposal = (newRatio < 1 && n > current) || (newRatio > 1 && n < current) ? current : n
      }
    }
    return { proposal, status, name: `${resource} resource utilization (percentage of request)` }
  }
  const targetAvg = parseQuantity(target.averageValue)
  if (targetAvg === undefined) return { reason: 'FailedGetResourceMetric', error: `zxlab: a ${String(target.type)} target is not modelled by the stand-in` }
  const avg = first.n ? first.used / first.n : 0
  const ratio = avg / targetAvg
  const proposal = Math.abs(1 - ratio) <= tolerance ? current : Math.ceil(ratio * ready)
  return { proposal, status: { type: 'Resource', resource: { name: resource, current: { averageValue: quantity(resource, avg) } } }, name: `${resource} resource` }
}

const quantity = (resource: string, v: number) => (resource === 'cpu' ? `${Math.round(v)}m` : `${Math.round(v / 1000)}`)

function setCond(conds: Obj[], type: string, status: string, reason: string, message: string, now: string): Obj[] {
  const old = conds.find((c) => c.type === type)
  const c: Obj = { type, status, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now, reason, message }
  return [...conds.filter((x) => x.type !== type), c]
}

const changeIn = (events: Rec[], periodS: number, now: number) => events.filter((e) => e.t > now - periodS * 1000).reduce((a, e) => a + e.r, 0)

function scaleUpLimit(current: number, st: HpaState, rules: Rules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity
  for (const p of rules.policies) {
    const start = current - changeIn(st.up, p.periodSeconds, now) + changeIn(st.down, p.periodSeconds, now)
    result = pick(result, p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100)))
  }
  return result
}

function scaleDownLimit(current: number, st: HpaState, rules: Rules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity
  for (const p of rules.policies) {
    const start = current - changeIn(st.up, p.periodSeconds, now) + changeIn(st.down, p.periodSeconds, now)
    result = pick(result, p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100)))
  }
  return result
}

type Cond = { reason: string; message: string }
const LIMITS = {
  within: { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' },
  tooMany: { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' },
  tooFew: { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' },
  upLimit: { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' },
  downLimit: { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' },
}

/** Stabilize and limit a proposal; returns the replicas and the AbleToScale / ScalingLimited conditions. */
function normalize(st: HpaState, spec: ReturnType<typeof v2Spec>, current: number, proposal: number, defaultDownWindowMs: number, now: number): { replicas: number; able: Cond; limited: Cond & { status: string } } {
  let stabilized: number
  let able: Cond
  if (!spec.behavior) {
    // normalizeDesiredReplicas: scale-down stabilization from the controller's flag
    const cutoff = now - defaultDownWindowMs
    stabilized = proposal
    for (const r of st.recs) if (r.t > cutoff) stabilized = Math.max(stabilized, r.r)
    st.recs = [...st.recs.filter((r) => r.t > cutoff), { t: now, r: proposal }]
    able = stabilized !== proposal ? { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' } : { reason: 'ReadyForNewScale', message: 'recommended size matches current size' }
    const upLimit = Math.max(2 * current, 4)
    const [maxAllowed, cond] = spec.max > upLimit ? [upLimit, LIMITS.upLimit] : [spec.max, LIMITS.tooMany]
    if (stabilized < spec.min) return { replicas: spec.min, able, limited: { status: 'True', ...LIMITS.tooFew } }
    if (stabilized > maxAllowed) return { replicas: maxAllowed, able, limited: { status: 'True', ...cond } }
    return { replicas: stabilized, able, limited: { status: 'False', ...LIMITS.within } }
  }
  // normalizeDesiredReplicasWithBehaviors
  const upWindow = (spec.behavior.up.stabilizationWindowSeconds ?? 0) * 1000
  const downWindow = spec.behavior.down.stabilizationWindowSeconds !== undefined ? spec.behavior.down.stabilizationWindowSeconds * 1000 : defaultDownWindowMs
  let up = proposal
  let down = proposal
  for (const r of st.recs) {
    if (r.t > now - upWindow) up = Math.min(up, r.r)
    if (r.t > now - downWindow) down = Math.max(down, r.r)
  }
  stabilized = current
  if (stabilized < up) stabilized = up
  if (stabilized > down) stabilized = down
  st.recs = [...st.recs.filter((r) => r.t > now - Math.max(upWindow, downWindow)), { t: now, r: proposal }]
  able =
    stabilized !== proposal
      ? proposal >= current
        ? { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
        : { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
      : { reason: 'ReadyForNewScale', message: 'recommended size matches current size' }
  if (stabilized > current) {
    const limit = Math.max(current, scaleUpLimit(current, st, spec.behavior.up, now))
    const [maxAllowed, cond] = spec.max > limit ? [limit, LIMITS.upLimit] : [spec.max, LIMITS.tooMany]
    if (stabilized > maxAllowed) return { replicas: maxAllowed, able, limited: { status: 'True', ...cond } }
  } else if (stabilized < current) {
    const limit = Math.min(current, scaleDownLimit(current, st, spec.behavior.down, now))
    const [minAllowed, cond] = spec.min < limit ? [limit, LIMITS.downLimit] : [spec.min, LIMITS.tooFew]
    if (stabilized < minAllowed) return { replicas: minAllowed, able, limited: { status: 'True', ...cond } }
  }
  return { replicas: stabilized, able, limited: { status: 'False', ...LIMITS.within } }
}

function syncOne(env: HpaEnv, hpa: Obj, st: HpaState, flags: Record<string, string>) {
  const s = env.s
  const now = nowIso()
  const ns = String(metaOf(hpa).namespace ?? 'default')
  const spec = v2Spec(hpa)
  const ref = objOr(dig(hpa, 'spec', 'scaleTargetRef'))
  const kind = TARGET_KINDS[String(ref.kind)]
  const target = kind ? getObj(s, kind.group, String(ref.kind), ns, String(ref.name)) : undefined
  const status = clone(objOr(hpa.status))
  let conds = arr(status.conditions) as Obj[]
  const v1 = hpa.apiVersion === 'autoscaling/v1'
  if (v1) conds = parseV1Conditions(hpa)
  const write = (st2: Obj) => {
    const o = clone(hpa)
    const c = ['AbleToScale', 'ScalingActive', 'ScalingLimited'].flatMap((t) => conds.filter((x) => x.type === t))
    if (v1) {
      const metric = arr(st2.currentMetrics)[0]
      const util = dig(metric, 'resource', 'current', 'averageUtilization')
      o.status = { ...(st2.lastScaleTime ? { lastScaleTime: st2.lastScaleTime } : {}), currentReplicas: st2.currentReplicas ?? 0, desiredReplicas: st2.desiredReplicas ?? 0, ...(typeof util === 'number' ? { currentCPUUtilizationPercentage: util } : {}) }
      metaOf(o).annotations = { ...objOr(metaOf(o).annotations), 'autoscaling.alpha.kubernetes.io/conditions': JSON.stringify(c) }
    } else o.status = { ...st2, conditions: c }
    if (!deepEqual(o, hpa)) putObj(s, o)
  }
  if (!target || !kind) {
    conds = setCond(conds, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${kind ? `${kind.plural}/scale.${kind.group}` : `${String(ref.kind).toLowerCase()}s/scale`} "${String(ref.name)}" not found`, now)
    write({ ...status, currentReplicas: status.currentReplicas ?? 0, desiredReplicas: status.desiredReplicas ?? 0 })
    return
  }
  conds = setCond(conds, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale", now)
  const current = typeof dig(target, 'spec', 'replicas') === 'number' ? (dig(target, 'spec', 'replicas') as number) : 1
  if (!st.recs.length) st.recs.push({ t: env.now, r: current })
  const tolerance = Number(flags['horizontal-pod-autoscaler-tolerance'] ?? 0.1)
  const downWindow = parseDuration(flags['horizontal-pod-autoscaler-downscale-stabilization'] ?? '5m0s') ?? 300_000
  let desired = current
  let metricStatuses: Obj[] = arr(status.currentMetrics) as Obj[]
  if (current === 0 && spec.min !== 0) {
    conds = setCond(conds, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', now)
    desired = 0
  } else if (current > spec.max) desired = spec.max
  else if (current < spec.min) desired = spec.min
  else {
    const results = spec.metrics.map((m) => resourceReplicas(env, m, ns, dig(target, 'spec', 'selector'), current, Number.isFinite(tolerance) ? tolerance : 0.1))
    const failed = results.find((r): r is { error: string; reason: string } => 'error' in r)
    if (failed) {
      // a metric that could not be read is an empty status (`type: ""`), as the controller writes it
      conds = setCond(conds, 'ScalingActive', 'False', failed.reason, `the HPA was unable to compute the replica count: ${failed.error}`, now)
      write({ ...(v1 ? {} : { observedGeneration: metaOf(hpa).generation ?? 1 }), ...(status.lastScaleTime ? { lastScaleTime: status.lastScaleTime } : {}), currentReplicas: current, desiredReplicas: status.desiredReplicas ?? 0, currentMetrics: results.map((r) => ('error' in r ? { type: '' } : r.status)) })
      return
    }
    const ok = results as { proposal: number; status: Obj; name: string }[]
    metricStatuses = ok.map((r) => r.status)
    const best = ok.reduce((a, r) => (r.proposal > a.proposal ? r : a), ok[0] as (typeof ok)[number])
    conds = setCond(conds, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${best?.name ?? 'cpu resource utilization (percentage of request)'}`, now)
    const n = normalize(st, spec, current, best?.proposal ?? current, downWindow, env.now)
    conds = setCond(conds, 'AbleToScale', 'True', n.able.reason, n.able.message, now)
    conds = setCond(conds, 'ScalingLimited', n.limited.status, n.limited.reason, n.limited.message, now)
    desired = n.replicas
  }
  let lastScaleTime = status.lastScaleTime
  if (desired !== current) {
    const t = clone(target)
    objOr(t.spec).replicas = desired
    putObj(s, t)
    lastScaleTime = now
    conds = setCond(conds, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`, now)
    if (spec.behavior) {
      const longest = (rules: Rules) => Math.max(0, ...rules.policies.map((p) => p.periodSeconds)) * 1000
      if (desired > current) st.up = [...st.up.filter((e) => e.t > env.now - longest(spec.behavior!.up)), { t: env.now, r: desired - current }]
      else st.down = [...st.down.filter((e) => e.t > env.now - longest(spec.behavior!.down)), { t: env.now, r: current - desired }]
    }
  }
  write({ ...(v1 ? {} : { observedGeneration: metaOf(hpa).generation ?? 1 }), ...(lastScaleTime ? { lastScaleTime } : {}), currentReplicas: current, desiredReplicas: desired, currentMetrics: metricStatuses })
}

function parseV1Conditions(hpa: Obj): Obj[] {
  try {
    const v = JSON.parse(String(objOr(metaOf(hpa).annotations)['autoscaling.alpha.kubernetes.io/conditions'] ?? '[]')) as unknown
    return arr(v) as Obj[]
  } catch {
    return []
  }
}

/** One pass: every HPA whose sync period elapsed is synced. */
export function hpaController(env: HpaEnv) {
  const s = env.s
  const all = listObjs(s, 'autoscaling', 'HorizontalPodAutoscaler')
  const st = states(s)
  const live = new Set(all.map(keyOf))
  for (const k of Object.keys(st)) if (!live.has(k)) delete st[k]
  if (!all.length) return
  const flags = controllerManagerFlags(env)
  if (!flags) return
  const period = parseDuration(flags['horizontal-pod-autoscaler-sync-period'] ?? '15s') ?? 15_000
  for (const hpa of all) {
    const k = keyOf(hpa)
    const state = (st[k] ??= { lastSync: 0, recs: [], up: [], down: [] })
    if (state.lastSync && env.now - state.lastSync < period) continue
    state.lastSync = env.now
    syncOne(env, hpa, state, flags)
  }
}
