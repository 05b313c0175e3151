// The stand-in's containers (lab/standins/_container.ts, _shell.ts, _coreutils.ts, _ray.ts,
// _exec.ts): `kubectl exec`, the environment fixed at container start, volume files, the small
// shell, Ray nodes and the demo job — in-process on a fake lab, time driven by a fake clock.
import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { clock } from '../_clock.ts'
import { withShells } from '../_coreutils.ts'
import { runScript } from '../_shell.ts'
import type { Fs } from '../_shell.ts'
import { parseRayStart } from '../_ray.ts'
import { labPerTest, FLANNEL, INIT_CONFIG, initCluster, METRICS_SERVER, put, RAY, run } from '../_k8s-testlab.ts'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

// ---------------------------------------------------------------------------
// The shell, without a cluster

const FILES: Record<string, string> = { '/etc/t/a': 'alpha', '/etc/t/b': 'beta\n' }
const fs: Fs = {
  kind: (p) => (p in FILES ? 'file' : Object.keys(FILES).some((f) => f.startsWith(`${p === '/' ? '' : p}/`)) ? 'dir' : undefined),
  read: (p) => (p in FILES ? Buffer.from(FILES[p] as string) : undefined),
  list: (d) => [...new Set(Object.keys(FILES).filter((f) => f.startsWith(`${d === '/' ? '' : d}/`)).map((f) => f.slice(d === '/' ? 1 : d.length + 1).split('/')[0] as string))],
}
const sh = (script: string, env: Record<string, string> = {}, name: 'sh' | 'bash' = 'sh') => {
  const o = runScript(script, env, { name }, withShells(), fs, Buffer.alloc(0), 'exec')
  return { code: o.code, out: o.out.toString(), err: o.err }
}

test('shell: quoting, expansion, pipes into sha256sum, && || ; and $?', () => {
  assert.equal(sh('printf %s "$X" | sha256sum', { X: 'a secret value' }), { code: 0, out: `${sha('a secret value')}  -\n`, err: '' })
  assert.is(sh(`printf '%s\\n' '$X' "$X" "a  b"`, { X: 'v' }).out, '$X\nv\na  b\n')
  assert.is(sh("printf '[%s]' $EMPTY x").out, '[x]', 'an empty unquoted expansion is no word')
  assert.is(sh('printf \'[%s]\' "$EMPTY" x').out, '[][x]')
  assert.is(sh('printf \'[%s]\' $WORDS', { WORDS: 'one  two' }).out, '[one][two]', 'unquoted expansions are split')
  assert.is(sh('echo "${NOPE:-fallback}" ${X}', { X: 'x' }).out, 'fallback x\n')
  assert.is(sh('test -f /etc/t/a && echo yes || echo no').out, 'yes\n')
  assert.is(sh('test -f /etc/t && echo yes || echo no').out, 'no\n')
  assert.is(sh('[ -d /etc/t ] && echo dir').out, 'dir\n')
  assert.is(sh('false && echo never; echo $?').out, '1\n')
  assert.is(sh('Y=1 printenv Y; export Z=2; printenv Z').out, '1\n2\n')
  assert.is(sh('echo hello | grep -q bye; echo $?').out, '1\n')
  assert.equal(sh('set -e; false; echo after'), { code: 1, out: '', err: '' })
  assert.is(sh('cat /nope 2>&1 | grep -c "No such file"').out, '1\n')
  assert.is(sh('exit 3; echo no').code, 3)
})

test('shell: files, globs, and honest failures (not found, syntax, what is not modelled)', () => {
  assert.equal(sh('cat /etc/t/a /nope'), { code: 1, out: 'alpha', err: 'cat: /nope: No such file or directory\n' })
  assert.is(sh('sha256sum /etc/t/*').out, `${sha('alpha')}  /etc/t/a\n${sha('beta\n')}  /etc/t/b\n`)
  assert.is(sh('ls /etc/t').out, 'a\nb\n')
  assert.equal(sh('ls -1 /srv'), { code: 2, out: '', err: "ls: cannot access '/srv': No such file or directory\n" })
  assert.equal(sh('wget -q http://x'), { code: 127, out: '', err: 'sh: 1: wget: not found\n' })
  assert.equal(sh('true\nwget -q http://x', {}, 'bash'), { code: 127, out: '', err: 'bash: line 2: wget: command not found\n' })
  assert.equal(sh('echo "open'), { code: 2, out: '', err: 'sh: 1: Syntax error: Unterminated quoted string\n' })
  assert.equal(sh('echo "open', {}, 'bash'), { code: 2, out: '', err: 'bash: -c: line 1: unexpected EOF while looking for matching `"\'\n' })
  assert.equal(sh('| cat', {}, 'bash'), { code: 2, out: '', err: "bash: -c: line 1: syntax error near unexpected token `|'\n" })
  const sub = sh('echo $(id -u)')
  assert.is(sub.code, 2)
  assert.match(sub.err, 'command substitution $(…) is not modelled')
  assert.match(sh('echo x > /tmp/f').err, 'redirection (writing to /tmp/f) is not modelled')
})

test('ray start options: click parsing of Ray 2.x flags', () => {
  const ok = parseRayStart(['--head', '--port=6379', '--dashboard-port', '8265', '--num-cpus=2', '--include-dashboard=true', '--redis-password=x', '--block'])
  assert.ok('opts' in ok && ok.opts['dashboard-port'] === 8265 && ok.opts['include-dashboard'] === true)
  const err = (args: string[]) => {
    const r = parseRayStart(args)
    return 'error' in r ? (r.error.err ?? '').split('\n').at(-2) : 'accepted'
  }
  assert.is(err(['--num-cpus=']), "Error: Invalid value for '--num-cpus': '' is not a valid integer.")
  assert.is(err(['--num-cpus=$MY_CPU_REQUEST']), "Error: Invalid value for '--num-cpus': '$MY_CPU_REQUEST' is not a valid integer.")
  assert.is(err(['--redis-shard-port=6380']), 'Error: No such option: --redis-shard-port (Possible options: --dashboard-port, --redis-max-memory, --redis-shard-ports)')
  assert.is(err(['--blok']), 'Error: No such option: --blok Did you mean --block?')
  assert.is(err(['--block=true']), "Error: Option '--block' does not take a value.")
  assert.is(err(['--port']), "Error: Option '--port' requires an argument.")
  assert.is(err(['--include-dashboard=maybe']), "Error: Invalid value for '--include-dashboard': 'maybe' is not a valid boolean.")
  assert.is(err(['start']), 'Error: Got unexpected extra argument (start)')
})

// ---------------------------------------------------------------------------
// On a cluster

const t = labPerTest(test)
const { kubectl, kubectlIn, pass } = t
const exec = (target: string, ...cmd: string[]) => kubectl('exec', '-n', 'ray', target, '--', ...cmd)
const podsOf = async (component: string) => (await kubectl('get', 'pods', '-n', 'ray', '-l', `component=${component}`, '-o', 'jsonpath={.items[*].metadata.name}')).out.split(' ').filter(Boolean)
const table = async (component: string) => (await kubectl('get', 'pods', '-n', 'ray', '-l', `component=${component}`, '--no-headers')).out


async function cluster(manifests: string | false = RAY()) {
  const r = await initCluster(t.lab, INIT_CONFIG({ taints: '  taints: []\n' }), { ZXLAB_CPUS: '8', ZXLAB_MEMORY_MB: '16384' })
  assert.is(r.code, 0, r.err)
  assert.is((await kubectlIn(FLANNEL(), 'apply', '-f', '-')).code, 0)
  if (manifests === false) return
  const a = await kubectlIn(manifests, 'apply', '-f', '-')
  assert.is(a.code, 0, a.err)
  await pass(11)
}

test('exec: the environment is fixed when the container starts; Secret files follow the Secret; a rollout restart brings the new values', async () => {
  await cluster()
  let r = await kubectl('rollout', 'status', 'deployment/ray-head', '-n', 'ray', '--timeout=2s')
  assert.is(r.code, 0, r.err)
  const envHash = async () => (await exec('deploy/ray-head', 'sh', '-c', 'printf %s "$AWS_ACCESS_KEY_ID_SESS" | sha256sum')).out
  const fileHash = async () => (await exec('deploy/ray-head', 'sha256sum', '/etc/awstoken/AWS_ACCESS_KEY_ID_SESS')).out
  assert.is(await envHash(), `${sha('ASIAFIRSTVALUE000001')}  -\n`)
  assert.is(await fileHash(), `${sha('ASIAFIRSTVALUE000001')}  /etc/awstoken/AWS_ACCESS_KEY_ID_SESS\n`)
  // the downward API and the Service variables of the Services there at start
  const head = (await podsOf('ray-head'))[0] as string
  const ip = (await kubectl('get', 'pod', head, '-n', 'ray', '-o', 'jsonpath={.status.podIP}')).out
  const svcIP = (await kubectl('get', 'svc', 'ray-head', '-n', 'ray', '-o', 'jsonpath={.spec.clusterIP}')).out
  r = await exec(`pod/${head}`, 'printenv', 'MY_CPU_REQUEST', 'MY_POD_IP', 'RAY_HEAD_SERVICE_HOST', 'RAY_HEAD_SERVICE_PORT_GCS', 'RAY_HEAD_PORT_6379_TCP')
  assert.is(r.out, `1\n${ip}\n${svcIP}\n6379\ntcp://${svcIP}:6379\n`, r.err)
  await kubectlIn('apiVersion: v1\nkind: Service\nmetadata:\n  name: late\n  namespace: ray\nspec:\n  ports: [{ port: 80 }]\n', 'apply', '-f', '-')
  r = await exec(head, 'printenv', 'LATE_SERVICE_HOST')
  assert.is(r.code, 1, 'a Service made after the container started is not in its environment')
  assert.is(r.err, 'command terminated with exit code 1\n')

  // a new value: applied with three-way merge, stored as data, seen in files at once, not in env
  r = await kubectlIn(RAY({ secret: 'ASIASECONDVALUE00002' }), 'apply', '-f', '-')
  assert.match(r.out, 'secret/session-token configured\n')
  const secret = JSON.parse((await kubectl('get', 'secret', 'session-token', '-n', 'ray', '-o', 'json')).out) as { data: Record<string, string>; stringData?: unknown; metadata: { annotations: Record<string, string> } }
  assert.is(Buffer.from(secret.data.AWS_ACCESS_KEY_ID_SESS as string, 'base64').toString(), 'ASIASECONDVALUE00002')
  assert.is(secret.stringData, undefined)
  assert.is(secret.metadata.annotations['zxplay.io/session-token-expires-at'], '2030-01-01T00:00:00Z')
  assert.is(await fileHash(), `${sha('ASIASECONDVALUE00002')}  /etc/awstoken/AWS_ACCESS_KEY_ID_SESS\n`)
  assert.is(await envHash(), `${sha('ASIAFIRSTVALUE000001')}  -\n`, 'env keeps the value the container started with')

  const before = [...(await podsOf('ray-head')), ...(await podsOf('ray-worker'))]
  r = await kubectl('rollout', 'restart', 'deployment/ray-head', 'deployment/ray-worker', '-n', 'ray')
  assert.is(r.out, 'deployment.apps/ray-head restarted\ndeployment.apps/ray-worker restarted\n', r.err)
  await pass(40)
  for (const d of ['ray-head', 'ray-worker']) {
    r = await kubectl('rollout', 'status', `deployment/${d}`, '-n', 'ray', '--timeout=2s')
    assert.is(r.code, 0, `${d}: ${r.out}${r.err}`)
  }
  const after = [...(await podsOf('ray-head')), ...(await podsOf('ray-worker'))]
  assert.ok(after.every((p) => !before.includes(p)), `new pods: ${after.join(' ')}`)
  assert.is(await envHash(), `${sha('ASIASECONDVALUE00002')}  -\n`)
  r = await exec('deploy/ray-worker', 'sh', '-c', 'printf %s "$AWS_ACCESS_KEY_ID_SESS" | sha256sum')
  assert.is(r.out, `${sha('ASIASECONDVALUE00002')}  -\n`)
})

test('exec: the errors of kubectl, the API server and the container runtime', async () => {
  await cluster()
  const head = (await podsOf('ray-head'))[0] as string
  let r = await kubectl('exec', '-n', 'ray')
  assert.equal([r.code, r.err], [1, "error: pod, type/name or --filename must be specified\nSee 'kubectl exec -h' for help and examples\n"])
  r = await kubectl('exec', '-n', 'ray', 'deploy/ray-head')
  assert.equal([r.code, r.err], [1, "error: you must specify at least one command for the container\nSee 'kubectl exec -h' for help and examples\n"])
  r = await kubectl('exec', '-n', 'ray', 'deploy/ray-head', 'ls', '/app')
  assert.match(r.err, 'error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead')
  r = await exec('nopod', 'true')
  assert.is(r.err, 'Error from server (NotFound): pods "nopod" not found\n')
  r = await exec('deployment/nope', 'true')
  assert.is(r.err, 'Error from server (NotFound): deployments.apps "nope" not found\n')
  r = await exec('cm/kube-root-ca.crt', 'true')
  assert.is(r.err, 'error: cannot attach to *v1.ConfigMap: selector for *v1.ConfigMap not implemented\n')
  r = await kubectl('exec', '-n', 'ray', 'deploy/ray-head', '-c', 'nope', '--', 'true')
  assert.is(r.err, `Error from server (BadRequest): container nope is not valid for pod ${head}\n`)
  r = await exec('deploy/ray-head', 'curl', '-s', 'http://localhost')
  assert.is(r.code, 1)
  assert.match(r.err, /^error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found in \$PATH: unknown\n$/)
  r = await exec('deploy/ray-head', 'sh', '-c', 'curl -s http://localhost')
  assert.equal([r.code, r.err], [127, 'sh: 1: curl: not found\ncommand terminated with exit code 127\n'])
  r = await kubectl('exec', '-n', 'ray', '-i', head, '--', 'sha256sum')
  assert.is(r.out, `${sha('')}  -\n`)
  r = await run(t.lab, 'node1', 'kubectl', ['exec', '-n', 'ray', '-it', head, '--', 'cat'], { stdin: 'typed' })
  assert.equal([r.out, r.err], ['typed', 'Unable to use a TTY - input is not a terminal or the right kind of file\n'])
  r = await exec(head, 'ls', '/etc/awstoken')
  assert.is(r.out, 'AWS_ACCESS_KEY_ID_SESS\nAWS_SECRET_ACCESS_KEY_SESS\nAWS_SESSION_TOKEN\n')
  r = await exec(head, 'cat', '/etc/hostname')
  assert.equal([r.code, r.err], [1, 'cat: /etc/hostname: No such file or directory\ncommand terminated with exit code 1\n'])
  // no host yet; no pod at all
  await kubectl('scale', 'deployment/ray-worker', '-n', 'ray', '--replicas=0')
  r = await kubectl('exec', '-n', 'ray', 'deploy/ray-worker', '--pod-running-timeout=300ms', '--', 'true')
  assert.is(r.err, 'error: timed out waiting for the condition\n')
  await kubectl('patch', 'deployment', 'ray-worker', '-n', 'ray', '--type=json', '-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources","value":{"requests":{"cpu":"64"},"limits":{"cpu":"64"}}},{"op":"replace","path":"/spec/replicas","value":1}]')
  const pending = (await podsOf('ray-worker'))[0] as string
  r = await exec(pending, 'true')
  assert.is(r.err, `Error from server (BadRequest): pod ${pending} does not have a host assigned\n`)
})

test('a Secret missing for envFrom keeps the container from starting (a missing Secret volume, the pod); exec finds no running container', async () => {
  await cluster(false)
  const manifests = RAY().replace(/---\napiVersion: v1\nkind: Secret[\s\S]*?(?=---)/, '')
  assert.is((await kubectlIn(manifests, 'apply', '-f', '-')).code, 0)
  await pass(11)
  assert.match(await table('ray-head'), /0\/1\s+ContainerCreating/, 'the head mounts the Secret: its sandbox waits')
  assert.match(await table('ray-worker'), /0\/1\s+CreateContainerConfigError/)
  const worker = (await podsOf('ray-worker'))[0] as string
  let r = await kubectl('get', 'pod', worker, '-n', 'ray', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.message}')
  assert.is(r.out, 'secret "session-token" not found')
  r = await exec(worker, 'true')
  assert.is(r.err, 'error: unable to upgrade connection: container not found ("ray-worker")\n')
  // once it exists, both start
  await kubectlIn(RAY(), 'apply', '-f', '-')
  await pass(11)
  assert.match(await table('ray-worker'), /1\/1\s+Running/)
})

test('Secrets: stringData is stored as base64 data by three-way apply; keys and base64 are validated', async () => {
  await cluster(false)
  const secret = (body: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations: { a: "1" }\n${body}`
  let r = await kubectlIn(secret('stringData: { "bad key": x }\n'), 'apply', '-f', '-')
  assert.match(r.err, `The Secret "s" is invalid: stringData[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`)
  r = await kubectlIn(secret('data: { k: "not base64!" }\n'), 'apply', '-f', '-')
  assert.is(r.err, 'Error from server (BadRequest): error when creating "STDIN": Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3\n')
  assert.is((await kubectl('get', 'secret', 's', '--ignore-not-found', '-o', 'name')).out, '', 'nothing was stored')
  r = await kubectlIn(secret('data: { k: YWJj }\nstringData: { j: new }\n'), 'apply', '-f', '-')
  assert.is(r.out, 'secret/s created\n', r.err)
  r = await kubectlIn(secret('data: { k: YWJj }\nstringData: { j: new }\n'), 'apply', '-f', '-')
  assert.is(r.out, 'secret/s unchanged\n')
  r = await kubectlIn(secret('data: { k: YWJj }\nstringData: { j: newer }\n'), 'apply', '-f', '-')
  assert.is(r.out, 'secret/s configured\n')
  const s = JSON.parse((await kubectl('get', 'secret', 's', '-o', 'json')).out) as { data: Record<string, string>; stringData?: unknown; type: string; metadata: { annotations: Record<string, string> } }
  assert.equal(s.data, { k: 'YWJj', j: Buffer.from('newer').toString('base64') })
  assert.equal([s.stringData, s.type, s.metadata.annotations.a], [undefined, 'Opaque', '1'])
})

test('ray start: checked as Ray 2.x checks it; a failing start crash-loops with the error in the logs', async () => {
  await cluster()
  const restartHead = async (patch: string) => {
    const r = await kubectl('patch', 'deployment', 'ray-head', '-n', 'ray', '--type=json', `-p=${patch}`)
    assert.is(r.code, 0, r.err)
    await pass(12)
  }
  const setHead = (command: string[], args: string[] = []) => restartHead(JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/command', value: command }, { op: 'replace', path: '/spec/template/spec/containers/0/args', value: args }]))
  // the rollout keeps the old head while the new one crash-loops: look at the new one
  const crashing = async () => (await kubectl('get', 'pods', '-n', 'ray', '-l', 'component=ray-head', '-o', 'jsonpath={.items[?(@.status.containerStatuses[0].state.waiting.reason=="CrashLoopBackOff")].metadata.name}')).out
  const headLogs = async () => (await kubectl('logs', '-n', 'ray', await crashing())).out

  await setHead(['/bin/bash', '-c', '--'], ['ray start --head --port=6379 --redis-shard-port=6380 --block'])
  assert.match(await table('ray-head'), /0\/1\s+CrashLoopBackOff/)
  assert.match(await table('ray-head'), /1\/1\s+Running/, 'the old head stays until the new one is Ready')
  assert.match(await headLogs(), 'Error: No such option: --redis-shard-port (Possible options: --dashboard-port, --redis-max-memory, --redis-shard-ports)')

  // no shell: $VAR reaches Ray as written; the kubelet expands $(VAR) itself
  await setHead(['ray', 'start', '--head', '--num-cpus=$MY_CPU_REQUEST', '--block'])
  assert.match(await headLogs(), "Error: Invalid value for '--num-cpus': '$MY_CPU_REQUEST' is not a valid integer.")
  await setHead(['ray', 'start', '--head', '--num-cpus=$(MY_CPU_REQUEST)', '--redis-password=password', '--block'])
  let r = await kubectl('rollout', 'status', 'deployment/ray-head', '-n', 'ray', '--timeout=2s')
  assert.is(r.code, 0, `${r.out}${r.err}`)

  // without --block, ray start returns and the container ends (Completed), over and over
  await setHead(['/bin/bash', '-c', '--'], ['ray start --head --port=6379'])
  r = await kubectl('get', 'pod', await crashing(), '-n', 'ray', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].lastState.terminated.exitCode}')
  assert.is(r.out, 'CrashLoopBackOff Completed 0')

  // head-only options on a worker
  r = await kubectl('patch', 'deployment', 'ray-worker', '-n', 'ray', '--type=json', `-p=${JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/args', value: ['ray start --address=ray-head:6379 --port=6379 --block'] }])}`)
  await pass(5)
  assert.match(await table('ray-worker'), /0\/1\s+CrashLoopBackOff/)
  assert.match((await kubectl('logs', '-n', 'ray', 'deploy/ray-worker')).out, '`--port` should only be specified when starting head node with `--head`.')
})

test('a worker joins only a head it can reach: no Service → retries, not Ready, then crash-loops; with the Service → Ready', async () => {
  await cluster(RAY({ service: false }))
  assert.match(await table('ray-head'), /1\/1\s+Running/)
  assert.match(await table('ray-worker'), /0\/1\s+Running/)
  let r = await kubectl('logs', '-n', 'ray', 'deploy/ray-worker')
  assert.match(r.out, 'Unable to connect to GCS (ray head) at ray-head:6379.')
  r = await exec('deploy/ray-worker', 'ray', 'status')
  assert.is(r.code, 1)
  assert.match(r.err, 'ConnectionError: Could not find any running Ray instance. Please specify the one to connect to by setting `--address` flag or `RAY_ADDRESS` environment variable.')
  await pass(25)
  assert.match(await table('ray-worker'), /0\/1\s+CrashLoopBackOff/)
  assert.match((await kubectl('logs', '-n', 'ray', 'deploy/ray-worker')).out, "ConnectionError: Could not read 'session_name' from GCS at ray-head:6379. Did GCS start successfully?")
  // the Service appears: the next restart reaches the head through cluster DNS
  await kubectlIn(RAY(), 'apply', '-f', '-')
  await pass(60)
  assert.match(await table('ray-worker'), /1\/1\s+Running\s+[1-9]/)
  r = await exec('deploy/ray-head', 'ray', 'status')
  assert.is((r.out.match(/^ 1 node_[0-9a-f]{56}$/gm) ?? []).length, 2, r.out)
})

test('ray status lists the head and every live worker; workers reached by the Service variables or a full DNS name', async () => {
  const workerVia = (address: string) => `ray start --address=${address} --num-cpus=$MY_CPU_REQUEST --node-ip-address=$MY_POD_IP --dashboard-agent-listen-port=52365 --block`
  await cluster(RAY({ workerArgs: workerVia('$RAY_HEAD_SERVICE_HOST:$RAY_HEAD_SERVICE_PORT_GCS') }))
  await kubectl('scale', 'deployment/ray-worker', '-n', 'ray', '--replicas=2')
  await pass(11)
  let r = await exec('deploy/ray-head', 'ray', 'status')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^======== Autoscaler status: .+ ========\nNode status\n-{63}\nActive:\n( 1 node_[0-9a-f]{56}\n){3}Pending:\n \(no pending nodes\)\nRecent failures:\n \(no failures\)\n\nResources\n-{63}\nUsage:\n 0\.0\/3\.0 CPU\n/)
  assert.is((await exec('deploy/ray-worker', 'ray', 'status')).out.match(/ 1 node_/g)?.length, 3, 'a worker sees the same cluster')
  await kubectl('scale', 'deployment/ray-worker', '-n', 'ray', '--replicas=1')
  r = await exec('deploy/ray-head', 'ray', 'status')
  assert.is(r.out.match(/ 1 node_/g)?.length, 2)
  await kubectlIn(RAY({ workerArgs: workerVia('ray-head.ray.svc.cluster.local:6379') }), 'apply', '-f', '-')
  await pass(40)
  assert.is((await exec('deploy/ray-head', 'ray', 'status')).out.match(/ 1 node_/g)?.length, 2)
  r = await exec('deploy/ray-head', 'ray', '--version')
  assert.is(r.out, 'ray, version 2.52.0\n')
})

test('exec probes of another form run through the same shell: wget is not in an nginx image, so the pod never gets Ready', async () => {
  await cluster(false)
  const web = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx:1.27
          readinessProbe:
            exec: { command: [sh, -c, "wget -q -O- http://localhost/ | grep -q nginx"] }
`
  assert.is((await kubectlIn(web, 'apply', '-f', '-')).code, 0)
  t.clk.advance(30)
  assert.match((await kubectl('get', 'pods', '-l', 'app=web', '--no-headers')).out, /0\/1\s+Running/)
  const r = await kubectl('exec', 'deploy/web', '--', 'sh', '-c', 'wget -q -O- http://localhost/')
  assert.equal([r.code, r.err], [127, 'sh: 1: wget: not found\ncommand terminated with exit code 127\n'])
  // the same command as a liveness probe: the kubelet kills the container after failureThreshold periods
  const live = web.replace('readinessProbe:', 'livenessProbe:').replace('exec: { command', 'failureThreshold: 2\n            periodSeconds: 5\n            exec: { command')
  assert.is((await kubectlIn(live, 'apply', '-f', '-')).code, 0)
  t.clk.advance(1)
  assert.match((await kubectl('get', 'pods', '-l', 'app=web', '--no-headers')).out, /1\/1\s+Running\s+0/)
  t.clk.advance(5)
  const out = await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.containerStatuses[0].state.waiting.reason} {.items[*].status.containerStatuses[0].lastState.terminated.exitCode}')
  assert.is(out.out, 'CrashLoopBackOff 137')
})

test('python: the file must exist; the job holds the exec for jobSeconds, loads the workers as the scenario says, ends with Results match!', async () => {
  await cluster()
  let r = await exec('deploy/ray-head', 'python', '/app/shap_job.py')
  assert.equal([r.code, r.err], [2, "python: can't open file '/app/shap_job.py': [Errno 2] No such file or directory\ncommand terminated with exit code 2\n"])
  await kubectlIn(RAY({ app: true }), 'apply', '-f', '-')
  await kubectlIn(METRICS_SERVER(['--cert-dir=/tmp', '--metric-resolution=15s', '--kubelet-insecure-tls']), 'apply', '-f', '-')
  await pass(1)
  r = await exec('deploy/ray-head', 'ls', '/app')
  assert.is(r.out, 'shap_job.py\n', 'a ConfigMap made after the pod started is in its volume')
  put(t.lab, 'node1', '/etc/zxplay-standin/ray-job.json', JSON.stringify({ jobSeconds: 20, workerMillicores: 700, afterMillicores: 300 }))
  const worker = (await podsOf('ray-worker'))[0] as string
  // the CPU column, not the first "<digits>m" in the line: a pod's random suffix can hold one ("…-x4mzq")
  const cpu = async () => /^\S+\s+(\d+)m\s/.exec((await kubectl('top', 'pod', worker, '-n', 'ray', '--no-headers')).out)?.[1]
  assert.ok(Number(await cpu()) < 10, 'idle before the job')
  const slept: number[] = []
  clock.sleep = async (ms) => void slept.push(ms)
  r = await exec('deploy/ray-head', 'python', '/app/shap_job.py', '--num_rows', '16')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /Results match!\n$/)
  assert.match(r.err, 'Connected to Ray cluster.')
  assert.equal(slept, [20_000], 'the exec lasts the job')
  assert.is(await cpu(), '700')
  t.clk.advance(21)
  assert.is(await cpu(), '300')
  // a job whose tasks reach the workers late: idle for workerLoadAfterSeconds, then loaded
  put(t.lab, 'node1', '/etc/zxplay-standin/ray-job.json', JSON.stringify({ jobSeconds: 40, workerMillicores: 700, workerLoadAfterSeconds: 30 }))
  r = await exec('deploy/ray-head', 'python', '/app/shap_job.py')
  assert.is(r.code, 0, r.err)
  assert.ok(Number(await cpu()) < 10, 'idle at the start of a late-loading job')
  t.clk.advance(29)
  assert.ok(Number(await cpu()) < 10, 'still idle 29 s in')
  t.clk.advance(2)
  assert.is(await cpu(), '700')
  put(t.lab, 'node1', '/etc/zxplay-standin/ray-job.json', '{"jobSeconds": 10, "workerLoadAfterSeconds": 11}')
  r = await exec('deploy/ray-head', 'python', '/app/shap_job.py')
  assert.equal([r.code, r.err], [1, 'zxlab: /etc/zxplay-standin/ray-job.json: workerLoadAfterSeconds must be seconds from 0 to jobSeconds\ncommand terminated with exit code 1\n'])
  put(t.lab, 'node1', '/etc/zxplay-standin/ray-job.json', '{"jobSeconds": 0}')
  r = await exec('deploy/ray-head', 'python', '/app/shap_job.py')
  assert.equal([r.code, r.err], [1, 'zxlab: /etc/zxplay-standin/ray-job.json: jobSeconds must be a number of seconds > 0\ncommand terminated with exit code 1\n'])
})

test.run()
