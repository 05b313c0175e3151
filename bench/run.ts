// npm run bench [-- --quick] [-- --runs N] [-- --site-only] (the site.mts rerun alone, both transports)
//
// zxplay against ansible-playbook on the same lab hosts, as the same user, and against the floor
// (bench/floor.ts: ssh2 alone). Every figure is a whole process, from spawn to exit, Node start
// included; peak RSS comes from /usr/bin/time. Runners alternate run by run, after a warm-up.
// Needs root (the lab). Not a test: `npm test` does not run it, and nothing here asserts a time.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { labDown as realLabDown, labUp as realLabUp } from '../lab/hosts/lab.ts'
import { labDown, labUp, REPO, type Lab } from '../lab/netns/lab.ts'
import { FACTS_COMMAND } from '../lib/transport/facts.ts'
import { quote, wrapCommand } from '../lib/transport/shell.ts'
import { renderTemplate } from '../lib/engine/template.ts'
import { normalizeMode, uploadScript } from '../lib/transport/upload.ts'
import { ANSIBLE_SETTINGS, ansibleEnv, parseRecap, writeAnsibleFiles, type AnsibleFiles } from './ansible.ts'
import { kindOf, PAYLOAD, targetOf, TASKS as CONVERGED_TASKS, TEMPLATE } from './playbooks/converged.mts'
import { TASKS as TRIVIAL_TASKS } from './playbooks/trivial.mts'

// ---------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2)
const QUICK = argv.includes('--quick')
const SITE_ONLY = argv.includes('--site-only')
const runsAt = argv.indexOf('--runs')
const RUNS = runsAt >= 0 ? Math.max(1, Number(argv[runsAt + 1]) || 1) : QUICK ? 1 : 5
const SCALE = [3, 10, 30]
const BIN = path.join(REPO, 'bin/zxplay.mjs')
const TS_CACHE = path.join(REPO, 'bin/ts-cache.mjs')
const FLOOR = path.join(REPO, 'bench/floor.ts')
const ZX_DIR = '/home/zxlab/zxbench-zxplay'
const ANSIBLE_DIR = '/home/zxlab/zxbench-ansible'
/** The flag that puts zxplay's commands on the persistent shell (lib/transport/persistent-shell.ts; the default) */
const PS = '--persistent-shell'
/** and the one that gives each command an SSH channel of its own: the "channel per command" runs */
const CH = '--no-persistent-shell'
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-bench-'))
const say = (s = '') => process.stdout.write(s + '\n')
const t0 = performance.now()
const note = (s: string) => process.stderr.write(`· ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${s}\n`)

// Children start as a user starts them from a shell: without npm's NODE_OPTIONS (.npmrc's --import=tsx),
// so bin/zxplay.mjs runs from its compiled cache (bin/ts-cache.mjs); the floor is started from it too.
const { NODE_OPTIONS: _, FORCE_COLOR: __, ...cleanEnv } = process.env
const childEnv: NodeJS.ProcessEnv = { ...cleanEnv, NO_COLOR: '1' }

// ---------------------------------------------------------------------------
// Measuring a whole process

type Sample = { ms: number; rssMb: number; code: number | null; stdout: string; stderr: string }

let seq = 0
function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = childEnv, timeoutMs = 600_000): Promise<Sample> {
  const timeFile = path.join(work, `time-${++seq}.txt`)
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, cmd, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - t0
      clearTimeout(timer)
      const kb = Number(/(\d+)\s*$/.exec(fs.readFileSync(timeFile, 'utf8'))?.[1] ?? NaN)
      resolve({ ms, rssMb: kb / 1024, code, stdout, stderr })
    })
  })
}

class BenchError extends Error {}
const tail = (s: string, n = 25) => s.trimEnd().split('\n').slice(-n).join('\n')
const fail = (what: string, s: Sample, why: string): never => {
  throw new BenchError(`${what}: ${why} (exit ${s.code})\n--- stdout ---\n${tail(s.stdout)}\n--- stderr ---\n${tail(s.stderr)}`)
}

// ---------------------------------------------------------------------------
// The runners: each returns a check that throws when the run did not do what it should

type Report = {
  hosts: Record<string, { ok: number; changed: number; skipped: number; failed: number; unreachable: number }>
  tasks: { playbook: string; task: string; host: string; status: string; ms: number }[]
}

type Runner = {
  name: string
  run: (counted: boolean) => Promise<Sample>
}

function zxplayRunner(label: string, lab: Lab, playbook: string, tasks: number, extra: string[] = [], reports?: Report[]): Runner {
  return {
    name: extra.includes(PS) ? 'zxplay, persistent shell' : 'zxplay, channel per command',
    async run(counted) {
      const args = [BIN, 'run', playbook, '-i', lab.inventory, '--json', '--log-dir', path.join(work, 'logs'), ...extra, ...(extra.includes(PS) ? [] : [CH])]
      const s = await measure(process.execPath, args)
      let report: Report
      try {
        report = JSON.parse(s.stdout) as Report
      } catch {
        return fail(`zxplay ${label}`, s, 'no JSON report')
      }
      const hosts = Object.entries(report.hosts)
      if (hosts.length !== lab.hosts.length) fail(`zxplay ${label}`, s, `${hosts.length} hosts in the report, expected ${lab.hosts.length}`)
      for (const [h, c] of hosts) {
        if (c.failed || c.unreachable) fail(`zxplay ${label}`, s, `${h}: ${JSON.stringify(c)}`)
        if (counted && (c.ok !== tasks || c.changed)) fail(`zxplay ${label}`, s, `${h} is not all ok (${JSON.stringify(c)}), expected ok=${tasks} changed=0`)
      }
      if (s.code !== 0) fail(`zxplay ${label}`, s, 'non-zero exit')
      if (counted) reports?.push(report)
      return s
    },
  }
}

function ansibleRunner(label: string, files: AnsibleFiles, playbook: string, tasks: number, hosts: number): Runner {
  const env = ansibleEnv(files, Math.max(5, hosts))
  return {
    name: 'ansible-playbook',
    async run(counted) {
      const s = await measure('ansible-playbook', ['-i', files.inventory, '-f', String(Math.max(5, hosts)), playbook], { ...env, NODE_OPTIONS: undefined })
      const recap = parseRecap(s.stdout)
      if (Object.keys(recap).length !== hosts) fail(`ansible ${label}`, s, 'no PLAY RECAP for every host')
      for (const [h, c] of Object.entries(recap)) {
        if (c.failed || c.unreachable) fail(`ansible ${label}`, s, `${h}: ${JSON.stringify(c)}`)
        if (counted && (c.ok !== tasks || c.changed)) fail(`ansible ${label}`, s, `${h} is not all ok (${JSON.stringify(c)}), expected ok=${tasks} changed=0`)
      }
      if (s.code !== 0) fail(`ansible ${label}`, s, 'non-zero exit')
      return s
    },
  }
}

function floorRunner(name: string, label: string, spec: string): Runner {
  return {
    name,
    async run() {
      const s = await measure(process.execPath, [TS_CACHE, FLOOR, spec])
      if (s.code !== 0 || !/"failed":0/.test(s.stdout)) fail(`${name} ${label}`, s, 'a command failed')
      return s
    },
  }
}

// ---------------------------------------------------------------------------
// The floor's commands: exactly what zxplay sends for each task in a converged run (the same
// scripts, the same stdin), as the playbook writes them ("bare") or as zxplay wraps them ("wrapped":
// bash strict mode and the task's time limit on the host, lib/transport/shell.ts).

type FloorCommand = { cmd: string; input?: string }

function writeSpec(name: string, lab: Lab, commandsFor: (host: Lab['hosts'][number]) => FloorCommand[], wrapped: boolean): string {
  const file = path.join(work, `${name}${wrapped ? '-wrapped' : ''}.json`)
  const wrap = (c: FloorCommand) => (wrapped ? { ...c, cmd: wrapCommand(c.cmd, undefined, 900_000) } : c)
  const spec = { user: 'zxlab', key: lab.key, knownHosts: lab.knownHosts, hosts: lab.hosts.map((h) => ({ address: h.address, commands: commandsFor(h).map(wrap) })) }
  fs.writeFileSync(file, JSON.stringify(spec))
  return file
}

const trivialCommands = (): FloorCommand[] => Array.from({ length: TRIVIAL_TASKS }, () => ({ cmd: 'test -d /etc' }))

function convergedCommands(host: Lab['hosts'][number]): FloorCommand[] {
  const out: FloorCommand[] = []
  const upload = (dest: string, content: Buffer) =>
    out.push({ cmd: uploadScript({ dest, content, mode: normalizeMode('0644'), dryRun: false, wantOld: false }), input: content.toString('base64') })
  const template = fs.readFileSync(TEMPLATE, 'utf8')
  let facts = false
  for (let i = 0; i < CONVERGED_TASKS; i++) {
    const target = targetOf(ZX_DIR, i)
    switch (kindOf(i)) {
      case 'guard':
        out.push({ cmd: `[ -e ${quote(target)} ]` })
        break
      case 'upload':
        upload(target, fs.readFileSync(PAYLOAD))
        break
      case 'template':
        upload(target, Buffer.from(renderTemplate(template, { inventory_hostname: host.name, slot: i }, TEMPLATE)))
        break
      case 'facts':
        if (!facts) out.push({ cmd: FACTS_COMMAND }) // gathered once per host, then read from memory
        facts = true
        break
    }
  }
  return out
}

// ---------------------------------------------------------------------------
// Statistics and output

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const secs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`)
const fixed = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a')
const ratio = (x: number, d = 2) => (Number.isFinite(x) ? `${x.toFixed(d)}x` : 'n/a')

type Series = { name: string; samples: Sample[] }
const stats = (s: Series) => ({
  median: median(s.samples.map((x) => x.ms)),
  min: Math.min(...s.samples.map((x) => x.ms)),
  max: Math.max(...s.samples.map((x) => x.ms)),
  rss: Math.max(...s.samples.map((x) => x.rssMb)),
})

/** A warm-up of each runner, then RUNS rounds in which the runners alternate. */
async function alternate(label: string, runners: Runner[], warmUp = true): Promise<Series[]> {
  const series = runners.map((r) => ({ name: r.name, samples: [] as Sample[] }))
  if (warmUp) {
    for (const r of runners) {
      note(`${label}: warm-up ${r.name}`)
      await r.run(false)
    }
  }
  for (let round = 1; round <= RUNS; round++) {
    for (const [i, r] of runners.entries()) {
      const s = await r.run(true)
      series[i]!.samples.push(s)
      note(`${label}: run ${round}/${RUNS} ${r.name} ${secs(s.ms)}`)
    }
  }
  return series
}

const machine: [string, string][] = []
const figure = (key: string, value: number, digits = 2) => machine.push([key, fixed(value, digits)])

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n')
}

// ---------------------------------------------------------------------------
// Set-up

function ensureTool(bin: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0) return
  note(`${bin} is missing: apt-get install -y ${pkg}`)
  const install = () => spawnSync('apt-get', ['install', '-y', pkg], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status
  if (install() !== 0) {
    spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] })
    if (install() !== 0) throw new BenchError(`could not install ${pkg}`)
  }
}

const firstLine = (cmd: string, args: string[]) => (spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '').split('\n')[0]!.trim()

// ---------------------------------------------------------------------------
// The benchmark

let nsLabUp = false // --site-only leaves the namespace lab (and whoever holds it) alone

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new BenchError('the lab needs root')
  ensureTool('ansible-playbook', 'ansible-core')
  ensureTool('/usr/bin/time', 'time')
  const ansibleVersion = firstLine('ansible-playbook', ['--version']).replace(/^ansible-playbook\s*/, '')
  const started = performance.now()
  const loadAtStart = os.loadavg()[0]!

  // --- 3 hosts: zxplay, ansible-playbook and the floor, alternating --------------------------
  if (SITE_ONLY) return siteOnly(started, loadAtStart)
  note('lab up: 3 hosts')
  nsLabUp = true
  let lab = await labUp({ hosts: 3 })
  const ansible = writeAnsibleFiles(path.join(work, 'ansible'), lab, ANSIBLE_DIR)
  const trivialPb = path.join(REPO, 'bench/playbooks/trivial.mts')
  const convergedPb = path.join(REPO, 'bench/playbooks/converged.mts')

  const startup = await alternate('start-up', [{ name: 'zxplay --help', run: () => measure(process.execPath, [BIN, '--help']) }], !QUICK)

  const trivialReports: Report[] = []
  const trivialPsReports: Report[] = []
  const trivial = await alternate(
    `trivial 3x${TRIVIAL_TASKS}`,
    [
      zxplayRunner('trivial', lab, trivialPb, TRIVIAL_TASKS, [], trivialReports),
      ansibleRunner('trivial', ansible, ansible.trivial, TRIVIAL_TASKS, 3),
      floorRunner('floor', 'trivial', writeSpec('trivial', lab, trivialCommands, false)),
      ...(QUICK ? [] : [floorRunner('floor, wrapped', 'trivial', writeSpec('trivial', lab, trivialCommands, true))]),
      zxplayRunner('trivial', lab, trivialPb, TRIVIAL_TASKS, [PS], trivialPsReports),
    ],
    // --quick: the trivial workload changes nothing, so it needs no warm-up to be what it is
    !QUICK
  )

  const convergedReports: Report[] = []
  const convergedPsReports: Report[] = []
  const zxConverged = zxplayRunner('converged', lab, convergedPb, CONVERGED_TASKS, ['-e', `bench_dir=${ZX_DIR}`], convergedReports)
  if (QUICK) {
    // One zxplay run converges both directories (the two sides write identical files: Ansible's
    // run below must then report changed=0), so Ansible needs no 12 s warm-up of its own here.
    note('converged: warm-up zxplay (its directory and Ansible’s)')
    await zxplayRunner('converged', lab, convergedPb, CONVERGED_TASKS, ['-e', `bench_dir=${ANSIBLE_DIR}`]).run(false)
    await zxConverged.run(false)
  }
  const converged = await alternate(
    `converged 3x${CONVERGED_TASKS}`,
    [
      zxConverged,
      ansibleRunner('converged', ansible, ansible.converged, CONVERGED_TASKS, 3),
      // after the warm-up: zxplay's directory is converged, so these are the converged run's commands
      floorRunner('floor', 'converged', writeSpec('converged', lab, convergedCommands, false)),
      ...(QUICK ? [] : [floorRunner('floor, wrapped', 'converged', writeSpec('converged', lab, convergedCommands, true))]),
      zxplayRunner('converged', lab, convergedPb, CONVERGED_TASKS, ['-e', `bench_dir=${ZX_DIR}`, PS], convergedPsReports),
    ],
    !QUICK
  )
  const identical = lab.hosts.every((h) => sameTree(path.join(h.root, 'home/zxbench-zxplay'), path.join(h.root, 'home/zxbench-ansible')))

  // --- processes started on a host per task, both transports (strace on node1's sshd) ----------
  const procs = {
    channel: await hostProcesses(lab, trivialPb, TRIVIAL_TASKS, []),
    persistent: await hostProcesses(lab, trivialPb, TRIVIAL_TASKS, [PS]),
  }

  // --- site.mts: a converged rerun of the whole cluster setup (not in --quick) ----------------
  let site: { cli?: Series; zx?: Series; ps?: Series; psZx?: Series; skipped?: string } = { skipped: 'skipped with --quick (`-- --site-only` measures it alone)' }
  if (!QUICK) site = await measureSite()

  // --- scale: zxplay alone (and the floor) on 3, 10 and 30 hosts ------------------------------
  const scale: { hosts: number; zxplay: Series; ps: Series; floor?: Series }[] = []
  for (const n of SCALE) {
    if (QUICK && n === 3) {
      // --quick, for time: the 3-host point is the trivial workload's zxplay runs above
      scale.push({ hosts: n, zxplay: trivial[0]!, ps: trivial.at(-1)! })
      continue
    }
    note(`lab up: ${n} hosts`)
    lab = await labUp({ hosts: n })
    const [zx, ps, floor] = await alternate(
      `scale ${n}x${TRIVIAL_TASKS}`,
      [
        zxplayRunner(`trivial on ${n}`, lab, trivialPb, TRIVIAL_TASKS),
        zxplayRunner(`trivial on ${n}`, lab, trivialPb, TRIVIAL_TASKS, [PS]),
        // the floor shows what the machine itself allows at each size (not in --quick, for time)
        ...(QUICK ? [] : [floorRunner('floor', `trivial on ${n}`, writeSpec(`trivial-${n}`, lab, trivialCommands, false))]),
      ],
      !QUICK
    )
    scale.push({ hosts: n, zxplay: zx!, ps: ps!, floor })
  }

  // --- output ----------------------------------------------------------------------------------
  const totalS = (performance.now() - started) / 1000
  say()
  say(`zxplay benchmark${QUICK ? ' (--quick: 1 counted run each, no warm-up except to converge)' : ''}`)
  say(`  ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ansible-core ${ansibleVersion.replace(/^\[core\s*|\]$/g, '')}, ${os.cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} at the start and ${os.loadavg()[0]!.toFixed(1)} at the end`)
  say(`  lab: network-namespace hosts on this machine, Debian's sshd, user zxlab (ssh key, known_hosts verified on every side); the site.mts rerun on the real-host lab (3 Debian 12 machines under systemd-nspawn)`)
  say(`  ${RUNS} counted run(s) per runner${QUICK ? '' : ' after one warm-up'}, runners alternating (zxplay with --no-persistent-shell, ansible-playbook, floor, wrapped floor, zxplay with its default persistent shell); whole processes, Node start included`)
  say(`  ansible-playbook: ${ANSIBLE_SETTINGS.join('; ')}`)
  say(`  floor: bench/floor.ts, ssh2 alone (one connection per host, TCP_NODELAY, commands in sequence, hosts in parallel), started like zxplay from the compiled cache (node bin/ts-cache.mjs bench/floor.ts)`)
  say(`  wrapped floor: the same, with each command as zxplay sends it (strict mode and the time limit, in the login bash: lib/transport/shell.ts)`)
  say()

  const rows: string[][] = [['workload', 'runner', 'median', 'min', 'max', 'peak RSS']]
  const addRows = (label: string, series: Series[]) =>
    series.forEach((s, i) => {
      const st = stats(s)
      rows.push([i ? '' : label, s.name, secs(st.median), secs(st.min), secs(st.max), `${st.rss.toFixed(0)} MB`])
    })
  addRows('start-up (zxplay --help)', startup)
  addRows(`trivial: 3 hosts x ${TRIVIAL_TASKS} tasks`, trivial)
  addRows(`converged: 3 hosts x ${CONVERGED_TASKS} tasks`, converged)
  if (site.cli && site.zx && site.ps && site.psZx) {
    addRows('site.mts rerun, 3 real Debian 12 hosts', [site.cli, site.zx, site.ps, site.psZx])
  }
  say(table(rows))
  say()

  const m = (s: Series | undefined) => (s ? stats(s).median : NaN)
  const summary = (label: string, key: string, series: Series[], tasks: number) => {
    const by = (name: string) => m(series.find((x) => x.name === name))
    const [zx, an, fl, wf, ps] = ['zxplay, channel per command', 'ansible-playbook', 'floor', 'floor, wrapped', 'zxplay, persistent shell'].map(by) as [number, number, number, number, number]
    const perTask = (zx - fl) / (tasks * 3)
    say(`${label}: ansible-playbook / zxplay = ${ratio(an / zx, 1)} (/ the floor itself: ${ratio(an / fl, 1)});  zxplay / floor = ${ratio(zx / fl)} (${fixed(perTask)} ms per task per host over the floor);  zxplay / wrapped floor = ${ratio(zx / wf)}`)
    say(`${label}, persistent shell: ansible-playbook / zxplay = ${ratio(an / ps, 1)};  zxplay / floor = ${ratio(ps / fl)} (${fixed((ps - fl) / (tasks * 3))} ms per task per host against the floor);  channel per command / persistent shell = ${ratio(zx / ps)}`)
    figure(`ratio_${key}`, an / zx, 1)
    figure(`floor_ratio_${key}`, an / fl, 1)
    figure(`ps_ratio_${key}`, an / ps, 1)
    figure(`ps_vs_floor_${key}`, ps / fl)
    return { zx, an, fl, wf, ps, perTask }
  }
  const t = summary(`trivial 3x${TRIVIAL_TASKS}`, `trivial_3x${TRIVIAL_TASKS}`, trivial, TRIVIAL_TASKS)
  const c = summary(`converged 3x${CONVERGED_TASKS}`, `converged_3x${CONVERGED_TASKS}`, converged, CONVERGED_TASKS)
  say(
    QUICK
      ? `converged state: Ansible found the files zxplay wrote for it already right (changed=0)`
      : `converged state: zxplay and Ansible left ${identical ? 'identical' : 'DIFFERENT'} files on every host`
  )
  say(`zxplay per task per host (from --json, medians): ${taskTimes(trivialReports, convergedReports)}`)
  say(`zxplay, persistent shell, the same: ${taskTimes(trivialPsReports, convergedPsReports)}`)
  say(`processes started on node1 per trivial task (strace -f on its sshd, ${TRIVIAL_TASKS} tasks, connection set-up included): channel per command ${procText(procs.channel)}; persistent shell ${procText(procs.persistent)}`)
  if (site.skipped) say(`site.mts rerun: ${site.skipped}`)
  say()

  const srows: string[][] = [['hosts', 'zxplay median', 'min', 'max', 'peak RSS', 'persistent shell median', 'peak RSS', 'floor median', 'zxplay / floor', 'persistent / floor']]
  for (const s of scale) {
    const z = stats(s.zxplay)
    const p = stats(s.ps)
    const f = s.floor ? stats(s.floor).median : NaN
    srows.push([String(s.hosts), secs(z.median), secs(z.min), secs(z.max), `${z.rss.toFixed(0)} MB`, secs(p.median), `${p.rss.toFixed(0)} MB`, s.floor ? secs(f) : 'n/a', ratio(z.median / f), ratio(p.median / f)])
  }
  say(`scale: zxplay alone, ${TRIVIAL_TASKS} trivial tasks per host (and the floor for the same work)`)
  say(table(srows))
  const at = (n: number) => scale.find((s) => s.hosts === n)!
  say(`30 hosts / 3 hosts: zxplay ${ratio(m(at(30).zxplay) / m(at(3).zxplay))}, persistent shell ${ratio(m(at(30).ps) / m(at(3).ps))}, floor ${ratio(m(at(30).floor) / m(at(3).floor))} (${os.cpus().length} CPUs shared by the runner and every host's sshd)`)
  say()
  say(`reproduce: npm run bench${QUICK ? ' -- --quick' : ''}   (root; ${totalS.toFixed(0)} s this time)`)
  say()

  figure('overhead_vs_floor', t.zx / t.fl)
  figure('overhead_ms_per_task_host', t.perTask)
  if (!QUICK) figure('overhead_vs_wrapped_floor', t.zx / t.wf)
  figure('overhead_vs_floor_converged', c.zx / c.fl)
  figure('zxplay_trivial_3x100_s', t.zx / 1000)
  figure('ansible_trivial_3x100_s', t.an / 1000)
  figure('floor_trivial_3x100_s', t.fl / 1000)
  figure('zxplay_converged_3x30_s', c.zx / 1000)
  figure('ansible_converged_3x30_s', c.an / 1000)
  figure('floor_converged_3x30_s', c.fl / 1000)
  figure('startup_s', m(startup[0]) / 1000)
  figure('scale_10_over_3', m(at(10).zxplay) / m(at(3).zxplay))
  figure('scale_30_over_3', m(at(30).zxplay) / m(at(3).zxplay))
  if (!QUICK) figure('floor_scale_30_over_3', m(at(30).floor) / m(at(3).floor))
  for (const s of scale) figure(`rss_mb_${s.hosts}`, stats(s.zxplay).rss, 0)
  figure('ps_scale_30_over_3', m(at(30).ps) / m(at(3).ps))
  for (const s of scale) figure(`ps_rss_mb_${s.hosts}`, stats(s.ps).rss, 0)
  figure('procs_per_task_channel', procs.channel.forks + procs.channel.execs, 1)
  figure('procs_per_task_persistent', procs.persistent.forks + procs.persistent.execs, 1)
  if (site.cli) figure('site_rerun_3_s', m(site.cli) / 1000)
  if (site.zx) figure('site_rerun_3_npx_zx_s', m(site.zx) / 1000)
  if (site.ps) figure('ps_site_rerun_3_s', m(site.ps) / 1000)
  if (site.psZx) figure('ps_site_rerun_3_npx_zx_s', m(site.psZx) / 1000)
  for (const [k, v] of machine) say(`${k} ${v}`)
}

type Procs = { forks: number; execs: number }
const procText = (p: Procs) => `${fixed(p.forks, 1)} forks, ${fixed(p.execs, 1)} program starts (execve)`

/**
 * Processes a host starts per task: strace -f on node1's listening sshd (it follows every session
 * it forks) during one zxplay run of the trivial workload, forks and execs counted, divided by the
 * tasks. Slows node1 down while it runs: not one of the timed runs.
 */
async function hostProcesses(lab: Lab, playbook: string, tasks: number, extra: string[]): Promise<Procs> {
  ensureTool('strace', 'strace')
  const root = lab.hosts[0]!.root
  const sshd = fs.readdirSync('/proc').find((p) => {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8')
      // the listener: its command line (or, since OpenSSH 9, its title "sshd: … [listener] …") names its config
      return /^\d+$/.test(p) && cmd.includes(`${root}/ssh/sshd_config`) && !cmd.includes('[priv]')
    } catch {
      return false
    }
  })
  if (!sshd) throw new BenchError(`no sshd of ${lab.hosts[0]!.name} found to count its processes`)
  const out = path.join(work, `strace-${++seq}.txt`)
  const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=execve,clone,clone3,fork,vfork', '-e', 'signal=none', '-o', out, '-p', sshd], { stdio: 'ignore' })
  await new Promise((r) => setTimeout(r, 1000)) // attached
  note(`processes per task: zxplay ${extra.join(' ') || '(channel per command)'} under strace`)
  await zxplayRunner('trivial under strace', lab, playbook, tasks, extra).run(false)
  strace.kill('SIGINT')
  await new Promise((r) => strace.once('close', r))
  const lines = fs.readFileSync(out, 'utf8').split('\n')
  const forks = lines.filter((l) => /\b(clone3?|v?fork)\(/.test(l) && !/= -1/.test(l) && !/resumed/.test(l)).length
  const execs = lines.filter((l) => /\bexecve\(/.test(l) && /= 0$/.test(l)).length
  return { forks: forks / tasks, execs: execs / tasks }
}

/** Per-task times from zxplay's --json: the first task (which connects) apart from the rest. */
function taskTimes(trivial: Report[], converged: Report[]): string {
  const ms = (reports: Report[], pick: (task: string, index: number) => boolean) =>
    median(reports.flatMap((r) => r.tasks.filter((t) => pick(t.task, Number(/(\d+)$/.exec(t.task)?.[1] ?? 0) - 1)).map((t) => t.ms)))
  const first = ms(trivial, (_, i) => i === 0)
  const parts = [`first task (connects) ${fixed(first, 0)} ms`, `trivial ${fixed(ms(trivial, (_, i) => i > 0), 1)} ms`]
  for (const kind of ['guard', 'upload', 'template', 'facts'] as const) parts.push(`${kind} ${fixed(ms(converged, (task, i) => i > 0 && task.startsWith(kind)), 1)} ms`)
  return parts.join(', ')
}

/** Same relative paths, same bytes, same modes. */
function sameTree(a: string, b: string): boolean {
  try {
    const names = fs.readdirSync(a).sort()
    if (names.join('\n') !== fs.readdirSync(b).sort().join('\n')) return false
    return names.every((n) => {
      const [sa, sb] = [fs.statSync(path.join(a, n)), fs.statSync(path.join(b, n))]
      return sa.mode === sb.mode && (!sa.isFile() || fs.readFileSync(path.join(a, n)).equals(fs.readFileSync(path.join(b, n))))
    })
  } catch {
    return false
  }
}

/** What failed in a zxplay run, in a line: from its --json report, else the end of its stderr. */
function failedTasks(s: Sample): string {
  try {
    const report = JSON.parse(s.stdout) as Report
    const bad = report.tasks.filter((t) => t.status === 'failed' || t.status === 'unreachable')
    return bad.map((t) => `${t.host} ${t.status} at ${t.playbook} › ${t.task}`).join('; ') || 'no task failed'
  } catch {
    return tail(s.stderr || s.stdout, 3).replace(/\n/g, ' | ')
  }
}

/** `--site-only`: the site.mts rerun alone, both transports (what --quick leaves out, in a shorter lock hold). */
async function siteOnly(started: number, loadAtStart: number): Promise<void> {
  const site = await measureSite()
  say()
  say(`zxplay benchmark, the site.mts rerun alone (${RUNS} counted run(s) each after one warm-up), ${new Date().toISOString().slice(0, 16)}Z, load average ${loadAtStart.toFixed(1)} at the start and ${os.loadavg()[0]!.toFixed(1)} at the end`)
  if (site.skipped) {
    say(`site.mts rerun: ${site.skipped}`)
    return
  }
  const rows: string[][] = [['runner', 'median', 'min', 'max', 'peak RSS']]
  for (const s of [site.cli, site.zx, site.ps, site.psZx]) {
    const st = stats(s!)
    rows.push([s!.name, secs(st.median), secs(st.min), secs(st.max), `${st.rss.toFixed(0)} MB`])
  }
  say(table(rows))
  say(`reproduce: npm run bench -- --site-only${QUICK ? ' --quick' : ''}   (root; ${((performance.now() - started) / 1000).toFixed(0)} s this time)`)
}

/**
 * site.mts on 3 real Debian 12 machines (the real-host lab: real apt, systemd, containerd; the
 * namespace lab's hosts have none of their own): one run to converge, then reruns with the CLI and
 * with `npx zx`, both transports.
 */
async function measureSite(): Promise<{ cli?: Series; zx?: Series; ps?: Series; psZx?: Series; skipped?: string }> {
  note('real-host lab up: 3 hosts')
  const lab = await realLabUp({ hosts: 3 })
  try {
    return await siteReruns(lab.inventory)
  } finally {
    note('real-host lab down')
    await realLabDown()
  }
}

async function siteReruns(inventory: string): Promise<{ cli?: Series; zx?: Series; ps?: Series; psZx?: Series; skipped?: string }> {
  const cliArgs = [BIN, 'run', 'site', '-i', inventory, '--json', '--log-dir', path.join(work, 'logs')]
  note('site.mts: first run (converges the hosts)')
  const first = await measure(process.execPath, cliArgs, childEnv, 600_000)
  if (first.code !== 0) return { skipped: `not measured: the first run of site.mts on the lab did not succeed (exit ${first.code}): ${failedTasks(first)}` }
  const changed = (s: Sample) => {
    try {
      return Object.values((JSON.parse(s.stdout) as Report).hosts).reduce((n, h) => n + h.changed + h.failed + h.unreachable, 0)
    } catch {
      return -1
    }
  }
  const check = (what: string) => (s: Sample) => {
    if (s.code !== 0 || changed(s) !== 0) fail(`site.mts rerun (${what})`, s, `not a converged rerun: ${changed(s)} changed/failed`)
    return s
  }
  // `npx zx playbooks/site.mts` as the README runs it: npm's node-options (.npmrc) load tsx
  const npxEnv = { ...childEnv, NODE_OPTIONS: process.env.NODE_OPTIONS }
  const npxZx = (extra: string[]) => measure('npx', ['zx', 'playbooks/site.mts', '-i', inventory, '--json', '--log-dir', path.join(work, 'logs'), ...extra], npxEnv)
  const [cli, zx, ps, psZx] = await alternate('site.mts rerun', [
    { name: `zxplay run site ${CH}`, run: async () => check(`zxplay run site ${CH}`)(await measure(process.execPath, [...cliArgs, CH])) },
    { name: `npx zx playbooks/site.mts ${CH}`, run: async () => check(`npx zx ${CH}`)(await npxZx([CH])) },
    { name: `zxplay run site ${PS}`, run: async () => check(`zxplay run site ${PS}`)(await measure(process.execPath, [...cliArgs, PS])) },
    { name: `npx zx playbooks/site.mts ${PS}`, run: async () => check(`npx zx ${PS}`)(await npxZx([PS])) },
  ])
  return { cli, zx, ps, psZx }
}

try {
  await main()
} catch (e) {
  process.stderr.write(`bench: ${e instanceof BenchError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exitCode = 1
} finally {
  note('lab down')
  if (nsLabUp) await labDown().catch((e: unknown) => process.stderr.write(`bench: lab down failed: ${String(e)}\n`))
  fs.rmSync(work, { recursive: true, force: true })
  note('done')
}
