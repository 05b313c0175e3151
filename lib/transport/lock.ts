// One changing run at a time per host: a lock file per target (address:port) on this machine,
// in ~/.zxplay/locks (or $ZXPLAY_LOCK_DIR). A second run against any of the same hosts refuses
// at once and names the holder (pid, machine, start time, command). A lock whose process is
// gone (killed, crashed: same machine, pid not running, or the pid now belongs to another
// process) is stale and taken over, with a note. Runs that change nothing (--check, ping,
// --list-*) take no lock; the CLI only tells them when another run holds one.
//
// Lock files appear atomically with their whole content (written to a temporary file, then
// hard-linked into place, which fails if the lock exists). A stale lock is removed under a
// mutex, after checking it is still the one judged stale, so runs taking it over at once cannot both win.
import { randomBytes } from 'node:crypto'
import { promises as dns } from 'node:dns'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { openNew } from '../base/files.ts'
import type { Host } from '../inventory/inventory.ts'
import { targetFor } from './ssh.ts'

export type LockHolder = {
  pid: number
  /** the machine the run started on (os.hostname()) */
  machine: string
  started: string
  /** /proc/<pid>/stat start time, to tell a reused pid from the holder */
  startTicks?: string
  command: string
  inventory: string
  target: string
  token: string
}

export type Target = { host: string; key: string }

/** Another run holds a host. */
export class LockError extends Error {
  override name = 'LockError'
  holder: LockHolder
  file: string
  constructor(target: Target, holder: LockHolder, file: string) {
    super(
      `${target.host} (${target.key}) is in use by another zxplay run: ${describeHolder(holder)}.\n` +
        `  Run again when it has ended. The lock is ${file}; it is taken over by itself once that process is gone` +
        `${holder.machine !== os.hostname() ? ` (it runs on another machine: remove the file by hand if that run is gone)` : ''}.`
    )
    this.holder = holder
    this.file = file
  }
}

/** Who holds a lock, for a refusal: pid, machine (and user), start time, command line, inventory. */
export function describeHolder(h: { pid: number; machine: string; user?: string; started: string; command?: string; inventory?: string }): string {
  return `pid ${h.pid} on ${h.machine}${h.user ? ` (user ${h.user})` : ''}, started ${h.started}${h.command ? `, \`${h.command}\`` : ''}${h.inventory ? ` with ${h.inventory}` : ''}`
}

export type Held = {
  release(): void
  /** stale locks this run took over, for a note */
  tookOver: { target: Target; holder: LockHolder }[]
}

/**
 * What a lock is held on: the machine each host reaches, not the name written (an ~/.ssh/config
 * alias, a DNS name and its address, localhost and 127.0.0.1 are each one machine).
 */
export async function lockTargets(hosts: Host[]): Promise<Target[]> {
  return Promise.all(
    hosts.map(async (h) => {
      if (h.connection === 'local') return { host: h.name, key: `local@${os.hostname()}` }
      const t = targetFor(h)
      return { host: h.name, key: `${await machine(t.hostname)}:${t.port}` }
    })
  )
}

/** An address for a host name (a name that does not resolve stays as written: it will not connect either). */
async function machine(name: string): Promise<string> {
  const bare = name.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  let address = bare
  if (!net.isIP(bare)) address = await dns.lookup(bare).then((a) => a.address, () => bare)
  const v4 = address.replace(/^::ffff:(?=\d+\.)/, '')
  return v4 === '::1' || /^127\./.test(v4) || bare === 'localhost' ? 'loopback' : v4
}

export function lockDir(env = process.env): string {
  return env.ZXPLAY_LOCK_DIR || path.join(os.homedir(), '.zxplay', 'locks')
}

const fileFor = (dir: string, t: Target) => path.join(dir, `${t.key.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`)

/** Lock every target or none: on a conflict the ones already taken are released and LockError is thrown. */
export function acquireLocks(targets: Target[], info: { command: string; inventory: string }, dir = lockDir()): Held {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const token = randomBytes(8).toString('hex')
  const mine = (target: string): LockHolder => ({
    pid: process.pid,
    machine: os.hostname(),
    started: new Date().toISOString(),
    startTicks: startTicks(process.pid),
    command: info.command,
    inventory: info.inventory,
    target,
    token,
  })
  const taken: string[] = []
  const tookOver: Held['tookOver'] = []
  const release = () => {
    for (const file of taken.splice(0)) if (readHolder(file)?.token === token) fs.rmSync(file, { force: true })
  }
  const unique = [...new Map(targets.map((t) => [fileFor(dir, t), t])).entries()].sort(([a], [b]) => a.localeCompare(b))
  try {
    for (const [file, target] of unique) {
      const stale = take(file, mine(target.key))
      taken.push(file)
      if (stale) tookOver.push({ target, holder: stale })
    }
  } catch (e) {
    release()
    if (e instanceof HeldBy) throw new LockError(unique.find(([f]) => f === e.file)![1], e.holder, e.file)
    throw e
  }
  return { release, tookOver }
}

/** Who holds any of these targets now (a live holder), without taking anything: for --check's note. */
export function currentHolder(targets: Target[], dir = lockDir()): { target: Target; holder: LockHolder } | undefined {
  for (const t of targets) {
    const holder = readHolder(fileFor(dir, t))
    if (holder && holder.pid !== process.pid && !isStale(holder)) return { target: t, holder }
  }
  return undefined
}

class HeldBy extends Error {
  holder: LockHolder
  file: string
  constructor(file: string, holder: LockHolder) {
    super('held')
    this.holder = holder
    this.file = file
  }
}

/** Create the lock file; returns the stale holder it replaced, if any. Throws HeldBy when a live run holds it. */
function take(file: string, me: LockHolder): LockHolder | undefined {
  let replaced: LockHolder | undefined
  for (let attempt = 0; attempt < 20; attempt++) {
    if (place(file, me)) return replaced
    const holder = readLock(file)
    // Gone meanwhile (released, or removed by a run taking it over, which may have placed its
    // own by now): try again. Telling this apart by the read itself, not by a second look, matters:
    // the file may be back by then, and would pass for one that is not a lock.
    if (holder === 'missing') continue
    if (holder === 'invalid') throw new Error(`lock file ${file} is not a zxplay lock; remove it if no zxplay run is going on`)
    if (holder.token === me.token) return replaced
    if (!isStale(holder)) throw new HeldBy(file, holder)
    // Only one run at a time judges and removes a stale lock. Moving it aside to check it could
    // move a fresh one instead, and putting that back fails when a third run has placed its own
    // meanwhile: two winners. Under the mutex no lock moves, and a dead holder stays dead.
    const gone = underMutex(`${file}.takeover`, () => {
      const now = readLock(file)
      if (typeof now === 'string' || now.token !== holder.token) return false
      fs.rmSync(file, { force: true })
      return true
    })
    if (gone) replaced = holder
  }
  throw new Error(`could not take the lock ${file} (it keeps changing); is another zxplay run starting?`)
}

/** A mutex held by only this (brief) judgement is older than this only if its run died holding it. */
const MUTEX_STALE_MS = 10_000

/** Run fn holding a mutex (a folder: mkdir is atomic); waits up to ~2 s for another run to let go. */
function underMutex<T>(dir: string, fn: () => T): T | undefined {
  for (let i = 0; i < 200; i++) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      try {
        if (Date.now() - fs.statSync(dir).mtimeMs > MUTEX_STALE_MS) fs.rmdirSync(dir)
      } catch {}
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
      continue
    }
    try {
      return fn()
    } finally {
      fs.rmdirSync(dir)
    }
  }
  return undefined
}

/** Write to a temporary file, then hard-link it into place: the lock appears complete or not at all. */
function place(file: string, me: LockHolder): boolean {
  const tmp = `${file}.${me.token}.tmp`
  const fd = openNew(tmp)
  try {
    fs.writeFileSync(fd, JSON.stringify(me) + '\n')
  } finally {
    fs.closeSync(fd)
  }
  try {
    fs.linkSync(tmp, file)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}

/** A lock file's holder; 'missing' when there is no such file, 'invalid' when it is not a zxplay lock. */
function readLock(file: string): LockHolder | 'missing' | 'invalid' {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'invalid'
  }
  try {
    const h = JSON.parse(text) as LockHolder
    return typeof h?.pid === 'number' && typeof h.token === 'string' ? h : 'invalid'
  } catch {
    return 'invalid'
  }
}

function readHolder(file: string): LockHolder | undefined {
  const h = readLock(file)
  return typeof h === 'string' ? undefined : h
}

/** A holder on this machine whose process is gone, or whose pid now belongs to a newer process. */
export function isStale(h: Pick<LockHolder, 'pid' | 'machine' | 'startTicks'>): boolean {
  if (h.machine !== os.hostname()) return false // cannot tell: another machine's run
  try {
    process.kill(h.pid, 0)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true
  }
  if (procStat(h.pid)?.[0] === 'Z') return true // killed, not yet reaped by its parent
  const ticks = startTicks(h.pid)
  return h.startTicks !== undefined && ticks !== undefined && ticks !== h.startTicks
}

/** The fields of /proc/<pid>/stat from the state on (field 3); undefined off Linux or when gone. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** Field 22 of /proc/<pid>/stat: the start time since boot, in clock ticks. */
export const startTicks = (pid: number) => procStat(pid)?.[19]
