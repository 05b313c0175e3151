// 00-preflight and 10-runtime against a real Debian 12 machine of the real-host lab: real apt
// installs Debian's containerd through the lab's apt cache and the Kubernetes packages from the
// lab's signed pkgs.k8s.io; real systemd runs containerd with our config; a broken config fails a
// real restart. Builds the rootfs first when the cache has none (minutes: see lab/README.md).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli, runJson } from '../../test/e2e/helpers.ts'
import { labDown, labLeftovers, labUp, onRealHost, type RealLab } from '../lab.ts'

const test = suite('real-host lab: 00-preflight and 10-runtime on Debian 12')
let lab: RealLab
const inv = () => ['-i', lab.inventory]
const failures = (r: { stdout: string; stderr: string }) => `${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`
const sh = async (cmd: string) => (await onRealHost(lab, 'node1', cmd)).stdout.trim()
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

test.before(async () => {
  lab = await labUp({ hosts: 1, log: (s) => console.log(s) })
  console.log(`  lab up: ${Object.entries(lab.timings).map(([k, v]) => `${k} ${seconds(v)}`).join(', ')}`)
})
test.after(async () => {
  await labDown()
})

test('the host is a real Debian 12 machine: systemd as PID 1, its own address; only the apt cache and the lab repository reachable', async () => {
  assert.is(await sh('cat /proc/1/comm'), 'systemd')
  assert.match(await sh('timeout 60 systemctl is-system-running --wait || true'), /^(running|degraded)$/)
  assert.is(await sh('. /etc/os-release; echo $VERSION_ID'), '12')
  assert.match(await sh('ip -4 -o addr show host0'), '10.78.0.11/24')
  assert.is(await sh('stat -fc %T /sys/fs/cgroup'), 'cgroup2fs')
  // no route out: Debian only through the cache, pkgs.k8s.io is the lab's (its CA is trusted)
  const out = await onRealHost(lab, 'node1', 'curl -sS --max-time 3 http://deb.debian.org/debian/')
  assert.is.not(out.code, 0, out.stdout)
  assert.match(out.stderr, /resolv|unreachable|connect|timed out/i)
  assert.match(await sh('curl -fsS https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key'), 'BEGIN PGP PUBLIC KEY BLOCK')
})

test("00-preflight and 10-runtime: Debian's containerd and pkgs.k8s.io's 1.36.2-2.1 by real apt, containerd active, kubelet enabled", async () => {
  const pre = await runCli(['run', '00-preflight', ...inv()], { timeoutMs: 120_000 })
  assert.is(pre.code, 0, failures(pre))
  const rt = await runCli(['run', '10-runtime', ...inv()], { timeoutMs: 600_000 })
  console.log(`  00-preflight ${seconds(pre.ms)}, 10-runtime ${seconds(rt.ms)}`)
  assert.is(rt.code, 0, failures(rt))
  assert.is(await sh('systemctl is-active containerd'), 'active')
  assert.is(await sh('systemctl is-enabled kubelet'), 'enabled')
  assert.match(await sh('systemctl cat kubelet'), '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf')
  const versions = await sh("dpkg-query -W -f='${Package}=${Version}\\n' containerd kubelet kubeadm kubectl cri-tools kubernetes-cni")
  assert.match(versions, /^containerd=1\.6\.\d+~ds1-/m, "Debian 12's containerd")
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) assert.match(versions, `${p}=1.36.2-2.1`)
  assert.equal((await sh('apt-mark showhold')).split('\n'), ['kubeadm', 'kubectl', 'kubelet'])
  // where apt took them from: Debian's mirror (through the cache) and the lab's pkgs.k8s.io
  assert.match(await sh('apt-cache policy containerd'), 'http://deb.debian.org/debian bookworm/main amd64 Packages')
  assert.match(await sh('apt-cache madison kubelet'), 'kubelet | 1.36.2-2.1 | https://pkgs.k8s.io/core:/stable:/v1.36/deb  Packages')
  assert.match(await sh('containerd config dump'), /^\s*SystemdCgroup = true$/m)
  // converged: a rerun changes nothing
  const again = await runJson(['run', '10-runtime', ...inv()], { timeoutMs: 120_000 })
  assert.is(again.code, 0, failures(again))
  assert.is(again.report.hosts.node1?.changed, 0, failures(again))
})

test('a broken config.toml from our template fails `systemctl restart containerd` for real; the good one starts again', async () => {
  const file = '/etc/containerd/config.toml'
  await sh(`cp ${file} /root/config.toml.good && sed -i 's/SystemdCgroup = true/SystemdCgroup = yes/' ${file}`)
  const restart = await onRealHost(lab, 'node1', 'systemctl restart containerd')
  assert.is.not(restart.code, 0)
  assert.match(restart.stderr, 'Job for containerd.service failed')
  assert.is.not(await sh('systemctl is-active containerd || true'), 'active')
  await sh(`cp /root/config.toml.good ${file}`)
  assert.is((await onRealHost(lab, 'node1', 'systemctl restart containerd')).code, 0)
  assert.is(await sh('systemctl is-active containerd'), 'active')
})

test('down leaves nothing: no container, cgroup, mount, bridge or process', async () => {
  await labDown()
  assert.equal(await labLeftovers(), [])
})

test.run()
