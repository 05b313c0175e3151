// 00-preflight and 10-runtime against real Debian machines of the real-host lab, one of each
// distribution (12: containerd 1.6, 13: 1.7, unstable: 2.x with the config-version-3 layout): real
// apt installs Debian's containerd through the lab's apt cache and the Kubernetes packages from the
// lab's signed pkgs.k8s.io; real systemd runs containerd with our config; a broken config fails a
// real restart. Builds a rootfs first when the cache has none (minutes: see lab/README.md).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli, runJson } from '../../test/e2e/helpers.ts'
import { DISTS, type Dist } from '../config.ts'
import { labDown, labLeftovers, labUp, onRealHost, type RealLab } from '../lab.ts'

const test = suite('real-host lab: 00-preflight and 10-runtime on Debian 12, 13 and unstable')
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

test("00-preflight and 10-runtime: Debian's containerd and pkgs.k8s.io's 1.36.2-2.1 by real apt, containerd active, kubelet enabled", async () => {
  const pre = await runCli(['run', '00-preflight', ...inv()], { timeoutMs: 120_000 })
  assert.is(pre.code, 0, failures(pre))
  const rt = await runCli(['run', '10-runtime', ...inv()], { timeoutMs: 900_000 })
  console.log(`  00-preflight ${seconds(pre.ms)}, 10-runtime ${seconds(rt.ms)} (${HOSTS.length} hosts at once)`)
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
  // converged: a rerun changes nothing
  const again = await runJson(['run', '10-runtime', ...inv()], { timeoutMs: 300_000 })
  assert.is(again.code, 0, failures(again))
  for (const h of HOSTS) assert.is(again.report.hosts[h.name]?.changed, 0, failures(again))
})

test('a broken config.toml from our template fails `systemctl restart containerd` for real; the good one starts again', async () => {
  const file = '/etc/containerd/config.toml'
  for (const h of HOSTS) {
    const sh = (cmd: string) => on(h.name, cmd)
    await sh(`cp ${file} /root/config.toml.good && sed -i 's/SystemdCgroup = true/SystemdCgroup = yes/' ${file}`)
    const restart = await onRealHost(lab, h.name, 'systemctl restart containerd')
    assert.is.not(restart.code, 0, h.name)
    assert.match(restart.stderr, 'Job for containerd.service failed')
    assert.is.not(await sh('systemctl is-active containerd || true'), 'active')
    await sh(`cp /root/config.toml.good ${file}`)
    assert.is((await onRealHost(lab, h.name, 'systemctl restart containerd')).code, 0, h.name)
    assert.is(await sh('systemctl is-active containerd'), 'active')
  }
})

test('down leaves nothing: no container, cgroup, mount, bridge or process', async () => {
  await labDown()
  assert.equal(await labLeftovers(), [])
})

test.run()
