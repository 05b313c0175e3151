// The cluster playbooks' tasks (20 to 70, kubeconfig, reset) replayed against fake hosts: facts
// and command answers in, commands out. Applied manifests are checked against the API server's
// OpenAPI documents (the stand-in's admission: lab/standins/_schema.ts).
import { loadAll } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import controlPlane from '../../../playbooks/20-control-plane.mts'
import cniCleanup from '../../../playbooks/30-cni-cleanup.mts'
import flannel from '../../../playbooks/40-flannel.mts'
import join from '../../../playbooks/50-join.mts'
import untaint from '../../../playbooks/60-untaint.mts'
import metricsServer from '../../../playbooks/70-metrics-server.mts'
import kubeconfig from '../../../playbooks/kubeconfig.mts'
import reset from '../../../playbooks/reset.mts'
import { refusal } from '../../../lab/standins/_schema.ts'
import type { Obj } from '../../../lab/standins/_k8s-util.ts'
import { filesAfter, replay, type FakeFile, type Rule } from './replay.ts'

const K = 'kubectl --kubeconfig /etc/kubernetes/admin.conf'
const DIR = '/etc/kubernetes/zxplay'
const THREE = 'all: {children: {control_plane: {hosts: {cp1: {address: 10.0.0.10}}}, workers: {hosts: {w1: {address: 10.0.0.11}, w2: {address: 10.0.0.12}}}}}'

/** The kept-manifest guard of applyManifest, answered from the host's files; `exists`: the cluster has the objects. */
function cluster(files: Record<string, FakeFile>, exists: boolean): Rule[] {
  const kept = (script: string) => files[/cmp -s - (\S+)/.exec(script)?.[1] ?? '']
  return [
    [/cmp -s - /, (input, script) => (kept(script)?.mode === '600' && kept(script)?.content === input && exists ? 0 : 1)],
    [new RegExp(`^${K} get -f \\S+ -o name$`), exists ? 0 : 1],
  ]
}

/** A manifest the API server would take: every object passes its OpenAPI schema. */
function admitted(manifest: string) {
  const objs = (loadAll(manifest) as Obj[]).filter(Boolean)
  assert.ok(objs.length > 0)
  for (const o of objs) assert.is(refusal(o), undefined, `${String(o.kind)}/${String((o.metadata as Obj).name)}`)
}

/** Fresh cluster → upload + apply; converged (the same files, objects there) → ok with no command; --check → nothing done. */
async function appliesOnce(pb: typeof metricsServer, task: string, name: string, extra: Rule[] = []) {
  const file = `${DIR}/${name}.yaml`
  const fresh = await replay(pb, task, { hosts: { cp1: { commands: [...cluster({}, false), ...extra] } } })
  assert.equal(fresh.changes, [`upload ${file} (mode 600)`, `${K} apply -f ${file}`])
  assert.is(fresh.status, 'changed')
  assert.match(fresh.received.find((c) => c.script.startsWith(`d=${file}`))!.script, /\[ -d "\$dir" \] \|\| mkdir -p -m 700 -- "\$dir"/, 'its folder made 0700 in the same command')
  admitted(fresh.uploads[0]!.content)
  const files = filesAfter(fresh)
  const converged = await replay(pb, task, { hosts: { cp1: { files, commands: [...cluster(files, true), ...extra] } } })
  assert.equal([converged.status, converged.changes, converged.received.length], ['ok', [], extra.length ? converged.received.length : 1])
  assert.match(converged.reason ?? '', /unchanged/)
  const deleted = await replay(pb, task, { hosts: { cp1: { files, commands: [...cluster(files, false), ...extra] } } })
  assert.equal([deleted.status, deleted.changes], ['changed', [`${K} apply -f ${file}`]])
  const check = await replay(pb, task, { check: true, hosts: { cp1: { commands: [...cluster({}, false), ...extra] } } })
  assert.equal([check.status, check.executed, check.changes], ['changed', [], [`upload ${file} (mode 600)`, `${K} apply -f ${file}`]])
  return fresh
}

// 20-control-plane

const KUBEADM_CONFIG = `${DIR}/kubeadm-config.yaml`
test('20: the kubeadm config is rendered for the host and kept 0600', async () => {
  const fresh = await replay(controlPlane, 'the kubeadm config is rendered and in place')
  assert.equal(fresh.changes, [`upload ${KUBEADM_CONFIG} (mode 600)`])
  assert.match(fresh.received[0]!.script, /mkdir -p -m 700 -- "\$dir"/)
  const docs = loadAll(fresh.uploads[0]!.content) as Obj[]
  assert.equal(docs.map((d) => d.kind), ['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration'])
  assert.is((docs[0]!.localAPIEndpoint as Obj).advertiseAddress, '10.0.0.10')
  assert.equal(docs[1]!.networking, { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' })
  const files = filesAfter(fresh)
  const converged = await replay(controlPlane, 'the kubeadm config is rendered and in place', { hosts: { cp1: { files } } })
  assert.equal([converged.status, converged.changes, converged.received.length], ['ok', [], 1])
  assert.is(converged.registered.kubeadmConfig, fresh.uploads[0]!.content)
})

const INITIALISED = `[ -f /etc/kubernetes/admin.conf ]`
const RUNNING_CONFIG = `${K} -n kube-system get configmap kubeadm-config -o jsonpath=$'{.data.ClusterConfiguration}'`
test('20: kubeadm init once, with our config; a cluster made with another config is refused', async () => {
  const config = (await replay(controlPlane, 'the kubeadm config is rendered and in place', { check: true })).registered.kubeadmConfig as string
  const task = 'the control plane is initialised with that config'
  const fresh = await replay(controlPlane, task, { hosts: { cp1: { registered: { kubeadmConfig: config }, commands: [[INITIALISED, 1]] } } })
  assert.equal([fresh.status, fresh.changes], ['changed', [`kubeadm init --config ${KUBEADM_CONFIG} --skip-token-print`]])
  const cc = config.split('---\n').find((d) => d.includes('ClusterConfiguration'))!
  const converged = await replay(controlPlane, task, { hosts: { cp1: { registered: { kubeadmConfig: config }, commands: [[INITIALISED, 0], [RUNNING_CONFIG, cc]] } } })
  assert.equal([converged.status, converged.changes], ['ok', []])
  const other = await replay(controlPlane, task, { hosts: { cp1: { registered: { kubeadmConfig: config }, commands: [[INITIALISED, 0], [RUNNING_CONFIG, cc.replace('10.244.0.0/16', '10.32.0.0/16')]] } } })
  assert.is(other.status, 'failed')
  assert.match(other.reason ?? '', /networking.podSubnet: cluster has 10.32.0.0\/16, inventory wants 10.244.0.0\/16/)
  assert.equal(other.changes, [])
  const check = await replay(controlPlane, task, { check: true, hosts: { cp1: { registered: { kubeadmConfig: config }, commands: [[INITIALISED, 1]] } } })
  assert.equal([check.status, check.executed], ['changed', []])
})

test("20: the SSH user's kubeconfig is a 0600 copy of admin.conf", async () => {
  const task = 'the SSH user has a kubeconfig'
  const home: Rule = ['getent passwd root | cut -d: -f6', '/root\n']
  const fresh = await replay(controlPlane, task, { hosts: { cp1: { commands: [home, ['cmp -s /etc/kubernetes/admin.conf /root/.kube/config', 2]] } } })
  assert.equal(fresh.changes, ['install -d -o root -m 0700 /root/.kube && install -o root -m 0600 /etc/kubernetes/admin.conf /root/.kube/config'])
  const converged = await replay(controlPlane, task, { hosts: { cp1: { commands: [home, ['cmp -s /etc/kubernetes/admin.conf /root/.kube/config', 0]] } } })
  assert.equal([converged.status, converged.changes], ['ok', []])
})

// 30-cni-cleanup

const CNI_LIST = `[ -d /etc/cni/net.d ] && find /etc/cni/net.d -mindepth 1 -maxdepth 1 -printf '%f\\n' || true`
const SUBNET = 'cat /run/flannel/subnet.env 2>/dev/null || true'
test("30: other add-ons' CNI configs are moved aside; Flannel's stays", async () => {
  const task = 'only the chosen network add-on configures CNI'
  const stale = await replay(cniCleanup, task, { hosts: { cp1: { commands: [[CNI_LIST, '05-cilium.conflist\n10-flannel.conflist\n'], [SUBNET, 'FLANNEL_NETWORK=10.244.0.0/16\n']] } } })
  assert.is(stale.changes.length, 1)
  assert.match(stale.changes[0]!, /^mkdir -p -m 0700 \/var\/backups\/zxplay\/cni-\d{8}T\d{6} && mv \/etc\/cni\/net.d\/05-cilium.conflist \/var\/backups\/zxplay\/cni-\d{8}T\d{6}\/$/)
  const clean = await replay(cniCleanup, task, { hosts: { cp1: { commands: [[CNI_LIST, '10-flannel.conflist\n'], [SUBNET, 'FLANNEL_NETWORK=10.244.0.0/16\n']] } } })
  assert.equal([clean.status, clean.changes], ['ok', []])
  const check = await replay(cniCleanup, task, { check: true, hosts: { cp1: { commands: [[CNI_LIST, '05-cilium.conflist\n'], [SUBNET, '']] } } })
  assert.equal([check.status, check.executed], ['changed', []])
})

const LINKS = 'for l in cni0 flannel.1; do ip link show $l >/dev/null 2>&1 && echo $l; done; true'
test("30: Flannel's links go only when it ran with another pod CIDR", async () => {
  const task = "Flannel's links go when the pod CIDR changed"
  const env = (network: string) => ({ '/run/flannel/subnet.env': { content: `FLANNEL_NETWORK=${network}\nFLANNEL_SUBNET=10.244.0.1/24\n` } })
  const moved = await replay(cniCleanup, task, { hosts: { cp1: { files: env('10.32.0.0/16'), commands: [[LINKS, 'cni0\nflannel.1\n']] } } })
  assert.equal(moved.changes, ['for l in cni0 flannel.1; do ip link delete $l; done; rm -f /run/flannel/subnet.env'])
  const same = await replay(cniCleanup, task, { hosts: { cp1: { files: env('10.244.0.0/16') } } })
  assert.equal([same.status, same.changes, same.reason], ['ok', [], 'flannel network 10.244.0.0/16 is current'])
  const never = await replay(cniCleanup, task)
  assert.equal([never.status, never.reason], ['ok', 'no flannel state'])
})

// 40-flannel, 70-metrics-server

test('40: Flannel is applied once, its net-conf.json Network the pod subnet', async () => {
  const fresh = await appliesOnce(flannel, 'Flannel is applied for the pod subnet', 'kube-flannel')
  assert.match(fresh.uploads[0]!.content, /"Network": "10\.244\.0\.0\/16"/)
})

const NODES_DS = `${K} get nodes,daemonsets.apps -n kube-flannel -o json`
const node = (name: string, ready: boolean) => ({ kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } })
test('40: the DaemonSet wait reads nodes and DaemonSet in one call, and registers the nodes', async () => {
  const ds = { kind: 'DaemonSet', metadata: { name: 'kube-flannel-ds' }, status: { numberReady: 1, desiredNumberScheduled: 1 } }
  const r = await replay(flannel, 'the Flannel DaemonSet is ready on every node', { hosts: { cp1: { commands: [[NODES_DS, JSON.stringify({ items: [node('cp1', true), ds] })]] } } })
  assert.equal([r.status, r.reason, r.changes, r.received.length], ['ok', '1/1 pods ready', [], 1])
  assert.equal(r.registered.nodesSeen, { done: true, progress: '1/1 Ready (cp1)' })
  const ready = await replay(flannel, 'every node is Ready', { hosts: { cp1: { registered: { nodesSeen: r.registered.nodesSeen } } } })
  assert.equal([ready.status, ready.received], ['ok', []])
  const check = await replay(flannel, 'the Flannel DaemonSet is ready on every node', { check: true })
  assert.equal([check.status, check.received], ['ok', []])
})

test('70: metrics-server is applied once; the metrics API wait counts measured nodes', async () => {
  const fresh = await appliesOnce(metricsServer, 'metrics-server is applied', 'metrics-server')
  assert.match(fresh.uploads[0]!.content, /--metric-resolution=15s/)
  const r = await replay(metricsServer, 'the metrics API answers for every node', {
    hosts: { cp1: { commands: [[`${K} get nodes -o json`, JSON.stringify({ items: [node('cp1', true)] })], [`${K} top nodes --no-headers`, 'cp1 100m 5% 1000Mi 25%\n']] } },
  })
  assert.equal([r.status, r.reason, r.changes], ['ok', '1/1 nodes measured', []])
})

// 50-join

const JOIN_CMD = 'kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:' + 'a'.repeat(64) + '\n'
test('50: a token only when a worker waits, made on the control plane; the token never in a command line', async () => {
  const hosts = { cp1: { commands: [['kubeadm token create --print-join-command --ttl 30m', JOIN_CMD]] as Rule[] }, w1: { registered: { joined: false } }, w2: { registered: { joined: true } } }
  const token = await replay(join, 'a join token is made on the control plane', { inventory: THREE, hosts })
  assert.equal([token.status, token.hosts.cp1!.changes], ['changed', ['kubeadm token create --print-join-command --ttl 30m']])
  assert.equal(token.changes, [])
  assert.equal((token.registered.join as { token: string }).token, 'abcdef.0123456789abcdef')
  assert.not.match(JSON.stringify(token.events), /0123456789abcdef/)
  const none = await replay(join, 'a join token is made on the control plane', { inventory: THREE, hosts: { w1: { registered: { joined: true } }, w2: { registered: { joined: true } } } })
  assert.equal([none.status, none.hosts.cp1!.received], ['ok', []])

  const joined = await replay(join, 'the worker is joined', { inventory: THREE, hosts: { w1: { registered: { joined: false, join: token.registered.join }, commands: [[`[ -d ${DIR} ]`, 1]] }, w2: { registered: { joined: true } } } })
  assert.equal(joined.changes[0], `mkdir -p -m 0700 ${DIR}`)
  assert.match(joined.changes[1]!, /^trap 'rm -f -- '\/etc\/kubernetes\/zxplay\/join-config.yaml'' EXIT\n.*\nkubeadm join --config /)
  const sent = joined.received.find((c) => c.script.includes('kubeadm join'))!
  assert.match(sent.input, /kind: JoinConfiguration[\s\S]*token: "abcdef.0123456789abcdef"[\s\S]*name: "w1"/)
  assert.not.match(sent.script, /abcdef/)
  assert.equal([joined.hosts.w2!.status, joined.hosts.w2!.changes], ['ok', []])
})

test('50: whether a worker joined is its kubelet.conf; the Ready wait only when one joined in this run', async () => {
  const known = await replay(join, 'whether the worker has joined is known', { inventory: THREE, hosts: { w1: { commands: [['[ -f /etc/kubernetes/kubelet.conf ]', 0]] }, w2: { commands: [['[ -f /etc/kubernetes/kubelet.conf ]', 1]] } } })
  assert.equal([known.hosts.w1!.registered.joined, known.hosts.w2!.registered.joined, known.changes], [true, false, []])
  const none = await replay(join, 'the joined workers are Ready', { inventory: THREE, hosts: { w1: { registered: { joined: true } }, w2: { registered: { joined: true } } } })
  assert.equal([none.status, none.hosts.cp1!.received], ['skipped', []])
  const nodes = JSON.stringify({ items: [node('cp1', true), node('w1', true), node('w2', true)] })
  const ready = await replay(join, 'the joined workers are Ready', { inventory: THREE, hosts: { cp1: { commands: [[`${K} get nodes -o json`, nodes]] }, w1: { registered: { joined: false } }, w2: { registered: { joined: true } } } })
  assert.equal([ready.status, ready.reason, ready.hosts.cp1!.changes], ['ok', '3/3 Ready (cp1, w1, w2)', []])
})

// 60-untaint

const TAINTS = `${K} get nodes -o jsonpath=$'{range .items[*]}{.metadata.name}{" "}{.spec.taints[*].key}{"\\n"}{end}'`
test('60: single host: the control-plane taint is removed once; with workers nothing is asked', async () => {
  const task = 'the control plane takes ordinary pods'
  const fresh = await replay(untaint, task, { hosts: { cp1: { commands: [[TAINTS, 'cp1 node-role.kubernetes.io/control-plane\n']] } } })
  assert.equal([fresh.status, fresh.changes], ['changed', [`${K} taint nodes cp1 node-role.kubernetes.io/control-plane:NoSchedule-`]])
  const converged = await replay(untaint, task, { hosts: { cp1: { commands: [[TAINTS, 'cp1 \n']] } } })
  assert.equal([converged.status, converged.changes], ['ok', []])
  const workers = await replay(untaint, task, { inventory: THREE })
  assert.equal([workers.status, workers.received], ['skipped', []])
  const check = await replay(untaint, task, { check: true, hosts: { cp1: { commands: [[TAINTS, 'cp1 node-role.kubernetes.io/control-plane\n']] } } })
  assert.equal([check.status, check.executed], ['changed', []])
})

// kubeconfig

test('kubeconfig: the admin kubeconfig is read with its output kept secret; --check writes nothing here', async () => {
  const r = await replay(kubeconfig, 'artifacts/kubeconfig holds the admin kubeconfig', { check: true, hosts: { cp1: { commands: [['cat /etc/kubernetes/admin.conf', `apiVersion: v1\nkind: Config # ${process.pid}-${Date.now()}\n`]] } } })
  assert.equal([r.status, r.executed], ['changed', []])
  assert.match(r.reason ?? '', /^would write .*artifacts\/kubeconfig \(0600\)/)
  assert.not.match(JSON.stringify(r.events), /kind: Config/)
})

// reset

const LEFT = /^ls -d \/etc\/kubernetes\/\*\.conf/
test('reset: each step only where something is left', async () => {
  const kubeadm = await replay(reset, 'kubeadm state is reset', { hosts: { cp1: { commands: [[LEFT, '/etc/kubernetes/admin.conf\n']] } } })
  assert.equal(kubeadm.changes, [`if dpkg-query -W kubeadm >/dev/null 2>&1; then kubeadm reset -f; fi; rm -rf ${DIR}`])
  assert.is(kubeadm.registered.wasReset, true)
  const clean = await replay(reset, 'kubeadm state is reset', { hosts: { cp1: { commands: [[LEFT, '']] } } })
  assert.equal([clean.status, clean.changes, clean.registered.wasReset], ['ok', [], false])
  const rules = await replay(reset, 'iptables rules of the cluster are flushed', { hosts: { cp1: { commands: [['command -v iptables', 0], [/iptables-save/, '12\n']] } } })
  assert.equal(rules.changes, ['iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X'])
  const noRules = await replay(reset, 'iptables rules of the cluster are flushed', { hosts: { cp1: { commands: [['command -v iptables', 0], [/iptables-save/, '0\n']] } } })
  assert.equal([noRules.status, noRules.changes], ['ok', []])
  const cniState = `find /etc/cni/net.d -mindepth 1 -maxdepth 1 -printf '%f\\n' 2>/dev/null; [ -e /var/lib/cni ] && echo /var/lib/cni; [ -e /run/flannel/subnet.env ] && echo /run/flannel/subnet.env; true`
  const cni = await replay(reset, 'CNI configuration and state are cleared', { hosts: { cp1: { commands: [[cniState, '10-flannel.conflist\n/var/lib/cni\n']] } } })
  assert.match(cni.changes[0] ?? '', /^if \[ -n "\$\(ls -A \/etc\/cni\/net.d 2>\/dev\/null\)" \]; then mkdir -p -m 0700 \/var\/backups\/zxplay\/cni-\d{8}T\d{6} && mv \/etc\/cni\/net.d\/\* \/var\/backups\/zxplay\/cni-\d{8}T\d{6}\/; fi; rm -rf \/var\/lib\/cni \/run\/flannel\/subnet.env$/)
  const noCni = await replay(reset, 'CNI configuration and state are cleared', { hosts: { cp1: { commands: [[cniState, '']] } } })
  assert.equal([noCni.status, noCni.changes], ['ok', []])
  const links = await replay(reset, "Flannel's links are removed", { hosts: { cp1: { commands: [[LINKS, 'cni0\n']] } } })
  assert.equal(links.changes, ['for l in cni0; do ip link delete $l; done'])
  const restart = await replay(reset, 'containerd forgets the old network', { hosts: { cp1: { registered: { wasReset: true }, commands: [['systemctl is-active --quiet containerd', 0]] } } })
  assert.equal(restart.changes, ['systemctl restart containerd'])
  const check = await replay(reset, 'kubeadm state is reset', { check: true, hosts: { cp1: { commands: [[LEFT, '/etc/kubernetes/admin.conf\n']] } } })
  assert.equal([check.status, check.executed], ['changed', []])
})

test.run()
