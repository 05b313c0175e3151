// The stand-in's HorizontalPodAutoscaler controller (lab/standins/_hpa.ts) on the Ray workers,
// loaded by the demo job: scale-up to maxReplicas, the scale-down stabilization window, the sync
// period, the controller-manager's flags, and the conditions when it cannot compute a count.
// In-process on a fake lab; time is a fake clock the test moves.
import fs from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { labPerTest, FLANNEL, hostFile, INIT_CONFIG, initCluster, METRICS_SERVER, put, RAY } from '../_k8s-testlab.ts'

const t = labPerTest(test)
const { kubectl, kubectlIn, pass } = t

const HPA = (o: { window?: number; v1?: boolean; target?: string } = {}) =>
  o.v1
    ? `apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: { name: shap-autoscaler, namespace: ray }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: ${o.target ?? 'ray-worker'} }
  minReplicas: 1
  maxReplicas: 3
  targetCPUUtilizationPercentage: 50
`
    : `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: shap-autoscaler, namespace: ray }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: ${o.target ?? 'ray-worker'} }
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }
${o.window === undefined ? '' : `  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: ${o.window}\n`}`

type Hpa = {
  apiVersion: string
  spec: { behavior?: { scaleUp: { policies: unknown[]; selectPolicy: string }; scaleDown: { stabilizationWindowSeconds?: number; policies: unknown[] } } }
  status: { currentReplicas?: number; desiredReplicas?: number; lastScaleTime?: string; currentCPUUtilizationPercentage?: number; currentMetrics?: { resource: { current: { averageUtilization?: number; averageValue?: string } } }[]; conditions?: { type: string; status: string; reason: string; message: string }[] }
}
const hpa = async () => JSON.parse((await kubectl('get', 'hpa', 'shap-autoscaler', '-n', 'ray', '-o', 'json')).out) as Hpa
const cond = (h: Hpa, type: string) => h.status.conditions?.find((c) => c.type === type)
const workers = async () => Number((await kubectl('get', 'deploy', 'ray-worker', '-n', 'ray', '-o', 'jsonpath={.spec.replicas}')).out)
const readyWorkers = async () => (await kubectl('get', 'pods', '-n', 'ray', '-l', 'component=ray-worker', '--no-headers')).out.split('\n').filter((l) => /1\/1\s+Running/.test(l)).length


async function cluster(o: { metricsServer?: 'ready' | 'unready' | false; ray?: string } = {}) {
  const r = await initCluster(t.lab, INIT_CONFIG({ taints: '  taints: []\n' }), { ZXLAB_CPUS: '8', ZXLAB_MEMORY_MB: '16384' })
  assert.is(r.code, 0, r.err)
  await kubectlIn(FLANNEL(), 'apply', '-f', '-')
  const ms = o.metricsServer ?? 'ready'
  if (ms) await kubectlIn(METRICS_SERVER(['--cert-dir=/tmp', '--metric-resolution=15s', ...(ms === 'ready' ? ['--kubelet-insecure-tls'] : [])]), 'apply', '-f', '-')
  const a = await kubectlIn(o.ray ?? RAY({ app: true }), 'apply', '-f', '-')
  assert.is(a.code, 0, a.err)
  await pass(15)
}

/** The demo job: the workers at their CPU limit (1 CPU = 100% of the request) for `seconds`. */
async function job(seconds: number) {
  put(t.lab, 'node1', '/etc/zxplay-standin/ray-job.json', JSON.stringify({ jobSeconds: seconds, workerMillicores: 'limit', afterMillicores: 0 }))
  const r = await kubectl('exec', '-n', 'ray', 'deploy/ray-head', '-c', 'ray-head', '--', 'python', '/app/shap_job.py')
  assert.is(r.code, 0, r.err)
}

test('under the job the workers scale to maxReplicas, then back to minReplicas once the stabilization window has passed', async () => {
  await cluster()
  assert.is((await kubectlIn(HPA({ window: 30 }), 'apply', '-f', '-')).code, 0)
  let h = await hpa()
  assert.equal(h.spec.behavior?.scaleDown.policies, [{ type: 'Percent', value: 100, periodSeconds: 15 }], 'the API server fills in the behavior')
  assert.is(h.spec.behavior?.scaleUp.selectPolicy, 'Max')
  assert.is(h.status.currentMetrics?.[0]?.resource.current.averageUtilization, 0, 'idle workers')
  // the first recommendation is the current count, so the window keeps it at first
  assert.equal([cond(h, 'ScalingActive')?.reason, cond(h, 'AbleToScale')?.reason, cond(h, 'ScalingLimited')?.reason], ['ValidMetricFound', 'ScaleDownStabilized', 'DesiredWithinRange'])
  assert.match((await kubectl('get', 'hpa', '-n', 'ray')).out, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nshap-autoscaler\s+Deployment\/ray-worker\s+cpu: 0%\/50%\s+1\s+3\s+1\s+\d+s\n$/)

  await job(60)
  await pass(15) // one sync: 100% of the request on 1 worker → 2
  h = await hpa()
  assert.equal([h.status.currentReplicas, h.status.desiredReplicas, await workers()], [1, 2, 2])
  assert.is(h.status.currentMetrics?.[0]?.resource.current.averageUtilization, 100)
  assert.is(h.status.currentMetrics?.[0]?.resource.current.averageValue, '1000m')
  assert.equal([cond(h, 'AbleToScale')?.reason, cond(h, 'AbleToScale')?.message], ['SucceededRescale', 'the HPA controller was able to update the target scale to 2'])
  assert.ok(h.status.lastScaleTime)
  await pass(15) // both Ready and loaded: 4 wanted, maxReplicas 3
  h = await hpa()
  assert.equal([h.status.desiredReplicas, await workers()], [3, 3])
  assert.equal([cond(h, 'ScalingLimited')?.status, cond(h, 'ScalingLimited')?.reason, cond(h, 'ScalingLimited')?.message], ['True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'])
  await pass(15)
  assert.is(await readyWorkers(), 3)
  assert.match((await kubectl('get', 'hpa', '-n', 'ray', '--no-headers')).out, /cpu: 100%\/50%\s+1\s+3\s+3\s/)
  assert.match((await kubectl('top', 'pods', '-n', 'ray', '-l', 'component=ray-worker', '--no-headers')).out, /^(ray-worker-\S+\s+1000m\s+\d+Mi\n){3}$/)

  await pass(15) // the job has ended: idle, but a higher recommendation is inside the 30 s window
  h = await hpa()
  assert.equal([h.status.currentMetrics?.[0]?.resource.current.averageUtilization, await workers()], [0, 3])
  assert.equal([cond(h, 'AbleToScale')?.reason, cond(h, 'AbleToScale')?.message], ['ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation'])
  await pass(15) // the window has passed
  h = await hpa()
  assert.equal([h.status.desiredReplicas, await workers()], [1, 1])
  assert.is(cond(h, 'ScalingLimited')?.reason, 'TooFewReplicas')
  await pass(5)
  assert.is((await kubectl('get', 'pods', '-n', 'ray', '-l', 'component=ray-worker', '-o', 'name')).out.trim().split('\n').length, 1)
})

test('a sync every 15 s; without behavior the window is kube-controller-manager\'s flag (v1 object, read as v2)', async () => {
  await cluster()
  assert.is((await kubectlIn(HPA({ v1: true }), 'apply', '-f', '-')).code, 0)
  let h = await hpa()
  assert.is(h.apiVersion, 'autoscaling/v1')
  assert.is(h.status.currentCPUUtilizationPercentage, 0)
  await job(20)
  await pass(10)
  assert.is(await workers(), 1, 'no sync before the period has passed')
  await pass(5)
  assert.is(await workers(), 2)
  h = await hpa()
  assert.equal([h.status.currentCPUUtilizationPercentage, h.status.desiredReplicas], [100, 2])
  // the flag says 15s (INIT_CONFIG): once the job is over the next sync scales down
  await pass(15)
  await pass(15)
  assert.is(await workers(), 1)

  // a longer window in the manifest the kubelet runs
  const manifest = hostFile(t.lab, 'node1', '/etc/kubernetes/manifests/kube-controller-manager.yaml')
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('--horizontal-pod-autoscaler-downscale-stabilization=15s', '--horizontal-pod-autoscaler-downscale-stabilization=1m0s'))
  await job(30)
  await pass(15)
  assert.is(await workers(), 2)
  await pass(30)
  assert.is(await workers(), 2, 'within the 1m window')
  await pass(45)
  assert.is(await workers(), 1)

  // no kube-controller-manager, no autoscaling
  fs.rmSync(manifest)
  await job(30)
  await pass(30)
  assert.is(await workers(), 1)
})

test('no metrics API: ScalingActive False, FailedGetResourceMetric, no scaling; metrics-server not Ready says so', async () => {
  await cluster({ metricsServer: false })
  await kubectlIn(HPA({ window: 15 }), 'apply', '-f', '-')
  await job(60)
  await pass(30)
  let h = await hpa()
  assert.equal([cond(h, 'ScalingActive')?.status, cond(h, 'ScalingActive')?.reason, cond(h, 'ScalingActive')?.message], ['False', 'FailedGetResourceMetric', 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)'])
  assert.equal([cond(h, 'AbleToScale')?.reason, h.status.currentReplicas, await workers()], ['SucceededGetScale', 1, 1])
  assert.match((await kubectl('get', 'hpa', '-n', 'ray', '--no-headers')).out, /cpu: <unknown>\/50%/)
  await kubectlIn(METRICS_SERVER(['--cert-dir=/tmp', '--metric-resolution=15s']), 'apply', '-f', '-')
  await pass(15)
  h = await hpa()
  assert.is(cond(h, 'ScalingActive')?.message, 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server is currently unable to handle the request (get pods.metrics.k8s.io)')
  assert.is(await workers(), 1)
})

test('a worker container without a CPU request: FailedGetResourceMetric naming the container and the pod; a missing target: FailedGetScale', async () => {
  await cluster({ ray: RAY({ app: true, workerRequests: null }) })
  await kubectlIn(HPA({ window: 15 }), 'apply', '-f', '-')
  const pod = (await kubectl('get', 'pods', '-n', 'ray', '-l', 'component=ray-worker', '-o', 'jsonpath={.items[0].metadata.name}')).out
  let h = await hpa()
  assert.equal([cond(h, 'ScalingActive')?.status, cond(h, 'ScalingActive')?.reason, cond(h, 'ScalingActive')?.message], ['False', 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container ray-worker of Pod ${pod}`])
  assert.match((await kubectl('get', 'hpa', '-n', 'ray', '--no-headers')).out, /cpu: <unknown>\/50%/)
  await kubectlIn(HPA({ window: 15, target: 'nope' }), 'apply', '-f', '-')
  await pass(15)
  h = await hpa()
  assert.equal([cond(h, 'AbleToScale')?.status, cond(h, 'AbleToScale')?.reason, cond(h, 'AbleToScale')?.message], ['False', 'FailedGetScale', 'the HPA controller was unable to get the target\'s current scale: deployments/scale.apps "nope" not found'])
  const jp = await kubectl('get', 'hpa', 'shap-autoscaler', '-n', 'ray', '-o', 'jsonpath={.spec.scaleTargetRef.name} {.status.conditions[?(@.type=="AbleToScale")].status}')
  assert.is(jp.out, 'nope False')
})

test.run()
