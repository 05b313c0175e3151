// The Ray playbooks end to end on 3 real Debian 12 hosts (the real-host lab, lab/hosts/: systemd,
// apt, containerd real; kubeadm/kubelet/kubectl the stand-ins inside real .debs; the API server a
// stand-in over HTTPS on 10.78.0.11:6443): site from fresh machines once, with STS credentials
// from the lab's local STS endpoint (this machine, where the runner calls STS) into Secret
// ray/session-token and env.list, the Ray head and workers, the HPA, verification; then a
// converged rerun, --refresh, every STS failure, and no credential value anywhere it must not be
// (this machine's process list sees the hosts' processes too: nspawn's PID namespaces are nested in
// this one). Builds the Debian 12 rootfs first when the cache has none (minutes).
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { derivedInventory, newestLog, runCli, runJson, tmpDir, type CliResult, type JsonReport } from '../../../test/e2e/helpers.ts'
import { labDown, labLeftovers, labUp, onRealHost, type RealLab } from '../lab.ts'

let lab: RealLab
let logDir: string
const inv = () => ['-i', lab.inventory, '--log-dir', logDir]
const changedTotal = (r: JsonReport) => Object.values(r.hosts).reduce((n, h) => n + h.changed, 0)
const failures = (r: { stdout: string; stderr: string }) => `${r.stdout.slice(-5000)}\n${r.stderr.slice(-2000)}`
const KEYS = ['AWS_ACCESS_KEY_ID_SESS', 'AWS_SECRET_ACCESS_KEY_SESS', 'AWS_SESSION_TOKEN'] as const
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** kubectl as root on node1: the stand-in in the real kubectl .deb, over HTTPS to the API server. */
async function kubectl(args: string): Promise<string> {
  const r = await onRealHost(lab, 'node1', `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`)
  if (r.code !== 0) throw new Error(`kubectl ${args}: ${r.stderr}`)
  return r.stdout
}
const getJson = async (args: string) => JSON.parse(await kubectl(`${args} -o json`))

type SecretView = { values: Record<string, string>; expiresAt: string; resourceVersion: string }
async function secret(): Promise<SecretView> {
  const s = await getJson('get secret session-token -n ray')
  return {
    values: Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])),
    expiresAt: s.metadata.annotations['zxplay.io/expires-at'],
    resourceVersion: s.metadata.resourceVersion,
  }
}
const podNames = async (component: string) => ((await getJson(`get pods -n ray -l component=${component}`)).items as any[]).map((p) => p.metadata.name).sort()

/** Every distinct command line on this machine (the hosts' PID namespaces are nested in its own) while `fn` runs. */
async function watchingProcesses<T>(fn: () => Promise<T>): Promise<{ result: T; commandLines: Set<string> }> {
  const seen = new Set<string>()
  let running = true
  const sample = () =>
    new Promise<void>((resolve) =>
      execFile('ps', ['-eo', 'args', '--no-headers'], { maxBuffer: 16 << 20 }, (_e, out) => {
        for (const l of String(out).split('\n')) seen.add(l)
        resolve()
      })
    )
  const loop = (async () => {
    while (running) {
      await sample()
      await new Promise((r) => setTimeout(r, 25))
    }
  })()
  try {
    return { result: await fn(), commandLines: seen }
  } finally {
    running = false
    await loop
  }
}

/** Where a value must never appear: the run's output, its log, and every process's argv. */
function assertNowhere(values: string[], places: Record<string, string>) {
  for (const v of values) {
    assert.ok(v.length >= 16, 'a credential value to look for')
    for (const [where, text] of Object.entries(places)) assert.not.ok(text.includes(v), `a credential value appears in ${where}`)
  }
}

const ray = suite('ray on the real-host lab: credentials, Ray cluster, HPA, verification (3 Debian 12 hosts)')
ray.before(async () => {
  lab = await labUp({ hosts: 3, aws: true, log: (s) => console.log(s) })
  console.log(`  lab up: ${Object.entries(lab.timings).map(([k, v]) => `${k} ${seconds(v)}`).join(', ')}`)
  logDir = tmpDir()
})
ray.after(async () => {
  await labDown()
})

let first: SecretView
const envList = () => path.join(path.dirname(lab.inventory), 'env.list')

ray('site.mts builds the cluster and Ray; no credential value in stdout, the log, --json, any process list or node1\'s journal', async () => {
  const { result: r, commandLines } = await watchingProcesses(() => runCli(['run', 'site', ...inv()], { timeoutMs: 1_200_000 }))
  console.log(`  site ${seconds(r.ms)}`)
  assert.is(r.code, 0, failures(r))
  // the process list did see inside the hosts: the API server the kubelet runs on node1
  assert.ok([...commandLines].some((l) => /kube-apiserver\.mjs --advertise-address=10\.78\.0\.11 /.test(l)), 'ps here sees the hosts\' processes')
  first = await secret()
  assert.equal(Object.keys(first.values).sort(), [...KEYS].sort())
  assert.ok(Date.parse(first.expiresAt) > Date.now() + 50 * 60_000, `expiry about an hour ahead: ${first.expiresAt}`)
  const log = fs.readFileSync(newestLog(logDir), 'utf8')
  // where the API server's and the kubelet's output goes on node1
  const journal = (await onRealHost(lab, 'node1', 'journalctl --no-pager -o cat')).stdout
  assert.match(journal, /kube-apiserver|kubelet/i)
  assertNowhere(Object.values(first.values), { stdout: r.stdout, stderr: r.stderr, log, 'a process list': [...commandLines].join('\n'), "node1's journal": journal })
  assert.match(r.stdout, /PASS\s+head pod env \(envFrom\)/)
  assert.match(r.stdout, /PASS\s+ray status: head and every worker/)
  assert.match(r.stdout, /PASS\s+HPA shap-autoscaler reads CPU/)
})

ray('env.list: mode 0600, docker --env-file lines equal to the Secret', async () => {
  const st = fs.statSync(envList())
  assert.is(st.mode & 0o777, 0o600)
  const lines = fs.readFileSync(envList(), 'utf8').trim().split('\n')
  assert.equal(lines, KEYS.map((k) => `${k}=${first.values[k]}`))
})

ray('the objects on the cluster: names, Service before Deployments, /etc/awstoken on the head only, HPA v2', async () => {
  const svc = await getJson('get service ray-head -n ray')
  const head = await getJson('get deployment ray-head -n ray')
  const worker = await getJson('get deployment ray-worker -n ray')
  assert.ok(Date.parse(svc.metadata.creationTimestamp) <= Date.parse(head.metadata.creationTimestamp), 'Service created before the head')
  assert.ok(Date.parse(svc.metadata.creationTimestamp) <= Date.parse(worker.metadata.creationTimestamp), 'Service created before the workers')
  const mounts = (d: any) => d.spec.template.spec.containers[0].volumeMounts.map((m: any) => m.mountPath)
  assert.ok(mounts(head).includes('/etc/awstoken'))
  assert.not.ok(mounts(worker).includes('/etc/awstoken'))
  const lastApplied = JSON.parse(worker.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])
  assert.not.ok('replicas' in lastApplied.spec, 'what is applied for ray-worker has no replicas')
  const hpa = await getJson('get hpa shap-autoscaler -n ray')
  assert.is(hpa.apiVersion, 'autoscaling/v2')
  assert.is(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 15)
  assert.is(hpa.spec.scaleTargetRef.name, 'ray-worker')
  const s = await getJson('get secret session-token -n ray')
  assert.not.ok(JSON.stringify(s.metadata).includes(first.values.AWS_SESSION_TOKEN!), 'no copy of the values in the metadata (server-side apply)')
})

ray('a rerun of site.mts changes nothing; --check and --json show no credential value', async () => {
  const r = await runJson(['run', 'site', ...inv()], { timeoutMs: 600_000 })
  assert.is(r.code, 0, failures(r))
  assert.is(changedTotal(r.report), 0, JSON.stringify(r.report.tasks.filter((t) => t.status === 'changed')))
  const check = await runCli(['run', 'site', ...inv(), '--check', '--diff'], { timeoutMs: 600_000 })
  console.log(`  site again ${seconds(r.ms)}, site --check --diff ${seconds(check.ms)}`)
  assert.is(check.code, 0, failures(check))
  assert.is((await secret()).resourceVersion, first.resourceVersion)
  assertNowhere(Object.values(first.values), { '--json': r.stdout, '--check': check.stdout + check.stderr })
})

ray('a rerun with --refresh --check lists the renewal and changes nothing', async () => {
  const r = await runCli(['run', '80-aws-credentials', ...inv(), '--refresh', '--check'], { timeoutMs: 120_000 })
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, /would assume arn:aws:iam::\d{12}:role\/\S+ \(--refresh\)/)
  assert.match(r.stdout, /would restart ray-head, ray-worker/)
  assert.is((await secret()).resourceVersion, first.resourceVersion)
})

let second: SecretView
ray('--refresh rotates the Secret (new values, new expiry) and restarts both Deployments onto them', async () => {
  const heads = await podNames('ray-head')
  const workers = await podNames('ray-worker')
  await new Promise((r) => setTimeout(r, 1100)) // a new expiry second
  const { result: r, commandLines } = await watchingProcesses(() => runCli(['run', '80-aws-credentials', ...inv(), '--refresh'], { timeoutMs: 300_000 }))
  assert.is(r.code, 0, failures(r))
  second = await secret()
  for (const k of KEYS) assert.is.not(second.values[k], first.values[k], k)
  assert.ok(Date.parse(second.expiresAt) > Date.parse(first.expiresAt), 'a later expiry')
  assert.match(r.stdout, /restarted ray-head, ray-worker/)
  assertNowhere(Object.values(second.values), { stdout: r.stdout, log: fs.readFileSync(newestLog(logDir), 'utf8'), 'a process list': [...commandLines].join('\n') })
  const v = await runCli(['run', '95-verify', ...inv()], { timeoutMs: 240_000 })
  assert.is(v.code, 0, failures(v))
  assert.match(v.stdout, /PASS\s+head pod env \(envFrom\)\s+equal to the Secret/)
  const newHeads = await podNames('ray-head')
  assert.not.ok(newHeads.some((p) => heads.includes(p)), 'the head pod was replaced')
  assert.not.ok((await podNames('ray-worker')).some((p) => workers.includes(p)), 'the worker pods were replaced')
  assert.equal(fs.readFileSync(envList(), 'utf8').trim().split('\n'), KEYS.map((k) => `${k}=${second.values[k]}`))
})

ray('verification fails, naming the check, when the head runs with other credentials than the Secret', async () => {
  // Put other values in the Secret behind the playbook's back: env (read at start) now differs.
  const patch = JSON.stringify({ stringData: { AWS_ACCESS_KEY_ID_SESS: 'ASIAOTHERVALUE000000' } })
  await kubectl(`patch secret session-token -n ray --type merge -p '${patch}'`)
  try {
    const v = await runCli(['run', '95-verify', ...inv()], { timeoutMs: 240_000 })
    assert.is(v.code, 2, failures(v))
    assert.match(v.stdout, /FAIL\s+head pod env \(envFrom\)\s+differ from the Secret: AWS_ACCESS_KEY_ID_SESS/)
    assert.match(v.stdout, /PASS\s+head pod files in \/etc\/awstoken/)
  } finally {
    const restore = JSON.stringify({ stringData: { AWS_ACCESS_KEY_ID_SESS: second.values.AWS_ACCESS_KEY_ID_SESS } })
    await kubectl(`patch secret session-token -n ray --type merge -p '${restore}'`)
  }
})

/** Each STS failure: one clear error, exit ≠ 0, and the Secret and the Ray pods as they were. */
const stsFailures: [string, (inv: any, dir: string) => void, RegExp][] = [
  ['iamroles.txt missing', (i) => {
    i.all.vars.aws.role_arn = ''
    i.all.vars.aws.iamroles_file = 'no-such-iamroles.txt'
  }, /no-such-iamroles\.txt/],
  ['a malformed ARN in iamroles.txt', (i, dir) => {
    fs.writeFileSync(path.join(dir, 'iamroles.txt'), 'arn:aws:iam::12345:role/short-account\n')
    i.all.vars.aws.role_arn = ''
  }, /iamroles\.txt.*arn:aws:iam::<12 digits>|arn:aws:iam::\d{12}:role/s],
  ['no AWS credentials', (i) => {
    i.all.vars.aws.profile = 'no-such-profile'
  }, /no-such-profile/],
  ['AccessDenied', (i) => {
    i.all.vars.aws.role_arn = 'arn:aws:iam::000000000000:role/not-a-lab-role'
  }, /AccessDenied|not authorized/],
  ['ExpiredToken', (i) => {
    i.all.vars.aws.profile = 'zxlab-expired'
  }, /ExpiredToken|expired/i],
  ['an unreachable endpoint', (i) => {
    i.all.vars.aws.endpoint = 'http://127.0.0.1:9'
  }, /127\.0\.0\.1:9|ECONNREFUSED|unreachable/],
]
for (const [name, change, message] of stsFailures) {
  ray(`STS failure, ${name}: a clear error, and the Secret and pods are left as they were`, async () => {
    const before = await secret()
    const pods = [...(await podNames('ray-head')), ...(await podNames('ray-worker'))]
    const dir = tmpDir()
    const file = derivedInventory(lab, (i) => change(i, dir))
    const moved = path.join(dir, 'inventory.yaml')
    if (file !== moved) fs.copyFileSync(file, moved)
    const r: CliResult = await runCli(['run', '80-aws-credentials', '-i', moved, '--log-dir', logDir, '--refresh'], { timeoutMs: 60_000 })
    assert.ok(r.code !== 0, failures(r))
    assert.match(r.stdout + r.stderr, message)
    const after = await secret()
    assert.is(after.resourceVersion, before.resourceVersion)
    assert.equal(after.values, before.values)
    assert.equal([...(await podNames('ray-head')), ...(await podNames('ray-worker'))], pods)
    assertNowhere(Object.values(before.values), { output: r.stdout + r.stderr })
  })
}

ray('an HPA with min above max is an input error; nothing is applied', async () => {
  const hpa = await getJson('get hpa shap-autoscaler -n ray')
  const r = await runCli(['run', '90-autoscaler', ...inv(), '-e', 'hpa.min_replicas=4'], { timeoutMs: 120_000 })
  assert.ok(r.code !== 0, failures(r))
  assert.match(r.stdout + r.stderr, /hpa\.max_replicas: expected an integer of at least hpa\.min_replicas \(4\)/)
  assert.is((await getJson('get hpa shap-autoscaler -n ray')).metadata.resourceVersion, hpa.metadata.resourceVersion)
})

ray('without metrics-server the autoscaler playbook fails clearly', async () => {
  await kubectl('delete apiservice v1beta1.metrics.k8s.io')
  try {
    const r = await runCli(['run', '90-autoscaler', ...inv()], { timeoutMs: 120_000 })
    assert.is(r.code, 2, failures(r))
    assert.match(r.stdout, /v1beta1\.metrics\.k8s\.io is not registered: run playbooks\/70-metrics-server\.mts first/)
  } finally {
    const back = await runCli(['run', '70-metrics-server', ...inv()], { timeoutMs: 240_000 })
    assert.is(back.code, 0, failures(back))
  }
})

ray('down leaves nothing: no container, cgroup, mount, bridge or process, the STS endpoint included', async () => {
  const sts = lab.aws!.pid
  await labDown()
  assert.equal(await labLeftovers(), [])
  assert.not.ok(fs.existsSync(`/proc/${sts}/cmdline`) && fs.readFileSync(`/proc/${sts}/cmdline`, 'utf8').includes('sts'), 'the STS endpoint stopped')
})

ray.run()
