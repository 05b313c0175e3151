// The real-host lab: N Debian systems booted with `systemd-nspawn -b` (systemd as PID 1, real
// sshd, apt, dpkg, systemctl), each from a clean overlay over the cached rootfs, with its own
// address on bridge zxreal0, hostname, machine-id, host keys and lab users. Debian packages reach
// them only through apt-cacher-ng on the bridge address; pkgs.k8s.io is the lab's own signed
// repository (repo.ts) on that address. `labDown` leaves no container, cgroup, mount, bridge or
// process. With `aws: true`, the lab's STS endpoint (lab/sts/sts-lab.ts) runs on this machine, where
// the runner calls STS, and the inventory's aws: block points at it, as in the namespace lab.
// See lab/hosts/README.md for what is real and the machine facts it works around.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { killPids, tail, waitGone, isAlive } from '../proc.ts'
import { LAB_RAY_VARS, labInventoryText, OPENAPI_DIR, OPENAPI_INDEX, run, shq, waitProbe } from '../netns/lab.ts'
import { buildOpenapiIndex } from '../standins/_openapi.ts'
import { awsInventoryLines, labStsPids, startLabSts, stopLabSts, type LabAws } from '../sts/sts-lab.ts'
import {
  ACNG_PORT,
  BRIDGE,
  CACHE,
  DEFAULT_DIST,
  GATEWAY,
  hostAddress,
  LAB_DIR,
  LAB_PW_USER,
  LAB_USER,
  MACHINE_PREFIX,
  MAX_HOSTS,
  PREFIX,
  REPO,
  RUN,
  type Dist,
} from './config.ts'
import { buildRepository, NODE_ON_HOST, REPO_HOST, repoFiles } from './repo.ts'
import { labProblems, probeMachine } from './preconditions.ts'
import { debianMirror, ensureRootfs } from './rootfs.ts'

export type RealHost = { name: string; address: string; dist: Dist; machine: string; dir: string; root: string }
export type RealLab = {
  dir: string
  inventory: string
  key: string
  knownHosts: string
  becomePass: string
  hosts: RealHost[]
  timings: Record<string, number> // ms per step of labUp
  aws?: LabAws // with labUp({ aws: true }): the local STS endpoint
}
type State = { hosts: RealHost[]; pids: Record<string, number> }

const STATE = path.join(RUN, 'state.json')
/** The OpenAPI documents' compact index the stand-in API reads, bind-mounted where the bundles look (OPENAPI_INDEX). */
const OPENAPI_INDEX_HERE = path.join(RUN, 'openapi')
const SSH_WAIT_MS = 60_000
const STOP_WAIT_MS = 20_000
const files = {
  inventory: path.join(LAB_DIR, 'inventory.yaml'),
  key: path.join(LAB_DIR, 'id_ed25519'),
  knownHosts: path.join(LAB_DIR, 'known_hosts'),
  becomePass: path.join(LAB_DIR, 'become-pass'),
  info: path.join(LAB_DIR, 'lab.json'),
}
// the kernel is the machine's: these are built in, and the hosts' modprobe is told so
const BUILTIN_MODULES = ['kernel/fs/overlayfs/overlay.ko', 'kernel/net/bridge/br_netfilter.ko', 'kernel/net/netfilter/nf_conntrack.ko']

const write = (file: string, text: string, mode = 0o644) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text, { mode })
  fs.chmodSync(file, mode)
}
const at = (h: RealHost, p: string) => path.join(h.root, p)
const chroot = (h: RealHost, script: string) => run('chroot', [h.root, 'sh', '-c', script])

// ---------------------------------------------------------------------------
// The bridge, the apt cache, the repository server

async function bridgeUp() {
  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge'])
  await run('ip', ['addr', 'add', `${GATEWAY}/${PREFIX}`, 'dev', BRIDGE])
  await run('ip', ['link', 'set', BRIDGE, 'up'])
}

/** Start a detached process (it outlives this one) with its output in `log`; its pid. */
function detach(cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): number {
  const fd = fs.openSync(log, 'a', 0o600)
  try {
    const { NODE_OPTIONS: _, ...clean } = env
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: clean })
    child.unref()
    if (child.pid === undefined) throw new Error(`lab: ${cmd} could not be started`)
    return child.pid
  } finally {
    fs.closeSync(fd)
  }
}

async function waitPort(host: string, port: number, pid: number, log: string, what: string) {
  const deadline = Date.now() + 15_000
  for (;;) {
    const r = await run('sh', ['-c', `ss -Hltn 'sport = :${port}' | grep -q ${shq(host)}`], { check: false })
    if (r.code === 0) return
    if (!isAlive(pid) || Date.now() > deadline) throw new Error(`lab: ${what} did not listen on ${host}:${port}\n--- tail of ${log} ---\n${tail(log)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Debian's apt-cacher-ng with its own config, cache (kept in CACHE) and log; Debian's mirror only. */
async function startAptCache(): Promise<number> {
  const dir = path.join(RUN, 'apt-cacher-ng')
  const cache = path.join(CACHE, 'apt-cacher-ng')
  for (const d of [dir, cache, path.join(dir, 'log')]) fs.mkdirSync(d, { recursive: true })
  const mirror = debianMirror()
  write(path.join(dir, 'backends_debian'), `${mirror}/\n`)
  write(
    path.join(dir, 'acng.conf'),
    [
      `CacheDir: ${cache}`,
      `LogDir: ${path.join(dir, 'log')}`,
      'SupportDir: /usr/lib/apt-cacher-ng',
      `Port: ${ACNG_PORT}`,
      `BindAddress: ${GATEWAY}`,
      'Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian',
      `PidFile: ${path.join(dir, 'acng.pid')}`,
      'ExThreshold: 4',
      '',
    ].join('\n')
  )
  // apt-cacher-ng runs as root here, and its cache directory must be its own
  const log = path.join(dir, 'stdout.log')
  const pid = detach('apt-cacher-ng', ['-c', dir, 'ForeGround=1'], log)
  await waitPort(GATEWAY, ACNG_PORT, pid, log, 'apt-cacher-ng')
  return pid
}

async function startRepoServer(): Promise<number> {
  const f = repoFiles()
  const pid = detach(process.execPath, ['--import', 'tsx', path.join(REPO, 'lab/hosts/repo-server.ts'), f.www, GATEWAY, '443', f.cert, f.key], f.log, { ...process.env })
  await waitPort(GATEWAY, 443, pid, f.log, `the ${REPO_HOST} server`)
  return pid
}

// ---------------------------------------------------------------------------
// Hosts

/** The host's files before it boots: identity, network, users, apt, the lab CA, modules. */
async function prepareHost(h: RealHost, all: RealHost[], pubKey: string, becomePass: string) {
  for (const d of ['upper', 'work', 'root', 'containerd']) fs.mkdirSync(path.join(h.dir, d), { recursive: true })
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${(await ensureRootfs(h.dist)).dir},upperdir=${h.dir}/upper,workdir=${h.dir}/work`, h.root])
  write(at(h, '/etc/hostname'), `${h.name}\n`)
  write(at(h, '/etc/hosts'), ['127.0.0.1\tlocalhost', `127.0.1.1\t${h.name}`, ...all.map((o) => `${o.address}\t${o.name}`), `${GATEWAY}\t${REPO_HOST}`, ''].join('\n'))
  write(at(h, '/etc/machine-id'), `${randomBytes(16).toString('hex')}\n`, 0o444)
  write(at(h, '/etc/systemd/network/10-host0.network'), `[Match]\nName=host0\n\n[Network]\nAddress=${h.address}/${PREFIX}\nGateway=${GATEWAY}\n`)
  write(
    at(h, '/etc/apt/apt.conf.d/01zxplay-lab'),
    `// the lab: Debian through the apt cache on the bridge; the lab's ${REPO_HOST} directly\nAcquire::http::Proxy "http://${GATEWAY}:${ACNG_PORT}/";\nAcquire::http::Proxy::${GATEWAY} "DIRECT";\nAcquire::https::Proxy::${REPO_HOST} "DIRECT";\n`
  )
  fs.copyFileSync(repoFiles().caCert, at(h, '/usr/local/share/ca-certificates/zxplay-lab-ca.crt'))
  const kernel = os.release()
  write(at(h, `/lib/modules/${kernel}/modules.builtin`), `${BUILTIN_MODULES.join('\n')}\n`)
  write(at(h, `/etc/sudoers.d/zxplay-lab`), `${LAB_USER} ALL=(ALL) NOPASSWD:ALL\n${LAB_PW_USER} ALL=(ALL) ALL\n`, 0o440)
  fs.mkdirSync(at(h, NODE_ON_HOST.replace(/\/[^/]+$/, '')), { recursive: true })
  const users = [LAB_USER, LAB_PW_USER]
  await chroot(
    h,
    [
      'set -e',
      ...users.map((u) => `useradd -m -s /bin/bash ${u}; install -d -m 700 -o ${u} -g ${u} /home/${u}/.ssh; printf '%s\\n' ${shq(pubKey)} > /home/${u}/.ssh/authorized_keys; chown ${u}: /home/${u}/.ssh/authorized_keys; chmod 600 /home/${u}/.ssh/authorized_keys`),
      `echo ${shq(`${LAB_PW_USER}:${becomePass}`)} | chpasswd`,
      'systemctl enable systemd-networkd >/dev/null 2>&1',
      'update-ca-certificates >/dev/null',
      `depmod ${shq(kernel)}`,
    ].join('\n')
  )
  await run('ssh-keygen', ['-A', '-f', h.root])
}

/**
 * Boot the host: its own cgroup in every hierarchy first (PID 1 here is not systemd, so nspawn
 * would put every host in the same one), then systemd-nspawn -b on the overlay. The container
 * gets a cgroup2 hierarchy (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY): kubeadm and the kubelet refuse v1.
 */
function bootHost(h: RealHost): number {
  const script = [
    'set -e',
    'for hier in /sys/fs/cgroup/*/; do',
    `  d="\${hier}${h.machine}"; mkdir -p "$d"`,
    '  case "$hier" in */cpuset/) cat "${hier}cpuset.cpus" > "$d/cpuset.cpus"; cat "${hier}cpuset.mems" > "$d/cpuset.mems";; esac',
    '  echo $$ > "$d/cgroup.procs"',
    'done',
    'export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1',
    `exec systemd-nspawn -b --register=no --keep-unit --console=passive -M ${h.machine} -D ${shq(h.root)} --network-bridge=${BRIDGE} --capability=all --system-call-filter='add_key keyctl request_key' --bind=${shq(path.join(h.dir, 'containerd'))}:/var/lib/containerd --bind-ro=${shq(fs.realpathSync(process.execPath))}:${NODE_ON_HOST} --bind-ro=${shq(OPENAPI_DIR)} --bind-ro=${shq(OPENAPI_INDEX_HERE)}:${OPENAPI_INDEX}`,
  ].join('\n')
  return detach('sh', ['-c', script], path.join(h.dir, 'console.log'))
}

// ---------------------------------------------------------------------------
// Up and down

/**
 * A fresh lab: `hosts` machines (default 1), host i running dists[i] (else the last given, else
 * Debian 12). `aws: true`: the STS endpoint too, and its aws: block in the inventory (default none:
 * no AWS role configured, site's AWS step left out).
 */
export async function labUp(opts: { hosts?: number; dists?: Dist[]; aws?: boolean; log?: (s: string) => void } = {}): Promise<RealLab> {
  const n = opts.hosts ?? 1
  const log = opts.log ?? (() => {})
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new Error(`lab: hosts must be an integer from 1 to ${MAX_HOSTS}, got ${n}`)
  const dists = opts.dists?.length ? opts.dists : [DEFAULT_DIST]
  const problems = labProblems(await probeMachine(dists), { hosts: n, dists })
  if (problems.length) throw new Error(`lab up: nothing was changed, because:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  await labDown()
  const timings: Record<string, number> = {}
  const timed = async <T>(step: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now()
    try {
      return await f()
    } finally {
      timings[step] = Math.round(performance.now() - t0)
    }
  }
  const hosts: RealHost[] = Array.from({ length: n }, (_, i) => {
    const name = `node${i + 1}`
    const dir = path.join(RUN, 'hosts', name)
    return { name, address: hostAddress(i + 1), dist: dists[i] ?? dists[dists.length - 1]!, machine: `${MACHINE_PREFIX}${name}`, dir, root: path.join(dir, 'root') }
  })
  const state: State = { hosts, pids: {} }
  let awsStarting: Promise<LabAws | undefined> = Promise.resolve(undefined)
  const save = () => write(STATE, JSON.stringify(state, null, 2) + '\n')
  fs.mkdirSync(RUN, { recursive: true })
  save()
  try {
    for (const d of new Set(hosts.map((h) => h.dist))) await timed(`rootfs ${d}`, () => ensureRootfs(d, log))
    await timed('bridge', bridgeUp)
    state.pids['apt-cacher-ng'] = await timed('apt cache', startAptCache)
    save()
    await timed('repository', buildRepository)
    await timed('openapi index', async () => buildOpenapiIndex(OPENAPI_INDEX_HERE, OPENAPI_DIR))
    state.pids['repo-server'] = await timed('repository server', startRepoServer)
    save()
    fs.rmSync(LAB_DIR, { recursive: true, force: true })
    fs.mkdirSync(LAB_DIR, { recursive: true, mode: 0o700 })
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'zxplay-real-lab', '-f', files.key])
    const pubKey = fs.readFileSync(`${files.key}.pub`, 'utf8').trim()
    const becomePass = randomBytes(12).toString('base64url')
    write(files.becomePass, `${becomePass}\n`, 0o600)
    // started now, awaited before the inventory: it comes up while the hosts are prepared
    if (opts.aws) awsStarting = startLabSts(LAB_DIR)
    awsStarting.catch(() => {})
    await timed('prepare hosts', () => Promise.all(hosts.map((h) => prepareHost(h, hosts, pubKey, becomePass))))
    for (const h of hosts) state.pids[h.machine] = bootHost(h)
    save()
    await timed('boot to ssh', () =>
      Promise.all(
        hosts.map(async (h) => {
          const pid = state.pids[h.machine]!
          if (!(await waitProbe(h.address, (p) => p === 'ssh', SSH_WAIT_MS, () => !isAlive(pid)))) {
            throw new Error(`lab: ${h.name} (${h.address}) did not answer ssh within ${SSH_WAIT_MS / 1000} s\n--- tail of ${h.dir}/console.log ---\n${tail(path.join(h.dir, 'console.log'))}`)
          }
        })
      )
    )
    const known = hosts.flatMap((h) =>
      fs
        .readdirSync(at(h, '/etc/ssh'))
        .filter((f) => /^ssh_host_.*_key\.pub$/.test(f))
        .map((f) => `${h.address} ${fs.readFileSync(at(h, `/etc/ssh/${f}`), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}`)
    )
    write(files.knownHosts, known.join('\n') + '\n')
    const aws = opts.aws ? await timed('sts', () => awsStarting) : undefined
    write(files.inventory, labInventoryText({ by: 'npm run lab:up', hosts, key: files.key, knownHosts: files.knownHosts, vars: [...(aws ? awsInventoryLines(aws) : []), ...LAB_RAY_VARS] }))
    const lab: RealLab = { dir: LAB_DIR, inventory: files.inventory, key: files.key, knownHosts: files.knownHosts, becomePass, hosts, timings, aws }
    write(files.info, JSON.stringify({ ...lab, becomePass: undefined }, null, 2) + '\n')
    return lab
  } catch (e) {
    await awsStarting.catch(() => {}) // so that labDown finds the endpoint it started
    await labDown()
    throw e
  }
}

/** PID 1 of a host's container: the child of its nspawn (the launcher exec'd nspawn), for nsenter. */
export function hostPid1(h: RealHost): number | undefined {
  const launcher = readState()?.pids[h.machine]
  if (!launcher || !isAlive(launcher)) return undefined
  const children = fs.readFileSync(`/proc/${launcher}/task/${launcher}/children`, 'utf8').trim().split(/\s+/).map(Number)
  return children.find((c) => c > 0)
}

/** Where a path inside a host lies on this machine: its root is the overlay mounted here, so root-side reads and writes are the host's. */
export function realHostPath(lab: RealLab, name: string, p: string): string {
  const h = lab.hosts.find((x) => x.name === name)
  if (!h) throw new Error(`lab: no host ${name}`)
  return at(h, path.posix.resolve('/', p))
}

/** Run a shell command inside a host as root (all its namespaces), not through ssh. */
export async function onRealHost(lab: RealLab, name: string, cmd: string) {
  const h = lab.hosts.find((x) => x.name === name)
  if (!h) throw new Error(`lab: no host ${name}`)
  const pid = hostPid1(h)
  if (!pid) throw new Error(`lab: ${name} is not running`)
  return run('nsenter', ['-t', String(pid), '-a', 'sh', '-c', cmd], { check: false })
}

function readState(): State | undefined {
  try {
    return JSON.parse(fs.readFileSync(STATE, 'utf8')) as State
  } catch {
    return undefined
  }
}

/** Every process in the lab's cgroups (the hosts and whatever they started). */
function cgroupPids(): number[] {
  const out: number[] = []
  const walk = (dir: string) => {
    let entries: fs.Dirent[] = []
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    try {
      out.push(...fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number))
    } catch {
      // a hierarchy without cgroup.procs
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name))
  }
  for (const d of labCgroups()) walk(d)
  return [...new Set(out)]
}

function labCgroups(): string[] {
  let hiers: string[] = []
  try {
    hiers = fs.readdirSync('/sys/fs/cgroup').map((x) => path.join('/sys/fs/cgroup', x))
  } catch {
    return []
  }
  return hiers.flatMap((hier) => {
    try {
      return fs.readdirSync(hier).filter((x) => x.startsWith(MACHINE_PREFIX)).map((x) => path.join(hier, x))
    } catch {
      return []
    }
  })
}

/** Remove a cgroup tree, deepest first. */
function removeCgroup(dir: string) {
  let entries: fs.Dirent[] = []
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const e of entries) if (e.isDirectory()) removeCgroup(path.join(dir, e.name))
  try {
    fs.rmdirSync(dir)
  } catch {
    // still busy: reported by labLeftovers
  }
}

/** Mount points under RUN, deepest first. */
function labMounts(): string[] {
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  const points = lines.map((l) => l.split(' ')[4] ?? '').filter((p) => p === RUN || p.startsWith(`${RUN}/`))
  return [...new Set(points)].sort((a, b) => b.length - a.length)
}

/** Power the hosts off (SIGTERM to nspawn: a clean shutdown), stop the servers, remove everything. */
export async function labDown(): Promise<void> {
  const state = readState()
  const launchers = Object.entries(state?.pids ?? {})
    .filter(([k]) => k.startsWith(MACHINE_PREFIX))
    .map(([, p]) => p)
    .filter(isAlive)
  // the launcher is `sh` until it execs nspawn: its pid is nspawn's
  for (const pid of launchers) process.kill(pid, 'SIGTERM')
  await waitGone(launchers, STOP_WAIT_MS)
  killPids(launchers.filter(isAlive))
  const servers = Object.entries(state?.pids ?? {})
    .filter(([k]) => !k.startsWith(MACHINE_PREFIX))
    .map(([, p]) => p)
    .filter(isAlive)
  for (const pid of servers) process.kill(pid, 'SIGTERM')
  await waitGone(servers, 5_000)
  killPids(servers.filter(isAlive))
  await stopLabSts(LAB_DIR)
  // anything a host left behind in its cgroups
  for (let i = 0; i < 5 && cgroupPids().length; i++) {
    killPids(cgroupPids())
    await waitGone(cgroupPids(), 2_000)
  }
  for (const m of labMounts()) await run('umount', ['-l', m], { check: false })
  for (const d of labCgroups()) removeCgroup(d)
  await run('ip', ['link', 'del', BRIDGE], { check: false })
  fs.rmSync(RUN, { recursive: true, force: true })
  fs.rmSync(LAB_DIR, { recursive: true, force: true })
}

/** What a down lab must not leave: for tests and `lab:down`'s own check. */
export async function labLeftovers(): Promise<string[]> {
  const out: string[] = []
  if (fs.existsSync(RUN)) out.push(`folder ${RUN}`)
  out.push(...labMounts().map((m) => `mount ${m}`))
  out.push(...labCgroups().map((c) => `cgroup ${c}`))
  out.push(...cgroupPids().map((p) => `process ${p}`))
  out.push(...labStsPids(LAB_DIR).map((p) => `process ${p} (the STS endpoint)`))
  if ((await run('ip', ['link', 'show', BRIDGE], { check: false })).code === 0) out.push(`bridge ${BRIDGE}`)
  const procs = (await run('sh', ['-c', `ps -eo pid=,args= | grep -E 'systemd-nspawn .*-M ${MACHINE_PREFIX}|apt-cacher-ng -c ${RUN}|lab/hosts/repo-server.ts' | grep -v grep || true`])).stdout.trim()
  if (procs) out.push(...procs.split('\n').map((l) => `process ${l.trim()}`))
  return out
}
