// Whether site's pods fit the nodes (playbooks/support/capacity.ts): facts and sizes in, problems and
// the HPA's reach out. The 00-preflight task that says it is replayed in replay/preflight.test.ts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { capacity, mebibytes, milliCpu, type CapacityInput } from '../../playbooks/support/capacity.ts'
import { hpaDefaults, rayDefaults } from '../../playbooks/support/vars/ray.ts'

const LAB_RAY = { head_cpu: '250m', worker_cpu: '250m', head_memory: '512Mi', worker_memory: '512Mi' }
const node = (name: string, cpus: number, memoryMb: number, controlPlane = false, schedulable = true) => ({ name, facts: { cpus, memoryMb }, controlPlane, schedulable })
const fits = (i: Partial<CapacityInput> & Pick<CapacityInput, 'nodes'>) => capacity({ ray: rayDefaults, hpa: hpaDefaults, ...i })

test('quantities: CPU in millicores, memory in MiB, as Kubernetes reads them', () => {
  assert.equal(['1', '250m', '0.5', '2'].map(milliCpu), [1000, 250, 500, 2000])
  assert.equal(['1Gi', '512Mi', '2G', '1048576', '1024Ki'].map((q) => Math.round(mebibytes(q))), [1024, 512, 1907, 1, 1])
  assert.ok(Number.isNaN(mebibytes('lots')))
})

test("the README's one 2-CPU machine with Ray's defaults: the Ray pods would stay Pending", () => {
  const r = fits({ nodes: [node('cp1', 2, 4096, true)] })
  assert.is(r.problems.length, 1)
  assert.match(r.problems[0]!.problem, /^ray-head, ray-worker would not fit and stay Pending: Ray needs 2 CPU/)
  assert.match(r.problems[0]!.fix, /ray\.head_cpu\/ray\.worker_cpu \(e\.g\. 250m\)/)
  assert.is(r.workersThatFit, 0)
})

test('the same machine with the lab sizes: fits, and two of the three workers the HPA may ask for', () => {
  assert.equal(fits({ nodes: [node('cp1', 2, 4096, true)], ray: LAB_RAY }), { problems: [], workersThatFit: 2 })
})

test('the real-host lab: a tainted control plane and two 2-CPU workers hold the lab sizes and all three workers', () => {
  const nodes = [node('node1', 2, 24105, true, false), node('node2', 2, 24105), node('node3', 2, 24105)]
  assert.equal(fits({ nodes, ray: LAB_RAY }), { problems: [], workersThatFit: 3 })
  // with the defaults the two workers hold the head and one worker (1.9 CPU each), not a second
  assert.equal(fits({ nodes }), { problems: [], workersThatFit: 1 })
})

test('a tainted control plane does not count, however big; memory counts as CPU does', () => {
  const r = fits({ nodes: [node('cp1', 64, 262144, true, false), node('w1', 1, 8192)] })
  assert.match(r.problems[0]!.problem, /^ray-head, ray-worker would not fit/)
  assert.match(r.problems[0]!.problem, /the nodes that take pods \(w1: 1 CPU, 8192 MB\)/)
  const mem = fits({ nodes: [node('cp1', 8, 2048, true)] })
  assert.match(mem.problems[0]!.problem, /^ray-head would not fit/, 'a 2Gi head on a 2 GB machine (a 1Gi worker fits)')
  assert.match(fits({ nodes: [node('cp1', 8, 2048, true, false)] }).problems[0]!.problem, /no node takes ordinary pods$/)
})

test('more workers to start than fit: said as the problem; max_replicas beyond the nodes: only the reach', () => {
  const nodes = [node('cp1', 5, 16384, true)]
  assert.match(fits({ nodes, hpa: { min_replicas: 3, max_replicas: 3 } }).problems[0]!.problem, /^ray-worker would not fit .*hpa\.min_replicas 3 ×/)
  assert.equal(fits({ nodes, hpa: { min_replicas: 1, max_replicas: 10 } }), { problems: [], workersThatFit: 2 })
})

test.run()
