// The test lab: N test hosts on this machine, each a network namespace with
// its own address, hostname and node directories, running Debian's real sshd.
//
// Host i (1-based): name node<i>, netns zxlab-node<i>, address 10.77.0.<10+i>,
// root-side veth zxl<i> on bridge zxlab0 (10.77.0.1/24), peer `eth0` in the ns.
// Per-host folders live in /srv/zxplay-lab/node<i>/ and are bind-mounted over
// the real paths in a private mount namespace that only that host's sshd (and
// what it starts) sees; /etc, /root and /var/lib are copy-on-write overlays of
// the machine's, and /sys/fs/cgroup is a cgroup v2 hierarchy. Client-side files (key, known_hosts, inventory) are
// written to <repo>/.lab/.
//
// Tool stand-ins (lab/standins/*.ts: kubeadm, kubectl…) are bundled once into
// <repo>/.lab-cache/standins/ and copied to /srv/zxplay-lab/standins/; each host's own
// /usr/local/bin and /usr/local/sbin hold shims that run them, so they come first on the user's
// PATH and sudo's secure_path. Their state is the host's /var/lib/zxlab/node.json; hosts are
// listed for them in /srv/zxplay-lab/lab.json. The OS tools (apt, dpkg, systemctl, containerd,
// modprobe, swapon…) are not here: the hosts share this machine's programs, so each such tool is a
// shim that refuses (ABSENT_TOOLS); the playbooks meet the real ones on the real-host lab (lab/hosts).
//
// Needs root, iproute2, util-linux (unshare, nsenter), openssh-server, sudo.

import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { killPids, tail, waitGone } from '../proc.ts'
import { buildOpenapiIndex } from '../standins/_openapi.ts'
import { awsInventoryLines, labAwsInfo, startLabSts, stopLabSts, type LabAws } from '../sts/sts-lab.ts'

export type LabHost = {
  name: string
  address: string
  netns: string
  root: string // /srv/zxplay-lab/nodeN
}

export type Lab = {
  dir: string // <repo>/.lab
  inventory: string // <repo>/.lab/inventory.yaml
  key: string
  knownHosts: string
  becomePass: string // the zxlabpw password
  hosts: LabHost[]
  standins?: StandinsInfo // set by labUp
  aws?: LabAws // set by labUp: the local STS endpoint (lab/sts/sts-lab.ts)
}

export type StandinsInfo = { tools: string[]; ms: number; cached: boolean }

// ---------------------------------------------------------------------------
// Names and paths

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const LAB_DIR = path.join(REPO, '.lab')
export const SRV_ROOT = '/srv/zxplay-lab'
export const BRIDGE = 'zxlab0'
export const BRIDGE_ADDRESS = '10.77.0.1'
export const NETNS_PREFIX = 'zxlab-'
export const LAB_USER = 'zxlab'
export const LAB_PW_USER = 'zxlabpw'
export const MAX_HOSTS = 40
export const STANDINS_SRC = path.join(REPO, 'lab/standins')
export const STANDINS_CACHE = path.join(REPO, '.lab-cache/standins')
export const STANDINS_DIR = path.join(SRV_ROOT, 'standins')
/** The API server's OpenAPI documents the stand-in API validates with, read in place (compiled into the bundles). */
export const OPENAPI_DIR = ((p: string) => (fs.existsSync(p) ? fs.realpathSync(p) : p))(path.resolve(REPO, '../shared/reference/openapi-1.35'))
/** Their compact index (no descriptions), built at labUp: a kubectl call parses ~100 KB instead of 2 MB. */
export const OPENAPI_INDEX = path.join(SRV_ROOT, 'openapi')
export const LAB_JSON = path.join(SRV_ROOT, 'lab.json')
/** Tools whose real programs live in sbin (not on a plain user's PATH). */
const SBIN_TOOLS = new Set(['modprobe', 'lsmod', 'swapoff', 'swapon', 'sysctl'])
/**
 * OS tools a namespace host must not run: they would act on this machine (its dpkg database, apt,
 * systemd, containerd, kernel modules, swap). Each host has a shim in their place, over the machine's
 * own binaries too, that says so and exits 127; the real-host lab has the real ones.
 */
export const ABSENT_TOOLS = ['apt', 'apt-get', 'apt-cache', 'apt-mark', 'dpkg', 'dpkg-query', 'systemctl', 'containerd', 'ctr', 'modprobe', 'lsmod', 'swapon', 'swapoff']
const VETH_PREFIX = 'zxl'
const SSHD_WAIT_MS = 10_000

/**
 * Every per-host folder (or file) and where it is bind-mounted inside the
 * host's private mount namespace. Parents must come before children. Add to
 * this list to give hosts more private paths; `hostPath()` follows it too.
 */
export type BindMount = {
  src: string // relative to the host root, /srv/zxplay-lab/nodeN/<src>
  dst: string // the real path, as the host sees it
  kind: 'dir' | 'file'
  mode?: number // for dirs, default 0o755
  owner?: string // user that owns the dir (recursively), default root
}

export const BIND_MOUNTS: readonly BindMount[] = [
  // Folders other hosts' stand-ins read or write too (kubeadm's store, flannel's CNI file…) are
  // binds, so every view is coherent; a bind is never the folder a command deletes (`rm -rf
  // /etc/cni/net.d` works: the mount point is /etc/cni).
  { src: 'etc/cni', dst: '/etc/cni', kind: 'dir' },
  { src: 'etc/kubernetes', dst: '/etc/kubernetes', kind: 'dir' },
  { src: 'etc/containerd', dst: '/etc/containerd', kind: 'dir' },
  { src: 'etc/sysctl.d', dst: '/etc/sysctl.d', kind: 'dir' },
  { src: 'etc/modules-load.d', dst: '/etc/modules-load.d', kind: 'dir' },
  { src: 'etc/apt/sources.list.d', dst: '/etc/apt/sources.list.d', kind: 'dir' },
  { src: 'etc/apt/keyrings', dst: '/etc/apt/keyrings', kind: 'dir' },
  { src: 'etc/apt/trusted.gpg.d', dst: '/etc/apt/trusted.gpg.d', kind: 'dir' },
  { src: 'var/lib/etcd', dst: '/var/lib/etcd', kind: 'dir', mode: 0o700 },
  { src: 'var/lib/zxlab', dst: '/var/lib/zxlab', kind: 'dir', mode: 0o777 }, // node.json
  { src: 'run/flannel', dst: '/run/flannel', kind: 'dir' },
  // each host's own /run/lock, as on separate machines: zxplay's host lock (lib/transport/host-lock.ts) lives there
  { src: 'run/lock', dst: '/run/lock', kind: 'dir', mode: 0o1777 },
  // the hosts' own backups (30-cni-cleanup moves stale CNI files there), not the machine's
  { src: 'var/backups', dst: '/var/backups', kind: 'dir' },
  { src: 'tmp', dst: '/tmp', kind: 'dir', mode: 0o1777 },
  { src: 'proc/swaps', dst: '/proc/swaps', kind: 'file' }, // swap "on" until swapoff
  { src: 'home', dst: `/home/${LAB_USER}`, kind: 'dir', owner: LAB_USER },
  { src: `home-${LAB_PW_USER}`, dst: `/home/${LAB_PW_USER}`, kind: 'dir', owner: LAB_PW_USER },
  // the stand-ins' shims: first on the user's PATH and sudo's secure_path
  { src: 'usr/local/bin', dst: '/usr/local/bin', kind: 'dir' },
  { src: 'usr/local/sbin', dst: '/usr/local/sbin', kind: 'dir' },
]

/**
 * Copy-on-write views of the machine's /etc, /root and /var/lib: an overlay per host whose upper
 * layer is /srv/zxplay-lab/nodeN/<upper>, so a host may change or delete anything there (`sed -i
 * /etc/fstab` renames a temporary file over it, which a bind-mounted file refuses; `rm -rf
 * /var/lib/cni` removes the folder) while the machine's own files stay as they are. The host's
 * /etc/hosts, /etc/machine-id and /etc/fstab are written into the upper layer at labUp, with
 * /etc/cni/net.d, /var/lib/kubelet and /var/lib/cni (empty). The bind mounts above that lie under
 * these paths keep their sources in the upper layer too (nodeN/etc/kubernetes…), mounted over the
 * overlay. Write into an upper layer from the root side only where a bind covers the path.
 */
export const OVERLAYS: readonly { dst: string; upper: string }[] = [
  { dst: '/etc', upper: 'etc' },
  { dst: '/root', upper: 'root' },
  { dst: '/var/lib', upper: 'var/lib' },
]
const overlayWork = (host: LabHost, o: { upper: string }) => path.join(host.root, '.overlay-work', o.upper)
const underOverlay = (dst: string) => OVERLAYS.some((o) => dst.startsWith(o.dst + '/'))

const shimDir = (tool: string) => (SBIN_TOOLS.has(tool) ? 'usr/local/sbin' : 'usr/local/bin')
// the hosts' own /usr/local/bin hides this machine's: run node from /usr/bin
const NODE = fs.existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath
const shimText = (tool: string) => `#!/bin/sh\nexec ${NODE} ${STANDINS_DIR}/${tool}.mjs "$@"\n`
export const absentMessage = (tool: string) => `${tool}: not on the namespace lab's hosts, which share this machine's programs (the real-host lab has it: npm run lab:up)`
const absentText = (tool: string) => `#!/bin/sh\necho ${shq(absentMessage(tool))} >&2\nexit 127\n`

/** The stand-ins installed for the lab that is up (bundles in /srv/zxplay-lab/standins). */
function installedTools(): string[] {
  try {
    return fs
      .readdirSync(STANDINS_DIR)
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => f.slice(0, -'.mjs'.length))
      .sort()
  } catch {
    return []
  }
}

/**
 * The machine's own binaries for tools that have a shim (/usr/bin/kubectl, /usr/bin/apt-get…): each
 * host gets its shim bind-mounted over them, so that an absolute path runs the stand-in (or the
 * refusal) too and nothing in a host reaches this machine's real dpkg database or systemd.
 */
function shadowMounts(tools: readonly string[]): BindMount[] {
  const out: BindMount[] = []
  for (const tool of tools) {
    for (const dir of ['/usr/bin', '/usr/sbin']) {
      const real = path.join(dir, tool)
      if (fs.existsSync(real)) out.push({ src: path.join(shimDir(tool), tool), dst: real, kind: 'file' })
    }
  }
  return out
}

const labFiles = {
  key: path.join(LAB_DIR, 'id_ed25519'),
  knownHosts: path.join(LAB_DIR, 'known_hosts'),
  inventory: path.join(LAB_DIR, 'inventory.yaml'),
  becomePass: path.join(LAB_DIR, 'become-pass'),
  state: path.join(LAB_DIR, 'state.json'),
}

function hostFor(i: number): LabHost {
  const name = `node${i}`
  return {
    name,
    address: `10.77.0.${10 + i}`,
    netns: `${NETNS_PREFIX}${name}`,
    root: path.join(SRV_ROOT, name),
  }
}

const vethFor = (host: LabHost) => `${VETH_PREFIX}${host.name.slice('node'.length)}`
const sshDir = (host: LabHost) => path.join(host.root, 'ssh')
const sshdConfig = (host: LabHost) => path.join(sshDir(host), 'sshd_config')
const sshdLog = (host: LabHost) => path.join(host.root, 'sshd.log')
const HOST_KEY_TYPES = ['ed25519', 'ecdsa'] as const
const hostKeyFile = (host: LabHost, type: string) => path.join(sshDir(host), `ssh_host_${type}_key`)

// ---------------------------------------------------------------------------
// Small process helpers

export type RunResult = { stdout: string; stderr: string; code: number }

export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; check?: boolean } = {}
): Promise<RunResult> {
  const check = opts.check ?? true
  return new Promise((resolve, reject) => {
    // NODE_OPTIONS (npm's --import=tsx) must not reach the hosts' stand-ins: they are plain bundles.
    const { NODE_OPTIONS: _, ...env } = process.env
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const res = { stdout, stderr, code: code ?? (signal ? 128 : 1) }
      if (check && res.code !== 0) {
        reject(new Error(`lab: \`${[cmd, ...args].join(' ')}\` exited ${res.code}${signal ? ` (${signal})` : ''}: ${stderr.trim()}`))
      } else resolve(res)
    })
    child.stdin.on('error', () => {}) // EPIPE if the command does not read stdin
    child.stdin.end(opts.input ?? '')
  })
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Single-quote for sh. */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

export type Probe = 'ssh' | 'refused' | 'timeout' | 'error'

/**
 * One probe of address:22: 'ssh' once it accepts and answers with an SSH
 * banner. Sends its own banner first, so that sshd does not log a
 * kex_exchange_identification error for every probe.
 */
function probe(address: string, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port: 22 })
    let got = ''
    const done = (r: Probe) => {
      sock.removeAllListeners()
      sock.on('error', () => {})
      sock.destroy()
      resolve(r)
    }
    sock.setTimeout(timeoutMs, () => done('timeout'))
    sock.once('connect', () => sock.write('SSH-2.0-zxlab_probe\r\n'))
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1')
      if (got.includes('\n')) done(got.startsWith('SSH-') ? 'ssh' : 'error')
    })
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error'))
    sock.once('end', () => done('error'))
  })
}

/** Probe until `ok(result)`, or give up after timeoutMs. Short first attempts, so a lost SYN costs little. */
export async function waitProbe(
  address: string,
  ok: (p: Probe) => boolean,
  timeoutMs: number,
  giveUp: () => boolean = () => false
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    const budget = Math.min(200 * 2 ** Math.min(attempt, 3), 1000, Math.max(50, deadline - Date.now()))
    if (ok(await probe(address, budget))) return true
    if (Date.now() >= deadline || giveUp()) return false
    await sleep(20)
  }
}

// ---------------------------------------------------------------------------
// Namespaces, links, processes

async function listLabNetns(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list'], { check: false })
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(NETNS_PREFIX))
}

async function netnsPids(ns: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', ns], { check: false })
  return stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 1 && n !== process.pid)
}

/** Kill every process in a namespace, repeating until none is left (sshd may fork meanwhile). */
async function killNetns(ns: string) {
  for (let round = 0; round < 20; round++) {
    const pids = await netnsPids(ns)
    if (pids.length === 0) return
    killPids(pids)
    await waitGone(pids, 2000)
  }
}

/** Processes anywhere still running a lab sshd config (e.g. in a namespace that lost its name). */
function strayLabProcesses(): number[] {
  const out: number[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (cmdline.includes('sshd') && cmdline.includes(`${SRV_ROOT}/`)) out.push(pid)
    } catch {
      // gone
    }
  }
  return out
}

async function listLabLinks(): Promise<string[]> {
  let { stdout, stderr } = await run('ip', ['-o', 'link', 'show'], { check: false })
  for (let i = 0; i < 5 && /Dump was interrupted/.test(stderr); i++) {
    ;({ stdout, stderr } = await run('ip', ['-o', 'link', 'show'], { check: false }))
  }
  const names: string[] = []
  for (const line of stdout.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)[@:]/.exec(line)
    const name = m?.[1]
    if (name && (name === BRIDGE || new RegExp(`^${VETH_PREFIX}\\d+$`).test(name))) names.push(name)
  }
  return names
}

/** ip -batch, continuing past errors; returns stderr. */
async function ipBatch(lines: string[], pre: string[] = []): Promise<RunResult> {
  return run('ip', [...pre, '-force', '-batch', '-'], { input: lines.join('\n') + '\n', check: false })
}

// ---------------------------------------------------------------------------
// Users

type Passwd = { uid: number; gid: number; home: string }

function getUser(name: string): Passwd | undefined {
  for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':')
    if (f[0] === name && f.length >= 7) return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' }
  }
  return undefined
}

function writeSudoers(file: string, content: string) {
  const tmp = `${file}.zxlab-tmp`
  fs.writeFileSync(tmp, content, { mode: 0o440 })
  fs.chmodSync(tmp, 0o440)
  fs.renameSync(tmp, file)
}

async function ensureUsers(becomePass: string) {
  for (const user of [LAB_USER, LAB_PW_USER]) {
    if (!getUser(user)) await run('useradd', ['-m', '-s', '/bin/bash', user])
  }
  await run('usermod', ['-p', '*', LAB_USER])
  await run('chpasswd', [], { input: `${LAB_PW_USER}:${becomePass}\n` })
  fs.mkdirSync('/etc/sudoers.d', { recursive: true })
  writeSudoers(`/etc/sudoers.d/${LAB_USER}`, `${LAB_USER} ALL=(ALL) NOPASSWD:ALL\n`)
  writeSudoers(
    `/etc/sudoers.d/${LAB_PW_USER}`,
    `Defaults:${LAB_PW_USER} timestamp_timeout=0\n${LAB_PW_USER} ALL=(ALL) ALL\n`
  )
}

function chownR(p: string, uid: number, gid: number) {
  fs.lchownSync(p, uid, gid)
  if (fs.lstatSync(p).isDirectory()) {
    for (const e of fs.readdirSync(p)) chownR(path.join(p, e), uid, gid)
  }
}

// ---------------------------------------------------------------------------
// Per-host files

async function genKey(file: string, type: string, comment: string) {
  fs.rmSync(file, { force: true })
  fs.rmSync(`${file}.pub`, { force: true })
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', file])
}

async function genHostKeys(host: LabHost) {
  await Promise.all(HOST_KEY_TYPES.map((t) => genKey(hostKeyFile(host, t), t, `root@${host.name}`)))
}

function sshdConfigText(host: LabHost): string {
  return [
    `# zxplay lab sshd for ${host.name}`,
    `ListenAddress ${host.address}`,
    'Port 22',
    ...HOST_KEY_TYPES.map((t) => `HostKey ${hostKeyFile(host, t)}`),
    'PidFile none',
    'UsePAM no',
    'PasswordAuthentication yes', // for zxlabpw only (zxlab's password is locked): ansible_password and -k
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'StrictModes no',
    'MaxSessions 100',
    'MaxStartups 100:30:200',
    `AllowUsers ${LAB_USER} ${LAB_PW_USER}`,
    'AcceptEnv none',
    'PrintMotd no',
    'LogLevel ERROR',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n')
}

async function prepareHost(host: LabHost, pubKey: string, users: Map<string, Passwd>, tools: readonly string[]) {
  fs.mkdirSync(host.root, { recursive: true, mode: 0o755 })
  fs.chmodSync(host.root, 0o755)
  for (const b of BIND_MOUNTS) {
    const src = path.join(host.root, b.src)
    const parent = b.kind === 'dir' ? src : path.dirname(src)
    mkdirTraversable(host.root, parent)
    if (b.kind === 'dir') fs.chmodSync(src, b.mode ?? 0o755)
  }
  const write = (rel: string, content: string, mode: number) => {
    const file = path.join(host.root, rel)
    fs.writeFileSync(file, content, { mode })
    fs.chmodSync(file, mode)
  }
  write('etc/hosts', `127.0.0.1 localhost\n127.0.1.1 ${host.name}\n`, 0o644)
  write('etc/machine-id', randomBytes(16).toString('hex') + '\n', 0o444)
  write(
    'etc/fstab',
    [
      '# /etc/fstab: static file system information.',
      '# <file system> <mount point>   <type>  <options>       <dump>  <pass>',
      'UUID=7d9e1a2c-5b3f-4c1e-9a8d-2f6b0c4e1a37 /               ext4    errors=remount-ro 0       1',
      '/swapfile                                 none            swap    sw              0       0',
      '',
    ].join('\n'),
    0o644
  )
  for (const dir of ['etc/cni/net.d', 'var/lib/kubelet', 'var/lib/cni']) mkdirTraversable(host.root, path.join(host.root, dir))
  for (const o of OVERLAYS) {
    const upper = path.join(host.root, o.upper)
    mkdirTraversable(host.root, upper)
    fs.chmodSync(upper, fs.statSync(o.dst).mode & 0o7777) // the merged root shows the upper's mode
    fs.mkdirSync(overlayWork(host, o), { recursive: true, mode: 0o700 })
  }
  write('proc/swaps', 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t2097148\t\t0\t\t-2\n', 0o644)
  // a fresh node: nothing installed, no service, no module loaded
  write('var/lib/zxlab/node.json', JSON.stringify({ packages: {}, services: {}, modules: [] }, null, 2) + '\n', 0o644)
  // apt trusts the distribution's keys, as on the machine
  const trusted = '/etc/apt/trusted.gpg.d'
  if (fs.existsSync(trusted)) fs.cpSync(trusted, path.join(host.root, 'etc/apt/trusted.gpg.d'), { recursive: true })
  for (const tool of tools) write(path.join(shimDir(tool), tool), shimText(tool), 0o755)
  for (const tool of ABSENT_TOOLS) write(path.join(shimDir(tool), tool), absentText(tool), 0o755)

  // Homes: skel + authorized_keys, owned by their user.
  for (const b of BIND_MOUNTS) {
    if (!b.owner) continue
    const user = users.get(b.owner)
    if (!user) throw new Error(`lab: user ${b.owner} missing`)
    const home = path.join(host.root, b.src)
    fs.cpSync('/etc/skel', home, { recursive: true })
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 })
    fs.writeFileSync(path.join(home, '.ssh/authorized_keys'), pubKey, { mode: 0o600 })
    chownR(home, user.uid, user.gid)
  }

  fs.mkdirSync(sshDir(host), { recursive: true, mode: 0o755 })
  await genHostKeys(host)
  fs.writeFileSync(sshdConfig(host), sshdConfigText(host), { mode: 0o644 })
}

/** mkdir -p that leaves every directory it creates below `base` at 0755. */
function mkdirTraversable(base: string, dir: string) {
  const rel = path.relative(base, dir)
  let cur = base
  for (const part of rel.split(path.sep).filter(Boolean)) {
    cur = path.join(cur, part)
    if (!fs.existsSync(cur)) {
      fs.mkdirSync(cur, { mode: 0o755 })
      fs.chmodSync(cur, 0o755)
    }
  }
}

/**
 * The sh script that sets up a host's view (hostname, the /etc, /root and /var/lib overlays, bind mounts,
 * its shims over the machine's own tools, a cgroup v2 hierarchy at /sys/fs/cgroup), then runs
 * `tail`.
 */
function hostScript(host: LabHost, tailCmd: string): string {
  const binds = [...BIND_MOUNTS, ...shadowMounts([...installedTools(), ...ABSENT_TOOLS])]
  return [
    'set -e',
    `hostname ${shq(host.name)}`,
    ...OVERLAYS.map(
      (o) => `mount -t overlay zxlab-${o.upper} -o ${shq(`lowerdir=${o.dst},upperdir=${path.join(host.root, o.upper)},workdir=${overlayWork(host, o)}`)} ${shq(o.dst)}`
    ),
    ...binds.map((b) => `mount --bind ${shq(path.join(host.root, b.src))} ${shq(b.dst)}`),
    // this machine may be on cgroup v1; the kubelet (and kubeadm's preflight) want v2
    'mount -t cgroup2 none /sys/fs/cgroup',
    tailCmd,
  ].join('\n')
}

function hostArgv(host: LabHost, script: string): string[] {
  return ['netns', 'exec', host.netns, 'unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', script]
}

function ensureRootMountPoints() {
  for (const b of BIND_MOUNTS) {
    if (underOverlay(b.dst)) continue // the mount point is in the host's upper layer
    if (b.kind === 'dir') fs.mkdirSync(b.dst, { recursive: true })
    else if (!fs.existsSync(b.dst)) throw new Error(`lab: mount point ${b.dst} does not exist`)
  }
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
}

// ---------------------------------------------------------------------------
// Stand-ins: bundled with esbuild into a cache (kept across labs), copied in at labUp

/** Every file under a folder, relative paths, sorted. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name)
    if (e.isDirectory()) out.push(...filesUnder(dir, r))
    else if (e.isFile()) out.push(r)
  }
  return out.sort()
}

const BUNDLE_OPTIONS = {
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // shared code in chunks, loaded once however many tools a process imports
  splitting: true,
  // where the stand-in API reads the OpenAPI documents (_openapi.ts): the same path on every host
  define: { 'process.env.ZXLAB_OPENAPI_BUILTIN': JSON.stringify(OPENAPI_DIR), 'process.env.ZXLAB_OPENAPI_INDEX_BUILTIN': JSON.stringify(OPENAPI_INDEX) },
  chunkNames: 'chunks/[name]-[hash]', // not beside the tools: each <tool>.mjs there gets a shim
  // CommonJS dependencies call require(): give the ESM bundle one
  banner: { js: "import { createRequire as __zxlabCreateRequire } from 'node:module'; const require = __zxlabCreateRequire(import.meta.url);" },
  logLevel: 'silent',
} as const

/**
 * Bundle every lab/standins/<tool>.ts (not _*.ts) into .lab-cache/standins/<tool>.mjs, one
 * self-contained ESM file each (npm dependencies included; shared code in chunks beside them).
 * Skipped when the sources, fixtures, package-lock.json and the options are unchanged since the
 * last bundle.
 */
export async function bundleStandins(): Promise<StandinsInfo> {
  const t0 = performance.now()
  const files = filesUnder(STANDINS_SRC)
  const tools = files.filter((f) => !f.includes(path.sep) && f.endsWith('.ts') && !f.startsWith('_')).map((f) => f.slice(0, -3))
  const hash = createHash('sha256')
  for (const f of files) hash.update(`${f}\0`).update(fs.readFileSync(path.join(STANDINS_SRC, f))).update('\0')
  hash.update(fs.readFileSync(path.join(REPO, 'package-lock.json'))).update(JSON.stringify(BUNDLE_OPTIONS))
  const stamp = hash.digest('hex')
  const stampFile = path.join(STANDINS_CACHE, '.stamp')
  const fresh = () => {
    try {
      return fs.readFileSync(stampFile, 'utf8') === stamp && tools.every((t) => fs.existsSync(path.join(STANDINS_CACHE, `${t}.mjs`)))
    } catch {
      return false
    }
  }
  if (fresh()) return { tools, ms: Math.round(performance.now() - t0), cached: true }
  fs.rmSync(STANDINS_CACHE, { recursive: true, force: true })
  fs.mkdirSync(STANDINS_CACHE, { recursive: true })
  await build({ ...BUNDLE_OPTIONS, entryPoints: tools.map((t) => path.join(STANDINS_SRC, `${t}.ts`)), outdir: STANDINS_CACHE })
  const fixtures = path.join(STANDINS_SRC, 'fixtures')
  if (fs.existsSync(fixtures)) fs.cpSync(fixtures, path.join(STANDINS_CACHE, 'fixtures'), { recursive: true })
  fs.writeFileSync(stampFile, stamp)
  return { tools, ms: Math.round(performance.now() - t0), cached: false }
}

/** Copy the bundles to /srv/zxplay-lab/standins (readable by every lab user). */
function installStandins() {
  fs.rmSync(STANDINS_DIR, { recursive: true, force: true })
  fs.cpSync(STANDINS_CACHE, STANDINS_DIR, { recursive: true, filter: (src) => path.basename(src) !== '.stamp' })
  for (const f of filesUnder(STANDINS_DIR)) fs.chmodSync(path.join(STANDINS_DIR, f), 0o644)
  const dirs = [STANDINS_DIR, ...filesUnder(STANDINS_DIR).map((f) => path.dirname(path.join(STANDINS_DIR, f)))]
  for (const d of new Set(dirs)) fs.chmodSync(d, 0o755)
}

/** /srv/zxplay-lab/lab.json: the hosts, for stand-ins that act across hosts (kubeadm join…). */
function writeLabJson(hosts: readonly LabHost[]) {
  const registry = { hosts: Object.fromEntries(hosts.map((h) => [h.name, { address: h.address, root: h.root }])) }
  fs.writeFileSync(LAB_JSON, JSON.stringify(registry, null, 2) + '\n', { mode: 0o644 })
  fs.chmodSync(LAB_JSON, 0o644)
}

/**
 * Start the host's sshd, detached (it outlives this process), and wait until it
 * answers on address:22. Fails fast, with the tail of its log, if it exits first.
 */
async function launchSshd(host: LabHost): Promise<void> {
  let exited: string | undefined
  const fd = fs.openSync(sshdLog(host), 'a')
  try {
    const child = spawn(
      'ip',
      hostArgv(host, hostScript(host, `exec /usr/sbin/sshd -D -e -f ${shq(sshdConfig(host))}`)),
      { detached: true, stdio: ['ignore', fd, fd] }
    )
    child.on('error', (e) => {
      exited = `could not be spawned (${e.message})`
    })
    child.on('exit', (code, signal) => {
      exited = `exited (${signal ?? `code ${code}`})`
    })
    child.unref()
  } finally {
    fs.closeSync(fd)
  }
  const ok = await waitProbe(host.address, (p) => p === 'ssh', SSHD_WAIT_MS, () => exited !== undefined)
  // If it exited, another sshd may still be serving (startSshd twice): one last look.
  if (ok || (await probe(host.address, 500)) === 'ssh') return
  throw new Error(
    `lab: sshd on ${host.name} (${host.address}:22, netns ${host.netns}) ` +
      (exited ? `${exited} before accepting connections.` : `did not accept connections within ${SSHD_WAIT_MS / 1000} s.`) +
      `\n--- tail of ${sshdLog(host)} ---\n${tail(sshdLog(host))}`
  )
}

// ---------------------------------------------------------------------------
// Client-side files

/**
 * A lab inventory: the lab user and its key, extra `all.vars` lines, the first host the control
 * plane and the others workers. Shared with the real-host lab (lab/hosts/lab.ts).
 */
export function labInventoryText(o: { by: string; hosts: readonly { name: string; address: string }[]; key: string; knownHosts: string; vars?: string[] }): string {
  const entry = (h: { name: string; address: string }) => `        ${h.name}: { address: ${h.address} }`
  const [cp, ...workers] = o.hosts
  return [
    `# written by ${o.by} — do not edit`,
    'all:',
    '  vars:',
    `    user: ${LAB_USER}`,
    `    key: ${o.key}`,
    `    known_hosts: ${o.knownHosts}`,
    ...(o.vars ?? []),
    '  children:',
    '    control_plane:',
    ...(cp ? ['      hosts:', entry(cp)] : ['      hosts: {}']),
    '    workers:',
    ...(workers.length ? ['      hosts:', ...workers.map(entry)] : ['      hosts: {}']),
    '',
  ].join('\n')
}

/**
 * Lab hosts (either lab's) have this machine's 2 CPUs, of which the control plane's own pods
 * request 1.05: small Ray pods, as a user of such machines would set, so the head and 3 workers
 * fit, and a rolling restart has room for its surge pod (1-CPU pods stay Pending for lack of CPU).
 */
export const LAB_RAY_VARS = ['    ray: { head_cpu: 250m, worker_cpu: 250m, head_memory: 512Mi, worker_memory: 512Mi }']

function inventoryText(hosts: readonly LabHost[], aws: LabAws | undefined): string {
  return labInventoryText({
    by: 'npm run lab:netns:up',
    hosts,
    key: labFiles.key,
    knownHosts: labFiles.knownHosts,
    vars: [
      ...(aws ? awsInventoryLines(aws) : []), // none: no AWS role configured, the AWS step is left out
      ...LAB_RAY_VARS,
    ],
  })
}

function knownHostsLines(host: LabHost): string[] {
  return HOST_KEY_TYPES.map((t) => {
    const [type, key] = fs.readFileSync(`${hostKeyFile(host, t)}.pub`, 'utf8').trim().split(/\s+/)
    return `${host.address} ${type} ${key}`
  })
}

type State = {
  createdAt: string
  bridge: string
  bridgeAddress: string
  hosts: LabHost[]
}

function makeLab(hosts: LabHost[], becomePass: string): Lab {
  return {
    dir: LAB_DIR,
    inventory: labFiles.inventory,
    key: labFiles.key,
    knownHosts: labFiles.knownHosts,
    becomePass,
    hosts,
  }
}

// ---------------------------------------------------------------------------
// Public API

/**
 * Bring up a fresh lab of `hosts` hosts (default 3), after cleaning whatever was there. `aws:
 * false`: no STS endpoint and no `aws:` block in the inventory, as on a machine without AWS.
 */
export async function labUp(opts: { hosts?: number; aws?: boolean } = {}): Promise<Lab> {
  const n = opts.hosts ?? 3
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) {
    throw new Error(`lab: hosts must be an integer from 1 to ${MAX_HOSTS}, got ${n}`)
  }
  if (process.getuid?.() !== 0) throw new Error('lab: must run as root')

  await labDown()
  const hosts = Array.from({ length: n }, (_, i) => hostFor(i + 1))

  // Client side: .lab/ with the client key and the become password.
  fs.mkdirSync(LAB_DIR, { recursive: true, mode: 0o700 })
  const becomePass = randomBytes(15).toString('base64url')
  fs.writeFileSync(labFiles.becomePass, becomePass + '\n', { mode: 0o600 })
  fs.chmodSync(labFiles.becomePass, 0o600)
  // The local STS endpoint (lab/sts/sts-lab.ts) starts while the hosts are set up.
  const awsStarting = opts.aws === false ? Promise.resolve(undefined) : startLabSts(LAB_DIR)
  awsStarting.catch(() => {})

  const network = setupNetwork(hosts)
  network.catch(() => {}) // awaited below; avoid an unhandled rejection meanwhile
  const bundling = bundleStandins()
  bundling.catch(() => {})
  await Promise.all([ensureUsers(becomePass), genKey(labFiles.key, 'ed25519', 'zxplay-lab')])
  const pubKey = fs.readFileSync(`${labFiles.key}.pub`, 'utf8')
  const users = new Map<string, Passwd>()
  for (const u of [LAB_USER, LAB_PW_USER]) {
    const p = getUser(u)
    if (!p) throw new Error(`lab: user ${u} was not created`)
    users.set(u, p)
  }

  ensureRootMountPoints()
  fs.mkdirSync(SRV_ROOT, { recursive: true, mode: 0o755 })
  fs.chmodSync(SRV_ROOT, 0o755)
  const standins = await bundling
  installStandins()
  buildOpenapiIndex(OPENAPI_INDEX, OPENAPI_DIR)
  writeLabJson(hosts)
  await mapLimit(hosts, 8, (h) => prepareHost(h, pubKey, users, standins.tools))
  await network

  const results = await Promise.allSettled(hosts.map(launchSshd))
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message ?? r.reason)] : []))
  if (failed.length) throw new Error(failed.join('\n\n'))

  fs.writeFileSync(labFiles.knownHosts, hosts.flatMap(knownHostsLines).join('\n') + '\n', { mode: 0o644 })
  const aws = await awsStarting
  fs.writeFileSync(labFiles.inventory, inventoryText(hosts, aws), { mode: 0o644 })
  const state: State = { createdAt: new Date().toISOString(), bridge: BRIDGE, bridgeAddress: `${BRIDGE_ADDRESS}/24`, hosts }
  fs.writeFileSync(labFiles.state, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 })
  return { ...makeLab(hosts, becomePass), standins, aws }
}

async function setupNetwork(hosts: readonly LabHost[]) {
  // Root side: bridge, namespaces, veth pairs (peer `eth0` straight into the ns).
  const root = await ipBatch([
    `link add ${BRIDGE} type bridge`,
    `addr add ${BRIDGE_ADDRESS}/24 dev ${BRIDGE}`,
    `link set ${BRIDGE} up`,
    ...hosts.flatMap((h) => [
      `netns add ${h.netns}`,
      `link add ${vethFor(h)} type veth peer name eth0 netns ${h.netns}`,
      `link set ${vethFor(h)} master ${BRIDGE} up`,
    ]),
  ])
  if (root.code !== 0) throw new Error(`lab: network setup failed: ${root.stderr.trim()}`)
  // Inside each namespace: lo, eth0 and its address.
  await mapLimit(hosts, 16, async (h) => {
    const r = await ipBatch(
      ['link set lo up', `addr add ${h.address}/24 dev eth0`, 'link set eth0 up'],
      ['-n', h.netns]
    )
    if (r.code !== 0) throw new Error(`lab: network setup in ${h.netns} failed: ${r.stderr.trim()}`)
  })
}

/** Remove the whole lab (namespaces, links, processes, /srv/zxplay-lab, .lab/ contents). Users are kept. */
export async function labDown(): Promise<void> {
  const namespaces = await listLabNetns()
  await Promise.all([...namespaces.map(killNetns), stopLabSts(LAB_DIR)])
  const strays = strayLabProcesses()
  killPids(strays)
  await waitGone(strays, 2000)

  // Deleting a namespace lets the kernel tear its veth pairs down in one batch,
  // which is much faster than `link del` one by one (~20 ms each); wait for
  // that, then delete whatever is left (and the bridge) explicitly.
  if (namespaces.length) await ipBatch(namespaces.map((ns) => `netns del ${ns}`))
  const deadline = Date.now() + 2000
  let links = await listLabLinks()
  while (links.some((l) => l !== BRIDGE) && Date.now() < deadline) {
    await sleep(10)
    links = await listLabLinks()
  }
  if (links.length) await ipBatch(links.map((l) => `link del ${l}`))
  const left = [...(await listLabNetns()), ...(await listLabLinks())]
  if (left.length) throw new Error(`lab: could not remove ${left.join(', ')}`)

  fs.rmSync(SRV_ROOT, { recursive: true, force: true })
  if (fs.existsSync(LAB_DIR)) {
    for (const e of fs.readdirSync(LAB_DIR)) fs.rmSync(path.join(LAB_DIR, e), { recursive: true, force: true })
  }
}

/** The lab currently up (from .lab/state.json), or undefined if none. */
export function labInfo(): Lab | undefined {
  let state: State
  try {
    state = JSON.parse(fs.readFileSync(labFiles.state, 'utf8')) as State
  } catch {
    return undefined
  }
  const becomePass = fs.readFileSync(labFiles.becomePass, 'utf8').trim()
  return { ...makeLab(state.hosts, becomePass), aws: labAwsInfo(LAB_DIR) }
}

function findHost(lab: Lab, name: string): LabHost {
  const host = lab.hosts.find((h) => h.name === name)
  if (!host) throw new Error(`lab: no host ${name} (have ${lab.hosts.map((h) => h.name).join(', ')})`)
  return host
}

/** Kill that host's sshd (every process in its netns) and wait until its port is closed. */
export async function stopSshd(lab: Lab, name: string): Promise<void> {
  const host = findHost(lab, name)
  await killNetns(host.netns)
  if (!(await waitProbe(host.address, (p) => p !== 'ssh', SSHD_WAIT_MS))) {
    throw new Error(`lab: ${host.address}:22 still accepts connections after killing ${host.name}'s sshd`)
  }
}

/** Start that host's sshd again and wait until it accepts connections. */
export async function startSshd(lab: Lab, name: string): Promise<void> {
  const host = findHost(lab, name)
  await launchSshd(host)
}

/**
 * Take eth0 down inside the host's namespace: the host goes silent, so a
 * connect times out. A permanent neighbour entry for its address on the root
 * side keeps the kernel from answering "no route to host" (EHOSTUNREACH)
 * once ARP for it would fail.
 */
export async function linkDown(lab: Lab, name: string): Promise<void> {
  const host = findHost(lab, name)
  const { stdout } = await run('ip', ['-n', host.netns, '-j', 'link', 'show', 'eth0'])
  const mac = (JSON.parse(stdout) as { address?: string }[])[0]?.address
  if (!mac) throw new Error(`lab: no MAC address for eth0 in ${host.netns}`)
  await run('ip', ['neigh', 'replace', host.address, 'lladdr', mac, 'dev', BRIDGE, 'nud', 'permanent'])
  await run('ip', ['-n', host.netns, 'link', 'set', 'eth0', 'down'])
}

/** Bring eth0 back up inside the host's namespace (and drop linkDown's neighbour entry). */
export async function linkUp(lab: Lab, name: string): Promise<void> {
  const host = findHost(lab, name)
  await run('ip', ['neigh', 'del', host.address, 'dev', BRIDGE], { check: false })
  await run('ip', ['-n', host.netns, 'link', 'set', 'eth0', 'up'])
  // The bridge port follows the carrier asynchronously (up to ~1 s): wait until the host answers again.
  if (!(await waitProbe(host.address, (p) => p === 'ssh' || p === 'refused', 5000))) {
    throw new Error(`lab: ${host.name} (${host.address}) still unreachable 5 s after linkUp`)
  }
}

/** New host keys for that host, then restart its sshd. known_hosts is NOT updated. */
export async function regenerateHostKeys(lab: Lab, name: string): Promise<void> {
  const host = findHost(lab, name)
  await stopSshd(lab, name)
  await genHostKeys(host)
  await launchSshd(host)
}

/**
 * Where a path on a host lives on the root side, e.g.
 * hostPath(lab, 'node1', '/etc/cni/net.d/x') → /srv/zxplay-lab/node1/etc/cni/net.d/x,
 * hostPath(lab, 'node1', '/home/zxlab/.bashrc') → /srv/zxplay-lab/node1/home/.bashrc,
 * hostPath(lab, 'node1', '/etc/fstab') → /srv/zxplay-lab/node1/etc/fstab (the /etc overlay's upper
 * layer: files the host wrote or changed; others are the machine's, read through the overlay).
 * Throws for paths that are not per-host (they are shared with the real machine).
 */
export function hostPath(lab: Lab, name: string, p: string): string {
  const host = findHost(lab, name)
  const abs = path.posix.resolve('/', p)
  let best: BindMount | undefined
  for (const b of BIND_MOUNTS) {
    if (abs === b.dst || (b.kind === 'dir' && abs.startsWith(b.dst + '/'))) {
      if (!best || b.dst.length > best.dst.length) best = b
    }
  }
  if (best) return path.join(host.root, best.src, abs.slice(best.dst.length))
  // under /etc or /root: the host's upper layer (what it wrote or changed there)
  const o = OVERLAYS.find((x) => abs === x.dst || abs.startsWith(x.dst + '/'))
  if (o) return path.join(host.root, o.upper, abs.slice(o.dst.length))
  throw new Error(
    `lab: ${abs} is not a per-host path (per-host: ${[...OVERLAYS.map((x) => x.dst), ...BIND_MOUNTS.map((b) => b.dst)].join(', ')})`
  )
}

/** Find a pid of the host's sshd (any sshd process in its netns shares its mount and uts ns). */
async function sshdPid(host: LabHost): Promise<number | undefined> {
  for (const pid of await netnsPids(host.netns)) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sshd') return pid
    } catch {
      // gone
    }
  }
  return undefined
}

/**
 * Run a shell command as root inside that host's namespaces (net, and the
 * sshd's mount + uts namespaces), e.g. `hostname`, `ls /etc/cni/net.d`.
 * If the host's sshd is stopped, the same view is built afresh for the command.
 */
export async function onHost(
  lab: Lab,
  name: string,
  cmd: string
): Promise<{ stdout: string; stderr: string; code: number }> {
  const host = findHost(lab, name)
  const pid = await sshdPid(host)
  if (pid !== undefined) {
    const r = await run('nsenter', ['-t', String(pid), '-m', '-u', '-n', 'sh', '-c', cmd], { check: false })
    // The sshd may have exited between finding and entering it: fall through then.
    if (!(r.code !== 0 && /nsenter: (cannot open|reassociate)/.test(r.stderr))) return r
  }
  return run('ip', hostArgv(host, hostScript(host, `exec sh -c ${shq(cmd)}`)), { check: false })
}
