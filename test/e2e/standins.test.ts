// The OS stand-ins on the lab: over real SSH as the lab user (with sudo where a user would use
// it), each host resolves the stand-ins first, keeps its own package state, has a cgroup v2
// hierarchy and its own machine-id, and the machine's own files are untouched.
import fs from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostPath, labDown, labUp, onHost, STANDINS_DIR, type Lab } from '../../lab/netns/lab.ts'
import { runCli } from './helpers.ts'

const test = suite('stand-ins on the lab')
let lab: Lab

/** The machine's own files that the hosts must never change. */
const ROOT_SIDE = ['/usr/local/bin', '/usr/local/sbin', '/etc/apt/sources.list.d', '/etc/apt/keyrings']
const snapshot = () => ({
  dirs: Object.fromEntries(ROOT_SIDE.map((d) => [d, fs.existsSync(d) ? fs.readdirSync(d).sort() : null])),
  fstab: fs.readFileSync('/etc/fstab', 'utf8'),
  machineId: fs.readFileSync('/etc/machine-id', 'utf8'),
  rootGnupg: fs.existsSync('/root/.gnupg'), // `sudo gpg` on a host writes the host's /root
  varLib: fs.readdirSync('/var/lib').filter((d) => /^(cni|etcd|zxlab|kubelet)$/.test(d)),
})
let before: ReturnType<typeof snapshot>

test.before(async () => {
  before = snapshot()
  lab = await labUp({ hosts: 3 })
})
test.after(async () => {
  await labDown()
})

/**
 * `zxplay sh HOST -- CMD` over SSH as the lab user: that host's output lines. The runner stops at
 * the first failing command: `rc(cmd)` prints cmd's output (stderr too) and exit code instead.
 */
async function sh(host: string, cmd: string): Promise<{ code: number | null; lines: string[]; text: string }> {
  const r = await runCli(['sh', host, '-i', lab.inventory, '--', cmd])
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith(`${host} `) && l.includes(' · '))
    .map((l) => l.slice(l.indexOf(' · ') + 3))
  return { code: r.code, lines, text: r.stdout + r.stderr }
}

const rc = (cmd: string) => `rc=0; ${cmd} 2>&1 || rc=$?; echo rc=$rc`
const json = (host: string, file: string) => JSON.parse(fs.readFileSync(hostPath(lab, host, file), 'utf8'))

test('every stand-in is bundled, and resolves from /usr/local/bin or sbin with and without sudo', async () => {
  const tools = lab.standins?.tools ?? []
  for (const t of ['apt-get', 'apt-mark', 'dpkg-query', 'systemctl', 'containerd', 'curl', 'modprobe', 'swapoff']) {
    assert.ok(tools.includes(t), `${t} is bundled`)
    assert.ok(fs.existsSync(`${STANDINS_DIR}/${t}.mjs`))
  }
  // kubeadm and kubectl when their stand-ins exist (written alongside)
  const wanted = ['kubectl', 'kubeadm', 'apt-get', 'systemctl'].filter((t) => tools.includes(t))
  const user = await sh('node1', `which ${wanted.join(' ')}`)
  assert.is(user.code, 0, user.text)
  assert.equal(user.lines, wanted.map((t) => `/usr/local/bin/${t}`))
  const root = await sh('node1', `sudo which ${wanted.join(' ')} modprobe swapoff`)
  assert.equal(root.lines, [...wanted.map((t) => `/usr/local/bin/${t}`), '/usr/local/sbin/modprobe', '/usr/local/sbin/swapoff'])
  // sbin tools are not on a plain user's PATH, as on Debian
  assert.equal((await sh('node1', 'command -v modprobe || echo none')).lines, ['none'])
  // the machine's own binaries are shadowed too: an absolute path runs the stand-in, which
  // knows nothing of this machine's dpkg database
  const abs = await sh('node1', rc('/usr/bin/dpkg-query -W curl'))
  assert.ok(abs.lines.includes('rc=1'), abs.text)
  assert.match(abs.text, 'dpkg-query: no packages found matching curl')
})

test('the documented apt flow works on node1 as the lab user with sudo; node2 stays fresh', async () => {
  const flow = [
    'set -e',
    'sudo apt-get update',
    'sudo apt-get install -y apt-transport-https ca-certificates curl gpg',
    'sudo mkdir -p -m 755 /etc/apt/keyrings',
    'curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key | sudo gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg',
    "echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ /' | sudo tee /etc/apt/sources.list.d/kubernetes.list",
    'sudo apt-get update',
    'sudo apt-get install -y kubelet kubeadm kubectl',
    'sudo apt-mark hold kubelet kubeadm kubectl',
    'sudo systemctl enable --now kubelet',
    "dpkg-query -W -f='${Package}=${Version}\\n' kubelet kubeadm kubectl",
    'apt-mark showhold',
  ].join('\n')
  const r = await sh('node1', flow)
  assert.is(r.code, 0, r.text)
  for (const p of ['kubelet', 'kubeadm', 'kubectl']) {
    assert.ok(r.lines.includes(`${p}=1.36.4-1.1`), r.text)
    assert.ok(r.lines.includes(`${p} set on hold.`), r.text)
  }
  const state = json('node1', '/var/lib/zxlab/node.json')
  assert.is(state.packages.kubelet.held, true)
  assert.equal(state.services.kubelet, { ...state.services.kubelet, enabled: true, active: false })
  const kubelet = await sh('node1', rc('systemctl is-active kubelet'))
  assert.equal(kubelet.lines, ['activating', 'rc=3'])
  // the keyring is the real gpg's output: binary, world-readable
  const keyring = fs.statSync(hostPath(lab, 'node1', '/etc/apt/keyrings/kubernetes-apt-keyring.gpg'))
  assert.is(keyring.mode & 0o777, 0o644)

  const fresh = await sh('node2', `${rc('dpkg-query -W kubelet')}; ls -A /etc/apt/sources.list.d /etc/apt/keyrings | grep -c . || true`)
  assert.equal(fresh.lines, ['dpkg-query: no packages found matching kubelet', 'rc=1', '2'], 'only the two folder headers')
  assert.match(fresh.text, 'dpkg-query: no packages found matching kubelet')
  assert.equal(json('node2', '/var/lib/zxlab/node.json'), { packages: {}, services: {}, modules: [] })
  const locate = await sh('node2', rc('sudo apt-get install -y kubelet'))
  assert.ok(locate.lines.includes('rc=100'))
  assert.match(locate.text, 'E: Unable to locate package kubelet')
})

test('containerd: default config, SystemdCgroup by sed, restart; a broken config fails', async () => {
  const flow = [
    'set -e',
    'sudo apt-get install -y -q containerd >/dev/null',
    'sudo mkdir -p /etc/containerd',
    'containerd config default | sudo tee /etc/containerd/config.toml >/dev/null',
    "sudo sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml",
    'sudo systemctl restart containerd',
    'systemctl is-active containerd',
  ].join('\n')
  const r = await sh('node3', flow)
  assert.is(r.code, 0, r.text)
  assert.equal(r.lines, ['active'])
  assert.equal(json('node3', '/var/lib/zxlab/node.json').services.containerd.config, {
    version: 3,
    systemdCgroup: true,
    sandbox: 'registry.k8s.io/pause:3.10.1',
  })
  const bad = await sh('node3', `echo 'version = [' | sudo tee /etc/containerd/config.toml >/dev/null; ${rc('sudo systemctl restart containerd')}`)
  assert.ok(bad.lines.includes('rc=1'), bad.text)
  assert.match(bad.text, 'Job for containerd.service failed')
})

test('hosts: cgroup v2, their own machine-id and swap; the kernel modules are pretend', async () => {
  const ids = new Set<string>()
  for (const h of lab.hosts) {
    const r = await sh(h.name, 'stat -fc %T /sys/fs/cgroup; cat /etc/machine-id; cat /proc/swaps | wc -l')
    assert.is(r.code, 0, r.text)
    assert.is(r.lines[0], 'cgroup2fs')
    ids.add(r.lines[1] ?? '')
    assert.is(r.lines[2], '2', 'swap is on until swapoff')
  }
  assert.is(ids.size, 3, 'machine-ids differ')
  const r = await sh('node2', "sudo swapoff -a && sudo sed -Ei 's|^(/swapfile.*)$|# \\1|' /etc/fstab && sudo modprobe -a overlay br_netfilter && sudo lsmod | awk 'NR>1 {print $1}' | LC_ALL=C sort | paste -sd' '; sudo swapon --show | wc -l")
  assert.is(r.code, 0, r.text)
  assert.equal(r.lines, ['br_netfilter bridge llc overlay stp', '0'])
  assert.match(fs.readFileSync(hostPath(lab, 'node2', '/etc/fstab'), 'utf8'), /^# \/swapfile/m)
  // the root side sees none of it
  const swaps = await onHost(lab, 'node1', 'cat /proc/swaps | wc -l')
  assert.is(swaps.stdout.trim(), '2')
})

test('cleanup commands work as on a real node: folders can be removed and made again', async () => {
  const r = await sh(
    'node3',
    [
      'set -e',
      'sudo mkdir -p /root/.kube /var/lib/cni/networks && sudo touch /root/.kube/config /etc/cni/net.d/10-old.conflist',
      'sudo rm -rf /etc/cni/net.d /var/lib/cni /var/lib/kubelet /root/.kube',
      'sudo mkdir -p /etc/cni/net.d',
      'sudo ls -A /etc/cni/net.d /root | grep -c kube || true',
    ].join('\n')
  )
  assert.is(r.code, 0, r.text)
  assert.equal(r.lines, ['0'])
  assert.not.ok(fs.existsSync('/root/.kube'), "the machine's /root is not the host's")
})

test("the machine's own /usr/local/bin, /etc/apt, /etc/fstab, machine-id and /root are untouched", async () => {
  assert.equal(snapshot(), before)
})

test.run()
