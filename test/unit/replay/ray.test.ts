// The Ray playbooks' tasks (80, 85, 90, 95, shap-demo) replayed against a fake control plane:
// the cluster's objects (one kubectl read) in, commands out.
import fs from 'node:fs'
import { loadAll } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import aws from '../../../playbooks/80-aws-credentials.mts'
import ray from '../../../playbooks/85-ray.mts'
import autoscaler from '../../../playbooks/90-autoscaler.mts'
import verify from '../../../playbooks/95-verify.mts'
import demo from '../../../playbooks/shap-demo.mts'
import { SECRET_EXPIRES_AT, type SessionCredentials } from '../../../playbooks/support/session-token.ts'
import { refusal } from '../../../lab/standins/_schema.ts'
import type { Obj } from '../../../lab/standins/_k8s-util.ts'
import { tempDir } from '../_helpers.ts'
import { filesAfter, replay, type FakeFile, type FakeHost, type Rule, type World } from './replay.ts'

const K = 'kubectl --kubeconfig /etc/kubernetes/admin.conf'
const DIR = '/etc/kubernetes/zxplay'
const STATE = /^kubectl --kubeconfig \/etc\/kubernetes\/admin\.conf get namespace\/ray secret\/session-token service\/ray-head deployment\.apps\/ray-head deployment\.apps\/ray-worker horizontalpodautoscaler\.autoscaling\/shap-autoscaler apiservice\.apiregistration\.k8s\.io\/v1beta1\.metrics\.k8s\.io -n ray -o json --ignore-not-found$/
// the real wine table, read in place
const WINE = new URL('../../../../shared/data/winequality-red.csv', import.meta.url).pathname
const DEMO = `all: {vars: {demo: {data_file: ${JSON.stringify(WINE)}}}, children: {control_plane: {hosts: {cp1: {address: 10.0.0.10}}}, workers: {hosts: {}}}}`
const WITH_ROLE = 'all: {vars: {aws: {role_arn: "arn:aws:iam::123456789012:role/ray"}}, children: {control_plane: {hosts: {cp1: {address: 10.0.0.10}}}, workers: {hosts: {}}}}'

/** The one kubectl read of the Ray objects, answering with these. */
const objects = (...items: Obj[]): Rule => [STATE, JSON.stringify({ kind: 'List', items })]

const b64 = (s: string) => Buffer.from(s).toString('base64')
const LATER = new Date(Date.now() + 3600_000).toISOString()
const secret = (expiresAt = LATER): Obj => ({ kind: 'Secret', metadata: { name: 'session-token', annotations: { [SECRET_EXPIRES_AT]: expiresAt } }, data: { AWS_ACCESS_KEY_ID_SESS: b64('ASIAEXAMPLE'), AWS_SECRET_ACCESS_KEY_SESS: b64('s3cr3t-value'), AWS_SESSION_TOKEN: b64('t0ken-value') } })
const deployment = (name: string, extra: Obj = {}): Obj => ({ kind: 'Deployment', metadata: { name, generation: 1 }, spec: { replicas: 1, template: { spec: { containers: [{ name, resources: { requests: { cpu: '1' } } }] } } }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }, ...extra })

/** The kept-manifest guard of applyManifest (objects known from the Ray read: no kubectl get), from the host's files. */
const kept = (files: Record<string, FakeFile>): Rule[] => [
  [/cmp -s - /, (input, script) => (files[/cmp -s - (\S+)/.exec(script)?.[1] ?? '']?.content === input && files[/cmp -s - (\S+)/.exec(script)?.[1] ?? '']?.mode === '600' ? 0 : 1)],
]

const one = (w: FakeHost, o: Omit<World, 'hosts'> = {}): World => ({ ...o, hosts: { cp1: w } })
const onDemo = (w: FakeHost, o: Omit<World, 'hosts'> = {}): World => one(w, { inventory: DEMO, ...o })

// 80-aws-credentials

test('80: with no role configured, the credential tasks are skipped with the reason and touch nothing', async () => {
  for (const task of ['session credentials are valid', 'Secret session-token holds them', 'env.list holds them (mode 0600)', 'the Ray pods run with them']) {
    const r = await replay(aws, task)
    assert.equal([r.status, r.received], ['skipped', []], task)
    assert.match(r.reason ?? '', /no AWS role configured/)
  }
})

test('80: valid credentials are kept; under --check an expired Secret says it would assume the role, and calls nothing', async () => {
  const valid = await replay(aws, 'session credentials are valid', { inventory: WITH_ROLE, ...one({ commands: [objects(secret())] }) })
  assert.equal([valid.status, valid.changes], ['ok', []])
  assert.match(valid.reason ?? '', /^valid until /)
  assert.not.match(JSON.stringify(valid.events), /s3cr3t-value|t0ken-value/)
  const due = await replay(aws, 'session credentials are valid', { inventory: WITH_ROLE, check: true, ...one({ commands: [objects(secret(new Date(Date.now() + 60_000).toISOString()))] }) })
  assert.equal([due.status, due.executed], ['changed', []])
  assert.match(due.reason ?? '', /^would assume arn:aws:iam::123456789012:role\/ray \(it expires at /)
})

const renewed: SessionCredentials = { accessKeyId: 'ASIANEW', secretAccessKey: 'new-secret-key', sessionToken: 'new-session-token', expiration: new Date('2030-01-01T00:00:00Z') }
test('80: renewed credentials go to the Secret on stdin (server-side apply), never in its command line', async () => {
  const r = await replay(aws, 'Secret session-token holds them', { inventory: WITH_ROLE, ...one({ registered: { credentials: { current: {}, deployed: new Map(), due: '--refresh', renewed } } }) })
  assert.equal([r.status, r.changes], ['changed', [`${K} apply --server-side --field-manager=zxplay -f -`]])
  const sent = JSON.parse(r.received[0]!.input) as Obj
  assert.equal((sent.stringData as Obj).AWS_SECRET_ACCESS_KEY_SESS, 'new-secret-key')
  assert.is(refusal(sent), undefined)
  const same = await replay(aws, 'Secret session-token holds them', { inventory: WITH_ROLE, ...one({ registered: { credentials: { current: {}, deployed: new Map() } } }) })
  assert.equal([same.status, same.received], ['ok', []])
})

test('80: pods started with older credentials are rolled by a pod-template annotation', async () => {
  const stale = new Map([['ray-head', '2020-01-01T00:00:00.000Z'], ['ray-worker', renewed.expiration.toISOString()]])
  const r = await replay(aws, 'the Ray pods run with them', {
    inventory: WITH_ROLE,
    ...one({ registered: { credentials: { current: {}, deployed: stale, due: '--refresh', renewed } }, commands: [objects(deployment('ray-head'), deployment('ray-worker'))] }),
  })
  assert.equal(r.changes, [`${K} patch deployment ray-head -n ray --type merge -p $'{"spec":{"template":{"metadata":{"annotations":{"zxplay.io/session-token-expires-at":"2030-01-01T00:00:00.000Z"}}}}}'`])
  assert.is(r.status, 'changed')
})

test('80: env.list beside the inventory is a 0600 copy of the Secret, written only when it differs', async () => {
  const { dir, remove } = tempDir('replay-env')
  try {
    const at = { inventory: WITH_ROLE, inventoryFile: `${dir}/inventory.yaml` }
    const current = { expiresAt: LATER, values: { AWS_ACCESS_KEY_ID_SESS: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY_SESS: 's3cr3t-value', AWS_SESSION_TOKEN: 't0ken-value' } }
    const task = 'env.list holds them (mode 0600)'
    const check = await replay(aws, task, { ...at, check: true, ...one({ registered: { credentials: { current, deployed: new Map() } } }) })
    assert.equal([check.status, check.reason, fs.existsSync(`${dir}/env.list`)], ['changed', `would write ${dir}/env.list`, false])
    const wrote = await replay(aws, task, { ...at, ...one({ registered: { credentials: { current, deployed: new Map() } } }) })
    assert.equal([wrote.status, wrote.received], ['changed', []])
    assert.is(fs.readFileSync(`${dir}/env.list`, 'utf8'), 'AWS_ACCESS_KEY_ID_SESS=ASIAEXAMPLE\nAWS_SECRET_ACCESS_KEY_SESS=s3cr3t-value\nAWS_SESSION_TOKEN=t0ken-value\n')
    assert.is(fs.statSync(`${dir}/env.list`).mode & 0o777, 0o600)
    const converged = await replay(aws, task, { ...at, ...one({ registered: { credentials: { current, deployed: new Map() } } }) })
    assert.equal([converged.status, converged.reason], ['ok', `${dir}/env.list is current`])
  } finally {
    remove()
  }
})

// 80's namespace, 85, 90: manifests applied once

async function appliesOnce(pb: typeof ray, task: string, name: string, before: Obj[], extra: Rule[] = []) {
  const file = `${DIR}/${name}.yaml`
  const fresh = await replay(pb, task, one({ commands: [objects(...before), ...kept({}), [`${K} get -f ${file} -o name`, 1], ...extra] }))
  assert.equal([fresh.status, fresh.changes], ['changed', [`upload ${file} (mode 600)`, `${K} apply -f ${file}`]])
  const applied = (loadAll(fresh.uploads[0]!.content) as Obj[]).filter(Boolean)
  for (const o of applied) assert.is(refusal(o), undefined, `${String(o.kind)}/${String((o.metadata as Obj).name)}`)
  const files = filesAfter(fresh)
  const converged = await replay(pb, task, one({ files, commands: [objects(...before, ...applied), ...kept(files), ...extra] }))
  assert.equal([converged.status, converged.changes, converged.reason], ['ok', [], 'unchanged'])
  const check = await replay(pb, task, one({ commands: [objects(...before), ...kept({}), [`${K} get -f ${file} -o name`, 1], ...extra] }, { check: true }))
  assert.equal([check.status, check.executed, check.changes], ['changed', [], [`upload ${file} (mode 600)`, `${K} apply -f ${file}`]])
  return applied
}

test('80: the Ray namespace is applied once', async () => {
  const objs = await appliesOnce(aws, 'namespace exists', 'ray-namespace', [])
  assert.equal(objs.map((o) => o.kind), ['Namespace'])
})

test('85: Service and Deployments are applied once; the workers have no replicas (the HPA owns them)', async () => {
  const objs = await appliesOnce(ray, 'Service and Deployments are applied', 'ray-cluster', [])
  assert.equal(objs.map((o) => `${String(o.kind)}/${String((o.metadata as Obj).name)}`), ['Service/ray-head', 'Deployment/ray-head', 'Deployment/ray-worker'])
  assert.is((objs[2]!.spec as Obj).replicas, undefined)
})

test('85: the rollout wait reads the remembered state first', async () => {
  const r = await replay(ray, 'head and workers are rolled out', one({ commands: [objects(deployment('ray-head'), deployment('ray-worker'))] }))
  assert.equal([r.status, r.changes, r.received.length], ['ok', [], 1])
})

const METRICS = { kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' }, status: { conditions: [{ type: 'Available', status: 'True' }] } }
test('90: the HPA is applied once, after the metrics API and the workers CPU requests are there', async () => {
  const api = await replay(autoscaler, 'the metrics API is available', one({ commands: [objects(METRICS)] }))
  assert.equal([api.status, api.changes], ['ok', []])
  const noApi = await replay(autoscaler, 'the metrics API is available', one({ commands: [objects()] }))
  assert.match(`${noApi.status} ${noApi.reason}`, /^failed .*not registered: run playbooks\/70-metrics-server.mts first/)
  const cpu = await replay(autoscaler, 'ray-worker requests CPU', one({ commands: [objects(deployment('ray-worker'))] }))
  assert.equal([cpu.status, cpu.reason], ['ok', 'ray-worker: 1'])
  const objs = await appliesOnce(autoscaler, 'HorizontalPodAutoscaler is applied', 'ray-autoscaler', [METRICS])
  assert.equal(objs.map((o) => o.kind), ['HorizontalPodAutoscaler'])
})

// 95-verify

const HEAD_EXEC = new RegExp(`^${K} exec -n ray deploy/ray-head -c ray-head -- sh -c `)
const RAY_STATUS = '======== Autoscaler status ========\nNode status\nActive:\n 1 node_aaaa\n 1 node_bbbb\nPending:\n'
const HPA = { kind: 'HorizontalPodAutoscaler', metadata: { name: 'shap-autoscaler' }, status: { currentReplicas: 1, desiredReplicas: 1, currentMetrics: [{ resource: { name: 'cpu', current: { averageUtilization: 3 } } }] } }
test('95: the checks pass on a healthy cluster without a role (credential rows not configured); reads only', async () => {
  const r = await replay(verify, 'Ray cluster checks', one({ commands: [objects(deployment('ray-head'), deployment('ray-worker'), HPA), [HEAD_EXEC, `#zxplay-exit 1\n#zxplay-exit 1\n${RAY_STATUS}#zxplay-exit 0\n`]] }))
  assert.equal([r.status, r.reason, r.changes], ['ok', '3 checks passed, 2 not configured', []])
  assert.equal(r.log.map((l) => l.slice(0, 4)), ['PASS', 'N/A ', 'N/A ', 'PASS', 'PASS'])
  const bad = await replay(verify, 'Ray cluster checks', one({ commands: [objects(deployment('ray-head'), deployment('ray-worker'), HPA), [HEAD_EXEC, `#zxplay-exit 1\n#zxplay-exit 1\nActive:\n 1 node_aaaa\n#zxplay-exit 0\n`]] }))
  assert.match(`${bad.status} ${bad.reason}`, /^failed 1 of 3 checks failed: ray status: head and every worker$/)
})

// shap-demo

test('shap-demo: the app ConfigMap is applied once; under --check the job is only planned', async () => {
  const files = {} as Record<string, FakeFile>
  const fresh = await replay(demo, 'the app is shipped as ConfigMap ray-app', onDemo({ commands: [...kept(files), [`${K} get -f ${DIR}/ray-app.yaml -o name`, 1]] }))
  assert.equal(fresh.changes, [`upload ${DIR}/ray-app.yaml (mode 600)`, `${K} apply -f ${DIR}/ray-app.yaml`])
  const cm = loadAll(fresh.uploads[0]!.content)[0] as Obj
  assert.is(refusal(cm), undefined)
  assert.ok('shap_job.py' in (cm.data as Obj))
  const after = filesAfter(fresh)
  const converged = await replay(demo, 'the app is shipped as ConfigMap ray-app', onDemo({ files: after, commands: [...kept(after), [`${K} get -f ${DIR}/ray-app.yaml -o name`, 0]] }))
  assert.equal([converged.status, converged.changes], ['ok', []])
  const job = await replay(demo, 'the SHAP job is started in the head pod', onDemo({ commands: [[/^\[ -e \/var\/lib\/zxplay\/shap-demo\/pid \]/, 1]] }, { check: true }))
  assert.equal([job.status, job.executed, job.changes.length], ['changed', [], 1])
  assert.match(job.changes[0]!, /setsid bash -c .*python \/app\/shap_job\.py/)
  for (const task of ['the head pod has the shipped files at /app', 'the workers are at minReplicas before the job', 'the HPA scales the workers up and back down', 'the job printed Results match!']) {
    const r = await replay(demo, task, onDemo({}, { check: true }))
    assert.equal([r.status, r.received], ['skipped', []], task)
  }
})

test('shap-demo: the watch alone (--start-at-task, --tags) says which tasks must run first, before it reads anything', async () => {
  const r = await replay(demo, 'the HPA scales the workers up and back down', onDemo({}))
  assert.is(r.status, 'failed')
  assert.match(r.reason ?? '', 'the HPA and the job start are not known: run the whole playbook')
  assert.equal(r.received, [])
})

test.run()
