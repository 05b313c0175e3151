// The OS stand-ins (lab/standins): each main() run in-process against a temporary
// ZXLAB_FS_ROOT, with its output captured. They must reject what the real tools reject.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { dearmor, releaseKeyArmored } from '../_apt.ts'
import { io } from '../_io.ts'
import { readState } from '../_node.ts'
import type { NodeState } from '../_node.ts'
import { main as aptCache } from '../apt-cache.ts'
import { main as aptGet } from '../apt-get.ts'
import { main as aptMark } from '../apt-mark.ts'
import { main as containerd } from '../containerd.ts'
import { main as crictl } from '../crictl.ts'
import { main as ctr } from '../ctr.ts'
import { main as curl } from '../curl.ts'
import { main as dpkg } from '../dpkg.ts'
import { main as dpkgQuery } from '../dpkg-query.ts'
import { main as kubelet } from '../kubelet.ts'
import { main as lsmod } from '../lsmod.ts'
import { main as modprobe } from '../modprobe.ts'
import { main as swapoff } from '../swapoff.ts'
import { main as swapon } from '../swapon.ts'
import { main as systemctl } from '../systemctl.ts'
import { tempDir } from '../../../test/unit/_helpers.ts'

type Main = (argv: string[]) => Promise<number>
type Result = { code: number; out: string; err: string }

const saved = { ...io }
let root = ''
let cleanup = () => {}

/** Run a stand-in's main() as `uid` with `stdin`, capturing stdout and stderr. */
async function run(main: Main, argv: string[], opts: { stdin?: string; uid?: number } = {}): Promise<Result> {
  let out = ''
  let err = ''
  io.out = (s) => void (out += typeof s === 'string' ? s : Buffer.from(s).toString('latin1'))
  io.err = (s) => void (err += s)
  io.stdin = () => Buffer.from(opts.stdin ?? '')
  io.uid = () => opts.uid ?? 0
  io.cwd = () => '/root'
  try {
    return { code: await main(argv), out, err }
  } finally {
    Object.assign(io, saved)
  }
}

const at = (abs: string) => path.join(root, abs)
function put(abs: string, content: string | Buffer, mode = 0o644) {
  fs.mkdirSync(path.dirname(at(abs)), { recursive: true })
  fs.writeFileSync(at(abs), content, { mode })
  fs.chmodSync(at(abs), mode)
}
const state = (): NodeState => readState()

const KEYRING = '/etc/apt/keyrings/kubernetes-apt-keyring.gpg'
const LIST = '/etc/apt/sources.list.d/kubernetes.list'
const repoLine = (minor = 36, keyring = KEYRING) => `deb [signed-by=${keyring}] https://pkgs.k8s.io/core:/stable:/v1.${minor}/deb/ /\n`
const dearmoredKey = () => dearmor(releaseKeyArmored())!

/** The documented install: key (dearmored), sources line, apt-get update. */
async function addK8sRepo(minor = 36) {
  put(KEYRING, dearmoredKey())
  put(LIST, repoLine(minor))
  const r = await run(aptGet, ['update'])
  assert.is(r.code, 0, r.err)
}

function fresh(name: string) {
  const t = suite(name)
  t.before.each(() => {
    const d = tempDir('standin')
    root = d.dir
    cleanup = d.remove
    process.env.ZXLAB_FS_ROOT = root
  })
  t.after.each(() => {
    delete process.env.ZXLAB_FS_ROOT
    cleanup()
  })
  return t
}

// ---------------------------------------------------------------------------
const apt = fresh('apt-get')

apt('a fresh node: no node.json, base packages install, kubelet is unknown', async () => {
  assert.equal(state(), { packages: {}, services: {}, modules: [] })
  const k = await run(aptGet, ['install', '-y', 'kubelet'])
  assert.is(k.code, 100)
  assert.match(k.err, 'E: Unable to locate package kubelet')
  const c = await run(aptGet, ['install', '-y', '-q', 'curl', 'gpg'])
  assert.is(c.code, 0, c.err)
  assert.match(c.out, 'Setting up curl (7.88.1-10+deb12u14) ...')
  assert.match(c.out, '0 upgraded, 2 newly installed, 0 to remove and 0 not upgraded.')
  assert.equal(Object.keys(state().packages).sort(), ['curl', 'gpg'])
})

apt('a repository without its keyring: update fails (NO_PUBKEY), kubelet stays unknown', async () => {
  put(LIST, repoLine())
  const u = await run(aptGet, ['update'])
  assert.is(u.code, 100)
  assert.match(u.out, /NO_PUBKEY [0-9A-F]{16}/)
  assert.match(u.err, "E: The repository 'https://pkgs.k8s.io/core:/stable:/v1.36/deb  InRelease' is not signed.")
  assert.is((await run(aptGet, ['install', '-y', 'kubelet'])).code, 100)
})

apt('an armored key saved as .gpg, an empty or unreadable keyring, another key: not trusted', async () => {
  put(LIST, repoLine())
  put(KEYRING, releaseKeyArmored())
  let u = await run(aptGet, ['update'])
  assert.is(u.code, 100)
  assert.match(u.err, `The key(s) in the keyring ${KEYRING} are ignored as the file has an unsupported filetype.`)
  put(KEYRING, '')
  assert.is((await run(aptGet, ['update'])).code, 100)
  put(KEYRING, dearmoredKey(), 0o600)
  u = await run(aptGet, ['update'])
  assert.is(u.code, 100)
  assert.match(u.err, "is not readable by user '_apt'")
  const other = Buffer.from(dearmoredKey())
  other[20] = other[20]! ^ 0xff
  put(KEYRING, other)
  assert.is((await run(aptGet, ['update'])).code, 100)
  // an armored key is fine as .asc
  const asc = KEYRING.replace(/\.gpg$/, '.asc')
  put(asc, releaseKeyArmored())
  put(LIST, repoLine(36, asc))
  assert.is((await run(aptGet, ['update'])).code, 0)
})

apt('the repository must be fetched by apt-get update after it is added', async () => {
  put(KEYRING, dearmoredKey())
  put(LIST, repoLine())
  const before = await run(aptGet, ['install', '-y', 'kubelet'])
  assert.is(before.code, 100)
  assert.match(before.err, 'E: Unable to locate package kubelet')
  assert.is((await run(aptGet, ['update'])).code, 0)
  const after = await run(aptGet, ['install', '-y', 'kubelet'])
  assert.is(after.code, 0, after.err)
  assert.match(after.out, 'Setting up kubelet (1.36.4-1.1) ...')
  // another minor in the file: its lists were never fetched
  put(LIST, repoLine(35))
  assert.match((await run(aptGet, ['install', '-y', 'kubeadm'])).err, 'E: Unable to locate package kubeadm')
  assert.is((await run(aptGet, ['update'])).code, 0)
  assert.match((await run(aptGet, ['install', '-y', 'kubeadm'])).out, 'Setting up kubeadm (1.35.4-1.1) ...')
})

apt('a minor that does not exist, a malformed line, conflicting keyrings', async () => {
  put(KEYRING, dearmoredKey())
  put(LIST, repoLine(99))
  let u = await run(aptGet, ['update'])
  assert.is(u.code, 100)
  assert.match(u.err, "E: The repository 'https://pkgs.k8s.io/core:/stable:/v1.99/deb  Release' does not have a Release file.")
  put(LIST, 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ / main\n')
  u = await run(aptGet, ['update'])
  assert.is(u.code, 100)
  assert.match(u.err, `E: Malformed entry 1 in list file ${LIST} (absolute Suite Component)`)
  assert.match(u.err, 'E: The list of sources could not be read.')
  assert.is((await run(aptGet, ['install', '-y', 'curl'])).code, 100)
  put(LIST, repoLine())
  put('/etc/apt/sources.list.d/k8s-old.list', repoLine(36, '/usr/share/keyrings/kubernetes-archive-keyring.gpg'))
  u = await run(aptGet, ['update'])
  assert.is(u.code, 100)
  assert.match(u.err, 'E: Conflicting values set for option Signed-By')
})

apt('pins: a version offered installs, one not offered fails, nothing half-installed', async () => {
  await addK8sRepo()
  // pkgs.k8s.io publishes 1.36.2 only as build revision 2.1
  const bad = await run(aptGet, ['install', '-y', 'kubelet=1.36.2-2.1', 'kubeadm=1.36.2-1.1'])
  assert.is(bad.code, 100)
  assert.match(bad.err, "E: Version '1.36.2-1.1' for 'kubeadm' was not found")
  assert.equal(state().packages, {})
  const ok = await run(aptGet, ['install', '-y', '--allow-change-held-packages', 'kubelet=1.36.2-2.1', 'kubeadm=1.36.2-2.1', 'kubectl=1.36.2-2.1'])
  assert.is(ok.code, 0, ok.err)
  const pk = state().packages
  assert.equal([pk.kubelet?.version, pk.kubeadm?.version, pk.kubectl?.version], ['1.36.2-2.1', '1.36.2-2.1', '1.36.2-2.1'])
  assert.is(pk['cri-tools']?.auto, true, 'dependencies come along, marked automatic')
  assert.is(pk['kubernetes-cni']?.version, '1.7.1-1.1')
  const again = await run(aptGet, ['install', '-y', 'kubelet=1.36.2-2.1'])
  assert.is(again.code, 0)
  assert.match(again.out, 'kubelet is already the newest version (1.36.2-2.1).')
  assert.match(again.out, '0 upgraded, 0 newly installed, 0 to remove and 3 not upgraded.')
})

apt('apt-cache madison: every version the fetched lists offer, newest first, in apt\'s columns', async () => {
  assert.is((await run(aptCache, ['madison', 'kubelet'])).out, '', 'nothing before the repository is fetched')
  await addK8sRepo()
  const r = await run(aptCache, ['madison', 'kubelet', 'nosuch', 'curl'])
  assert.is(r.code, 0, r.err)
  const repo = 'https://pkgs.k8s.io/core:/stable:/v1.36/deb  Packages'
  assert.equal(r.out.trimEnd().split('\n'), [
    ...['1.36.4-1.1', '1.36.3-1.1', '1.36.2-2.1', '1.36.1-1.1', '1.36.0-1.1'].map((v) => `   kubelet | ${v} | ${repo}`),
    '      curl | 7.88.1-10+deb12u14 | http://deb.debian.org/debian bookworm/main amd64 Packages',
  ])
  assert.is(r.err, '', 'a package no list offers is skipped silently, as by apt')
  assert.is((await run(aptCache, ['show', 'kubelet'])).code, 100)
})

apt('without -y: apt asks, and a non-interactive run aborts (exit 1, nothing installed)', async () => {
  await addK8sRepo()
  const r = await run(aptGet, ['install', 'kubelet'])
  assert.is(r.code, 1)
  assert.match(r.out, 'The following additional packages will be installed:')
  assert.match(r.out, 'Do you want to continue? [Y/n] Abort.')
  assert.equal(state().packages, {})
  // no extra package: no question
  assert.is((await run(aptGet, ['install', 'curl'])).code, 0)
  // a "y" on stdin answers it; -qq implies -y
  assert.is((await run(aptGet, ['install', 'kubectl', 'socat'], { stdin: 'y\n' })).code, 0)
  assert.is((await run(aptGet, ['install', '-qq', 'kubelet'])).code, 0)
  assert.ok(state().packages.kubelet)
})

apt('held packages and downgrades need their flags', async () => {
  await addK8sRepo()
  await run(aptGet, ['install', '-y', 'kubelet=1.36.2-2.1'])
  assert.is((await run(aptMark, ['hold', 'kubelet'])).code, 0)
  const held = await run(aptGet, ['install', '-y', 'kubelet=1.36.3-1.1'])
  assert.is(held.code, 100)
  assert.match(held.out, 'The following held packages will be changed:\n  kubelet')
  assert.match(held.err, 'E: Held packages were changed and -y was used without --allow-change-held-packages.')
  assert.is(state().packages.kubelet?.version, '1.36.2-2.1')
  // installing the candidate of a held package changes it too
  assert.is((await run(aptGet, ['install', '-y', 'kubelet'])).code, 100)
  const up = await run(aptGet, ['install', '-y', '--allow-change-held-packages', 'kubelet=1.36.3-1.1'])
  assert.is(up.code, 0, up.err)
  assert.equal(state().packages.kubelet, { version: '1.36.3-1.1', held: true })
  const down = await run(aptGet, ['install', '-y', '--allow-change-held-packages', 'kubelet=1.36.1-1.1'])
  assert.is(down.code, 100)
  assert.match(down.err, 'E: Packages were downgraded and -y was used without --allow-downgrades.')
  assert.is((await run(aptGet, ['install', '-y', '--allow-change-held-packages', '--allow-downgrades', 'kubelet=1.36.1-1.1'])).code, 0)
  assert.is(state().packages.kubelet?.version, '1.36.1-1.1')
  // removing a held package
  assert.is((await run(aptGet, ['remove', '-y', 'kubelet'])).code, 100)
  const rm = await run(aptGet, ['purge', '-y', '--allow-change-held-packages', 'kubelet'])
  assert.is(rm.code, 0, rm.err)
  assert.match(rm.out, 'Purging configuration files for kubelet (1.36.1-1.1) ...')
  assert.not.ok(state().packages.kubelet)
  assert.not.ok(state().services.kubelet)
})

apt('not root: apt-get refuses like apt (exit 100)', async () => {
  const r = await run(aptGet, ['install', '-y', 'curl'], { uid: 1000 })
  assert.is(r.code, 100)
  assert.match(r.err, 'are you root?')
  assert.match((await run(aptGet, ['update'], { uid: 1000 })).err, 'E: Unable to lock directory /var/lib/apt/lists/')
  assert.match((await run(aptGet, ['frobnicate'])).err, 'E: Invalid operation frobnicate')
  assert.match((await run(aptGet, ['install', '--bogus', 'curl'])).err, 'E: Command line option --bogus is not understood')
})

apt('packages bring their units: containerd active, kubelet crash-looping until kubeadm', async () => {
  await addK8sRepo()
  assert.is((await run(aptGet, ['install', '-y', 'containerd', 'kubelet'])).code, 0)
  const s = state()
  assert.equal(s.packages.runc?.auto, true)
  assert.is(s.services.containerd?.enabled, true)
  assert.is(s.services.containerd?.active, true)
  assert.equal(s.services.containerd?.config, { version: 3, systemdCgroup: false, sandbox: 'registry.k8s.io/pause:3.10.1' })
  assert.is(s.services.kubelet?.enabled, true)
  assert.is(s.services.kubelet?.active, false)
  assert.not.ok(fs.existsSync(at('/etc/containerd/config.toml')), 'the package writes no config')
})

// ---------------------------------------------------------------------------
const mark = fresh('apt-mark, dpkg-query, dpkg')

mark('hold, unhold and showhold print what apt-mark prints', async () => {
  await run(aptGet, ['install', '-y', 'curl', 'socat'])
  assert.is((await run(aptMark, ['hold', 'curl', 'socat'])).out, 'curl set on hold.\nsocat set on hold.\n')
  assert.is((await run(aptMark, ['hold', 'curl'])).out, 'curl was already set on hold.\n')
  assert.is((await run(aptMark, ['showhold'])).out, 'curl\nsocat\n')
  assert.is((await run(aptMark, ['unhold', 'socat'])).out, 'Canceled hold on socat.\n')
  assert.is((await run(aptMark, ['unhold', 'socat'])).out, 'socat was already not hold.\n')
  const unknown = await run(aptMark, ['hold', 'kubelet'])
  assert.is(unknown.code, 100)
  assert.is(unknown.err, 'E: Unable to locate package kubelet\nE: No packages found\n')
  const user = await run(aptMark, ['hold', 'socat'], { uid: 1000 })
  assert.is(user.code, 100)
  assert.match(user.err, 'E: Executing dpkg failed. Are you root?')
  assert.is(state().packages.socat?.held, false)
})

mark('dpkg-query -W with formats, -l, -s; dpkg -l and --print-architecture', async () => {
  await run(aptGet, ['install', '-y', 'curl', 'socat'])
  await run(aptMark, ['hold', 'socat'])
  assert.is((await run(dpkgQuery, ['-W', 'curl'])).out, 'curl\t7.88.1-10+deb12u14\n')
  assert.is((await run(dpkgQuery, ['-W', '-f=${Version}', 'curl'])).out, '7.88.1-10+deb12u14')
  assert.is((await run(dpkgQuery, ['--show', '--showformat=${Package} ${Status}\\n', 'socat'])).out, 'socat hold ok installed\n')
  assert.is((await run(dpkgQuery, ['-Wf', '${db:Status-Abbrev}', 'curl'])).out, 'ii ')
  const missing = await run(dpkgQuery, ['-W', 'curl', 'kubelet'])
  assert.is(missing.code, 1)
  assert.is(missing.out, 'curl\t7.88.1-10+deb12u14\n')
  assert.is(missing.err, 'dpkg-query: no packages found matching kubelet\n')
  assert.match((await run(dpkg, ['-l', 'so*'])).out, /^hi {2}socat +1\.7\.4\.4-2 +amd64 +multipurpose relay/m)
  const s = await run(dpkg, ['-s', 'kubelet'])
  assert.is(s.code, 1)
  assert.match(s.err, "dpkg-query: package 'kubelet' is not installed and no information is available")
  assert.is((await run(dpkg, ['--print-architecture'])).out, 'amd64\n')
  assert.is((await run(dpkgQuery, [])).code, 2)
})

// ---------------------------------------------------------------------------
const sysd = fresh('systemctl and containerd')

const DEFAULT_V3 = async () => (await run(containerd, ['config', 'default'])).out

sysd('unknown units fail as in systemd; is-active and is-enabled exit codes', async () => {
  const start = await run(systemctl, ['start', 'kubelet'])
  assert.is(start.code, 5)
  assert.is(start.err, 'Failed to start kubelet.service: Unit kubelet.service not found.\n')
  assert.is((await run(systemctl, ['enable', 'containerd'])).err, 'Failed to enable unit: Unit file containerd.service does not exist.\n')
  const ia = await run(systemctl, ['is-active', 'containerd'])
  assert.equal([ia.code, ia.out], [3, 'inactive\n'])
  assert.is((await run(systemctl, ['status', 'nope'])).code, 4)
  assert.is((await run(systemctl, ['frob', 'x'])).err, "Unknown command verb 'frob'.\n")
  await run(aptGet, ['install', '-y', 'containerd'])
  const active = await run(systemctl, ['is-active', '--quiet', 'containerd.service'])
  assert.equal([active.code, active.out], [0, ''])
  assert.is((await run(systemctl, ['stop', 'containerd'])).code, 0)
  assert.is((await run(systemctl, ['is-active', 'containerd'])).code, 3)
  assert.is((await run(systemctl, ['disable', '--now', 'containerd'])).code, 0)
  const ie = await run(systemctl, ['is-enabled', 'containerd'])
  assert.equal([ie.code, ie.out], [1, 'disabled\n'])
  assert.is((await run(systemctl, ['enable', '--now', 'containerd'])).code, 0)
  assert.is((await run(systemctl, ['is-active', 'containerd'])).out, 'active\n')
  assert.match((await run(systemctl, ['restart', 'containerd'], { uid: 1000 })).err, 'Interactive authentication required.')
  assert.is((await run(systemctl, ['daemon-reload'])).code, 0)
})

sysd('containerd --config FILE config dump: fails on a file that is not TOML, as the real one does (and, like it, not on a wrong type)', async () => {
  await run(aptGet, ['install', '-y', 'containerd'])
  const good = await DEFAULT_V3()
  put('/etc/containerd/.zxplay.good', good)
  const dump = await run(containerd, ['--config', '/etc/containerd/.zxplay.good', 'config', 'dump'])
  assert.equal([dump.code, dump.out], [0, good])
  put('/etc/containerd/.zxplay.bad', good.replace('SystemdCgroup = false', 'SystemdCgroup = yes'))
  const bad = await run(containerd, ['--config', '/etc/containerd/.zxplay.bad', 'config', 'dump'])
  assert.is(bad.code, 1)
  assert.match(bad.err, 'containerd: failed to load TOML: /etc/containerd/.zxplay.bad: ')
  put('/etc/containerd/.zxplay.type', good.replace('SystemdCgroup = false', 'SystemdCgroup = "yes"'))
  assert.is((await run(containerd, ['--config', '/etc/containerd/.zxplay.type', 'config', 'dump'])).code, 0)
  assert.is((await run(containerd, ['--config', '/etc/containerd/none.toml', 'config', 'dump'])).code, 1)
})

sysd('the kubelet crash-loops (activating) until /var/lib/kubelet/config.yaml exists', async () => {
  await addK8sRepo()
  await run(aptGet, ['install', '-y', 'kubelet'])
  assert.is((await run(systemctl, ['enable', '--now', 'kubelet'])).code, 0)
  const a = await run(systemctl, ['is-active', 'kubelet'])
  assert.equal([a.code, a.out], [3, 'activating\n'])
  assert.match((await run(systemctl, ['status', 'kubelet'])).out, 'activating (auto-restart)')
  put('/var/lib/kubelet/config.yaml', 'kind: KubeletConfiguration\n')
  assert.is((await run(systemctl, ['restart', 'kubelet'])).code, 0)
  assert.is((await run(systemctl, ['is-active', 'kubelet'])).code, 0)
  assert.is((await run(kubelet, ['--version'])).out, 'Kubernetes v1.36.4\n')
})

sysd('containerd 2.x: the default config runs with SystemdCgroup false; sed it to true', async () => {
  await run(aptGet, ['install', '-y', 'containerd'])
  const def = await DEFAULT_V3()
  assert.match(def, /^version = 3$/m)
  assert.match(def, "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]")
  assert.match(def, "[plugins.'io.containerd.cri.v1.images'.pinned_images]\n      sandbox = 'registry.k8s.io/pause:3.10.1'")
  assert.match(def, "[plugins.'io.containerd.cri.v1.runtime'.cni]")
  put('/etc/containerd/config.toml', def)
  assert.is((await run(systemctl, ['restart', 'containerd'])).code, 0)
  assert.equal(state().services.containerd?.config, { version: 3, systemdCgroup: false, sandbox: 'registry.k8s.io/pause:3.10.1' })
  const sed = spawnSync('sed', ['-i', 's/SystemdCgroup = false/SystemdCgroup = true/', at('/etc/containerd/config.toml')])
  assert.is(sed.status, 0)
  assert.is((await run(systemctl, ['restart', 'containerd'])).code, 0)
  assert.is(state().services.containerd?.config?.systemdCgroup, true)
  // `start` of a running unit does not reread the config; restart does
  fs.appendFileSync(at('/etc/containerd/config.toml'), '[broken\n')
  assert.is((await run(systemctl, ['start', 'containerd'])).code, 0)
  const bad = await run(systemctl, ['restart', 'containerd'])
  assert.is(bad.code, 1)
  assert.match(bad.err, 'Job for containerd.service failed because the control process exited with error code.')
  assert.is((await run(systemctl, ['is-active', 'containerd'])).out, 'activating\n')
  assert.match((await run(systemctl, ['status', 'containerd'])).out, 'failed to load TOML from /etc/containerd/config.toml')
  assert.not.ok(state().services.containerd?.config)
})

sysd('containerd refuses the wrong layout for its version, a disabled CRI, a misplaced runc table', async () => {
  await run(aptGet, ['install', '-y', 'containerd'])
  const restart = async (toml: string) => {
    put('/etc/containerd/config.toml', toml)
    return (await run(systemctl, ['restart', 'containerd'])).code
  }
  const v2runc = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n'
  assert.is(await restart(`version = 3\n${v2runc}`), 1, 'a version 3 config with the 1.x table')
  assert.match(state().services.containerd?.error ?? '', 'no runc options table')
  assert.is(await restart(`version = 2\n${v2runc}`), 0, 'containerd 2 still reads version 2')
  assert.equal(state().services.containerd?.config, { version: 2, systemdCgroup: true, sandbox: 'registry.k8s.io/pause:3.10.1' })
  assert.is(await restart(`version = 2\ndisabled_plugins = ["cri"]\n${v2runc}`), 1)
  assert.is(await restart(`${v2runc}`), 1, 'no version: version 1, gone in containerd 2')
  assert.is(await restart(`version = 2\n${v2runc.replace('true', '"true"')}`), 1, 'SystemdCgroup must be a boolean')
})

sysd('containerd 1.7: `version = 2` defaults with sandbox_image; a version 3 config fails', async () => {
  await run(aptGet, ['install', '-y', 'containerd=1.7.24-1'])
  assert.match((await run(containerd, ['--version'])).out, 'containerd github.com/containerd/containerd v1.7.24')
  const def = (await run(containerd, ['config', 'default'])).out
  assert.match(def, /^version = 2$/m)
  assert.match(def, 'sandbox_image = "registry.k8s.io/pause:3.8"')
  assert.match(def, '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]')
  put('/etc/containerd/config.toml', def.replace('SystemdCgroup = false', 'SystemdCgroup = true').replace('pause:3.8', 'pause:3.10'))
  assert.is((await run(systemctl, ['restart', 'containerd'])).code, 0)
  assert.equal(state().services.containerd?.config, { version: 2, systemdCgroup: true, sandbox: 'registry.k8s.io/pause:3.10' })
  // upgraded to 2.x, it still reads the version 2 file; back on 1.7, a version 3 file fails
  assert.is((await run(aptGet, ['install', '-y', 'containerd=2.2.1-1'])).code, 0)
  assert.is(state().services.containerd?.active, true)
  put('/etc/containerd/config.toml', await DEFAULT_V3())
  const down = await run(aptGet, ['install', '-y', '--allow-downgrades', 'containerd=1.7.24-1'])
  assert.is(down.code, 100, 'its post-installation script could not start containerd')
  assert.match(down.err, 'E: Sub-process /usr/bin/dpkg returned an error code (1)')
  assert.is(state().packages.containerd?.version, '1.7.24-1')
  assert.is((await run(systemctl, ['restart', 'containerd'])).code, 1)
  assert.match(state().services.containerd?.error ?? '', 'unsupported config version `3`')
})

sysd('crictl needs containerd running; ctr imports a docker-save archive into a namespace', async () => {
  await addK8sRepo()
  await run(aptGet, ['install', '-y', 'containerd', 'cri-tools'])
  put('/etc/crictl.yaml', 'runtime-endpoint: unix:///run/containerd/containerd.sock\n')
  const info = await run(crictl, ['info'])
  assert.is(info.code, 0, info.err)
  assert.is(JSON.parse(info.out).status.conditions[1].reason, 'NetworkPluginNotReady')
  await run(systemctl, ['stop', 'containerd'])
  const down = await run(crictl, ['info'])
  assert.is(down.code, 1)
  assert.match(down.err, 'validate service connection')
  assert.match(down.err, 'connect: connection refused')
  await run(systemctl, ['start', 'containerd'])
  // a one-file tar: manifest.json as `docker save` writes it
  const manifest = Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['myshap:latest'], Layers: [] }]))
  const header = Buffer.alloc(512)
  header.write('manifest.json', 0)
  header.write('0000644\0', 100)
  header.write(manifest.length.toString(8).padStart(11, '0') + '\0', 124)
  header.write('0', 156)
  header.write('ustar\0', 257)
  const tar = Buffer.concat([header, manifest, Buffer.alloc(512 - (manifest.length % 512)), Buffer.alloc(1024)])
  put('/root/myshap.tar', tar)
  const imp = await run(ctr, ['-n', 'k8s.io', 'images', 'import', 'myshap.tar'])
  assert.is(imp.code, 0, imp.err)
  assert.match(imp.out, 'unpacking docker.io/library/myshap:latest')
  assert.is((await run(ctr, ['-n', 'k8s.io', 'images', 'ls', '-q'])).out, 'docker.io/library/myshap:latest\n')
  assert.is((await run(ctr, ['images', 'ls', '-q'])).out, '', 'the default namespace is another one')
  assert.match((await run(crictl, ['images'])).out, /docker\.io\/library\/myshap +latest/)
  assert.match((await run(ctr, ['images', 'ls'], { uid: 1000 })).err, 'permission denied')
})

sysd('tools of packages that are not installed are "not found"', async () => {
  for (const m of [containerd, crictl, ctr, kubelet]) assert.is((await run(m, ['--version'])).code, 127)
})

// ---------------------------------------------------------------------------
const kern = fresh('modprobe, lsmod, swap')

kern('modprobe loads known modules (and their dependencies); unknown ones are not found', async () => {
  const r = await run(modprobe, ['-a', 'overlay', 'br_netfilter'])
  assert.is(r.code, 0, r.err)
  assert.equal(state().modules, ['overlay', 'llc', 'stp', 'bridge', 'br_netfilter'])
  const ls = (await run(lsmod, [])).out
  assert.match(ls, /^Module {18}Size {2}Used by$/m)
  assert.match(ls, /^br_netfilter +32768 {2}0$/m)
  assert.match(ls, /^bridge +421888 {2}1 br_netfilter$/m)
  const nf = await run(modprobe, ['nosuchmod'])
  assert.is(nf.code, 1)
  assert.match(nf.err, /^modprobe: FATAL: Module nosuchmod not found in directory \/lib\/modules\/\S+$/m)
  assert.is((await run(modprobe, ['-q', 'nosuchmod'])).err, '')
})

kern('modprobe: two names without -a is a parameter error; not root cannot insert', async () => {
  const two = await run(modprobe, ['overlay', 'br_netfilter'])
  assert.is(two.code, 1)
  assert.match(two.err, "could not insert 'overlay'")
  const user = await run(modprobe, ['br_netfilter'], { uid: 1000 })
  assert.is(user.code, 1)
  assert.is(user.err, "modprobe: ERROR: could not insert 'br_netfilter': Operation not permitted\n")
  assert.equal(state().modules, [])
})

kern('swapoff -a empties /proc/swaps; swapon -a turns the fstab lines back on', async () => {
  put('/proc/swaps', 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t2097148\t\t0\t\t-2\n')
  put('/etc/fstab', 'UUID=x / ext4 errors=remount-ro 0 1\n/swapfile none swap sw 0 0\n')
  assert.is((await run(swapon, ['--show'])).out, 'NAME      TYPE SIZE USED PRIO\n/swapfile file   2G   0B   -2\n')
  assert.is((await run(swapoff, ['-a'], { uid: 1000 })).err, 'swapoff: Not superuser.\n')
  assert.is((await run(swapoff, ['-a'])).code, 0)
  assert.is((await run(swapon, ['--show'])).out, '')
  assert.is(fs.readFileSync(at('/proc/swaps'), 'utf8').trim().split('\n').length, 1)
  assert.is((await run(swapoff, ['-a'])).code, 0, 'nothing left to turn off')
  assert.is((await run(swapon, ['-a'])).code, 0)
  assert.match((await run(swapon, ['--show'])).out, '/swapfile')
})

// ---------------------------------------------------------------------------
const web = fresh('curl')

web('the pkgs.k8s.io release key is served; gpg --dearmor reads it', async () => {
  const r = await run(curl, ['-fsSL', '--retry', '3', 'https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key'])
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/)
  const gpg = spawnSync('gpg', ['--dearmor'], { input: r.out })
  if (gpg.error) return // no gpg on this machine: the lab test covers the real pipeline
  assert.is(gpg.status, 0, gpg.stderr.toString())
  assert.ok(gpg.stdout.equals(dearmoredKey()))
})

web('-o writes a file; unknown hosts do not resolve; a minor that does not exist is a 404', async () => {
  fs.mkdirSync(at('/tmp'), { recursive: true })
  assert.is((await run(curl, ['-fsSLo', '/tmp/k.asc', 'https://pkgs.k8s.io/core:/stable:/v1.35/deb/Release.key'])).code, 0)
  assert.match(fs.readFileSync(at('/tmp/k.asc'), 'utf8'), 'BEGIN PGP PUBLIC KEY BLOCK')
  const off = await run(curl, ['-fsSL', 'https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml'])
  assert.equal([off.code, off.err], [6, 'curl: (6) Could not resolve host: github.com\n'])
  assert.is((await run(curl, ['-fsL', 'https://example.com/'])).err, '', '-s without -S is silent')
  const nf = await run(curl, ['-fsSL', 'https://pkgs.k8s.io/core:/stable:/v1.99/deb/Release.key'])
  assert.equal([nf.code, nf.err], [22, 'curl: (22) The requested URL returned error: 404\n'])
  assert.is((await run(curl, ['--frobnicate', 'https://pkgs.k8s.io/'])).code, 2)
})

apt.run()
mark.run()
sysd.run()
kern.run()
web.run()
