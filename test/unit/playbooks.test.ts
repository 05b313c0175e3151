// The playbooks as data: order, defaults, and the pure pieces they use.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { load } from 'js-yaml'
import { parseFlags } from '../../lib/cli/args.ts'
import { renderFor } from '../../lib/cli/cli.ts'
import { connectionVars } from '../../lib/engine/context.ts'
import { loadInventory } from '../../lib/inventory/inventory.ts'
import { playbookVars } from '../../lib/engine/playbook.ts'
import { renderFile } from '../../lib/engine/template.ts'
import site from '../../playbooks/site.mts'
import { alignContainerdConfig } from '../../playbooks/support/containerd.ts'
import { staleCniFiles } from '../../playbooks/support/cni.ts'
import { joinConfig, joinScript, parseJoinCommand } from '../../playbooks/support/join.ts'
import { wrapCommand } from '../../lib/transport/shell.ts'
import { configDifferences, clusterConfigOf } from '../../playbooks/support/kubeadm.ts'
import { problemsOf, parseNodeFacts, type NodeFacts } from '../../playbooks/support/preflight.ts'

const REPO = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..')

test('site.mts lists every playbooks/NN-*.mts, in file-name order', () => {
  const files = fs.readdirSync(path.join(REPO, 'playbooks')).filter((f) => /^\d\d-.*\.mts$/.test(f)).sort().map((f) => f.replace(/\.mts$/, ''))
  assert.equal(site.map((p) => p.id), files)
})

// The specs hold the defaults; inventory.yaml lists the same values, so a user sees (and ansible-inventory
// and `zxplay inventory --host` show) every knob where it is changed. This keeps the copy true.
test("inventory.yaml pins exactly the vars specs' defaults (cluster, aws, ray, hpa)", async () => {
  const inv = await loadInventory(path.join(REPO, 'inventory.yaml'))
  const vars = inv.hosts[0]!.vars
  const families = [...new Set(site.flatMap((p) => p.specs ?? []))].filter((s) => s.name !== 'aws role')
  assert.equal(families.map((s) => s.name), ['cluster', 'ray', 'hpa', 'aws'])
  const defaults = Object.assign({}, ...families.map((s) => s.defaults)) as Record<string, unknown>
  for (const [k, v] of Object.entries(defaults)) assert.equal(vars[k], v, k)
  const pinned = Object.keys((load(fs.readFileSync(path.join(REPO, 'inventory.yaml'), 'utf8')) as { all: { vars: object } }).all.vars)
  assert.equal(pinned.sort(), Object.keys(defaults).sort(), 'no key in all.vars that no spec has')
})

test('the default inventory is single-host dev mode on this machine', async () => {
  const inv = await loadInventory(path.join(REPO, 'inventory.yaml'))
  assert.equal(inv.hosts.map((h) => [h.name, h.connection, h.groups.includes('control_plane')]), [['localhost', 'local', true]])
})

const v3 = `version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.10'\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = false\n`
const v2 = `version = 2\ndisabled_plugins = ["cri", "zfs"]\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "registry.k8s.io/pause:3.8"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n`
test('containerd 2.x config: SystemdCgroup and the pause image', () => {
  const out = alignContainerdConfig(v3, 'registry.k8s.io/pause:3.10.1')
  assert.match(out, /SystemdCgroup = true/)
  assert.match(out, /sandbox = 'registry.k8s.io\/pause:3.10.1'/)
})
test('containerd 1.x config: SystemdCgroup, sandbox_image, and the CRI plugin enabled', () => {
  const out = alignContainerdConfig(v2, 'registry.k8s.io/pause:3.10.1')
  assert.match(out, /SystemdCgroup = true/)
  assert.match(out, /sandbox_image = "registry.k8s.io\/pause:3.10.1"/)
  assert.match(out, /disabled_plugins = \[ "zfs"\]/)
})
test('an unknown containerd layout is an error', () => assert.throws(() => alignContainerdConfig('oops', 'x'), /unknown layout/))

test('CNI leftovers: everything but Flannel, and Flannel too for another pod CIDR', () => {
  const files = ['10-flannel.conflist', '05-cilium.conflist', '10-calico.conflist', 'calico-kubeconfig', '10-flannel.conflist.cilium_bak']
  assert.equal(staleCniFiles(files, '10.244.0.0/16', ''), ['05-cilium.conflist', '10-calico.conflist', '10-flannel.conflist.cilium_bak', 'calico-kubeconfig'])
  assert.equal(staleCniFiles(['10-flannel.conflist'], '10.244.0.0/16', 'FLANNEL_NETWORK=10.244.0.0/16\n'), [])
  assert.equal(staleCniFiles(['10-flannel.conflist'], '10.200.0.0/16', 'FLANNEL_NETWORK=10.244.0.0/16\n'), ['10-flannel.conflist'])
})

test('a join command becomes a JoinConfiguration holding the token', () => {
  const j = parseJoinCommand('kubeadm join 10.77.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:aa11 \n')
  assert.equal(j, { endpoint: '10.77.0.11:6443', token: 'abcdef.0123456789abcdef', caCertHash: 'sha256:aa11' })
  const doc = load(joinConfig(j, { nodeName: 'node2', criSocket: 'unix:///x.sock' })) as any
  assert.is(doc.apiVersion, 'kubeadm.k8s.io/v1beta4')
  assert.equal(doc.discovery.bootstrapToken, { apiServerEndpoint: '10.77.0.11:6443', token: 'abcdef.0123456789abcdef', caCertHashes: ['sha256:aa11'] })
  assert.throws(() => parseJoinCommand('nothing here'), /no usable join command/)
})

const cfg = (pod: string, stab: string) =>
  `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.36.2\nnetworking:\n  podSubnet: ${pod}\ncontrollerManager:\n  extraArgs:\n    - name: horizontal-pod-autoscaler-downscale-stabilization\n      value: "${stab}"\n`
test('a cluster initialised with another config is told apart, field by field', () => {
  assert.equal(configDifferences(clusterConfigOf(cfg('10.244.0.0/16', '15s')), clusterConfigOf(cfg('10.244.0.0/16', '15s'))), [])
  const d = configDifferences(clusterConfigOf(cfg('10.244.0.0/16', '5m')), clusterConfigOf(`---\n${cfg('10.200.0.0/16', '15s')}`))
  assert.equal(d.length, 2)
  assert.match(d[0]!, /networking.podSubnet: cluster has 10.244.0.0\/16, inventory wants 10.200.0.0\/16/)
  assert.match(d[1]!, /horizontal-pod-autoscaler-downscale-stabilization=5m/)
})

const facts = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  ...parseNodeFacts('hostname=n1\ndistro=debian\ndistroVersion=12\narch=x86_64\ncpus=2\nmemoryKb=4000000\ncgroup=cgroup2fs\nswap=0\nproductUuid=u1\nmac=aa\nlistening=22 \napiServerManifest=0\nkubeletConf=0\nmissing=\n'),
  ...over,
})
test('preflight: a fit control plane has no problem', () => assert.equal(problemsOf('n1', 'control-plane', facts(), { n1: facts() }), []))
test('preflight: every problem at once, each with its fix', () => {
  const f = facts({ cpus: 1, memoryMb: 1024, cgroup: 'tmpfs', listening: [6443, 10250], missing: ['gpg'] })
  const other = facts({ hostname: 'n1', productUuid: 'u1', mac: 'bb' })
  const problems = problemsOf('n1', 'control-plane', f, { n1: f, n2: other })
  assert.equal(problems.map((p) => p.problem.split(' ')[0]), ['1', '1024', 'cgroup', 'hostname', 'product_uuid/machine-id', 'port', 'port', 'missing'])
  assert.ok(problems.every((p) => p.fix.length > 5))
})
test('preflight: ports held by our own cluster are fine on a rerun', () => {
  assert.equal(problemsOf('n1', 'control-plane', facts({ listening: [6443], apiServerManifest: true }), {}), [])
  assert.equal(problemsOf('n2', 'worker', facts({ listening: [10250], kubeletConf: true }), {}), [])
})

/**
 * joinScript under a stand-in kubeadm that says the config's mode and then does `then`; started
 * as the transports start a command (its own process group, the time limit's trap), optionally
 * sent a TERM (a Ctrl-C) while kubeadm runs. Whether the config is there afterwards.
 */
async function join(then: string, term = false): Promise<{ code: number | null; out: string; left: boolean }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-join-'))
  fs.writeFileSync(path.join(dir, 'kubeadm'), `#!/bin/sh\nstat -c %a "$3"; ${then}\n`, { mode: 0o755 })
  const file = path.join(dir, 'join-config.yaml')
  const p = spawn('bash', ['-c', wrapCommand(joinScript(file), undefined, 30_000)], { detached: true, env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } })
  let out = ''
  p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
  p.stdin.end('token: abcdef.0123456789abcdef\n')
  if (term) {
    while (!out.includes('\n')) await new Promise((r) => setTimeout(r, 20))
    process.kill(-p.pid!, 'SIGTERM')
  }
  const code = await new Promise<number | null>((r) => p.on('close', (c) => r(c)))
  const left = fs.existsSync(file)
  fs.rmSync(dir, { recursive: true, force: true })
  return { code, out, left }
}

test('the join config (the token) is 0600 while kubeadm runs, and gone after it on every path', async () => {
  const done = await join('exit 0')
  assert.equal([done.code, done.out, done.left], [0, '600\n', false])
  const failed = await join('exit 3')
  assert.equal([failed.code, failed.left], [3, false])
  const stopped = await join('sleep 30', true)
  assert.equal([stopped.code, stopped.left], [143, false])
})

// `zxplay render` against what a task's ctx.render gives (lib/engine/context.ts: the host's connection vars
// and its playbook's vars); the kubeadm config's advertise_address, which 20-control-plane may ask
// the host for, given as -e. The end-to-end comparison, on real hosts, is in lab/hosts/test/runtime.test.ts.
test('zxplay render prints each template exactly as the playbook that renders it does', async () => {
  const byTemplate: Record<string, string> = {
    'kubeadm/kubeadm-config.yaml': '20-control-plane',
    'flannel/kube-flannel.yaml': '40-flannel',
    'metrics-server/components.yaml': '70-metrics-server',
    'ray/namespace.yaml': '80-aws-credentials',
    'ray/ray-cluster.yaml': '85-ray',
    'ray/autoscaler.yaml': '90-autoscaler',
  }
  // every template in templates/: one added without its line here fails
  const all = (fs.readdirSync(path.join(REPO, 'templates'), { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(REPO, 'templates', f)).isFile())
  assert.equal(all.sort(), Object.keys(byTemplate).sort())
  const inv = await loadInventory(path.join(REPO, 'inventory.yaml'), { extraVars: { advertise_address: '192.0.2.10' } })
  const host = inv.hosts[0]!
  // what `zxplay render TEMPLATE --host localhost -e advertise_address=192.0.2.10` prints (run from the repository)
  const { flags } = parseFlags(['-i', path.join(REPO, 'inventory.yaml'), '-e', 'advertise_address=192.0.2.10'])
  for (const [template, id] of Object.entries(byTemplate)) {
    const pb = site.find((p) => p.id === id)!
    const expected = await renderFile(path.join(REPO, 'templates', template), { ...connectionVars(host), ...playbookVars(pb, host) })
    assert.fixture(await renderFor(template, host.name, flags), expected)
  }
})

test.run()
