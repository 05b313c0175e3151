// The cluster playbooks end to end on the real-host lab (Debian 12 machines under systemd-nspawn:
// real systemd, apt, dpkg, containerd; the Kubernetes binaries are the project's stand-ins inside
// real .debs from the lab's pkgs.k8s.io, the API server on 10.78.0.11:6443): a 3-host cluster and a
// 1-host dev cluster, reruns, --check, stale CNI files, a changed config, reset, a worker added.
// Builds the Debian 12 rootfs first when the cache has none (minutes: see lab/hosts/README.md).
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { load } from 'js-yaml'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { derivedInventory, newestLog, runCli, runJson, statusOf, tmpDir, type JsonReport } from '../../../test/e2e/helpers.ts'
import { labDown, labUp, onRealHost, realHostPath, type RealLab } from '../lab.ts'
import { NODE_ON_HOST } from '../repo.ts'

let lab: RealLab
const onHost = onRealHost // the names the namespace-lab version of this suite used
/** A path inside a running host, seen from here: its root (the overlay nspawn boots) joined with p. */
const hostPath = realHostPath
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
// The lab's inventory sets small Ray pods (LAB_RAY_VARS): these hosts report this machine's 2 CPUs,
// of which the control plane's own pods request 1.05, so Ray's defaults (1 CPU head, 1 CPU workers)
// stay Pending on one worker or one untainted host (as on real 2-CPU machines).
let inventory: string
const inv = () => ['-i', inventory]
const PLAYBOOKS = ['00-preflight', '10-runtime', '20-control-plane', '30-cni-cleanup', '40-flannel', '50-join', '60-untaint', '70-metrics-server']
const changedTotal = (r: JsonReport) => Object.values(r.hosts).reduce((n, h) => n + h.changed, 0)
const failures = (r: { stdout: string; stderr: string }) => `${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`

/** kubectl on the control plane, as root, through the lab (not through zxplay). */
async function kubectl(args: string): Promise<string> {
  const r = await onHost(lab, 'node1', `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`)
  if (r.code !== 0) throw new Error(`kubectl ${args}: ${r.stderr}`)
  return r.stdout
}

/** The cluster's nodes and their Ready condition, as `name=True`, sorted. */
async function nodesReady(): Promise<string[]> {
  const out = await kubectl(`get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'`)
  return out.trim().split(' ').sort()
}

// What the playbooks could touch on a host (config, packages' state, users' kubeconfigs, the
// cluster's state and backups). Not the whole filesystem: on a real machine journald, systemd and
// apt's timers change /var/log, /var/lib/systemd, /var/cache and apt's lists by themselves; /run
// and /tmp are the running host's tmpfs, not in its root.
const SNAPSHOT_DIRS = ['/etc', '/opt', '/usr/local', '/home', '/root', '/var/lib/dpkg', '/var/lib/kubelet', '/var/lib/etcd', '/var/lib/cni', '/var/backups']

/** Every file under SNAPSHOT_DIRS on every host: path, mode and content hash. */
function snapshot(lab: RealLab): string {
  const out: string[] = []
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      const st = fs.lstatSync(p)
      out.push(`${p} ${st.mode.toString(8)} ${e.isFile() ? crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex') : ''}`)
      if (e.isDirectory()) walk(p)
    }
  }
  for (const h of lab.hosts) for (const d of SNAPSHOT_DIRS) walk(path.join(h.root, d))
  return out.sort().join('\n')
}

const three = suite('cluster: 3 hosts (1 control plane, 2 workers)')
three.before(async () => {
  lab = await labUp({ hosts: 3, log: (s) => console.log(s) })
  console.log(`  lab up: ${Object.entries(lab.timings).map(([k, v]) => `${k} ${seconds(v)}`).join(', ')}`)
  inventory = lab.inventory
  for (const h of lab.hosts) {
    // an installed machine's swap line (minbase Debian has none), which 00-preflight must comment out
    fs.appendFileSync(hostPath(lab, h.name, '/etc/fstab'), '/swapfile none swap sw 0 0\n')
    // a machine where a CNI once ran has this folder (a fresh minbase Debian does not)
    fs.mkdirSync(hostPath(lab, h.name, '/etc/cni/net.d'), { recursive: true })
  }
})
three.after(async () => {
  await labDown()
})

three('preflight reports every problem of every host at once, with fixes, and changes nothing', async () => {
  const id = (await onHost(lab, 'node2', 'cat /etc/machine-id')).stdout.trim()
  const old3 = (await onHost(lab, 'node3', 'cat /etc/machine-id')).stdout.trim()
  await onHost(lab, 'node3', `echo ${id} > /etc/machine-id`)
  // minbase Debian has no python3: the lab's Node (bind-mounted for the stand-ins) listens instead
  const listener = `require('net').createServer().listen(6443, '0.0.0.0'); setTimeout(() => process.exit(), 120000)`
  await onHost(lab, 'node1', `setsid ${NODE_ON_HOST} -e "${listener}" >/dev/null 2>&1 < /dev/null &`)
  try {
    for (let i = 0; i < 50 && !(await onHost(lab, 'node1', 'ss -Hltn')).stdout.includes(':6443'); i++) await new Promise((r) => setTimeout(r, 100))
    const fstab = fs.readFileSync(hostPath(lab, 'node2', '/etc/fstab'), 'utf8')
    const r = await runCli(['run', 'site', ...inv()])
    assert.is(r.code, 2, failures(r))
    assert.match(r.stdout, /node1\s+failed\s+no host has a problem kubeadm would fail on/)
    assert.match(r.stdout, /port 6443 is in use\n\s+fix: stop what listens on 6443/)
    assert.match(r.stdout, new RegExp(`product_uuid/machine-id ${id} is also node3's`))
    assert.match(r.stdout, new RegExp(`product_uuid/machine-id ${id} is also node2's`))
    assert.match(r.stdout, /fix: regenerate \/etc\/machine-id/)
    assert.not.match(r.stdout, /swap is off/)
    assert.is(fs.readFileSync(hostPath(lab, 'node2', '/etc/fstab'), 'utf8'), fstab)
  } finally {
    await onHost(lab, 'node3', `echo ${old3} > /etc/machine-id`)
    await onHost(lab, 'node1', `pkill -f "listen\\(6443" || true`)
  }
})

three('zxplay render prints the kubeadm config exactly as a host gets it', async () => {
  const r = await runCli(['render', 'kubeadm/kubeadm-config.yaml', '--host', 'node1', ...inv()])
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, /advertiseAddress: "10.78.0.11"/)
  assert.match(r.stdout, /name: "node1"/)
  assert.match(r.stdout, /kubernetesVersion: "v1.36.2"/)
  const bad = await runCli(['render', 'kubeadm/kubeadm-config.yaml', '--host', 'nodeX', ...inv()])
  assert.is(bad.code, 5)
  assert.match(bad.stderr, /no host 'nodeX'/)
})

three('--check on fresh hosts lists what would change and touches nothing', async () => {
  const before = snapshot(lab)
  const r = await runCli(['run', 'site', ...inv(), '--check'], { timeoutMs: 300_000 })
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, /would run: .*apt-get install/)
  assert.match(r.stdout, /would run: kubeadm init --config \/etc\/kubernetes\/zxplay\/kubeadm-config.yaml/)
  assert.is(snapshot(lab), before, 'a node directory changed under --check')
})

three('stale Calico and Cilium files are moved aside and listed; --check only lists them', async () => {
  const net = (h: string, f: string) => hostPath(lab, h, `/etc/cni/net.d/${f}`)
  for (const h of ['node1', 'node2']) {
    fs.writeFileSync(net(h, '10-calico.conflist'), '{"name":"k8s-pod-network"}\n')
    fs.writeFileSync(net(h, 'calico-kubeconfig'), 'apiVersion: v1\n')
    fs.writeFileSync(net(h, '05-cilium.conflist'), '{"name":"cilium"}\n')
  }
  const dry = await runCli(['run', '30-cni-cleanup', ...inv(), '--check'])
  assert.match(dry.stdout, /node1\s+· would move \/etc\/cni\/net.d\/05-cilium.conflist/)
  assert.ok(fs.existsSync(net('node1', '05-cilium.conflist')))
  const r = await runCli(['run', '30-cni-cleanup', ...inv()])
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, /node2\s+· moving \/etc\/cni\/net.d\/10-calico.conflist → \/var\/backups\/zxplay\/cni-\d{8}T\d{6}\//)
  for (const h of ['node1', 'node2']) assert.equal(fs.readdirSync(hostPath(lab, h, '/etc/cni/net.d')), [])
  assert.match(r.stdout, /node3\s+ok\s+only the chosen network add-on configures CNI \(\/etc\/cni\/net.d is empty\)/)
})

three('site.mts builds the cluster; every node Ready, metrics answer; the join token is never shown', async () => {
  const logDir = tmpDir()
  const r = await runJson(['run', 'site', ...inv(), '--log-dir', logDir, '-v'], { timeoutMs: 900_000 })
  console.log(`  site on fresh hosts ${seconds(r.ms)}`)
  assert.is(r.code, 0, failures(r))
  const tokens = (await onHost(lab, 'node1', 'kubeadm token list --kubeconfig /etc/kubernetes/admin.conf')).stdout.match(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g) ?? []
  assert.ok(tokens.length > 0, 'a join token was made')
  const log = fs.readFileSync(newestLog(logDir), 'utf8')
  for (const t of tokens) for (const [where, text] of Object.entries({ stdout: r.stdout, stderr: r.stderr, log })) assert.not.ok(text.includes(t), `join token in ${where}`)
  assert.equal(await nodesReady(), ['node1=True', 'node2=True', 'node3=True'])
  assert.is(statusOf(r.report, 'node1', 'the control plane takes ordinary pods'), 'skipped')
  assert.match(await kubectl('top nodes --no-headers'), /node3/)
})

three('the rendered and applied config, field by field, and the files on the hosts', async () => {
  const docs = (fs.readFileSync(hostPath(lab, 'node1', '/etc/kubernetes/zxplay/kubeadm-config.yaml'), 'utf8').split(/^---$/m).map((d) => load(d)) as any[])
  const init = docs.find((d) => d.kind === 'InitConfiguration')
  const clusterCfg = docs.find((d) => d.kind === 'ClusterConfiguration')
  const kubelet = docs.find((d) => d.kind === 'KubeletConfiguration')
  assert.is(init.apiVersion, 'kubeadm.k8s.io/v1beta4')
  assert.is(init.localAPIEndpoint.advertiseAddress, '10.78.0.11')
  assert.is(init.nodeRegistration.name, 'node1')
  assert.is(clusterCfg.apiVersion, 'kubeadm.k8s.io/v1beta4')
  assert.is(clusterCfg.networking.podSubnet, '10.244.0.0/16')
  assert.equal(clusterCfg.controllerManager.extraArgs, [{ name: 'horizontal-pod-autoscaler-downscale-stabilization', value: '15s' }])
  assert.is(kubelet.cgroupDriver, 'systemd')
  assert.is((fs.statSync(hostPath(lab, 'node1', '/etc/kubernetes/zxplay/kubeadm-config.yaml')).mode & 0o777).toString(8), '600')
  const cm = JSON.parse(await kubectl('-n kube-flannel get configmap kube-flannel-cfg -o json'))
  assert.is(JSON.parse(cm.data['net-conf.json']).Network, '10.244.0.0/16')
  const ms = JSON.parse(await kubectl('-n kube-system get deployment metrics-server -o json'))
  const args: string[] = ms.spec.template.spec.containers[0].args
  assert.ok(args.includes('--metric-resolution=15s'), args.join(' '))
  assert.ok(args.includes('--kubelet-insecure-tls'), args.join(' '))
  for (const h of ['node1', 'node2', 'node3']) assert.ok(fs.existsSync(hostPath(lab, h, '/etc/cni/net.d/10-flannel.conflist')), `${h} has no flannel conflist`)
  assert.is(fs.readFileSync(hostPath(lab, 'node2', '/etc/sysctl.d/99-kubernetes.conf'), 'utf8').includes('net.ipv4.ip_forward = 1'), true)
  assert.is((await onHost(lab, 'node2', 'sysctl -n net.ipv4.ip_forward')).stdout.trim(), '1')
  assert.match(fs.readFileSync(hostPath(lab, 'node2', '/etc/fstab'), 'utf8'), /^# .*swap.*disabled by zxplay/m)
  assert.match(fs.readFileSync(hostPath(lab, 'node1', '/etc/containerd/config.toml'), 'utf8'), /SystemdCgroup = true/)
  assert.ok(fs.existsSync(hostPath(lab, 'node1', '/home/zxlab/.kube/config')))
  // the join token never stays on a worker
  assert.not.ok(fs.existsSync(hostPath(lab, 'node2', '/etc/kubernetes/zxplay/join-config.yaml')))
})

three('a pod CIDR change: the old Flannel conflist and its links go', async () => {
  await onHost(lab, 'node3', 'ip link add cni0 type bridge && ip link add flannel.1 type bridge && mkdir -p /run/flannel && echo FLANNEL_NETWORK=10.99.0.0/16 > /run/flannel/subnet.env')
  const r = await runCli(['run', '30-cni-cleanup', ...inv(), '--limit', 'node3'])
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, /node3\s+· moving \/etc\/cni\/net.d\/10-flannel.conflist/)
  assert.match(r.stdout, /flannel ran with 10.99.0.0\/16, the cluster now uses 10.244.0.0\/16: removing cni0, flannel.1, \/run\/flannel\/subnet.env/)
  assert.is((await onHost(lab, 'node3', 'ip -o link show | grep -cE "cni0|flannel.1" || true')).stdout.trim(), '0')
  // Flannel puts its conflist back (the node's kubelet writes its pod's files every 2 s: a fast
  // playbook run can end before the next write, so wait for it a little)
  const again = await runCli(['run', '40-flannel', ...inv()])
  assert.is(again.code, 0, failures(again))
  const conflist = hostPath(lab, 'node3', '/etc/cni/net.d/10-flannel.conflist')
  for (let i = 0; i < 50 && !fs.existsSync(conflist); i++) await new Promise((r) => setTimeout(r, 200))
  assert.ok(fs.existsSync(conflist), 'the Flannel conflist did not come back within 10 s')
})

three('a second run of site.mts changes nothing on any host, and so does each playbook alone', async () => {
  const again = await runJson(['run', 'site', ...inv()], { timeoutMs: 600_000 })
  console.log(`  site again ${seconds(again.ms)}`)
  assert.is(again.code, 0, failures(again))
  assert.is(changedTotal(again.report), 0, JSON.stringify(again.report.tasks.filter((t) => t.status === 'changed')))
  for (const pb of PLAYBOOKS) {
    const r = await runJson(['run', pb, ...inv()], { timeoutMs: 300_000 })
    assert.is(r.code, 0, `${pb}: ${failures(r)}`)
    assert.is(changedTotal(r.report), 0, `${pb}: ${JSON.stringify(r.report.tasks.filter((t) => t.status === 'changed'))}`)
  }
})

three('a cluster initialised with another config is reported, never re-initialised', async () => {
  const r = await runCli(['run', '20-control-plane', ...inv(), '-e', 'pod_subnet=10.200.0.0/16'])
  assert.is(r.code, 2)
  assert.match(r.stdout, /initialised with another config/)
  assert.match(r.stdout, /networking.podSubnet: cluster has 10.244.0.0\/16, inventory wants 10.200.0.0\/16/)
  assert.match(await kubectl('-n kube-system get configmap kubeadm-config -o yaml'), /podSubnet: 10.244.0.0\/16/)
})

three('kubeconfig.mts fetches admin.conf to artifacts/kubeconfig (0600), kept out of the log', async () => {
  const r = await runCli(['run', 'kubeconfig', ...inv(), '-v'])
  assert.is(r.code, 0, failures(r))
  const file = path.resolve('artifacts/kubeconfig')
  assert.is((fs.statSync(file).mode & 0o777).toString(8), '600')
  assert.match(fs.readFileSync(file, 'utf8'), /server: https:\/\/10\.78\.0\.11:6443/)
  assert.not.match(r.stdout, /client-key-data/)
})

three('reset needs --force without a terminal, clears the nodes; site.mts converges again, and a worker added to the inventory joins', async () => {
  const refused = await runCli(['run', 'reset', ...inv()])
  assert.is(refused.code, 5)
  assert.match(refused.stderr, /run again with --force/)
  const r = await runCli(['run', 'reset', ...inv(), '--force'], { timeoutMs: 300_000 })
  assert.is(r.code, 0, failures(r))
  for (const h of ['node1', 'node2', 'node3']) {
    assert.not.ok(fs.existsSync(hostPath(lab, h, '/etc/kubernetes/kubelet.conf')), h)
    assert.equal(fs.readdirSync(hostPath(lab, h, '/etc/cni/net.d')), [])
  }
  // the cluster again without node3 in the inventory, then with it added: node3 joins, nothing
  // else is redone (node2's earlier join must not count as node3's)
  const without = derivedInventory({ inventory }, (i) => delete i.all.children.workers.hosts.node3)
  const two = await runJson(['run', 'site', '-i', without], { timeoutMs: 900_000 })
  console.log(`  reset ${seconds(r.ms)}, site without node3 ${seconds(two.ms)}`)
  assert.is(two.code, 0, failures(two))
  assert.equal(await nodesReady(), ['node1=True', 'node2=True'])
  const added = await runJson(['run', 'site', ...inv()], { timeoutMs: 900_000 })
  console.log(`  site with node3 added ${seconds(added.ms)}`)
  assert.is(added.code, 0, failures(added))
  assert.is(statusOf(added.report, 'node3', 'the worker is joined'), 'changed')
  assert.is(statusOf(added.report, 'node2', 'the worker is joined'), 'ok')
  assert.is(statusOf(added.report, 'node1', 'the control plane is initialised with that config'), 'ok')
  assert.equal(await nodesReady(), ['node1=True', 'node2=True', 'node3=True'])
})

three.run()

const one = suite('cluster: single-host dev mode')
one.before(async () => {
  lab = await labUp({ hosts: 1, log: (s) => console.log(s) })
  inventory = lab.inventory
})
one.after(async () => {
  await labDown()
})
one('site.mts on one host untaints the control plane, and a rerun changes nothing', async () => {
  const r = await runJson(['run', 'site', ...inv()], { timeoutMs: 900_000 })
  console.log(`  site on one fresh host ${seconds(r.ms)}`)
  assert.is(r.code, 0, failures(r))
  assert.is(statusOf(r.report, 'node1', 'the control plane takes ordinary pods'), 'changed')
  assert.is((await kubectl(`get node node1 -o jsonpath='{.spec.taints}'`)).trim(), '')
  const again = await runJson(['run', 'site', ...inv()], { timeoutMs: 600_000 })
  assert.is(changedTotal(again.report), 0, JSON.stringify(again.report.tasks.filter((t) => t.status === 'changed')))
})
one.run()
