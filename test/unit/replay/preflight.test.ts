// 00-preflight's tasks replayed against fake hosts: facts in, commands out.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pb from '../../../playbooks/00-preflight.mts'
import { FACTS_SCRIPT, type NodeFacts } from '../../../playbooks/support/preflight.ts'
import { spawnSync } from 'node:child_process'
import { filesAfter, replay, unwrap } from './replay.ts'
import { tempDir } from '../_helpers.ts'
import { wrapCommand } from '../../../lib/transport/shell.ts'

const MODULES = '# written by zxplay: containerd and Flannel need these\noverlay\nbr_netfilter\n'
const SYSCTL = '# written by zxplay: pod traffic is forwarded and seen by iptables\nnet.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n'
const { dir, remove } = tempDir('replay-fstab')
const tmp = `${dir}/fstab`
test.after(remove)
const node = (over: Partial<NodeFacts> = {}) => ({ swapOn: false, ...over }) as NodeFacts

test('the harness reads back every shape the transport wraps a command in', () => {
  const script = "echo 'it''s' \"$x\"\nfalse"
  assert.equal(unwrap(wrapCommand(script, undefined, 5000)), { script, become: false })
  assert.equal(unwrap(wrapCommand(script)), { script, become: false })
  assert.equal(unwrap(wrapCommand(script, { user: 'root', withPassword: false }, 5000)), { script, become: true })
})

test('facts are gathered: one read, registered, ok', async () => {
  const r = await replay(pb, 'facts are gathered', {
    hosts: { cp1: { commands: [[FACTS_SCRIPT, 'hostname=cp1\ndistro=debian\ndistroVersion=13\narch=x86_64\ncpus=2\nmemoryKb=4194304\ncgroup=cgroup2fs\nswap=1\nruntimeSocket=0\n']] } },
  })
  assert.is(r.status, 'ok')
  assert.equal(r.changes, [])
  assert.is((r.registered.node as NodeFacts).swapOn, true)
  assert.ok(r.received.every((c) => c.become), 'as root')
})

test('no host has a problem: each host judged with the others known; a problem fails with its fix, reads nothing', async () => {
  const fit = { ...node(), hostname: 'cp1', distro: 'debian', arch: 'x86_64', cpus: 8, memoryMb: 8192, cgroup: 'cgroup2fs', listening: [], missing: [], productUuid: 'a', mac: 'm1' } as NodeFacts
  const good = await replay(pb, 'no host has a problem kubeadm would fail on', { hosts: { cp1: { registered: { node: fit } } } })
  assert.equal([good.status, good.reason, good.received], ['ok', 'fit for a control-plane', []])
  const small = await replay(pb, 'no host has a problem kubeadm would fail on', { hosts: { cp1: { registered: { node: { ...fit, cpus: 1 } } } } })
  assert.match(`${small.status} ${small.reason}`, /^failed 2 problem\(s\):\n  - 1 CPU \(kubeadm needs 2 on a control plane\)\n    fix: give the machine at least 2 CPUs\n  - metrics-server, ray-head, ray-worker would not fit/)
})

test("no host has a problem: Ray's default pods on the README's one 2-CPU machine are refused before anything changes, with the numbers and the vars to change", async () => {
  const two = { ...node(), hostname: 'cp1', distro: 'debian', arch: 'x86_64', cpus: 2, memoryMb: 4096, cgroup: 'cgroup2fs', listening: [], missing: [], productUuid: 'a', mac: 'm1' } as NodeFacts
  const r = await replay(pb, 'no host has a problem kubeadm would fail on', { hosts: { cp1: { registered: { node: two } } } })
  assert.is(r.status, 'failed')
  assert.match(r.reason!, /^1 problem\(s\):\n  - ray-head, ray-worker would not fit and stay Pending: Ray needs 2 CPU and 3072 MiB \(ray\.head_cpu 1 \+ hpa\.min_replicas 1 × ray\.worker_cpu 1; ray\.head_memory 2Gi, ray\.worker_memory 1Gi\), and the nodes that take pods \(cp1: 2 CPU, 4096 MB\) keep 1\.05 CPU for Kubernetes' own pods\n    fix: set smaller ray\.head_cpu/)
  // the lab's sizes fit, and the HPA's reach is said
  const inventory = "all: {vars: {ray: {head_cpu: 250m, worker_cpu: 250m, head_memory: 512Mi, worker_memory: 512Mi}}, children: {control_plane: {hosts: {cp1: {address: 10.0.0.10}}}, workers: {hosts: {}}}}"
  const lab = await replay(pb, 'no host has a problem kubeadm would fail on', { inventory, hosts: { cp1: { registered: { node: two } } } })
  assert.equal([lab.status, lab.reason], ['ok', 'fit for a control-plane; the HPA can reach 2 of hpa.max_replicas 3 Ray workers here (more would stay Pending)'])
})

test('swap is off: swapoff only where swap is on', async () => {
  const on = await replay(pb, 'swap is off', { hosts: { cp1: { registered: { node: node({ swapOn: true }) } } } })
  assert.equal([on.status, on.changes], ['changed', ['swapoff -a']])
  const off = await replay(pb, 'swap is off', { hosts: { cp1: { registered: { node: node() } } } })
  assert.equal([off.status, off.changes, off.received], ['ok', [], []])
  const check = await replay(pb, 'swap is off', { check: true, hosts: { cp1: { registered: { node: node({ swapOn: true }) } } } })
  assert.equal([check.status, check.executed, check.changes], ['changed', [], ['swapoff -a']])
})

const FSTAB_SWAP = String.raw`grep -Eq $'^([^#]\\S*\\s+\\S+\\s+swap\\s.*)$' /etc/fstab`
const FSTAB_SED = String.raw`sed -Ei.zxplay-bak $'s|^([^#]\\S*\\s+\\S+\\s+swap\\s.*)$|# \\1  # disabled by zxplay|' /etc/fstab`
test('swap stays off after a reboot: the fstab line is commented out once', async () => {
  const fresh = await replay(pb, 'swap stays off after a reboot', { hosts: { cp1: { commands: [[FSTAB_SWAP, 0]] } } })
  assert.equal(fresh.changes, [FSTAB_SED])
  assert.is(fresh.status, 'changed')
  const converged = await replay(pb, 'swap stays off after a reboot', { hosts: { cp1: { commands: [[FSTAB_SWAP, 1]] } } })
  assert.equal([converged.status, converged.changes], ['ok', []])
  const check = await replay(pb, 'swap stays off after a reboot', { check: true, hosts: { cp1: { commands: [[FSTAB_SWAP, 0]] } } })
  assert.equal([check.status, check.executed], ['changed', []])
})

test("swap stays off: bash hands sed and grep the expression as written, and it comments out only the swap line", () => {
  const fstab = 'UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n# /old none swap sw 0 0\n'
  const sed = spawnSync('bash', ['-c', `printf %s "$0" > "$1"; ${FSTAB_SED.replace('/etc/fstab', '"$1"')} && cat "$1"`, fstab, tmp])
  assert.is(sed.stdout.toString(), 'UUID=1 / ext4 defaults 0 1\n# /swap.img none swap sw 0 0  # disabled by zxplay\n# /old none swap sw 0 0\n')
  assert.is(spawnSync('bash', ['-c', `${FSTAB_SWAP.replace('/etc/fstab', '"$0"')}`, tmp]).status, 1, 'converged: no line matches')
})

const LOADED = /lsmod/
const MODULES_FILE = '/etc/modules-load.d/k8s.conf'
test('kernel modules: listed for boot (its folder made when missing), modprobe only the missing ones (built-in ones count)', async () => {
  const name = 'kernel modules are loaded and load at boot'
  const fresh = await replay(pb, name, { hosts: { cp1: { commands: [[LOADED, 'Module Size Used\next4 1 0\n']] } } })
  assert.equal([fresh.status, fresh.changes], ['changed', [`upload ${MODULES_FILE} (mode 644)`, 'modprobe -a overlay br_netfilter']])
  assert.equal(fresh.uploads, [{ dest: MODULES_FILE, content: MODULES, mode: '644' }])
  assert.match(fresh.received[0]!.script, /mkdir -p -m 755 -- "\$dir"/)
  const files = filesAfter(fresh)
  const converged = await replay(pb, name, { hosts: { cp1: { files, commands: [[LOADED, 'overlay 1 0\nkernel/net/bridge/br_netfilter.ko\n']] } } })
  assert.equal([converged.status, converged.changes, converged.reason], ['ok', [], `${MODULES_FILE} is current; overlay and br_netfilter loaded`])
  const one = await replay(pb, name, { hosts: { cp1: { files, commands: [[LOADED, 'overlay 1 0\n']] } } })
  assert.equal(one.changes, ['modprobe -a br_netfilter'])
  const check = await replay(pb, name, { check: true, hosts: { cp1: { commands: [[LOADED, '']] } } })
  assert.equal([check.status, check.executed, check.changes], ['changed', [], [`upload ${MODULES_FILE} (mode 644)`, 'modprobe -a overlay br_netfilter']])
  const diff = await replay(pb, name, { diff: true, hosts: { cp1: { files: { [MODULES_FILE]: { content: '# old\n', mode: '644' } }, commands: [[LOADED, 'overlay\nbr_netfilter\n']] } } })
  assert.match(diff.diffs[0]?.diff ?? '', /^-# old$/m)
})

const SYSCTL_FILE = '/etc/sysctl.d/99-kubernetes.conf'
const SYSCTL_N = 'sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables'
test('sysctl: persisted in its file, sysctl -p only when a value in effect differs', async () => {
  const name = 'sysctl settings are in effect and persist'
  const fresh = await replay(pb, name, { hosts: { cp1: { commands: [[SYSCTL_N, '0\n1\n1\n']] } } })
  assert.equal([fresh.status, fresh.changes], ['changed', [`upload ${SYSCTL_FILE} (mode 644)`, `sysctl -p ${SYSCTL_FILE}`]])
  assert.equal(fresh.uploads, [{ dest: SYSCTL_FILE, content: SYSCTL, mode: '644' }])
  const files = filesAfter(fresh)
  const converged = await replay(pb, name, { hosts: { cp1: { files, commands: [[SYSCTL_N, '1\n1\n1\n']] } } })
  assert.equal([converged.status, converged.changes, converged.received.length], ['ok', [], 2])
  const lost = await replay(pb, name, { hosts: { cp1: { files, commands: [[SYSCTL_N, '0\n1\n1\n']] } } })
  assert.equal(lost.changes, [`sysctl -p ${SYSCTL_FILE}`])
  // br_netfilter not loaded yet: its keys are unknown to sysctl (exit 255)
  const check = await replay(pb, name, { check: true, hosts: { cp1: { commands: [[SYSCTL_N, { stdout: '1\n', exit: 255 }]] } } })
  assert.equal([check.status, check.executed, check.changes], ['changed', [], [`upload ${SYSCTL_FILE} (mode 644)`, `sysctl -p ${SYSCTL_FILE}`]])
})

test.run()
