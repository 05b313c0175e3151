// The namespace lab's hosts over real SSH as the lab user (with sudo where a user would use it):
// the Kubernetes stand-ins come first on the PATH; the OS tools (apt, dpkg, systemctl…), which would
// act on this machine, refuse by any path (the playbooks meet the real ones on the real-host lab);
// each host has a cgroup v2 hierarchy and its own machine-id; the machine's own files are untouched.
import fs from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ABSENT_TOOLS, absentMessage, labDown, labUp, STANDINS_DIR, type Lab } from '../../lab/netns/lab.ts'
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

test('the stand-ins are bundled and come first, with and without sudo; the OS tools refuse, by any path', async () => {
  const tools = lab.standins?.tools ?? []
  for (const t of ['kubectl', 'kubeadm', 'kubelet', 'crictl']) {
    assert.ok(tools.includes(t), `${t} is bundled`)
    assert.ok(fs.existsSync(`${STANDINS_DIR}/${t}.mjs`))
  }
  const user = await sh('node1', 'which kubectl kubeadm apt-get systemctl')
  assert.is(user.code, 0, user.text)
  assert.equal(user.lines, ['kubectl', 'kubeadm', 'apt-get', 'systemctl'].map((t) => `/usr/local/bin/${t}`))
  const root = await sh('node1', 'sudo which kubectl modprobe swapoff')
  assert.equal(root.lines, ['/usr/local/bin/kubectl', '/usr/local/sbin/modprobe', '/usr/local/sbin/swapoff'])
  // sbin tools are not on a plain user's PATH, as on Debian
  assert.equal((await sh('node1', 'command -v modprobe || echo none')).lines, ['none'])
  // every OS tool, by name with sudo (sbin is on its path), as the user, and by the machine's own absolute path: the refusal, exit 127,
  // so a host never reaches this machine's dpkg database, apt, systemd or kernel modules
  const calls = [...ABSENT_TOOLS.map((t) => `sudo ${t} --version`), 'apt-get install -y kubelet', 'systemctl restart containerd', '/usr/bin/dpkg-query -W', 'sudo /usr/bin/apt-get update', 'sudo modprobe overlay']
  const r = await sh('node2', calls.map((c) => rc(c)).join('; '))
  assert.is(r.code, 0, r.text)
  assert.is(r.lines.filter((l) => l === 'rc=127').length, calls.length, r.text)
  for (const t of ABSENT_TOOLS) assert.ok(r.lines.includes(absentMessage(t)), `${t}: ${r.text}`)
})

test('hosts: cgroup v2 and their own machine-id', async () => {
  const ids = new Set<string>()
  for (const h of lab.hosts) {
    const r = await sh(h.name, 'stat -fc %T /sys/fs/cgroup; cat /etc/machine-id')
    assert.is(r.code, 0, r.text)
    assert.is(r.lines[0], 'cgroup2fs')
    ids.add(r.lines[1] ?? '')
  }
  assert.is(ids.size, 3, 'machine-ids differ')
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
