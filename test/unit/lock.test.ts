// lib/transport/lock.ts: one changing run at a time per host. Each test has a lock folder of its own (the
// `dir` parameter, which the CLI leaves at lockDir()); the other runs are real processes that take
// the locks through the same module, so pids, start times and deaths are the real thing.
import { spawn, type ChildProcess } from 'node:child_process'
import dns from 'node:dns'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { test } from 'uvu'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import * as assert from 'uvu/assert'
import { lockTargets, acquireLocks, currentHolder, describeHolder, isStale, LockError, lockDir, type Held, type LockHolder, type Target } from '../../lib/transport/lock.ts'
import { bundleForChild, errorOf, tempDir } from './_helpers.ts'

const REPO = path.resolve(import.meta.dirname, '../..')
const { dir: tmp, remove } = tempDir('lock')
const others: ChildProcess[] = []
// The other runs load lib/transport/lock.ts bundled once, with plain node: loading tsx in each of them cost
// most of this file's time.
let bundle: Awaited<ReturnType<typeof bundleForChild>>
test.before(async () => {
  bundle = await bundleForChild('lock-test', ['lib/transport/lock.ts'])
})
test.after(() => {
  for (const c of others) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  bundle?.remove()
  remove()
})

let folders = 0
/** A lock folder not made yet (acquireLocks makes it, parents included). */
const freshDir = () => path.join(tmp, `run-${++folders}`, 'locks')

const INFO = { command: 'zxplay run site -i inventory.yaml', inventory: '/srv/infra/inventory.yaml' }
const cp1: Target = { host: 'cp1', key: '10.0.0.1:22' }
const w1: Target = { host: 'w1', key: '10.0.0.2:2222' }
/** Sorts before cp1's file: taken first, so a conflict on cp1 shows whether it is given back. */
const w0: Target = { host: 'w0', key: '10.0.0.0:22' }
const CP1_FILE = '10.0.0.1_22.lock'
const W1_FILE = '10.0.0.2_2222.lock'

const readLock = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder
const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8)
const files = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [])

/** proc(5): field 22 of /proc/<pid>/stat, the process's start time in clock ticks since boot. */
function startTicksOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!
}

/** A holder as another run on this machine would have written it. */
const holderFile = (dir: string, name: string, h: Partial<LockHolder>) => {
  fs.mkdirSync(dir, { recursive: true })
  const holder: LockHolder = { pid: 1, machine: os.hostname(), started: '2026-11-25T10:00:00.000Z', command: 'zxplay run site', inventory: '/old/inventory.yaml', target: '10.0.0.1:22', token: 'feedfacefeedface', ...h }
  fs.writeFileSync(path.join(dir, name), JSON.stringify(holder) + '\n')
  return holder
}

/** The fs functions lock.ts calls, as they are; a test may replace them for a while (withFs). */
const realFs = { readFileSync: fs.readFileSync, linkSync: fs.linkSync }
/** Runs fn with some of them replaced: lock.ts calls them through the fs object. Put back after. */
function withFs<T>(stubs: Partial<Record<keyof typeof realFs, (...args: never[]) => unknown>>, fn: () => T): T {
  Object.assign(fs, stubs)
  try {
    return fn()
  } finally {
    Object.assign(fs, realFs)
  }
}
/** An error as the system call gives it. */
const sysError = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code })

/** A pid that belonged to a process which has exited and been reaped. */
async function deadPid(): Promise<number> {
  const c = spawn('true')
  await new Promise((r) => c.on('exit', r))
  return c.pid!
}

type Reply = { ready?: number; held?: boolean; tookOver?: number[]; error?: string; message?: string; pid?: number; released?: boolean }

// Another zxplay run: a process of its own that takes and releases locks in `dir` when told.
const OTHER_RUN = `
import readline from 'node:readline'
const [bundle, dir] = process.argv.slice(1)
const { acquireLocks } = await import(bundle)
const held = []
const say = (x) => process.stdout.write(JSON.stringify(x) + '\\n')
const lines = readline.createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const cmd = JSON.parse(line)
  if (cmd.take) {
    try {
      const h = acquireLocks(cmd.take, { command: 'zxplay run other', inventory: '/other/inventory.yaml' }, dir)
      held.push(h)
      say({ held: true, tookOver: h.tookOver.map((t) => t.holder.pid) })
    } catch (e) {
      say({ held: false, error: e.name, message: e.message, pid: e.holder?.pid })
    }
  }
  if (cmd.release) {
    for (const h of held.splice(0)) h.release()
    say({ released: true })
  }
})
lines.on('close', () => {
  for (const h of held) h.release()
  process.exit(0)
})
say({ ready: process.pid })
`

async function otherRun(dir: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', OTHER_RUN, bundle.url, dir], { cwd: REPO, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'inherit'] })
  others.push(child)
  const waiting: ((r: Reply) => void)[] = []
  readline.createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as Reply))
  const next = () => new Promise<Reply>((resolve) => waiting.push(resolve))
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const ready = await next()
  assert.is(ready.ready, child.pid)
  return {
    pid: child.pid!,
    /** Send commands without waiting, then collect the replies: so that two runs can start at once. */
    send: (cmd: { take?: Target[]; release?: true }) => {
      const reply = next()
      child.stdin!.write(JSON.stringify(cmd) + '\n')
      return reply
    },
    /** Ends the way a finished run ends: it releases what it holds. */
    stop: async () => {
      child.stdin!.end()
      await exited
    },
    killed: async () => {
      child.kill('SIGKILL')
      await exited
    },
  }
}

test('a run locks each host (address:port) in a file of its own, 0600, naming the run; release removes them', () => {
  const dir = freshDir()
  const held = acquireLocks([cp1, w1, { host: 'cp1-by-another-name', key: cp1.key }], INFO, dir)
  assert.equal(files(dir), [CP1_FILE, W1_FILE], 'one lock per address:port, whatever the host is called')
  assert.is(mode(dir), '700')
  const before = Date.now()
  for (const [name, key] of [[CP1_FILE, cp1.key], [W1_FILE, w1.key]] as const) {
    const file = path.join(dir, name)
    assert.is(mode(file), '600')
    assert.ok(fs.readFileSync(file, 'utf8').endsWith('}\n'), 'a text file: one JSON line, ended')
    const h = readLock(file)
    assert.equal([h.pid, h.machine, h.command, h.inventory, h.target], [process.pid, os.hostname(), INFO.command, INFO.inventory, key])
    assert.is(h.startTicks, startTicksOf(process.pid))
    assert.ok(before - Date.parse(h.started) < 60_000 && Date.parse(h.started) <= Date.now(), h.started)
    assert.match(h.token, /^[0-9a-f]{16}$/)
  }
  assert.is(readLock(path.join(dir, CP1_FILE)).token, readLock(path.join(dir, W1_FILE)).token)
  assert.equal(held.tookOver, [])
  assert.is(currentHolder([cp1, w1], dir), undefined, "this run's own locks are no other run's")
  held.release()
  assert.equal(files(dir), [])
  held.release() // twice: nothing left to do, no error
})

test('a second run is refused at once, naming the holder, and keeps none of the locks it took before the conflict', async () => {
  const dir = freshDir()
  const first = await otherRun(dir)
  assert.equal(await first.send({ take: [cp1] }), { held: true, tookOver: [] })
  const lockFile = path.join(dir, CP1_FILE)
  const before = fs.readFileSync(lockFile, 'utf8')
  const holder = readLock(lockFile)

  const e = errorOf(() => acquireLocks([w1, cp1, w0], INFO, dir))
  assert.instance(e, LockError)
  const err = e as LockError
  assert.is(err.holder.pid, first.pid)
  assert.is(err.file, lockFile)
  const lines = err.message.split('\n')
  assert.is(lines[0], `cp1 (10.0.0.1:22) is in use by another zxplay run: pid ${first.pid} on ${os.hostname()}, started ${holder.started}, \`zxplay run other\` with /other/inventory.yaml.`)
  assert.match(lines[1]!, `Run again when it has ended. The lock is ${lockFile}; it is taken over by itself once that process is gone.`)
  assert.not.match(err.message, 'another machine')
  // w0 sorts first and was taken before the conflict: given back; w1 was never taken
  assert.equal(files(dir), [CP1_FILE])
  assert.is(fs.readFileSync(lockFile, 'utf8'), before, "the holder's lock is untouched")

  // what --check reports meanwhile
  const busy = currentHolder([w1, cp1], dir)
  assert.is(busy?.target, cp1)
  assert.is(busy?.holder.pid, first.pid)

  await first.stop()
  assert.equal(files(dir), [], 'the first run released its lock when it ended')
  assert.is(currentHolder([cp1], dir), undefined)
  acquireLocks([cp1], INFO, dir).release()
})

test('a killed run leaves its locks; the next run recognises them as stale and takes them over, returning the old holder for the note', async () => {
  const dir = freshDir()
  const killed = await otherRun(dir)
  assert.equal(await killed.send({ take: [cp1, w1] }), { held: true, tookOver: [] })
  await killed.killed()
  assert.equal(files(dir), [CP1_FILE, W1_FILE], 'kill -9 left the locks')
  const old = [CP1_FILE, W1_FILE].map((f) => readLock(path.join(dir, f)))
  for (const h of old) {
    assert.equal([h.pid, h.command], [killed.pid, 'zxplay run other'])
    assert.ok(isStale(h))
  }
  assert.is(currentHolder([cp1, w1], dir), undefined, '--check says nothing about a dead run')

  const held = acquireLocks([w1, cp1], INFO, dir)
  assert.equal(held.tookOver, [{ target: cp1, holder: old[0] }, { target: w1, holder: old[1] }])
  assert.equal(files(dir), [CP1_FILE, W1_FILE], 'nothing left beside the locks (no renamed or temporary files)')
  for (const f of files(dir)) assert.is(readLock(path.join(dir, f)).pid, process.pid)
  held.release()
  assert.equal(files(dir), [])
})

test('a dead pid with no process is stale; a live one with its own start time is not', async () => {
  const dir = freshDir()
  const dead = holderFile(dir, CP1_FILE, { pid: await deadPid() })
  assert.ok(isStale(dead))
  const sleeper = spawn('sleep', ['30'])
  others.push(sleeper)
  const live = { ...dead, pid: sleeper.pid!, startTicks: startTicksOf(sleeper.pid!) }
  assert.not.ok(isStale(live))
  assert.not.ok(isStale({ ...live, startTicks: undefined }), 'without a start time a live pid is taken to be the holder')
  // The pid was reused: the process now behind it started at another time.
  assert.ok(isStale({ ...live, startTicks: String(Number(live.startTicks) - 1) }))

  holderFile(dir, CP1_FILE, { pid: sleeper.pid!, startTicks: '1', token: 'aaaaaaaaaaaaaaaa' })
  const held = acquireLocks([cp1], INFO, dir)
  assert.equal(held.tookOver.map((t) => t.holder.pid), [sleeper.pid])
  held.release()
  sleeper.kill('SIGKILL')
})

// A run of another user: kill(pid, 0) fails with EPERM, not ESRCH. The process is alive, so its
// lock holds. As root this never happens, so the judging runs as nobody.
const asRoot = process.getuid?.() === 0 ? test : test.skip
asRoot("a live holder owned by another user (EPERM) is not stale", async () => {
  const holder: LockHolder = { pid: process.pid, machine: os.hostname(), started: '', startTicks: startTicksOf(process.pid), command: '', inventory: '', target: 'cp1', token: 'aaaaaaaaaaaaaaaa' }
  const judge = `const { isStale } = await import(${JSON.stringify(bundle.url)})
let code; try { process.kill(${process.pid}, 0) } catch (e) { code = e.code }
console.log(JSON.stringify({ code, stale: isStale(JSON.parse(process.argv[1])) }))`
  const child = spawn(process.execPath, ['--input-type=module', '-e', judge, JSON.stringify(holder)], { cwd: REPO, uid: 65534, gid: 65534, env: { ...process.env, NODE_OPTIONS: '', HOME: tmp } })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d))
  child.stderr!.on('data', (d: Buffer) => (out += d))
  await new Promise((r) => child.on('close', r))
  assert.equal(JSON.parse(out), { code: 'EPERM', stale: false }, out)
})

test('a holder that was killed but not yet reaped by its parent (a zombie) is stale', async () => {
  // The forked child exits at once and stays a zombie: its parent never waits for it. (A shell as
  // the parent may reap it before it execs something that does not, which made this flaky.)
  const forker = 'import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)'
  const parent = spawn('python3', ['-c', forker], { stdio: ['ignore', 'pipe', 'inherit'] })
  others.push(parent)
  const zombie = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d: Buffer) => r(d.toString()))))
  const state = () => fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').replace(/^.*\) /s, '').charAt(0)
  for (let i = 0; i < 100 && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20))
  assert.is(state(), 'Z')
  const holder = holderFile(freshDir(), CP1_FILE, { pid: zombie, startTicks: startTicksOf(zombie) })
  assert.ok(isStale(holder))
  parent.kill('SIGKILL')
})

test("another machine's lock is never judged stale: the refusal says so and how to clear it", async () => {
  const dir = freshDir()
  const pid = await deadPid() // dead here, but it ran elsewhere
  holderFile(dir, CP1_FILE, { pid, machine: 'build-server-7' })
  assert.not.ok(isStale(readLock(path.join(dir, CP1_FILE))))
  const e = errorOf(() => acquireLocks([cp1], INFO, dir))
  assert.instance(e, LockError)
  assert.match(e.message, `pid ${pid} on build-server-7, started 2026-11-25T10:00:00.000Z, \`zxplay run site\` with /old/inventory.yaml.`)
  assert.match(e.message, '(it runs on another machine: remove the file by hand if that run is gone)')
  assert.is(currentHolder([cp1], dir)?.holder.machine, 'build-server-7')
})

test("release removes only this run's locks: one that another run holds by now stays", () => {
  const dir = freshDir()
  const held = acquireLocks([cp1, w1], INFO, dir)
  const theirs = holderFile(dir, CP1_FILE, { pid: process.pid, token: 'bbbbbbbbbbbbbbbb' })
  held.release()
  assert.equal(files(dir), [CP1_FILE])
  assert.is(readLock(path.join(dir, CP1_FILE)).token, theirs.token)
})

test('a file in the way that is not a zxplay lock is left alone, and the error says what to do', () => {
  const dir = freshDir()
  fs.mkdirSync(dir, { recursive: true })
  // a pid file of another tool, a JSON object without a pid: neither is a zxplay lock
  for (const text of ['not json\n', '{"pid": "12"}\n', '{"pid": 12}\n', '{"token": "feedfacefeedface"}\n']) {
    fs.writeFileSync(path.join(dir, CP1_FILE), text)
    const e = errorOf(() => acquireLocks([w0, cp1], INFO, dir))
    assert.not.instance(e, LockError)
    assert.is(e.message, `lock file ${path.join(dir, CP1_FILE)} is not a zxplay lock; remove it if no zxplay run is going on`)
    assert.is(fs.readFileSync(path.join(dir, CP1_FILE), 'utf8'), text)
    assert.equal(files(dir), [CP1_FILE], 'w0, taken before, was given back')
  }
  // a folder in the lock's place (it cannot be read as a file): the same answer, not a retry
  fs.rmSync(path.join(dir, CP1_FILE))
  fs.mkdirSync(path.join(dir, CP1_FILE))
  const e = errorOf(() => acquireLocks([w0, cp1], INFO, dir))
  assert.is(e.message, `lock file ${path.join(dir, CP1_FILE)} is not a zxplay lock; remove it if no zxplay run is going on`)
  assert.equal(files(dir), [CP1_FILE])
})

test('two runs taking over the same stale lock at the same moment: exactly one wins, the other is refused naming it', async () => {
  const dir = freshDir()
  const [a, b] = await Promise.all([otherRun(dir), otherRun(dir)])
  const gone = await deadPid()
  for (let round = 1; round <= 50; round++) {
    const target: Target = { host: `n${round}`, key: `10.0.1.${round}:22` }
    const file = path.join(dir, `10.0.1.${round}_22.lock`)
    holderFile(dir, path.basename(file), { pid: gone, token: `${round}`.padStart(16, '0') })
    const [ra, rb] = await Promise.all([a.send({ take: [target] }), b.send({ take: [target] })])
    const winners = [ra, rb].filter((r) => r.held)
    assert.is(winners.length, 1, `round ${round}: ${JSON.stringify([ra, rb])}`)
    const [winner, loser] = ra.held ? [a, rb] : [b, ra]
    assert.is(loser.error, 'LockError', JSON.stringify(loser))
    assert.is(loser.pid, winner.pid)
    assert.is(readLock(file).pid, winner.pid)
    assert.ok(files(dir).every((f) => f.endsWith('.lock')), `round ${round}: ${files(dir)}`)
  }
  await Promise.all([a.stop(), b.stop()])
  assert.equal(files(dir), [])
})

test('three runs taking over the same stale lock at once: never two winners (the put-back race)', async () => {
  const dir = freshDir()
  const runs = await Promise.all([otherRun(dir), otherRun(dir), otherRun(dir)])
  const gone = await deadPid()
  for (let round = 1; round <= 100; round++) {
    const target: Target = { host: `n${round}`, key: `10.0.2.${round}:22` }
    const file = path.join(dir, `10.0.2.${round}_22.lock`)
    holderFile(dir, path.basename(file), { pid: gone, token: `${round}`.padStart(16, '0') })
    const replies = await Promise.all(runs.map((r) => r.send({ take: [target] })))
    const winners = replies.filter((r) => r.held)
    assert.is(winners.length, 1, `round ${round}: ${JSON.stringify(replies)}`)
    assert.is(readLock(file).pid, runs[replies.indexOf(winners[0]!)]!.pid)
    for (const r of replies) if (!r.held) assert.is(r.error, 'LockError', JSON.stringify(r))
    // the winner lets go, so the next round starts from a stale lock again
    await runs[replies.indexOf(winners[0]!)]!.send({ release: true })
  }
  await Promise.all(runs.map((r) => r.stop()))
  assert.equal(files(dir), [])
})

test('the put-back race, step by step: B takes the stale lock over just after A judged it, C places its own while A acts on it: one winner', async () => {
  // Three runs in one process, driven through the fs calls lock.ts makes: after A's first read of
  // the lock file (A has judged the dead holder's lock stale), B runs; just before A's second link
  // into the lock file's name (with the old put-back, A putting back B's lock it had moved aside),
  // C runs. The old code moved B's fresh lock aside, C placed its own meanwhile, the put-back
  // failed and B's lock was deleted: B and C both held the host.
  const dir = freshDir()
  const file = path.join(dir, CP1_FILE)
  holderFile(dir, CP1_FILE, { pid: await deadPid() })
  const won = new Map<string, ReturnType<typeof acquireLocks>>()
  const refused: string[] = []
  let inner = false
  let reads = 0
  let links = 0
  const run = (name: string) => {
    const outer = inner
    inner = name !== 'A'
    try {
      won.set(name, acquireLocks([cp1], { ...INFO, command: name }, dir))
    } catch (e) {
      if (!(e instanceof LockError)) throw e
      refused.push(name)
    } finally {
      inner = outer
    }
  }
  const readFileSync = (...args: Parameters<typeof fs.readFileSync>) => {
    const out = realFs.readFileSync(...args)
    if (!inner && args[0] === file && ++reads === 1) run('B')
    return out
  }
  const linkSync = (src: fs.PathLike, dest: fs.PathLike) => {
    if (!inner && dest === file && ++links === 2) run('C')
    return realFs.linkSync(src, dest)
  }
  withFs({ readFileSync, linkSync }, () => run('A'))
  assert.ok(reads >= 1 && links >= 2, `the interleaving did not happen (reads ${reads}, links ${links})`)
  assert.equal([...won.keys()], ['B'], `winners ${[...won.keys()]}, refused ${refused}`)
  assert.equal(refused.sort(), ['A', 'C'])
  assert.is(readLock(file).command, 'B', "the winner's lock is the one in place")
  for (const h of won.values()) h.release()
  assert.equal(files(dir), [])
})

test("a stale lock that another run took over first is in that run's note only", async () => {
  // Just after A read the dead run's lock (and judged it stale), B takes it over and ends. A then
  // finds no lock, places its own and took nothing over: the note about the dead run is B's.
  const dir = freshDir()
  const file = path.join(dir, CP1_FILE)
  const dead = holderFile(dir, CP1_FILE, { pid: await deadPid() })
  let b: Held | undefined
  let reads = 0
  const readFileSync = (...args: Parameters<typeof fs.readFileSync>) => {
    const out = realFs.readFileSync(...args)
    if (args[0] === file && ++reads === 1) {
      b = acquireLocks([cp1], { ...INFO, command: 'B' }, dir)
      b.release()
    }
    return out
  }
  const a = withFs({ readFileSync }, () => acquireLocks([cp1], INFO, dir))
  assert.equal(b?.tookOver, [{ target: cp1, holder: dead }])
  assert.equal(a.tookOver, [], 'A found the lock gone: it took nothing over')
  assert.is(readLock(file).command, INFO.command)
  a.release()
  assert.equal(files(dir), [])
})

test('the lock is keyed on the machine reached, not the name written: 127.0.0.1, localhost and ::1 are one; a DNS name is its address', async () => {
  const hosts = parseInventory('all: {hosts: {a: {address: 127.0.0.1}, b: {address: localhost}, c: {address: "::1"}, d: {address: 127.0.0.2, port: 2222}, e: {address: LOCALHOST, port: 2222}, f: {address: 10.0.0.9}, g: {connection: local}}}', '/x/inv.yaml').hosts
  const keys = (await lockTargets(hosts)).map((t) => t.key)
  assert.equal(keys.slice(0, 6), ['loopback:22', 'loopback:22', 'loopback:22', 'loopback:2222', 'loopback:2222', '10.0.0.9:22'])
  assert.equal(keys[6], `local@${os.hostname()}`)
})

test('the lock folder: $ZXPLAY_LOCK_DIR, else ~/.zxplay/locks in the home folder', () => {
  const saved = { HOME: process.env.HOME, ZXPLAY_LOCK_DIR: process.env.ZXPLAY_LOCK_DIR }
  const home = path.join(tmp, 'home')
  try {
    process.env.HOME = home
    delete process.env.ZXPLAY_LOCK_DIR
    assert.is(lockDir(), path.join(home, '.zxplay', 'locks'))
    const held = acquireLocks([cp1], INFO) // the folder the CLI uses
    assert.equal(files(path.join(home, '.zxplay', 'locks')), [CP1_FILE])
    held.release()
    process.env.ZXPLAY_LOCK_DIR = path.join(tmp, 'elsewhere')
    assert.is(lockDir(), path.join(tmp, 'elsewhere'))
  } finally {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v)
  }
})

test('a refusal names the holder with what it knows: the user when it is known, nothing made up for what is missing', () => {
  const h = { pid: 4242, machine: 'ctl', started: '2026-11-25T10:00:00.000Z' }
  assert.is(describeHolder(h), 'pid 4242 on ctl, started 2026-11-25T10:00:00.000Z')
  assert.is(describeHolder({ ...h, user: 'alice', command: 'zxplay run site', inventory: '/srv/inv.yaml' }), 'pid 4242 on ctl (user alice), started 2026-11-25T10:00:00.000Z, `zxplay run site` with /srv/inv.yaml')
})

test('names are looked up: a name and its address are one lock, an IPv4-mapped address is its IPv4 address, 127.x is loopback; a name that does not resolve stays (in lower case); localhost is loopback even unresolved', async () => {
  // A resolver of our own (/etc/hosts is the machine's): it knows three names and nothing else, not even localhost.
  const answers: Record<string, string> = { 'db.example': '10.0.0.9', 'mapped.example': '::ffff:10.0.0.9', 'ctl.example': '127.0.1.1' }
  const real = dns.promises.lookup
  const lookup = async (name: string) => {
    const address = answers[name]
    if (!address) throw sysError('ENOTFOUND', `getaddrinfo ${name}`)
    return { address, family: address.includes(':') ? 6 : 4 }
  }
  // an ~/.ssh/config HostName may be in brackets (ssh -G prints it so)
  const config = path.join(tmp, 'ssh_config_brackets')
  fs.writeFileSync(config, 'Host six\n  HostName [::1]\n')
  const inventory = `all:
  hosts:
    a: {address: db.example}
    b: {address: DB.Example}
    c: {address: 10.0.0.9}
    d: {address: "::ffff:10.0.0.9"}
    e: {address: "::FFFF:10.0.0.9"}
    f: {address: mapped.example}
    g: {address: ctl.example}
    h: {address: localhost}
    i: {address: NoSuch.Invalid}
    j: {address: 10.0.127.1}
    six: {ansible_ssh_common_args: "-F ${config}"}`
  const hosts = parseInventory(inventory, '/x/inv.yaml').hosts
  Object.assign(dns.promises, { lookup })
  try {
    const keys = Object.fromEntries((await lockTargets(hosts)).map((t) => [t.host, t.key]))
    assert.equal(keys, {
      a: '10.0.0.9:22', b: '10.0.0.9:22', c: '10.0.0.9:22', d: '10.0.0.9:22', e: '10.0.0.9:22', f: '10.0.0.9:22',
      g: 'loopback:22', h: 'loopback:22', i: 'nosuch.invalid:22', j: '10.0.127.1:22', six: 'loopback:22',
    })
  } finally {
    Object.assign(dns.promises, { lookup: real })
  }
})

test('a lock that keeps vanishing and coming back: the run gives up with a clear error and leaves nothing behind', () => {
  // Simulated: each link into the lock's name finds it there, each read finds it gone. (After 1000
  // tries the simulation stops, so that a run that never gives up ends with a lock instead of hanging.)
  const dir = freshDir()
  const file = path.join(dir, CP1_FILE)
  let links = 0
  const linkSync = (src: fs.PathLike, dest: fs.PathLike) => {
    if (dest === file && ++links <= 1000) throw sysError('EEXIST', `file already exists, link '${src}' -> '${dest}'`)
    return realFs.linkSync(src, dest)
  }
  const readFileSync = (...args: Parameters<typeof fs.readFileSync>) => {
    if (args[0] === file && links <= 1000) throw sysError('ENOENT', `no such file or directory, open '${file}'`)
    return realFs.readFileSync(...args)
  }
  const e = withFs({ readFileSync, linkSync }, () => errorOf(() => acquireLocks([w0, cp1], INFO, dir)))
  assert.is(e.message, `could not take the lock ${file} (it keeps changing); is another zxplay run starting?`)
  assert.equal(files(dir), [], 'w0 given back, no temporary file left')
})

test('a lock folder that cannot hold hard links: the run fails at once saying why, and leaves nothing behind', () => {
  // as on a filesystem without hard links (link(2) answers EPERM)
  const dir = freshDir()
  const linkSync = (src: fs.PathLike, dest: fs.PathLike) => {
    throw sysError('EPERM', `operation not permitted, link '${src}' -> '${dest}'`)
  }
  const e = withFs({ linkSync }, () => errorOf(() => acquireLocks([cp1], INFO, dir)))
  assert.is((e as NodeJS.ErrnoException).code, 'EPERM', e.message)
  assert.equal(files(dir), [])
})

test("a live holder whose /proc entry cannot be read (/proc mounted hidepid=2, another user's run) is not stale", () => {
  const sleeper = spawn('sleep', ['30'])
  others.push(sleeper)
  const holder = { pid: sleeper.pid!, machine: os.hostname(), startTicks: startTicksOf(sleeper.pid!) }
  const stat = `/proc/${sleeper.pid}/stat`
  const readFileSync = (...args: Parameters<typeof fs.readFileSync>) => {
    if (args[0] === stat) throw sysError('ENOENT', `no such file or directory, open '${stat}'`)
    return realFs.readFileSync(...args)
  }
  try {
    assert.not.ok(withFs({ readFileSync }, () => isStale(holder)))
  } finally {
    sleeper.kill('SIGKILL')
  }
})

test('a run killed while it judged a stale lock leaves its mutex folder; once that is old, the next run clears it and takes the lock over', async () => {
  const dir = freshDir()
  const dead = holderFile(dir, CP1_FILE, { pid: await deadPid() })
  const mutex = path.join(dir, `${CP1_FILE}.takeover`)
  fs.mkdirSync(mutex)
  const aMinuteAgo = new Date(Date.now() - 60_000)
  fs.utimesSync(mutex, aMinuteAgo, aMinuteAgo)
  const held = acquireLocks([cp1], INFO, dir)
  assert.equal(held.tookOver, [{ target: cp1, holder: dead }])
  assert.equal(files(dir), [CP1_FILE], 'the old mutex is gone')
  held.release()
})

test('taking and releasing locks leaves no file open', () => {
  const dir = freshDir()
  const open = () => fs.readdirSync('/proc/self/fd').length
  const before = open()
  const targets = Array.from({ length: 20 }, (_, i): Target => ({ host: `n${i}`, key: `10.0.3.${i}:22` }))
  acquireLocks(targets, INFO, dir).release()
  assert.is(open(), before)
})

test.run()
