// 00-preflight's tasks replayed against fake hosts: facts in, commands out.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pb from '../../../playbooks/00-preflight.mts'
import { FACTS_SCRIPT, type NodeFacts } from '../../../playbooks/support/preflight.ts'
import { replay, unwrap } from './replay.ts'
import { wrapCommand } from '../../../lib/transport/shell.ts'

const MODULES = '# written by zxplay: containerd and Flannel need these\noverlay\nbr_netfilter\n'
const SYSCTL = '# written by zxplay: pod traffic is forwarded and seen by iptables\nnet.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n'
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

test('swap is off: swapoff only where swap is on', async () => {
  const on = await replay(pb, 'swap is off', { hosts: { cp1: { registered: { node: node({ swapOn: true }) } } } })
  assert.equal([on.status, on.changes], ['changed', ['swapoff -a']])
  const off = await replay(pb, 'swap is off', { hosts: { cp1: { registered: { node: node() } } } })
  assert.equal([off.status, off.changes, off.received], ['ok', [], []])
  const check = await replay(pb, 'swap is off', { check: true, hosts: { cp1: { registered: { node: node({ swapOn: true }) } } } })
  assert.equal([check.status, check.executed, check.changes], ['changed', [], ['swapoff -a']])
})

const FSTAB_SWAP = /grep -Eq .* \/etc\/fstab/
test('swap stays off after a reboot: the fstab line is commented out once', async () => {
  const fresh = await replay(pb, 'swap stays off after a reboot', { hosts: { cp1: { commands: [[FSTAB_SWAP, 0]] } } })
  assert.equal(fresh.changes, ["sed -Ei.zxplay-bak 's|^([^#]\\S*\\s+\\S+\\s+swap\\s.*)$|# \\1  # disabled by zxplay|' /etc/fstab"])
  assert.is(fresh.status, 'changed')
  const converged = await replay(pb, 'swap stays off after a reboot', { hosts: { cp1: { commands: [[FSTAB_SWAP, 1]] } } })
  assert.equal([converged.status, converged.changes], ['ok', []])
  const check = await replay(pb, 'swap stays off after a reboot', { check: true, hosts: { cp1: { commands: [[FSTAB_SWAP, 0]] } } })
  assert.equal([check.status, check.executed], ['changed', []])
})

for (const [name, file, content] of [
  ['kernel modules load at boot', '/etc/modules-load.d/k8s.conf', MODULES],
  ['sysctl settings persist', '/etc/sysctl.d/99-kubernetes.conf', SYSCTL],
] as const) {
  const dir = file.replace(/\/[^/]+$/, '')
  test(`${name}: ${file} with its content, 0644`, async () => {
    const fresh = await replay(pb, name, { hosts: { cp1: { commands: [[`[ -d ${dir} ]`, 1]] } } })
    assert.equal(fresh.changes, [`mkdir -p -m 0755 ${dir}`, `upload ${file} (mode 644)`])
    assert.equal(fresh.uploads, [{ dest: file, content, mode: '644' }])
    assert.is(fresh.status, 'changed')
    const converged = await replay(pb, name, { hosts: { cp1: { commands: [[`[ -d ${dir} ]`, 0]], files: { [file]: { content, mode: '644' } } } } })
    assert.equal([converged.status, converged.changes], ['ok', []])
    const check = await replay(pb, name, { check: true, hosts: { cp1: { commands: [[`[ -d ${dir} ]`, 1]] } } })
    assert.equal([check.status, check.executed, check.changes], ['changed', [], [`mkdir -p -m 0755 ${dir}`, `upload ${file} (mode 644)`]])
    const diff = await replay(pb, name, { diff: true, hosts: { cp1: { commands: [[`[ -d ${dir} ]`, 0]], files: { [file]: { content: '# old\n', mode: '644' } } } } })
    assert.match(diff.diffs[0]?.diff ?? '', /^-# old$/m)
  })
}

const LOADED = /lsmod/
test('kernel modules are loaded: modprobe only the missing ones (built-in ones count)', async () => {
  const fresh = await replay(pb, 'kernel modules are loaded', { hosts: { cp1: { commands: [[LOADED, 'Module Size Used\next4 1 0\n']] } } })
  assert.equal([fresh.status, fresh.changes], ['changed', ['modprobe -a overlay br_netfilter']])
  const half = await replay(pb, 'kernel modules are loaded', { hosts: { cp1: { commands: [[LOADED, 'overlay 1 0\nkernel/net/bridge/br_netfilter.ko\n']] } } })
  assert.equal([half.status, half.changes], ['ok', []])
  const one = await replay(pb, 'kernel modules are loaded', { hosts: { cp1: { commands: [[LOADED, 'overlay 1 0\n']] } } })
  assert.equal(one.changes, ['modprobe -a br_netfilter'])
  const check = await replay(pb, 'kernel modules are loaded', { check: true, hosts: { cp1: { commands: [[LOADED, '']] } } })
  assert.equal([check.status, check.executed], ['changed', []])
})

const SYSCTL_N = 'sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables'
test('sysctl settings are in effect: sysctl -p only when a value differs', async () => {
  const fresh = await replay(pb, 'sysctl settings are in effect', { hosts: { cp1: { commands: [[SYSCTL_N, '0\n1\n1\n']] } } })
  assert.equal([fresh.status, fresh.changes], ['changed', ['sysctl -p /etc/sysctl.d/99-kubernetes.conf']])
  const converged = await replay(pb, 'sysctl settings are in effect', { hosts: { cp1: { commands: [[SYSCTL_N, '1\n1\n1\n']] } } })
  assert.equal([converged.status, converged.changes], ['ok', []])
  // br_netfilter not loaded yet: its keys are unknown to sysctl (exit 255)
  const check = await replay(pb, 'sysctl settings are in effect', { check: true, hosts: { cp1: { commands: [[SYSCTL_N, { stdout: '1\n', exit: 255 }]] } } })
  assert.equal([check.status, check.executed], ['changed', []])
})

test.run()
