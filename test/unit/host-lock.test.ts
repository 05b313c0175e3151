// lib/transport/host-lock.ts: the lock on the host itself, through the local transport on this machine
// (a lock file in a temporary folder stands in for /run/lock/zxplay.lock). The other runs are
// real processes holding the real flock(1), so a kill -9 frees it the way it does on a host.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Connection } from '../../lib/transport/connection.ts'
import { HOST_LOCK_FILE, HostLockError, hostHolder, hostLockFile, HostLocks, takeHostLock, type HostLockHolder } from '../../lib/transport/host-lock.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { connectLocal } from '../../lib/transport/local.ts'
import { bundleForChild, tempDir } from './_helpers.ts'

const REPO = path.resolve(import.meta.dirname, '../..')
const { dir: tmp, remove } = tempDir('host-lock')
const others: ChildProcess[] = []
// the other run loads the two modules bundled, with plain node (tsx would cost it a second of CPU)
let bundle: Awaited<ReturnType<typeof bundleForChild>>
test.before(async () => {
  bundle = await bundleForChild('host-lock-test', ['lib/transport/host-lock.ts', 'lib/transport/local.ts'])
})
test.after(() => {
  for (const c of others) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  bundle?.remove()
  remove()
})

let n = 0
const freshFile = () => path.join(tmp, `lock-${++n}`)
const me = (over: Partial<HostLockHolder> = {}): HostLockHolder => ({ ...hostHolder(['run', 'site', '-i', 'inventory.yaml']), ...over })
const conn = () => connectLocal('node1')
async function refusal(p: Promise<unknown>): Promise<HostLockError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x
  )
  assert.instance(e, HostLockError, `expected a refusal, got ${String(e)}`)
  return e as HostLockError
}

// Another run on another machine: a process of its own that holds the lock until told, or killed.
const OTHER_RUN = `
const [bundle, file, holder] = process.argv.slice(1)
const { takeHostLock, connectLocal } = await import(bundle)
const h = await takeHostLock(connectLocal('node1'), 'node1', JSON.parse(holder), file)
process.stdout.write('held\\n')
process.stdin.on('data', () => {}).on('end', () => h.release())
`

async function otherRun(file: string, holder: HostLockHolder) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', OTHER_RUN, bundle.url, file, JSON.stringify(holder)], { cwd: REPO, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'inherit'] })
  others.push(child)
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (l) => (l === 'held' ? resolve() : reject(new Error(l))))
    child.once('exit', (code) => reject(new Error(`the other run ended with ${code}`)))
  })
  const exited = new Promise<void>((r) => child.on('exit', () => r()))
  return { child, exited }
}

test('the lock file: /run/lock/zxplay.lock, or $ZXPLAY_HOST_LOCK', () => {
  const saved = process.env.ZXPLAY_HOST_LOCK
  try {
    delete process.env.ZXPLAY_HOST_LOCK
    assert.is(hostLockFile(), '/run/lock/zxplay.lock')
    assert.is(HOST_LOCK_FILE, '/run/lock/zxplay.lock')
    process.env.ZXPLAY_HOST_LOCK = '/tmp/x.lock'
    assert.is(hostLockFile(), '/tmp/x.lock')
  } finally {
    if (saved === undefined) delete process.env.ZXPLAY_HOST_LOCK
    else process.env.ZXPLAY_HOST_LOCK = saved
  }
})

test('the holder names this run: pid, machine, user, start, command line without -e values (the file is world-readable)', () => {
  const h = hostHolder(['run', 'site', '-e', 'token=s3cret', '--extra-vars', 'pw=hunter22', '-etoken=x1', '--extra-vars=y=2', '-i', 'inv.yaml'])
  assert.is(h.command, 'zxplay run site -e … --extra-vars … -e… --extra-vars=… -i inv.yaml')
  assert.equal([h.pid, h.machine, h.user], [process.pid, os.hostname(), os.userInfo().username])
  assert.match(h.token, /^[0-9a-f]{16}$/)
  assert.ok(Math.abs(Date.parse(h.started) - Date.now()) < 60_000)
})

test("a second run is refused naming the first (pid, machine, user, start, command); the first's own second name is no conflict; release frees it", async () => {
  const file = freshFile()
  const first = me({ machine: 'laptop-a', user: 'alice', pid: 4242 })
  const held = await takeHostLock(conn(), 'node1', first, file)
  assert.is((fs.statSync(file).mode & 0o777).toString(8), '666', 'any user’s run can write its name into it')
  const line = JSON.parse(fs.readFileSync(file, 'utf8')) as HostLockHolder
  assert.equal({ ...line, hostPid: undefined }, { ...first, hostPid: undefined })
  assert.ok(line.hostPid! > 1 && holdsOpen(line.hostPid!, file), 'the line names the shell holding the lock')

  const e = await refusal(takeHostLock(conn(), 'node1-by-ip', me(), file))
  assert.is(e.host, 'node1-by-ip')
  assert.is(e.holder?.token, first.token)
  assert.is(
    e.message,
    `node1-by-ip is in use by another zxplay run: pid 4242 on laptop-a (user alice), started ${first.started}, \`zxplay run site -i inventory.yaml\`.\n` +
      `  Run again when it has ended. It holds the lock ${file} on node1-by-ip, which is freed when that run ends or its connection drops.`
  )
  // the same run reaching the machine under another name holds it already
  ;(await takeHostLock(conn(), 'node1-alias', first, file)).release()

  held.release()
  for (let i = 0; i < 100 && fs.readFileSync(file, 'utf8'); i++) await new Promise((r) => setTimeout(r, 20))
  assert.is(fs.readFileSync(file, 'utf8'), '', 'emptied as it let go: no old line to be taken for a holder')
  const next = await takeHostLock(conn(), 'node1', me(), file)
  next.release()
})

test('a run killed with SIGKILL frees the lock: the next run takes it with nothing to clean up', async () => {
  const file = freshFile()
  const killed = me({ machine: 'laptop-b' })
  const other = await otherRun(file, killed)
  const e = await refusal(takeHostLock(conn(), 'node1', me(), file))
  assert.match(e.message, 'on laptop-b (user ')
  other.child.kill('SIGKILL')
  await other.exited
  const t0 = Date.now()
  const held = await takeHostLock(conn(), 'node1', me(), file)
  assert.ok(Date.now() - t0 < 5000)
  held.release()
})

// A run that is gone while the host still sees its connection open (a cut network): its lock
// script keeps running with its input open, as under an sshd that has not noticed.
async function stuckRun(file: string, over: Partial<HostLockHolder>) {
  const holder = me(over)
  const handle = await takeHostLock(conn(), 'node1', holder, file)
  const line = JSON.parse(fs.readFileSync(file, 'utf8')) as HostLockHolder
  return { holder, handle, hostPid: line.hostPid! }
}
const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
const holdsOpen = (pid: number, file: string) => fs.readdirSync(`/proc/${pid}/fd`).some((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === fs.realpathSync(file))
const gonePid = () => spawnSync('true').pid!

test("a cut network: a run of this machine that is gone still holds the host's lock; the next run ends its shell there, takes the lock and says so", async () => {
  const file = freshFile()
  const stuck = await stuckRun(file, { pid: gonePid(), startTicks: undefined })
  assert.ok(alive(stuck.hostPid))
  const notes: string[] = []
  const next = await takeHostLock(conn(), 'node1', me(), file, (host, h) => notes.push(`${host} ${h.pid} ${h.token}`))
  assert.equal(notes, [`node1 ${stuck.holder.pid} ${stuck.holder.token}`])
  assert.not.ok(alive(stuck.hostPid), "the gone run's shell on the host is ended")
  const line = JSON.parse(fs.readFileSync(file, 'utf8')) as HostLockHolder
  assert.is.not(line.token, stuck.holder.token, 'the file names the new holder')
  next.release()
  stuck.handle.release()
})

test("the take-over over an SSH-like channel (it closes only once its output is read and its input ended): it does not hang", async () => {
  const file = freshFile()
  const stuck = await stuckRun(file, { pid: gonePid(), startTicks: undefined })
  const local = conn()
  const sshLike: Connection = {
    host: 'node1',
    close: () => local.close(),
    async spawn(command) {
      const p = await local.spawn(command)
      const ended = (s: NodeJS.ReadableStream) => new Promise<void>((r) => s.once('end', () => r()))
      const finished = new Promise<void>((r) => p.stdin.once('finish', () => r()))
      return { ...p, done: Promise.all([p.done, ended(p.stdout), ended(p.stderr), finished]).then(() => p.done) }
    },
  }
  const t0 = Date.now()
  const next = await takeHostLock(sshLike, 'node1', me(), file, () => {})
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`)
  assert.not.ok(alive(stuck.hostPid))
  next.release()
  stuck.handle.release()
})

test('no take-over of a live run, of a run on another machine, unasked, or of a pid that does not hold the lock', async () => {
  const cases: [string, Partial<HostLockHolder>, boolean][] = [
    ['alive on this machine (this process, another run)', { pid: process.pid }, true],
    ['gone, but started on another machine', { pid: gonePid(), machine: 'laptop-c', startTicks: undefined }, true],
    ['gone on this machine, but the caller did not ask', { pid: gonePid(), startTicks: undefined }, false],
  ]
  for (const [what, over, ask] of cases) {
    const file = freshFile()
    const stuck = await stuckRun(file, over)
    await refusal(takeHostLock(conn(), 'node1', me(), file, ask ? () => assert.unreachable(`taken over: ${what}`) : undefined))
    assert.ok(alive(stuck.hostPid), what)
    stuck.handle.release()
  }
  // the file (world-writable) names a process that does not hold the lock: it is not killed
  const file = freshFile()
  const stuck = await stuckRun(file, { pid: gonePid(), startTicks: undefined })
  const innocent = spawn('sleep', ['30'])
  others.push(innocent)
  const line = JSON.parse(fs.readFileSync(file, 'utf8')) as HostLockHolder
  fs.writeFileSync(file, `${JSON.stringify({ ...line, hostPid: innocent.pid })}\n`)
  await refusal(takeHostLock(conn(), 'node1', me(), file, () => assert.unreachable('taken over')))
  assert.ok(alive(innocent.pid!) && alive(stuck.hostPid))
  stuck.handle.release()
})

test('a run ending normally lets go at once: a run started right after is not refused', async () => {
  const file = freshFile()
  for (let i = 0; i < 5; i++) {
    const h = await takeHostLock(conn(), 'node1', me(), file)
    h.release()
  }
})

test('what is in the file is shown, never obeyed: garbage or control characters from another user, cut and escaped', async () => {
  const file = freshFile()
  fs.writeFileSync(file, '')
  const holder = spawn('flock', [file, '-c', `printf '%s' '{"junk":"\x1b[31mred' > ${file}; sleep 30`])
  others.push(holder)
  for (let i = 0; i < 100 && !fs.readFileSync(file, 'utf8'); i++) await new Promise((r) => setTimeout(r, 20))
  const e = await refusal(takeHostLock(conn(), 'node1', me(), file))
  assert.is(e.holder, undefined)
  assert.match(e.message, `node1 is locked by something other than a zxplay run: ${file} on node1 is held, and its holder did not say who it is (the file says {"junk":"\\u001b[31mred).`)
  assert.not.match(e.message, '\x1b')
  holder.kill('SIGKILL')
})

test('a host without flock(1), or whose lock file is a symlink: refused, saying why', async () => {
  // a PATH with the tools the script uses but no flock
  const bin = path.join(tmp, 'bin-without-flock')
  fs.mkdirSync(bin)
  for (const tool of ['sh', 'cat', 'dd', 'head', 'ls', 'sleep']) fs.symlinkSync(`/bin/${tool}`, path.join(bin, tool))
  const local = conn()
  const noFlock: Connection = { host: 'node1', spawn: (command) => local.spawn(`PATH=${bin} ${command}`), close: () => local.close() }
  const e = await refusal(takeHostLock(noFlock, 'node1', me(), freshFile()))
  assert.is(e.message, 'node1 has no flock(1): zxplay locks a host against other runs with it; install util-linux there')

  const link = freshFile()
  const target = freshFile()
  fs.writeFileSync(target, 'precious\n')
  fs.symlinkSync(target, link)
  const s = await refusal(takeHostLock(conn(), 'node1', me(), link))
  assert.match(s.message, `zxplay cannot use its lock file ${link} on node1: it is not a regular file: l`)
  assert.is(fs.readFileSync(target, 'utf8'), 'precious\n', 'nothing written through the symlink')
})

test('connection: local hosts are one machine: one lock for all of them, taken once, no deadlock with itself', async () => {
  const file = freshFile()
  const hosts = parseInventory('all: {hosts: {a: {connection: local}, b: {connection: local}, c: {connection: local}}}', '/x/inv.yaml').hosts
  const locks = new HostLocks(me(), file)
  await Promise.all(hosts.map((h) => locks.take(h, conn())))
  const other = await refusal(new HostLocks(me({ pid: 1 }), file).take(hosts[1]!, conn()))
  assert.match(other.message, /^b \(this machine\) is in use by another zxplay run: pid \d+ on /)
  locks.release()
  const again = new HostLocks(me(), file)
  await again.take(hosts[0]!, conn())
  again.release()
})

test('30 hosts take their locks at once without a listener-leak warning (one stop listener per host)', async () => {
  const file = freshFile()
  const names = Array.from({ length: 30 }, (_, i) => `h${i + 1}: {}`).join(', ')
  const hosts = parseInventory(`all: {hosts: {${names}}}`, '/x/inv.yaml').hosts
  const warnings: Error[] = []
  const onWarning = (w: Error) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const locks = new HostLocks(me(), file)
    // every host's lock is this machine's file here: the first takes it, the rest find this run holding it
    await Promise.all(hosts.map((h) => locks.take(h, conn())))
    locks.release()
    await new Promise((r) => setImmediate(r))
  } finally {
    process.off('warning', onWarning)
  }
  assert.equal(warnings.map((w) => w.message), [])
})

test.run()
