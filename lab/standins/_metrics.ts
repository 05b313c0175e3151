// What metrics-server reports: the resource metrics API (metrics.k8s.io) is there when its
// APIService is registered and Available; pods' CPU is what their process does (a few
// millicores idle, a Ray worker's share of a running job), nodes' is their pods' plus the
// system's. Read by `kubectl top`, `kubectl get --raw /apis/metrics.k8s.io/…` and the HPA.
// Simplified: usage is instantaneous (metrics-server averages over its scrape window).
import { templateHash } from './_defaults.ts'
import { arr, dig, nowIso } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { rayWorkerCpu } from './_ray.ts'
import { getObj, keyOf, listObjs, metaOf } from './_store.ts'
import type { Store } from './_store.ts'

export type Usage = { cpu: number; memory: number } // millicores, bytes

/** An APIService whose Available condition is True. */
export const apiServiceAvailable = (a: Obj | undefined) => !!a && arr(dig(a, 'status', 'conditions')).some((c) => dig(c, 'type') === 'Available' && dig(c, 'status') === 'True')

/** Is the resource metrics API served: 'ok', not registered ('missing'), or registered without a ready backend. */
export function metricsApi(s: Store): 'ok' | 'missing' | 'unavailable' {
  const svc = getObj(s, 'apiregistration.k8s.io', 'APIService', undefined, 'v1beta1.metrics.k8s.io')
  if (!svc) return 'missing'
  return apiServiceAvailable(svc) ? 'ok' : 'unavailable'
}

/** A pod's usage now: a job's load on a Ray worker, else small deterministic idle numbers. */
export function podUsage(s: Store, pod: Obj, now: number): Usage {
  const fixed = (s.internal as { usage?: Record<string, Usage> }).usage?.[keyOf(pod)]
  if (fixed) return fixed
  const h = templateHash(String(metaOf(pod).name))
  const seed = h.charCodeAt(0) + h.charCodeAt(1)
  const idle = { cpu: 1 + (seed % 4), memory: (12 + (seed % 30)) * 1024 * 1024 }
  const ray = rayWorkerCpu(s, pod, now)
  return ray === undefined ? idle : { ...idle, cpu: ray }
}

export function nodeUsage(s: Store, node: Obj, now: number): Usage | undefined {
  const name = String(metaOf(node).name)
  if (!arr(dig(node, 'status', 'conditions')).some((c) => dig(c, 'type') === 'Ready' && dig(c, 'status') !== 'Unknown')) return undefined
  const pods = listObjs(s, '', 'Pod').filter((p) => dig(p, 'spec', 'nodeName') === name && dig(p, 'status', 'phase') === 'Running')
  let cpu = 40
  let memory = 350 * 1024 * 1024
  for (const p of pods) {
    const u = podUsage(s, p, now)
    cpu += u.cpu
    memory += u.memory
  }
  return { cpu, memory }
}

const q = (cpuMilli: number) => `${Math.round(cpuMilli * 1e6)}n`
const memKi = (bytes: number) => `${Math.round(bytes / 1024)}Ki`

export function nodeMetrics(s: Store, now: number) {
  return listObjs(s, '', 'Node').flatMap((n) => {
    const u = nodeUsage(s, n, now)
    return u ? [{ metadata: { name: String(metaOf(n).name), creationTimestamp: nowIso(), labels: { ...(metaOf(n).labels as Obj | undefined) } }, timestamp: nowIso(), window: '20.05s', usage: { cpu: q(u.cpu), memory: memKi(u.memory) } }] : []
  })
}

/** Running pods' metrics (a pod's usage split evenly over its containers). */
export function podMetrics(s: Store, now: number, ns?: string) {
  return listObjs(s, '', 'Pod', ns)
    .filter((p) => dig(p, 'status', 'phase') === 'Running')
    .map((p) => {
      const u = podUsage(s, p, now)
      const cs = arr(dig(p, 'spec', 'containers'))
      return {
        metadata: { name: String(metaOf(p).name), namespace: String(metaOf(p).namespace), creationTimestamp: nowIso(), labels: { ...(metaOf(p).labels as Obj | undefined) } },
        timestamp: nowIso(),
        window: '15.018s',
        containers: cs.map((ct) => ({ name: String(dig(ct, 'name')), usage: { cpu: q(u.cpu / cs.length), memory: memKi(u.memory / cs.length) } })),
      }
    })
}
