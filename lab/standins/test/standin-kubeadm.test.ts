// The kubeadm stand-in (lab/standins/kubeadm.ts), run in-process on a fake lab.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { load } from 'js-yaml'
import { editNodeState, fakeLab, hostFile, INIT_CONFIG, initCluster, joinNode, put, run } from '../_k8s-testlab.ts'
import type { FakeLab } from '../_k8s-testlab.ts'
import { KINDS, schemaCheck, semanticCheck } from '../_schema.ts'
import type { KindInfo } from '../_schema.ts'

let lab: FakeLab
test.before.each(() => {
  lab = fakeLab(3)
})
test.after.each(() => lab.remove())

const exists = (host: string, abs: string) => fs.existsSync(hostFile(lab, host, abs))
const read = (host: string, abs: string) => fs.readFileSync(hostFile(lab, host, abs), 'utf8')
const nodeJson = (host: string) => JSON.parse(read(host, '/var/lib/zxlab/node.json')) as { services: Record<string, { active: boolean }> }

async function initWith(cfg: string) {
  put(lab, 'node1', '/root/kubeadm.yaml', cfg)
  return run(lab, 'node1', 'kubeadm', ['init', '--config', '/root/kubeadm.yaml'])
}

test('init: files, kubelet started, success text and the join command', async () => {
  const r = await initWith(INIT_CONFIG())
  assert.is(r.code, 0, r.err)
  assert.match(r.out, '[init] Using Kubernetes version: v1.36.1')
  assert.match(r.out, 'Your Kubernetes control-plane has initialized successfully!')
  assert.match(r.out, /kubeadm join 10\.77\.0\.11:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} \\\n\t--discovery-token-ca-cert-hash sha256:[0-9a-f]{64} \n$/)
  for (const f of ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'controller-manager.conf', 'scheduler.conf', 'pki/ca.crt', 'pki/ca.key', 'manifests/kube-apiserver.yaml', 'manifests/kube-controller-manager.yaml', 'manifests/kube-scheduler.yaml', 'manifests/etcd.yaml']) {
    assert.ok(exists('node1', `/etc/kubernetes/${f}`), f)
  }
  assert.is(fs.statSync(hostFile(lab, 'node1', '/etc/kubernetes/admin.conf')).mode & 0o777, 0o600)
  const admin = load(read('node1', '/etc/kubernetes/admin.conf')) as { kind: string; clusters: { cluster: { server: string } }[]; users: { name: string }[] }
  assert.is(admin.kind, 'Config')
  assert.is(admin.clusters[0]?.cluster.server, 'https://10.77.0.11:6443')
  assert.is(admin.users[0]?.name, 'kubernetes-admin')
  const kcm = read('node1', '/etc/kubernetes/manifests/kube-controller-manager.yaml')
  assert.match(kcm, '--horizontal-pod-autoscaler-downscale-stabilization=15s')
  assert.match(kcm, '--cluster-cidr=10.244.0.0/16')
  assert.match(kcm, '--allocate-node-cidrs=true')
  for (const m of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) {
    const pod = load(read('node1', `/etc/kubernetes/manifests/${m}.yaml`)) as Record<string, unknown>
    const chk = schemaCheck(KINDS.find((k) => k.kind === 'Pod') as KindInfo, 'v1', pod)
    assert.equal([...chk.decode, ...chk.unknown, ...chk.fields.map((e) => e.path), ...semanticCheck(pod).map((e) => e.path)], [], m)
  }
  assert.match(read('node1', '/var/lib/kubelet/config.yaml'), 'cgroupDriver: systemd')
  assert.match(read('node1', '/var/lib/kubelet/kubeadm-flags.env'), '--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock')
  assert.ok(exists('node1', '/var/lib/etcd/zxlab-cluster.json'))
  assert.is(nodeJson('node1').services.kubelet?.active, true)
})

test('init: the discovery hash is the one openssl computes from ca.crt', async () => {
  const r = await initWith(INIT_CONFIG())
  assert.is(r.code, 0, r.err)
  const printed = /sha256:([0-9a-f]{64})/.exec(r.out)?.[1]
  const ca = hostFile(lab, 'node1', '/etc/kubernetes/pki/ca.crt')
  let viaOpenssl: string
  try {
    viaOpenssl = execFileSync('sh', ['-c', `openssl x509 -pubkey -in '${ca}' -noout | openssl rsa -pubin -outform der 2>/dev/null | openssl dgst -sha256 -hex | sed 's/^.* //'`], { encoding: 'utf8' }).trim()
  } catch {
    return // no openssl here
  }
  assert.is(printed, viaOpenssl)
})

test('init: kubeadm-config ConfigMap holds the ClusterConfiguration; the node is tainted, NotReady, with a podCIDR', async () => {
  assert.is((await initCluster(lab)).code, 0)
  const cc = await run(lab, 'node1', 'kubectl', ['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}'])
  assert.is(cc.code, 0, cc.err)
  const cfg = load(cc.out) as { kubernetesVersion: string; networking: { podSubnet: string; serviceSubnet: string }; controllerManager: { extraArgs: { name: string; value: string }[] } }
  assert.is(cfg.kubernetesVersion, 'v1.36.1')
  assert.is(cfg.networking.podSubnet, '10.244.0.0/16')
  assert.equal(cfg.controllerManager.extraArgs, [{ name: 'horizontal-pod-autoscaler-downscale-stabilization', value: '15s' }])
  const n = await run(lab, 'node1', 'kubectl', ['get', 'node', 'node1', '-o', 'jsonpath={.spec.podCIDR} {.spec.taints[*].key} {.status.conditions[?(@.type=="Ready")].status}'])
  assert.is(n.out, '10.244.0.0/24 node-role.kubernetes.io/control-plane node.kubernetes.io/not-ready False')
  const roles = await run(lab, 'node1', 'kubectl', ['get', 'nodes'])
  assert.match(roles.out, /node1\s+NotReady\s+control-plane\s+\d+s\s+v1\.36\.1/)
})

test('init: taints: [] registers the control plane without a taint', async () => {
  const r = await initCluster(lab, INIT_CONFIG({ taints: '  taints: []\n' }))
  assert.is(r.code, 0, r.err)
  const n = await run(lab, 'node1', 'kubectl', ['get', 'node', 'node1', '-o', 'jsonpath={.spec.taints[*].key}'])
  assert.is(n.out, 'node.kubernetes.io/not-ready')
})

test('init rejects v1beta3, v1beta2, unknown kinds and unknown fields', async () => {
  let r = await initWith(INIT_CONFIG().replace(/v1beta4/g, 'v1beta3'))
  assert.is(r.code, 1)
  assert.match(r.err, 'no kind "InitConfiguration" is registered for version "kubeadm.k8s.io/v1beta3"')
  assert.match(r.err, 'To see the stack trace of this error execute with --v=5 or higher')
  r = await initWith(INIT_CONFIG().replace(/v1beta4/g, 'v1beta2'))
  assert.match(r.err, 'your configuration file uses an old API spec: "kubeadm.k8s.io/v1beta2"')
  r = await initWith(INIT_CONFIG() + '---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfig\n')
  assert.match(r.err, 'no kind "ClusterConfig" is registered for version "kubeadm.k8s.io/v1beta4"')
  r = await initWith(INIT_CONFIG({ extra: 'foo: bar\n' }))
  assert.is(r.code, 1)
  assert.match(r.err, 'strict decoding error: unknown field "foo"')
  r = await initWith(INIT_CONFIG().replace('  bindPort: 6443', '  bindPort: 6443\n  port: 1'))
  assert.match(r.err, 'unknown field "localAPIEndpoint.port"')
  assert.not.ok(exists('node1', '/etc/kubernetes/admin.conf'))
})

test('init rejects the map form of extraArgs, args without a name, numbers as values', async () => {
  let r = await initWith(INIT_CONFIG().replace(/extraArgs:\n.*\n.*\n/, 'extraArgs:\n    horizontal-pod-autoscaler-downscale-stabilization: 15s\n'))
  assert.is(r.code, 1)
  assert.match(r.err, 'json: cannot unmarshal object into Go struct field ControlPlaneComponent.controllerManager.extraArgs of type []v1beta4.Arg')
  r = await initWith(INIT_CONFIG().replace('    - name: horizontal-pod-autoscaler-downscale-stabilization\n', '    - value: x\n').replace('      value: "15s"\n', ''))
  assert.match(r.err, 'controllerManager.extraArgs[0].name: Required value')
  r = await initWith(INIT_CONFIG().replace('value: "15s"', 'value: 15'))
  assert.match(r.err, 'json: cannot unmarshal number into Go struct field Arg.controllerManager.extraArgs.value of type string')
})

test('init rejects bad and overlapping subnets', async () => {
  let r = await initWith(INIT_CONFIG({ podSubnet: '10.244.0.0/33' }))
  assert.is(r.code, 1)
  assert.match(r.err, 'networking.podSubnet: Invalid value: "10.244.0.0/33": couldn\'t parse subnet')
  r = await initWith(INIT_CONFIG({ podSubnet: '10.96.0.0/16' }))
  assert.match(r.err, 'networking.podSubnet: Invalid value: "10.96.0.0/16": the pod subnet overlaps with the service subnet 10.96.0.0/12')
  r = await initWith(INIT_CONFIG({ podSubnet: '10.244.0.0/25' }))
  assert.match(r.err, 'the size of pod subnet with mask 25 is smaller than the size of node subnet with mask 24')
})

test('init with an advertise address not on this host fails at wait-control-plane and leaves its files', async () => {
  const r = await initWith(INIT_CONFIG({ address: '10.77.0.99' }))
  assert.is(r.code, 1)
  assert.match(r.err, 'error execution phase wait-control-plane')
  assert.match(r.err, 'dial tcp 10.77.0.99:6443: connect: no route to host')
  assert.ok(exists('node1', '/etc/kubernetes/manifests/kube-apiserver.yaml'))
  const again = await initWith(INIT_CONFIG())
  assert.is(again.code, 1)
  assert.match(again.err, '[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: /etc/kubernetes/manifests/kube-apiserver.yaml already exists')
})

test('init: kubernetesVersion must match the installed kubeadm minor', async () => {
  let r = await initWith(INIT_CONFIG({ version: 'v1.35.2' }))
  assert.is(r.code, 1)
  assert.match(r.err, 'this version of kubeadm only supports deploying clusters with the control plane version >= 1.36.0. Current version: v1.35.2')
  r = await initWith(INIT_CONFIG({ version: 'v1.37.0' }))
  assert.is(r.code, 1)
  assert.match(r.err, '[ERROR KubernetesVersion]: Kubernetes version is greater than kubeadm version')
  r = await initWith(INIT_CONFIG({ version: 'v1.36.3' }))
  assert.is(r.code, 0, r.err)
  assert.match(r.out, '[WARNING KubernetesVersion]')
})

test('init preflight: ip_forward, kubelet, containerd, CPUs, memory, swap warning', async () => {
  put(lab, 'node1', '/proc/sys/net/ipv4/ip_forward', '0\n')
  put(lab, 'node1', '/proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1024 0 -2\n')
  editNodeState(lab, 'node1', (s) => {
    delete (s.packages as Record<string, unknown>).kubelet
    s.services.containerd.active = false
  })
  put(lab, 'node1', '/root/kubeadm.yaml', INIT_CONFIG())
  const r = await run(lab, 'node1', 'kubeadm', ['init', '--config', '/root/kubeadm.yaml'], { env: { ZXLAB_CPUS: '1', ZXLAB_MEMORY_MB: '1024' } })
  assert.is(r.code, 1)
  assert.match(r.err, 'error execution phase preflight: [preflight] Some fatal errors occurred:\n')
  assert.match(r.err, '\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1\n')
  assert.match(r.err, '[ERROR CRI]: container runtime is not running')
  assert.match(r.err, '[ERROR KubeletVersion]: couldn\'t get kubelet version')
  assert.match(r.err, '[ERROR NumCPU]: the number of available CPUs 1 is less than the required 2')
  assert.match(r.err, '[ERROR Mem]: the system RAM (1024 MB) is less than the minimum 1700 MB')
  assert.match(r.err, "[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`")
  assert.match(r.out, '[WARNING Swap]')
  assert.not.ok(exists('node1', '/etc/kubernetes/admin.conf'))
})

test('init preflight errors can be ignored by name', async () => {
  put(lab, 'node1', '/root/kubeadm.yaml', INIT_CONFIG())
  const r = await run(lab, 'node1', 'kubeadm', ['init', '--config', '/root/kubeadm.yaml', '--ignore-preflight-errors=NumCPU,Mem'], { env: { ZXLAB_CPUS: '1', ZXLAB_MEMORY_MB: '1024' } })
  assert.is(r.code, 0, r.err)
  assert.match(r.out, '[WARNING NumCPU]')
})

test('init preflight: a port in use', async () => {
  const net = await import('node:net')
  const srv = net.createServer()
  const port = await new Promise<number>((resolve) => srv.listen(0, '0.0.0.0', () => resolve((srv.address() as { port: number }).port)))
  try {
    const r = await initWith(INIT_CONFIG().replace('bindPort: 6443', `bindPort: ${port}`))
    // ports are skipped in unit tests unless asked for
    assert.is(r.code, 0, r.err)
    lab.remove()
    lab = fakeLab(1)
    put(lab, 'node1', '/root/kubeadm.yaml', INIT_CONFIG().replace('bindPort: 6443', `bindPort: ${port}`))
    const r2 = await run(lab, 'node1', 'kubeadm', ['init', '--config', '/root/kubeadm.yaml', '--ignore-preflight-errors=Port-10250,Port-10257,Port-10259,Port-2379,Port-2380'], { env: { ZXLAB_SKIP_PORT_CHECK: '0' } })
    assert.is(r2.code, 1)
    assert.match(r2.err, `[ERROR Port-${port}]: Port ${port} is in use`)
  } finally {
    srv.close()
  }
})

test('a second init fails on the manifests and /var/lib/etcd; reset then init works again', async () => {
  assert.is((await initCluster(lab)).code, 0)
  let r = await initWith(INIT_CONFIG())
  assert.is(r.code, 1)
  assert.match(r.err, '[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: /etc/kubernetes/manifests/kube-apiserver.yaml already exists')
  assert.match(r.err, '[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty')
  r = await run(lab, 'node1', 'kubeadm', ['reset', '-f'])
  assert.is(r.code, 0, r.err)
  assert.match(r.out, 'The reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d')
  assert.match(r.out, 'The reset process does not clean your kubeconfig files and you must remove them manually.')
  assert.not.ok(exists('node1', '/etc/kubernetes/admin.conf'))
  assert.not.ok(exists('node1', '/etc/kubernetes/pki/ca.crt'))
  assert.not.ok(exists('node1', '/var/lib/etcd/zxlab-cluster.json'))
  assert.not.ok(exists('node1', '/var/lib/kubelet/config.yaml'))
  assert.is(nodeJson('node1').services.kubelet?.active, false)
  // the old ~/.kube/config now points at nothing
  r = await run(lab, 'node1', 'kubectl', ['get', 'nodes'])
  assert.is(r.code, 1)
  assert.match(r.err, 'The connection to the server 10.77.0.11:6443 was refused - did you specify the right host or port?')
  assert.is((await initWith(INIT_CONFIG())).code, 0)
  // a new CA: the stale kubeconfig is refused
  r = await run(lab, 'node1', 'kubectl', ['get', 'nodes'])
  assert.is(r.code, 1)
  assert.match(r.err, 'x509: certificate signed by unknown authority')
})

test('reset without -f asks, and stops unless the answer is y', async () => {
  assert.is((await initCluster(lab)).code, 0)
  let r = await run(lab, 'node1', 'kubeadm', ['reset'], { stdin: 'n\n' })
  assert.is(r.code, 1)
  assert.match(r.out, '[reset] Are you sure you want to proceed? [y/N]: ')
  assert.match(r.err, 'aborted reset operation')
  assert.ok(exists('node1', '/etc/kubernetes/admin.conf'))
  r = await run(lab, 'node1', 'kubeadm', ['reset'], { stdin: 'y\n' })
  assert.is(r.code, 0, r.err)
  assert.not.ok(exists('node1', '/etc/kubernetes/admin.conf'))
})

test('token create --print-join-command, token list, and a join', async () => {
  assert.is((await initCluster(lab)).code, 0)
  const t = await run(lab, 'node1', 'kubeadm', ['token', 'create', '--print-join-command'])
  assert.is(t.code, 0, t.err)
  assert.match(t.out, /^kubeadm join 10\.77\.0\.11:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64} \n$/)
  const list = await run(lab, 'node1', 'kubeadm', ['token', 'list'])
  assert.match(list.out, /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS\n/)
  assert.match(list.out, 'authentication,signing')
  const j = await run(lab, 'node2', 'kubeadm', t.out.trim().split(/\s+/).slice(1))
  assert.is(j.code, 0, j.err)
  assert.match(j.out, 'This node has joined the cluster:')
  assert.ok(exists('node2', '/etc/kubernetes/kubelet.conf'))
  assert.ok(exists('node2', '/etc/kubernetes/pki/ca.crt'))
  assert.ok(exists('node2', '/var/lib/kubelet/config.yaml'))
  assert.is(nodeJson('node2').services.kubelet?.active, true)
  const n = await run(lab, 'node1', 'kubectl', ['get', 'node', 'node2', '-o', 'jsonpath={.spec.podCIDR}'])
  assert.is(n.out, '10.244.1.0/24')
})

test('join with --config (JoinConfiguration v1beta4)', async () => {
  assert.is((await initCluster(lab)).code, 0)
  const t = await run(lab, 'node1', 'kubeadm', ['token', 'create', '--print-join-command'])
  const [, endpoint, , token, , hash] = t.out.trim().split(/\s+/).slice(1)
  put(lab, 'node2', '/root/join.yaml', `apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: "${endpoint}"\n    token: "${token}"\n    caCertHashes: ["${hash}"]\nnodeRegistration:\n  name: worker-a\n  criSocket: unix:///var/run/containerd/containerd.sock\n`)
  const j = await run(lab, 'node2', 'kubeadm', ['join', '--config', '/root/join.yaml'])
  assert.is(j.code, 0, j.err)
  const n = await run(lab, 'node1', 'kubectl', ['get', 'nodes', '-o', 'name'])
  assert.is(n.out, 'node/node1\nnode/worker-a\n')
  const mix = await run(lab, 'node3', 'kubeadm', ['join', '--config', '/root/join.yaml', '--token', token as string])
  assert.match(mix.err, "can not mix '--config' with arguments [token]")
})

test('join rejects an unknown or expired token, a wrong secret and a wrong CA hash', async () => {
  assert.is((await initCluster(lab)).code, 0)
  const t = await run(lab, 'node1', 'kubeadm', ['token', 'create', '--print-join-command'])
  const argv = t.out.trim().split(/\s+/).slice(1)
  const tok = argv[3] as string
  const bad = (i: number, v: string) => argv.map((a, j) => (j === i ? v : a))
  let r = await run(lab, 'node2', 'kubeadm', bad(3, 'abcdef.0123456789abcdef'))
  assert.is(r.code, 1)
  assert.match(r.err, 'error execution phase preflight: couldn\'t validate the identity of the API Server: token id "abcdef" is invalid for this cluster or it has expired')
  r = await run(lab, 'node2', 'kubeadm', bad(3, `${tok.slice(0, 7)}0000000000000000`))
  assert.match(r.err, 'failed to verify JWS signature of received cluster info object')
  r = await run(lab, 'node2', 'kubeadm', bad(5, `sha256:${'0'.repeat(64)}`))
  assert.match(r.err, 'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:')
  assert.match(r.err, '" are pinned')
  r = await run(lab, 'node2', 'kubeadm', bad(3, 'nope'))
  assert.match(r.err, 'discovery.bootstrapToken.token: Invalid value: "nope": the bootstrap token is invalid')
  r = await run(lab, 'node2', 'kubeadm', bad(1, '10.77.0.99:6443'))
  assert.match(r.err, 'dial tcp 10.77.0.99:6443: connect: no route to host')
  r = await run(lab, 'node2', 'kubeadm', bad(1, '10.77.0.13:6443'))
  assert.match(r.err, 'dial tcp 10.77.0.13:6443: connect: connection refused')
  assert.not.ok(exists('node2', '/etc/kubernetes/kubelet.conf'))
  // an expired token
  const short = await run(lab, 'node1', 'kubeadm', ['token', 'create', '--print-join-command', '--ttl', '1s'])
  await new Promise((res) => setTimeout(res, 1100))
  r = await run(lab, 'node2', 'kubeadm', short.out.trim().split(/\s+/).slice(1))
  assert.match(r.err, 'is invalid for this cluster or it has expired')
})

test('a second join on the same host fails preflight; a Ready node name cannot be taken', async () => {
  assert.is((await initCluster(lab)).code, 0)
  assert.is((await joinNode(lab, 'node2')).code, 0)
  const r = await joinNode(lab, 'node2')
  assert.is(r.code, 1)
  assert.match(r.err, '[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists')
  assert.match(r.err, '[ERROR FileAvailable--etc-kubernetes-pki-ca.crt]: /etc/kubernetes/pki/ca.crt already exists')
  // make the cluster Ready so that node2 is Ready, then try to register node3 under its name
  put(lab, 'node1', '/root/flannel.yaml', (await import('../_k8s-testlab.ts')).FLANNEL())
  assert.is((await run(lab, 'node1', 'kubectl', ['apply', '-f', '/root/flannel.yaml'])).code, 0)
  const t = await run(lab, 'node1', 'kubeadm', ['token', 'create', '--print-join-command'])
  const dup = await run(lab, 'node3', 'kubeadm', [...t.out.trim().split(/\s+/).slice(1), '--node-name', 'node2'])
  assert.is(dup.code, 1)
  assert.match(dup.err, 'a Node with name "node2" and status "Ready" already exists in the cluster')
})

test('join preflight: kubelet missing, containerd stopped, ip_forward', async () => {
  assert.is((await initCluster(lab)).code, 0)
  editNodeState(lab, 'node2', (s) => {
    s.services.containerd.active = false
  })
  put(lab, 'node2', '/proc/sys/net/ipv4/ip_forward', '0\n')
  const r = await joinNode(lab, 'node2')
  assert.is(r.code, 1)
  assert.match(r.err, '[ERROR CRI]: container runtime is not running')
  assert.match(r.err, '[ERROR FileContent--proc-sys-net-ipv4-ip_forward]')
})

test('reset on a worker leaves its Node NotReady; it can join again', async () => {
  assert.is((await initCluster(lab)).code, 0)
  assert.is((await joinNode(lab, 'node2')).code, 0)
  put(lab, 'node1', '/root/flannel.yaml', (await import('../_k8s-testlab.ts')).FLANNEL())
  await run(lab, 'node1', 'kubectl', ['apply', '-f', '/root/flannel.yaml'])
  let n = await run(lab, 'node1', 'kubectl', ['get', 'nodes', 'node2', '--no-headers'])
  assert.match(n.out, /node2\s+Ready/)
  assert.is((await run(lab, 'node2', 'kubeadm', ['reset', '-f'])).code, 0)
  n = await run(lab, 'node1', 'kubectl', ['get', 'nodes', 'node2', '--no-headers'])
  assert.match(n.out, /node2\s+NotReady/)
  const again = await joinNode(lab, 'node2')
  assert.is(again.code, 0, again.err)
  n = await run(lab, 'node1', 'kubectl', ['get', 'nodes', 'node2', '--no-headers'])
  assert.match(n.out, /node2\s+Ready/)
})

test('version, config images list, config print init-defaults (which init accepts), unknown commands and flags', async () => {
  let r = await run(lab, 'node1', 'kubeadm', ['version', '-o', 'short'])
  assert.is(r.out, 'v1.36.1\n')
  r = await run(lab, 'node1', 'kubeadm', ['config', 'images', 'list', '--kubernetes-version', 'v1.36.1'])
  assert.match(r.out, 'registry.k8s.io/kube-apiserver:v1.36.1\n')
  assert.match(r.out, 'registry.k8s.io/pause:')
  r = await run(lab, 'node1', 'kubeadm', ['config', 'print', 'init-defaults'])
  assert.match(r.out, 'apiVersion: kubeadm.k8s.io/v1beta4\n')
  put(lab, 'node1', '/root/defaults.yaml', r.out.replace('1.2.3.4', '10.77.0.11').replace('name: node', 'name: node1'))
  r = await run(lab, 'node1', 'kubeadm', ['config', 'validate', '--config', '/root/defaults.yaml'])
  assert.is(r.code, 0, r.err)
  r = await run(lab, 'node1', 'kubeadm', ['init', '--config', '/root/defaults.yaml'])
  assert.is(r.code, 0, r.err)
  r = await run(lab, 'node1', 'kubeadm', ['frobnicate'])
  assert.is(r.code, 1)
  assert.match(r.err, 'unknown command "frobnicate" for "kubeadm"')
  r = await run(lab, 'node1', 'kubeadm', ['init', '--bogus'])
  assert.is(r.code, 1)
  assert.match(r.err, 'unknown flag: --bogus')
  editNodeState(lab, 'node3', (s) => {
    delete (s.packages as Record<string, unknown>).kubeadm
  })
  r = await run(lab, 'node3', 'kubeadm', ['version'])
  assert.is(r.code, 127)
  assert.match(r.err, 'kubeadm: command not found')
})

test('init: a controller-manager flag it refuses makes the control plane fail to come up', async () => {
  const r = await initWith(INIT_CONFIG().replace('value: "15s"', 'value: "15"'))
  assert.is(r.code, 1)
  assert.match(r.err, 'kube-controller-manager check failed')
  assert.match(r.err, 'invalid argument "15" for "--horizontal-pod-autoscaler-downscale-stabilization" flag: time: missing unit in duration "15"')
})

test.run()
