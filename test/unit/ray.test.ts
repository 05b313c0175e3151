// The Ray objects as rendered from the default inventory: schema-valid, and the names and
// fields users look for, one by one; and the Ray/HPA vars that are input errors.
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadAll } from 'js-yaml'
import { InventoryError } from '../../lib/base/errors.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { playbookVars } from '../../lib/engine/playbook.ts'
import { renderFile } from '../../lib/engine/template.ts'
import { SECRET_EXPIRES_AT, sessionSecret } from '../../playbooks/support/session-token.ts'
import { RAY } from '../../playbooks/support/ray.ts'
import { hpaSpec, raySpec } from '../../playbooks/support/vars/ray.ts'
import { activeNodes } from '../../playbooks/95-verify.mts'
import { refusal } from '../../lab/standins/_schema.ts'
import { checkFamily } from './_helpers.ts'

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')
const EXPIRES = '2026-11-25T22:00:00.000Z'

function varsFor(inventoryVars = '') {
  const inv = parseInventory(`all:\n  vars:\n${inventoryVars}  children:\n    control_plane:\n      hosts:\n        cp1: { address: 10.0.0.1 }\n`, '/tmp/inv/inventory.yaml')
  return playbookVars(RAY, inv.hosts[0]!)
}

async function render(file: string, extra: Record<string, unknown> = {}, inventoryVars = '') {
  const text = await renderFile(path.join(REPO, 'templates/ray', file), { ...varsFor(inventoryVars), ...extra })
  return loadAll(text) as any[]
}

test('ray-cluster.yaml: Service first, then ray-head and ray-worker, all schema-valid', async () => {
  const objs = await render('ray-cluster.yaml', { session_token_expires_at: EXPIRES })
  assert.equal(objs.map((o) => `${o.kind}/${o.metadata.name}`), ['Service/ray-head', 'Deployment/ray-head', 'Deployment/ray-worker'])
  assert.is(refusal(objs[0]), undefined)
  assert.is(refusal(objs[1]), undefined)
  assert.is(refusal(objs[2]), undefined)
  for (const o of objs) assert.is(o.metadata.namespace, 'ray')
})

test('Service ray-head: GCS, dashboard, client and the pinned Ray ports, selecting the head', async () => {
  const [svc] = await render('ray-cluster.yaml', { session_token_expires_at: EXPIRES })
  const ports = Object.fromEntries(svc.spec.ports.map((p: any) => [p.name, p.port]))
  assert.equal(ports, { gcs: 6379, dashboard: 8265, client: 10001, 'object-manager': 8076, 'node-manager': 8077, 'dashboard-agent': 52365 })
  assert.equal(svc.spec.selector, { app: 'ray', component: 'ray-head' })
})

test('ray-head: one replica, current ray start flags, MY_CPU_REQUEST, Secret by envFrom and at /etc/awstoken', async () => {
  const [, head] = await render('ray-cluster.yaml', { session_token_expires_at: EXPIRES })
  assert.is(head.spec.replicas, 1)
  const pod = head.spec.template.spec
  const c = pod.containers[0]
  assert.is(c.name, 'ray-head')
  assert.is(c.image, 'rayproject/ray:2.52.0')
  const args = c.args.join(' ')
  assert.match(args, /^ray start --head --port=6379 /)
  assert.match(args, '--num-cpus=$MY_CPU_REQUEST')
  assert.match(args, '--node-ip-address=$MY_POD_IP')
  assert.match(args, '--block')
  assert.not.match(args, /redis/)
  const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.valueFrom]))
  assert.equal(env.MY_CPU_REQUEST, { resourceFieldRef: { resource: 'requests.cpu' } })
  assert.equal(env.MY_POD_IP, { fieldRef: { fieldPath: 'status.podIP' } })
  assert.equal(c.envFrom, [{ secretRef: { name: 'session-token', optional: true } }]) // pods start without it when no AWS role is configured
  assert.equal(c.resources.requests.cpu, c.resources.limits.cpu)
  assert.ok(c.resources.requests.memory)
  const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.mountPath, m]))
  assert.equal(mounts['/etc/awstoken'], { name: 'awstoken', mountPath: '/etc/awstoken', readOnly: true })
  assert.is(mounts['/dev/shm'].name, 'dshm')
  const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]))
  assert.equal(volumes.dshm.emptyDir, { medium: 'Memory' })
  assert.equal(volumes.awstoken.secret, { secretName: 'session-token', optional: true })
  assert.ok(c.readinessProbe.exec.command.join(' ').includes('gcs_healthz'))
  assert.is(head.spec.template.metadata.annotations['zxplay.io/session-token-expires-at'], EXPIRES)
})

test('ray-worker: no replicas (the HPA owns it), the Secret by envFrom only, joins ray-head:6379', async () => {
  const [, , worker] = await render('ray-cluster.yaml', { session_token_expires_at: EXPIRES })
  assert.not.ok('replicas' in worker.spec)
  const c = worker.spec.template.spec.containers[0]
  assert.equal(c.envFrom, [{ secretRef: { name: 'session-token', optional: true } }]) // pods start without it when no AWS role is configured
  assert.not.ok(c.volumeMounts.some((m: any) => m.mountPath === '/etc/awstoken'))
  assert.not.ok(worker.spec.template.spec.volumes.some((v: any) => v.secret))
  assert.match(c.args.join(' '), '--address=ray-head:6379')
  assert.match(c.args.join(' '), '--num-cpus=$MY_CPU_REQUEST')
  assert.equal(c.resources.requests.cpu, c.resources.limits.cpu)
  assert.ok(c.readinessProbe.exec)
})

test('worker and head CPU come from their own vars', async () => {
  const [, head, worker] = await render('ray-cluster.yaml', { session_token_expires_at: EXPIRES }, '    ray: { head_cpu: "2", worker_cpu: 500m }\n')
  assert.is(head.spec.template.spec.containers[0].resources.limits.cpu, '2')
  assert.is(worker.spec.template.spec.containers[0].resources.requests.cpu, '500m')
  assert.is(worker.spec.template.spec.containers[0].image, 'rayproject/ray:2.52.0', 'unset keys keep their defaults')
})

test('autoscaler.yaml: autoscaling/v2 on ray-worker, 1..3, CPU 50%, 15 s scale-down window', async () => {
  const [hpa] = await render('autoscaler.yaml')
  assert.is(refusal(hpa), undefined)
  assert.is(hpa.apiVersion, 'autoscaling/v2')
  assert.equal(hpa.metadata, { name: 'shap-autoscaler', namespace: 'ray' })
  assert.equal(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ray-worker' })
  assert.is(hpa.spec.minReplicas, 1)
  assert.is(hpa.spec.maxReplicas, 3)
  assert.equal(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }])
  assert.is(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 15)
})

test('namespace.yaml: the ray namespace', async () => {
  const [ns] = await render('namespace.yaml')
  assert.is(refusal(ns), undefined)
  assert.is(ns.metadata.name, 'ray')
})

test('the session Secret: schema-valid, ray/session-token, the three keys, the expiry annotation', () => {
  const expiration = new Date(EXPIRES)
  const obj = sessionSecret({ accessKeyId: 'ASIAEXAMPLEEXAMPLE00', secretAccessKey: 's'.repeat(40), sessionToken: 't'.repeat(200), expiration }, 'ray') as any
  assert.is(refusal(obj), undefined)
  assert.equal([obj.metadata.namespace, obj.metadata.name, obj.type], ['ray', 'session-token', 'Opaque'])
  assert.equal(Object.keys(obj.stringData).sort(), ['AWS_ACCESS_KEY_ID_SESS', 'AWS_SECRET_ACCESS_KEY_SESS', 'AWS_SESSION_TOKEN'])
  assert.is(obj.metadata.annotations[SECRET_EXPIRES_AT], EXPIRES)
})

const bad: [string, string, RegExp][] = [
  ['hpa: { min_replicas: 0 }', 'hpa.min_replicas', /at least 1/],
  ['hpa: { min_replicas: 4, max_replicas: 3 }', 'hpa.max_replicas', /at least hpa.min_replicas \(4\)/],
  ['hpa: { min_replicas: 1.5 }', 'hpa.min_replicas', /integer/],
  ['hpa: { cpu_utilization: "50%" }', 'hpa.cpu_utilization', /percentage/],
  ['hpa: { scale_down_stabilization_seconds: -1 }', 'hpa.scale_down_stabilization_seconds', /0 to 3600/],
  ['ray: { worker_cpu: "" }', 'ray.worker_cpu', /CPU quantity/],
  ['ray: { worker_cpu: "0" }', 'ray.worker_cpu', /above zero/],
  ['ray: { head_cpu: "1 core" }', 'ray.head_cpu', /CPU quantity/],
  ['ray: { worker_memory: "1GB" }', 'ray.worker_memory', /memory quantity/],
  ['ray: { namespace: "Ray" }', 'ray.namespace', /namespace name/],
  ['ray: { image: "ray; rm -rf /" }', 'ray.image', /image reference/],
]
for (const [yaml, key, message] of bad) {
  test(`input error: ${yaml}`, () => {
    const err = (() => {
      try {
        varsFor(`    ${yaml}\n`)
      } catch (e) {
        return e
      }
    })()
    assert.instance(err, InventoryError)
    assert.is((err as InventoryError).path, key)
    assert.is((err as InventoryError).file, '/tmp/inv/inventory.yaml')
    assert.match((err as Error).message, message)
  })
}

test('the defaults pass the checks', () => {
  for (const spec of [raySpec, hpaSpec]) checkFamily(spec, varsFor())
})

test('ray status: the nodes under Active are counted', () => {
  const text = `======== Autoscaler status: 2026-11-25 21:00:00 ========\nNode status\n------------------------------\nActive:\n 1 node_0a1b2c\n 1 node_3d4e5f\nPending:\n (no pending nodes)\nRecent failures:\n (no failures)\n`
  assert.is(activeNodes(text), 2)
  assert.is(activeNodes('Active:\n (no active nodes)\n'), 0)
  assert.is(activeNodes('ConnectionError'), 0)
})

test.run()
