// One changing run at a time per host: a lock file per target (address:port) on this machine,
// in ~/.zxplay/locks (or $ZXPLAY_LOCK_DIR). A second run against any of the same hosts refuses
// at once and names the holder (pid, machine, start time, command). A lock whose process is
// gone (killed, crashed: same machine, pid not running, or the pid now belongs to another
// process) is stale and taken over, with a note. Runs that change nothing (--check, ping,
// --list-*) take no lock; the CLI only tells them when another run holds one.
//
// Lock files appear atomically with their whole content (written to a temporary file, then
// hard-linked into place, which fails if the lock exists). A stale lock is first renamed away
// and checked to be the one judged stale, so two runs taking it over at once cannot both win.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openNew } from './files.ts'

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
      `${target.host} (${target.key}) is in use by another zxplay run: pid ${holder.pid} on ${holder.machine}, started ${holder.started}` +
        `${holder.command ? `, \`${holder.command}\`` : ''}${holder.inventory ? ` with ${holder.inventory}` : ''}.\n` +
        `  Run again when it has ended. The lock is ${file}; it is taken over by itself once that process is gone` +
        `${holder.machine !== os.hostname() ? ` (it runs on another machine: remove the file by hand if that run is gone)` : ''}.`
    )
    this.holder = holder
    this.file = file
  }
}

export type Held = {
  release(): void
  /** stale locks this run took over, for a note */
  tookOver: { target: Target; holder: LockHolder }[]
}

export function lockDir(): string {
  return process.env.ZXPLAY_LOCK_DIR || path.join(os.homedir(), '.zxplay', 'locks')
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
  for (let attempt = 0; attempt < 5; attempt++) {
    if (place(file, me)) return replaced
    const holder = readLock(file)
    // Gone meanwhile (released, or renamed away by a run taking it over, which may have placed its
    // own by now): try again. Telling this apart by the read itself, not by a second look, matters:
    // the file may be back by then, and would pass for one that is not a lock.
    if (holder === 'missing') continue
    if (holder === 'invalid') throw new Error(`lock file ${file} is not a zxplay lock; remove it if no zxplay run is going on`)
    if (holder.token === me.token) return replaced
    if (!isStale(holder)) throw new HeldBy(file, holder)
    // Rename the stale lock away, then make sure it was that one (another run may have taken it over first).
    const aside = `${file}.stale-${me.token}`
    try {
      fs.renameSync(file, aside)
    } catch {
      continue
    }
    const moved = readHolder(aside)
    if (moved?.token === holder.token) {
      fs.rmSync(aside, { force: true })
      replaced = holder
      continue
    }
    // We moved someone else's fresh lock: put it back, and that run holds the host.
    try {
      fs.linkSync(aside, file)
    } catch {}
    fs.rmSync(aside, { force: true })
    if (moved && !isStale(moved)) throw new HeldBy(file, moved)
  }
  throw new Error(`could not take the lock ${file} (it keeps changing); is another zxplay run starting?`)
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
export function isStale(h: LockHolder): boolean {
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
const startTicks = (pid: number) => procStat(pid)?.[19]
