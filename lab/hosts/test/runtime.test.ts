// 00-preflight and 10-runtime against real Debian machines of the real-host lab, one of each
// distribution (12: containerd 1.6, 13: 1.7, unstable: 2.x with the config-version-3 layout): a
// pinned release the lab's pkgs.k8s.io lacks stops 10-runtime with one error naming what it has; real
// apt installs Debian's containerd through the lab's apt cache and the Kubernetes packages from the
// lab's signed pkgs.k8s.io; real systemd runs containerd with our config; a broken config fails a
// real restart. Then the control plane over the network: 20-control-plane on node1, the kubelet
// (a systemd service) runs the API server from its static pod manifest, the SSH user's kubectl
// reaches it on 10.78.0.11:6443 with the kubeconfig 20-control-plane wrote, and workers join
// across the network (a wrong CA hash and a dropped port 6443 fail as kubeadm does). Last, the
// whole site: each kubelet posts its host to the API server and writes the CNI config Flannel's
// pod wants there, so the nodes become Ready and the cluster's pods run; without AWS (the lab's
// inventory sets no aws.*) the credentials step is skipped with one line and no Secret or env.list
// is made; `zxplay render` prints what was applied; a rerun changes nothing.
// Builds a rootfs first when the cache has none (minutes: see lab/hosts/README.md).
import fs from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli, runJson, statusOf } from '../../../test/e2e/helpers.ts'
import { DISTS, REPO, type Dist } from '../config.ts'
import { labDown, labLeftovers, labUp, onRealHost, type RealLab } from '../lab.ts'

const test = suite('real-host lab: 00-preflight, 10-runtime, the control plane over the network, the whole site on Debian 12, 13 and unstable')
let lab: RealLab
const HOSTS: { name: string; dist: Dist; release: RegExp; layout: string }[] = [
  { name: 'node1', dist: 'debian-12', release: /^VERSION_ID="12"$/m, layout: '2' },
  { name: 'node2', dist: 'debian-13', release: /^VERSION_ID="13"$/m, layout: '2' },
  { name: 'node3', dist: 'debian-unstable', release: /^PRETTY_NAME="Debian GNU\/Linux \w+\/sid"$/m, layout: '3' },
]
const inv = () => ['-i', lab.inventory]
const failures = (r: { stdout: string; stderr: string }) => `${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`
const on = async (host: string, cmd: string) => (await onRealHost(lab, host, cmd)).stdout.trim()
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

test.before(async () => {
  lab = await labUp({ hosts: HOSTS.length, dists: HOSTS.map((h) => h.dist), log: (s) => console.log(s) })
  console.log(`  lab up: ${Object.entries(lab.timings).map(([k, v]) => `${k} ${seconds(v)}`).join(', ')}`)
})
test.after(async () => {
  await labDown()
})

test('each host is a real Debian machine: systemd as PID 1, its own address; only the apt cache and the lab repository reachable', async () => {
  for (const [i, h] of HOSTS.entries()) {
    const sh = (cmd: string) => on(h.name, cmd)
    assert.is(await sh('cat /proc/1/comm'), 'systemd', h.name)
    assert.match(await sh('timeout 60 systemctl is-system-running --wait || true'), /^(running|degraded)$/, h.name)
    assert.match(await sh('cat /etc/os-release'), h.release, h.name)
    assert.match(await sh('ip -4 -o addr show host0'), `10.78.0.${11 + i}/24`)
    assert.is(await sh('stat -fc %T /sys/fs/cgroup'), 'cgroup2fs')
    // no route out: Debian only through the cache, pkgs.k8s.io is the lab's (its CA is trusted)
    const out = await onRealHost(lab, h.name, 'curl -sS --max-time 3 http://deb.debian.org/debian/')
    assert.is.not(out.code, 0, out.stdout)
    assert.match(out.stderr, /resolv|unreachable|connect|timed out/i)
    assert.match(await sh('curl -fsS https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key'), 'BEGIN PGP PUBLIC KEY BLOCK')
  }
})

test('10-runtime with a pinned release the repository lacks: one clear error naming what it has; no Kubernetes package installed', async () => {
  const pre = await runCli(['run', '00-preflight', ...inv()], { timeoutMs: 120_000 })
  assert.is(pre.code, 0, failures(pre))
  const r = await runCli(['run', '10-runtime', ...inv(), '-e', 'kubernetes_version=1.36.7'], { timeoutMs: 900_000 })
  console.log(`  00-preflight ${seconds(pre.ms)}, 10-runtime refused ${seconds(r.ms)} (its containerd steps ran first)`)
  assert.is.not(r.code, 0, failures(r))
  // what the lab's pkgs.k8s.io publishes (lab/hosts/repo.ts), as real apt reads it on the host
  const has = 'it has 1.36.0-1.1, 1.36.1-1.1, 1.36.2-2.1, 1.36.3-1.1, 1.36.4-1.1'
  const said = `kubernetes_version: https://pkgs.k8s.io/core:/stable:/v1.36/deb/ has no kubelet/kubeadm/kubectl 1.36.7: ${has}`
  assert.is(r.stdout.split(said).length - 1, HOSTS.length, `said once per host, not per package or attempt\n${failures(r)}`)
  assert.not.match(r.stdout + r.stderr, 'E: Version', 'apt is never asked for a version it lacks')
  for (const h of HOSTS) assert.match(await on(h.name, 'dpkg-query -W kubelet kubeadm kubectl 2>&1 || true'), 'no packages found matching kubelet', h.name)
})

test("00-preflight and 10-runtime: Debian's containerd and pkgs.k8s.io's 1.36.2-2.1 by real apt, containerd active, kubelet enabled", async () => {
  const rt = await runCli(['run', '10-runtime', ...inv()], { timeoutMs: 900_000 })
  console.log(`  10-runtime ${seconds(rt.ms)} (${HOSTS.length} hosts at once)`)
  assert.is(rt.code, 0, failures(rt))
  for (const h of HOSTS) {
    const sh = (cmd: string) => on(h.name, cmd)
    const { suite: release, containerd } = DISTS[h.dist]
    assert.is(await sh('systemctl is-active containerd'), 'active', h.name)
    assert.is(await sh('systemctl is-enabled kubelet'), 'enabled', h.name)
    assert.match(await sh('systemctl cat kubelet'), '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf')
    const versions = await sh("dpkg-query -W -f='${Package}=${Version}\\n' containerd kubelet kubeadm kubectl cri-tools kubernetes-cni")
    assert.match(versions, new RegExp(`^containerd=${escape(containerd)}\\.\\d+`, 'm'), `${h.name}: ${h.dist}'s containerd`)
    for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.match(versions, `${p}=1.36.2-2.1`)
    assert.equal((await sh('apt-mark showhold')).split('\n'), ['kubeadm', 'kubectl', 'kubelet'])
    // where apt took them from: Debian's mirror (through the cache) and the lab's pkgs.k8s.io
    assert.match(await sh('apt-cache policy containerd'), new RegExp(`http://deb\\.debian\\.org/debian(-security)? ${release}(-security|-updates)?/main amd64 Packages`))
    assert.match(await sh('apt-cache madison kubelet'), 'kubelet | 1.36.2-2.1 | https://pkgs.k8s.io/core:/stable:/v1.36/deb  Packages')
    const dump = await sh('containerd config dump')
    assert.match(dump, new RegExp(`^version = ${h.layout}$`, 'm'), `${h.name}: config layout`)
    assert.match(dump, /^\s*SystemdCgroup = true$/m)
  }
  // a converged rerun: the site case at the end reruns everything
})

test("a broken config.toml fails `systemctl restart containerd` for real; 10-runtime puts ours back, real containerd reading it first, and containerd runs again", async () => {
  const file = '/etc/containerd/config.toml'
  for (const h of HOSTS) {
    const sh = (cmd: string) => on(h.name, cmd)
    await sh(`sed -i 's/SystemdCgroup = true/SystemdCgroup = yes/' ${file}`)
    const restart = await onRealHost(lab, h.name, 'systemctl restart containerd')
    assert.is.not(restart.code, 0, h.name)
    assert.match(restart.stderr, 'Job for containerd.service failed')
    assert.is.not(await sh('systemctl is-active containerd || true'), 'active')
    // what the upload's check runs on a new file: the real containerd refuses this one
    const check = await onRealHost(lab, h.name, `containerd --config ${file} config dump`)
    assert.is.not(check.code, 0, h.name)
    assert.match(check.stderr, /TOML/)
  }
  const fix = await runJson(['run', '10-runtime', ...inv()], { timeoutMs: 300_000 })
  assert.is(fix.code, 0, failures(fix))
  for (const h of HOSTS) {
    assert.is(statusOf(fix.report, h.name, "containerd uses SystemdCgroup and kubeadm's pause image"), 'changed', h.name)
    assert.is(await on(h.name, 'systemctl is-active containerd'), 'active', h.name)
    assert.match(await on(h.name, 'containerd config dump'), /^\s*SystemdCgroup = true$/m)
    assert.is(await on(h.name, 'ls -A /etc/containerd | grep -c zxplay || true'), '0', 'no temporary file left')
  }
})

const CP = 'node1'
const API = '10.78.0.11:6443'
const asUser = (host: string, cmd: string) => onRealHost(lab, host, `su - zxlab -c ${JSON.stringify(cmd)}`)

test('20-control-plane: the kubelet runs the API server on 10.78.0.11:6443; the SSH user kubectl gets nodes with its kubeconfig, over the network', async () => {
  const t0 = performance.now()
  const cp = await runCli(['run', '20-control-plane', ...inv()], { timeoutMs: 300_000 })
  console.log(`  20-control-plane ${seconds(cp.ms)}`)
  assert.is(cp.code, 0, failures(cp))
  assert.match(await on(CP, 'ss -ltnH'), `${API} `)
  assert.match(await on(CP, 'systemctl status kubelet --no-pager'), /kube-apiserver\.mjs --advertise-address=10\.78\.0\.11 /)
  // the store stays root's: the user's kubectl can only have gone through the API server
  assert.is(await on(CP, 'stat -c %a /var/lib/etcd/zxlab-cluster.json'), '600')
  const mine = await asUser(CP, 'kubectl get nodes')
  assert.is(mine.code, 0, mine.stderr)
  assert.match(mine.stdout, /^node1\s+NotReady\s+control-plane\s+\S+\s+v1\.36\.2$/m) // NotReady: no pod network yet (40-flannel)
  // the same kubeconfig on another host: nothing of the cluster there but the network
  const kubeconfig = await on(CP, 'cat /home/zxlab/.kube/config')
  await onRealHost(lab, 'node2', `install -d -o zxlab -m 700 /home/zxlab/.kube && cat > /home/zxlab/.kube/config <<'EOF'\n${kubeconfig}\nEOF\nchown zxlab /home/zxlab/.kube/config`)
  const there = await asUser('node2', 'kubectl get nodes -o name')
  assert.is(there.stdout.trim(), 'node/node1', there.stderr)
  // a CA that did not sign the server's certificate (the lab's repository CA), and no kubeconfig at all
  await onRealHost(lab, 'node2', `sed "s|certificate-authority-data: .*|certificate-authority-data: $(base64 -w0 /usr/local/share/ca-certificates/zxplay-lab-ca.crt)|" /home/zxlab/.kube/config > /home/zxlab/wrong-ca.conf && chown zxlab /home/zxlab/wrong-ca.conf`)
  const wrongCa = await asUser('node2', 'kubectl --kubeconfig /home/zxlab/wrong-ca.conf get nodes')
  assert.is.not(wrongCa.code, 0)
  assert.match(wrongCa.stderr, 'Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority')
  const none = await asUser('node3', 'kubectl get nodes')
  assert.match(none.stderr, 'The connection to the server localhost:8080 was refused - did you specify the right host or port?')
  console.log(`  the control-plane cases ${seconds(performance.now() - t0)}`)
})

test('kubeadm join over the network: a dropped port 6443 and a stopped API server are retried until timeouts.discovery, then fail; a wrong CA hash fails; a server back in time lets the worker join', async () => {
  const t0 = performance.now()
  const join = (await on(CP, 'kubeadm token create --print-join-command')).trim()
  assert.match(join, new RegExp(`^kubeadm join ${API} --token \\S+ --discovery-token-ca-cert-hash sha256:[0-9a-f]{64}$`))
  // the join as a JoinConfiguration, its discovery timeout (v1beta4's timeouts.discovery, 5m0s by default) shortened
  const flag = (name: string) => new RegExp(`${name} (\\S+)`).exec(join)?.[1] ?? ''
  const joinWithin = async (host: string, timeout: string) => {
    const config = `apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: "${API}"\n    token: "${flag('--token')}"\n    caCertHashes: ["${flag('--discovery-token-ca-cert-hash')}"]\ntimeouts:\n  discovery: ${timeout}\n`
    const started = performance.now()
    const r = await onRealHost(lab, host, `umask 077; cat > /root/join.yaml <<'EOF'\n${config}EOF\nkubeadm join --config /root/join.yaml`)
    return { ...r, ms: performance.now() - started }
  }
  // node2 cannot reach port 6443 (its own netfilter drops it): a 10 s try, 5 s apart, until 20 s
  await on('node2', 'iptables -A OUTPUT -p tcp -d 10.78.0.11 --dport 6443 -j DROP')
  const dropped = await joinWithin('node2', '20s')
  await on('node2', 'iptables -D OUTPUT -p tcp -d 10.78.0.11 --dport 6443 -j DROP')
  assert.is.not(dropped.code, 0, dropped.stdout)
  assert.ok(dropped.ms >= 19_000, `gave up after ${seconds(dropped.ms)}`)
  assert.match(dropped.stderr, `couldn't validate the identity of the API Server: Get "https://${API}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`)
  const wrong = await onRealHost(lab, 'node2', join.replace(/sha256:[0-9a-f]{64}/, `sha256:${'0'.repeat(64)}`))
  assert.is.not(wrong.code, 0)
  assert.match(wrong.stderr, /couldn't validate the identity of the API Server: cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned/)
  // the kubelet stopped on the control plane takes its API server with it: refused, asked again after 5 s, then given up
  await on(CP, 'systemctl stop kubelet')
  const refused = await joinWithin('node2', '7s')
  assert.ok(refused.ms >= 5_000, `gave up after ${seconds(refused.ms)}`)
  assert.match(refused.stderr, `dial tcp ${API}: connect: connection refused`)
  assert.match((await asUser(CP, 'kubectl get nodes')).stderr, `The connection to the server ${API} was refused - did you specify the right host or port?`)
  // the server comes back while node2's discovery is still retrying: node2 joins
  const retrying = joinWithin('node2', '2m')
  await new Promise((r) => setTimeout(r, 3000))
  await on(CP, 'systemctl start kubelet')
  const back = await retrying
  assert.is(back.code, 0, `node2: ${back.stdout}\n${back.stderr}`)
  assert.is(await on('node2', 'systemctl is-active kubelet'), 'active')
  const r = await onRealHost(lab, 'node3', join)
  assert.is(r.code, 0, `node3: ${r.stdout}\n${r.stderr}`)
  assert.is(await on('node3', 'systemctl is-active kubelet'), 'active')
  const nodes = await asUser(CP, 'kubectl get nodes -o name')
  assert.is(nodes.stdout.trim(), 'node/node1\nnode/node2\nnode/node3', nodes.stderr)
  // a worker's kubelet credentials (signed by the server during the join) authenticate it as its node
  assert.is(await on('node2', 'kubectl --kubeconfig /etc/kubernetes/kubelet.conf get node node2 -o name'), 'node/node2')
  console.log(`  the join cases ${seconds(performance.now() - t0)} (port 6443 dropped ${seconds(dropped.ms)}, refused ${seconds(refused.ms)}, node2 joined after the server came back ${seconds(back.ms)})`)
})

// the lab's inventory sets no aws.*: the credentials step is skipped with this line
const NO_ROLE = /skipped\s+session credentials are valid \(no AWS role configured: aws\.role_arn is empty and \S+\/iamroles\.txt does not exist, so the Ray pods get no AWS credentials; to add them, put the role ARN on the first line of \S+\/iamroles\.txt or set aws\.role_arn\)/

test('site --check without AWS: exit 0, the whole plan to 95-verify, the AWS step left out with one line', async () => {
  assert.not.match(fs.readFileSync(lab.inventory, 'utf8'), /^\s*aws:/m)
  const r = await runCli(['run', 'site', '--check', ...inv()], { timeoutMs: 300_000 })
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, NO_ROLE)
  assert.match(r.stdout, /==> 95-verify/)
})

test('site to the end (Flannel, Ray head and workers, the autoscaler, 95-verify without AWS): every node Ready for the SSH user, containerd and the kubelet active on every host; a rerun changes nothing', async () => {
  const site = await runCli(['run', 'site', ...inv()], { timeoutMs: 900_000 })
  console.log(`  site ${seconds(site.ms)}`)
  assert.is(site.code, 0, failures(site))
  assert.match(site.stdout, NO_ROLE)
  assert.match(site.stdout, 'head pod env (envFrom)             not configured: no AWS role')
  assert.match(site.stdout, /Ray cluster checks \(\d+ checks passed, 2 not configured\)/)
  assert.not.match(site.stdout, /FAIL/)
  // no credentials anywhere: no Secret, no env.list beside the inventory
  assert.is(await on(CP, 'kubectl --kubeconfig /etc/kubernetes/admin.conf get secret session-token -n ray --ignore-not-found -o name'), '')
  assert.not.ok(fs.existsSync(path.join(path.dirname(lab.inventory), 'env.list')), 'no env.list without credentials')
  const nodes = await asUser(CP, 'kubectl get nodes --no-headers')
  assert.is(nodes.code, 0, nodes.stderr)
  for (const h of HOSTS) {
    assert.match(nodes.stdout, new RegExp(`^${h.name}\\s+Ready\\s`, 'm'), nodes.stdout)
    // what the node says it runs is what its kubelet saw on its host
    const osImage = await asUser(CP, `kubectl get node ${h.name} -o jsonpath={.status.nodeInfo.osImage}`)
    assert.is(osImage.stdout, /^PRETTY_NAME="(.*)"$/m.exec(await on(h.name, 'cat /etc/os-release'))?.[1], h.name)
    assert.is(await on(h.name, 'systemctl is-active containerd kubelet'), 'active\nactive', h.name)
    // Flannel's install-cni ran on the host: its kubelet wrote what the server sent it
    assert.match(await on(h.name, 'cat /etc/cni/net.d/10-flannel.conflist'), '{ "type": "flannel"', h.name)
  }
  // converged: the whole site again changes nothing (10-runtime's packages and containerd config included)
  const again = await runJson(['run', 'site', ...inv()], { timeoutMs: 600_000 })
  console.log(`  site again ${seconds(again.ms)}`)
  assert.is(again.code, 0, failures(again))
  for (const h of HOSTS) assert.is(again.report.hosts[h.name]?.changed, 0, `${h.name}: ${JSON.stringify(again.report.tasks.filter((t) => t.host === h.name && t.status === 'changed'))}`)
})

// Each manifest the playbooks keep on the control plane (MANIFEST_DIR), and the template it comes from.
const RENDERED: [kept: string, template: string][] = [
  ['kubeadm-config', 'kubeadm/kubeadm-config.yaml'],
  ['kube-flannel', 'flannel/kube-flannel.yaml'],
  ['metrics-server', 'metrics-server/components.yaml'],
  ['ray-namespace', 'ray/namespace.yaml'],
  ['ray-cluster', 'ray/ray-cluster.yaml'],
  ['ray-autoscaler', 'ray/autoscaler.yaml'],
]

test('zxplay render prints exactly what the playbooks applied, for every template', async () => {
  const templates = fs.readdirSync(path.join(REPO, 'templates'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'))
  assert.equal(RENDERED.map(([, tpl]) => tpl).sort(), templates.sort(), 'every template in templates/ is compared')
  for (const [kept, template] of RENDERED) {
    const applied = (await onRealHost(lab, CP, `cat /etc/kubernetes/zxplay/${kept}.yaml`)).stdout
    const r = await runCli(['render', template, '--host', CP, '-i', lab.inventory])
    assert.is(r.code, 0, `${template}: ${r.stderr}`)
    assert.fixture(r.stdout, applied)
  }
})

test('down leaves nothing: no container, cgroup, mount, bridge or process', async () => {
  await labDown()
  assert.equal(await labLeftovers(), [])
})

test.run()
