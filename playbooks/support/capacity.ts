// Whether the cluster's pods fit its nodes, judged by preflight before anything changes: the
// scheduler places a pod only where its CPU and memory requests fit what is left, so Ray's pods on a
// machine too small for them would sit Pending until 85-ray's wait ran out. Facts in, problems out.
import type { NodeFacts } from './preflight.ts'

/** CPU in millicores and memory in MiB. */
type Req = { cpu: number; mem: number }

// Requests of what kubeadm and our manifests run besides Ray (kubeadm 1.36's static pod manifests and
// its CoreDNS Deployment, templates/flannel, templates/metrics-server).
const STATIC_PODS: Req = { cpu: 250 + 200 + 100 + 100, mem: 100 } // apiserver, controller-manager, scheduler, etcd (100Mi)
const PER_NODE: Req = { cpu: 100, mem: 50 } // kube-flannel, a DaemonSet
const SYSTEM_PODS: { name: string; req: Req }[] = [
  { name: 'coredns', req: { cpu: 100, mem: 70 } },
  { name: 'coredns', req: { cpu: 100, mem: 70 } },
  { name: 'metrics-server', req: { cpu: 100, mem: 200 } },
]

/** A CPU quantity ('1', '500m', '0.25') in millicores. */
export function milliCpu(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000)
}
/** A memory quantity ('1Gi', '512Mi', '2G', '1000000') in MiB. */
export function mebibytes(q: string): number {
  const m = q.match(/^(\d+(?:\.\d+)?)([KMGT]i?)?$/)
  if (!m) return Number.NaN
  const n = Number(m[1])
  const unit = m[2] ?? ''
  const factor: Record<string, number> = { '': 1 / 2 ** 20, K: 1e3 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20, T: 1e12 / 2 ** 20, Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 ** 2 }
  return n * factor[unit]!
}

export type CapacityInput = {
  /** every node of the cluster: its facts, whether it is the control plane, whether it takes ordinary pods */
  nodes: { name: string; facts: Pick<NodeFacts, 'cpus' | 'memoryMb'>; controlPlane: boolean; schedulable: boolean }[]
  ray: { head_cpu: string; head_memory: string; worker_cpu: string; worker_memory: string }
  hpa: { min_replicas: number; max_replicas: number }
}

export type Capacity = {
  /** why the pods `site` starts cannot all be placed (empty: they can), each with its fix */
  problems: { problem: string; fix: string }[]
  /** how many Ray workers fit beside everything else (the HPA's reach) */
  workersThatFit: number
}

const fmtCpu = (m: number) => (m % 1000 === 0 ? `${m / 1000}` : `${(m / 1000).toFixed(2).replace(/0$/, '')}`)

/**
 * Place Kubernetes' own pods, the Ray head and `min_replicas` workers on the schedulable nodes, in
 * that order, each where the most CPU is left (the scheduler's spreading, roughly); then count how
 * many more workers fit, up to max_replicas.
 */
export function capacity(input: CapacityInput): Capacity {
  const free = input.nodes
    .filter((n) => n.schedulable)
    .map((n) => ({
      name: n.name,
      cpu: n.facts.cpus * 1000 - PER_NODE.cpu - (n.controlPlane ? STATIC_PODS.cpu : 0),
      mem: n.facts.memoryMb - PER_NODE.mem - (n.controlPlane ? STATIC_PODS.mem : 0),
    }))
  const { ray, hpa } = input
  const head: Req = { cpu: milliCpu(ray.head_cpu), mem: mebibytes(ray.head_memory) }
  const worker: Req = { cpu: milliCpu(ray.worker_cpu), mem: mebibytes(ray.worker_memory) }
  // in the order site starts them: Kubernetes' own pods before Ray's
  const pods = [...SYSTEM_PODS, { name: 'ray-head', req: head }, ...Array.from({ length: hpa.min_replicas }, () => ({ name: 'ray-worker', req: worker }))]
  const place = (req: Req) => {
    const node = free.filter((n) => n.cpu >= req.cpu && n.mem >= req.mem).sort((a, b) => b.cpu - a.cpu)[0]
    if (!node) return false
    node.cpu -= req.cpu
    node.mem -= req.mem
    return true
  }
  const unplaced = pods.filter((p) => !place(p.req))
  const problems: Capacity['problems'] = []
  if (unplaced.length) {
    const names = [...new Set(unplaced.map((p) => p.name))].join(', ')
    const need = `Ray needs ${fmtCpu(head.cpu + hpa.min_replicas * worker.cpu)} CPU and ${Math.round(head.mem + hpa.min_replicas * worker.mem)} MiB (ray.head_cpu ${ray.head_cpu} + hpa.min_replicas ${hpa.min_replicas} × ray.worker_cpu ${ray.worker_cpu}; ray.head_memory ${ray.head_memory}, ray.worker_memory ${ray.worker_memory})`
    const nodes = input.nodes.filter((n) => n.schedulable)
    const have = nodes.length
      ? `the nodes that take pods (${nodes.map((n) => `${n.name}: ${n.facts.cpus} CPU, ${n.facts.memoryMb} MB`).join('; ')}) keep ${fmtCpu(nodes.reduce((s, n) => s + (n.controlPlane ? STATIC_PODS.cpu : 0) + PER_NODE.cpu, 0) + SYSTEM_PODS.reduce((s, p) => s + p.req.cpu, 0))} CPU for Kubernetes' own pods`
      : 'no node takes ordinary pods'
    problems.push({
      problem: `${names} would not fit and stay Pending: ${need}, and ${have}`,
      fix: 'set smaller ray.head_cpu/ray.worker_cpu (e.g. 250m) or memory, fewer hpa.min_replicas, or give the nodes more CPUs or memory (or add workers)',
    })
  }
  let more = 0
  if (!unplaced.length) while (hpa.min_replicas + more < hpa.max_replicas && place(worker)) more++
  return { problems, workersThatFit: unplaced.length ? 0 : hpa.min_replicas + more }
}
