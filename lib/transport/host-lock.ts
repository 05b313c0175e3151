// The lock on the host itself: a changing run holds flock(1) on /run/lock/zxplay.lock on every
// host it changes, through a command of its own on that host's connection, for the whole run. Two
// runs from two control machines (or two users, or a name and an address the control-machine lock
// in lock.ts cannot equate) cannot change one host at once: the second is refused, naming the
// holder the first wrote into the file. The lock is a process's, not a file's presence: when the
// run ends or its connection drops (a killed runner), the command's input ends, it exits, and the
// kernel frees the lock. Nothing is left to clean up.
//
// A cut network is the exception: the runner gives up (or is killed) while the host's sshd still
// believes the connection alive (until TCP gives up, minutes to hours), and the lock stays held by
// a run that is gone. When the holder was started on this machine and its process is gone (the
// test of lock.ts), the next run ends the holder's shell on the host (its pid is in the file, and
// it is checked to hold the lock file) and takes the lock, with a note.
//
// `connection: local` hosts are this machine: they share one lock, taken once per run. A run that
// reaches one machine under two names meets its own lock there (its token): that is no conflict.
import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import os from 'node:os'
import type { Connection, Proc } from './connection.ts'
import type { Host } from '../inventory/inventory.ts'
import { describeHolder, isStale, startTicks } from './lock.ts'
import { shq } from './shell.ts'
import { visible } from '../base/yaml.ts'

/** Debian's /run/lock: a tmpfs, mode 1777, so every user's run can create and lock the file. */
export const HOST_LOCK_FILE = '/run/lock/zxplay.lock'

/** The lock file's path on every host; $ZXPLAY_HOST_LOCK moves it (tests running side by side on one machine). */
export const hostLockFile = (env = process.env) => env.ZXPLAY_HOST_LOCK || HOST_LOCK_FILE

export type HostLockHolder = {
  token: string
  pid: number
  machine: string
  user: string
  started: string
  command: string
  /** /proc/<pid>/stat start time of the run on its machine, to tell a reused pid from it */
  startTicks?: string
  /** the shell on the host that holds the lock (written there by the script, not by the run) */
  hostPid?: number
}

/** Another run holds a host, or the lock cannot be taken there (no flock(1), an unusable file). */
export class HostLockError extends Error {
  override name = 'HostLockError'
  host: string
  holder?: HostLockHolder
  constructor(host: string, message: string, holder?: HostLockHolder) {
    super(message)
    this.host = host
    this.holder = holder
  }
}

/** A run's command line as a lock names it, without -e values (they may be secrets; a lock is shown to other runs). */
export function lockCommand(argv: string[]): string {
  const words = argv.map((a, i) => (/^(-e|--extra-vars)$/.test(argv[i - 1] ?? '') ? '…' : a.replace(/^(-e|--extra-vars=)(.+)$/s, '$1…')))
  return ['zxplay', ...words].join(' ').slice(0, 300)
}

/** This run as the host lock names it. -e values stay out: the file is world-readable on the host. */
export function hostHolder(argv: string[]): HostLockHolder {
  return {
    token: randomBytes(8).toString('hex'),
    pid: process.pid,
    machine: os.hostname(),
    user: os.userInfo().username,
    started: new Date().toISOString(),
    command: lockCommand(argv),
    startTicks: startTicks(process.pid),
  }
}

/**
 * POSIX sh on the host. The holder's line comes on stdin (not argv: process lists); then stdin
 * stays open, and its end (release, or the connection gone) ends `cat` and frees the lock. The file
 * is created world-writable, and afterwards only opened without O_CREAT (a read, and a write
 * through /dev/fd), which fs.protected_regular allows on another user's file in a sticky folder.
 */
export function hostLockScript(file: string): string {
  return [
    `f=${shq(file)}`,
    'IFS= read -r me || exit 0',
    "command -v flock >/dev/null 2>&1 || { echo 'zxplay-lock no-flock'; exit 0; }",
    `if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then echo "zxplay-lock unusable it is not a regular file: $(ls -ld "$f" 2>&1)"; exit 0; fi`,
    `[ -e "$f" ] || err=$( (umask 0; set -C; : >"$f") 2>&1 )`,
    // a run that lost the race to create it finds it made
    `[ -r "$f" ] && [ -w "$f" ] || { echo "zxplay-lock unusable it cannot be read and written: \${err:-$(ls -ld "$f" 2>&1)}"; exit 0; }`,
    'exec 9<"$f"',
    // a run that is just ending lets go within moments: wait that long before saying it is held
    'if flock -w 0.5 9; then',
    // the holder's line gets this shell's pid: a later run may have to end it (a cut network)
    '  printf "%s,\\"hostPid\\":%s}\\n" "${me%?}" "$$" | dd of=/dev/fd/9 conv=nocreat status=none',
    // emptied as it lets go, so that no later reader takes an old line for its holder; also on
    // the TERM a closing connection sends to what still runs on it (and a HUP or PIPE)
    '  let_go() { dd if=/dev/null of=/dev/fd/9 conv=nocreat status=none; exit 0; }',
    '  trap let_go HUP PIPE TERM',
    '  echo zxplay-lock taken',
    // only this shell holds the lock: ending it (SIGKILL) frees it whatever cat is doing
    '  cat >/dev/null 9<&-',
    '  let_go',
    'fi',
    // the holder may be writing its line right now
    'i=0; while [ $i -lt 20 ]; do h=$(head -c 2000 "$f"); case $h in *}) break ;; esac; sleep 0.05; i=$((i+1)); done',
    'printf "zxplay-lock held %s\\n" "$h"',
  ].join('\n')
}

export type HostLockHandle = { release(): void }

/** Called when a run that is gone held the lock and this one took it over. */
export type OnTakeOver = (host: string, holder: HostLockHolder) => void

/**
 * Ends the shell that holds the lock for a run that is gone: only if the file still names that
 * run (its token) and that pid has the lock file open (no reused pid is hit; dash moves fd 9 while
 * cat runs, so every fd is looked at).
 */
export function hostTakeOverScript(file: string, holder: { token: string; hostPid: number }): string {
  return [
    `f=${shq(file)}; pid=${holder.hostPid}`,
    `case $(head -c 2000 "$f") in *${shq(`"token":"${holder.token}"`)}*) ;; *) exit 0 ;; esac`,
    'real=$(readlink -f "$f")',
    'for fd in /proc/"$pid"/fd/*; do [ "$(readlink "$fd")" = "$real" ] && { kill -KILL "$pid"; break; }; done',
    'exit 0',
  ].join('\n')
}

const TAKE_TIMEOUT_MS = 30_000

/**
 * Take the lock on the host behind conn; throws HostLockError when another run holds it. `stop`
 * (Ctrl-C) ends the wait at once: a host that does not answer would otherwise hold the run for
 * TAKE_TIMEOUT_MS after the user asked it to stop.
 */
export async function takeHostLock(conn: Connection, host: string, me: HostLockHolder, file = hostLockFile(), onTakeOver?: OnTakeOver, stop?: AbortSignal): Promise<HostLockHandle> {
  const where = `${file} on ${host}`
  const stopped = () => new HostLockError(host, `taking the lock ${where} was interrupted; nothing was run there`)
  if (stop?.aborted) throw stopped()
  const proc = await conn.spawn(`sh -c ${shq(hostLockScript(file))}`)
  proc.stdin.on('error', () => {}) // the script may be gone (refused) before we stop writing
  proc.stdin.write(`${JSON.stringify(me)}\n`)
  const release = () => void proc.stdin.end()
  const line = await untilStopped(proc, stop, () => firstLine(proc))
  const [, word, rest = ''] = /^zxplay-lock (\S+) ?(.*)$/s.exec(line.text) ?? []
  if (word === 'taken' && !stop?.aborted) return { release }
  release()
  if (stop?.aborted) throw stopped()
  if (word === 'held') {
    const holder = parseHolder(rest)
    if (holder?.token === me.token) return { release: () => {} } // this run holds it under another name
    if (onTakeOver && holder?.hostPid !== undefined && isStale(holder)) {
      await endStale(conn, hostTakeOverScript(file, { token: holder.token, hostPid: holder.hostPid }), stop)
      // stopped meanwhile: the retry throws before it starts anything
      const taken = await takeHostLock(conn, host, me, file, undefined, stop) // once: no second take-over
      onTakeOver(host, holder)
      return taken
    }
    throw new HostLockError(
      host,
      holder
        ? `${host} is in use by another zxplay run: ${describeHolder(holder)}.\n  Run again when it has ended. It holds the lock ${where}, which is freed when that run ends or its connection drops.`
        : `${host} is locked by something other than a zxplay run: ${where} is held, and its holder did not say who it is${rest ? ` (the file says ${visible(rest.slice(0, 200))})` : ''}.\n  Run again when it has let go (fuser -v ${file} on the host shows it).`,
      holder
    )
  }
  if (word === 'no-flock') throw new HostLockError(host, `${host} has no flock(1): zxplay locks a host against other runs with it; install util-linux there`)
  if (word === 'unusable') throw new HostLockError(host, `zxplay cannot use its lock file ${where}: ${visible(rest.slice(0, 300))}; remove it if no zxplay run is going on`)
  throw new HostLockError(host, `could not take the lock ${where}: ${line.timedOut ? `no answer within ${TAKE_TIMEOUT_MS / 1000}s` : visible((line.stderr || line.text || 'the command ended without saying').slice(0, 300))}`)
}

/**
 * Runs the take-over script to its end. Its output is drained and its input ended: an SSH channel
 * whose output nobody reads never closes (ssh2), and a run must not wait on it forever.
 */
async function endStale(conn: Connection, script: string, stop?: AbortSignal): Promise<void> {
  const proc = await conn.spawn(`sh -c ${shq(script)}`)
  proc.stdout.resume()
  proc.stderr.resume()
  proc.stdin.on('error', () => {})
  proc.stdin.end()
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<void>((resolve) => (timer = setTimeout(() => (proc.kill(), resolve()), TAKE_TIMEOUT_MS)))
  await untilStopped(proc, stop, () => Promise.race([proc.done.then(() => undefined), limit]))
  clearTimeout(timer)
}

/** `wait()`, with the command killed when `stop` comes first (wait() then ends as the command does). */
async function untilStopped<T>(proc: Proc, stop: AbortSignal | undefined, wait: () => Promise<T>): Promise<T> {
  const kill = () => proc.kill()
  stop?.addEventListener('abort', kill, { once: true })
  try {
    if (stop?.aborted) kill()
    return await wait()
  } finally {
    stop?.removeEventListener('abort', kill)
  }
}

/** The script's first line of output (or what it said on stderr when it ended without one). */
function firstLine(proc: Proc): Promise<{ text: string; stderr: string; timedOut: boolean }> {
  let out = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8')
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)))
  return new Promise((resolve) => {
    let settled = false
    const timer = setTimeout(() => {
      proc.kill()
      resolve({ text: '', stderr, timedOut: true })
    }, TAKE_TIMEOUT_MS)
    const settle = () => {
      settled = true
      clearTimeout(timer)
      resolve({ text: out.split('\n')[0] ?? '', stderr, timedOut: false })
    }
    proc.stdout.on('data', (s: string) => {
      out += s
      if (out.includes('\n')) settle()
    })
    // output may trail the exit; once settled (the lock held, its holder ending with the run) there
    // is nothing to wait for: a timer then would keep the finished run alive 50 ms
    void proc.done.then(() => settled || setTimeout(settle, 50))
  })
}

/** The holder's line as another run wrote it; undefined when it is not one (the file is world-writable). */
function parseHolder(text: string): HostLockHolder | undefined {
  let h: Partial<Record<keyof HostLockHolder, unknown>>
  try {
    h = JSON.parse(text) as typeof h
  } catch {
    return undefined
  }
  if (typeof h !== 'object' || h === null || typeof h.pid !== 'number' || typeof h.token !== 'string') return undefined
  const str = (v: unknown, n = 100) => visible(typeof v === 'string' ? v.slice(0, n) : '?')
  const holder: HostLockHolder = { token: h.token, pid: h.pid, machine: str(h.machine), user: str(h.user), started: str(h.started), command: str(h.command, 300) }
  if (typeof h.startTicks === 'string' && /^\d+$/.test(h.startTicks)) holder.startTicks = h.startTicks
  if (typeof h.hostPid === 'number' && Number.isSafeInteger(h.hostPid) && h.hostPid > 1) holder.hostPid = h.hostPid
  return holder
}

/**
 * The host locks of one changing run: one per SSH connection (a new connection after a lost one
 * takes it again), one for all `connection: local` hosts together (this machine, whatever they are
 * called), taken on a transport of its own so that no host's session holds it for the others.
 */
export class HostLocks {
  private held: HostLockHandle[] = []
  private local?: Promise<HostLockHandle>
  private me: HostLockHolder
  private file: string
  private onTakeOver?: OnTakeOver
  private stopping = new AbortController()
  constructor(me: HostLockHolder, file = hostLockFile(), onTakeOver?: OnTakeOver) {
    this.me = me
    this.file = file
    this.onTakeOver = onTakeOver
    // every host takes its lock at once, each listening for the stop: no leak at 30 hosts, and no warning
    setMaxListeners(0, this.stopping.signal)
  }

  async take(host: Host, conn: Connection): Promise<void> {
    if (host.connection === 'local') {
      this.local ??= import('./local.ts').then((m) => takeHostLock(m.connectLocal('this machine'), 'this machine', this.me, this.file, this.onTakeOver, this.stopping.signal))
      // a refusal is kept: every local host gets it, under its own name
      await this.local.catch((e: unknown) => {
        throw e instanceof HostLockError ? new HostLockError(host.name, e.message.replace(/^this machine/, `${host.name} (this machine)`), e.holder) : e
      })
      return
    }
    this.held.push(await takeHostLock(conn, host.name, this.me, this.file, this.onTakeOver, this.stopping.signal))
  }

  /** Ctrl-C: every lock still being taken is given up at once (its take() throws); no new one is taken. */
  stop(): void {
    this.stopping.abort()
  }

  /** Let go of every lock (the connections closing would too, a moment later). */
  release(): void {
    for (const h of this.held.splice(0)) h.release()
    void this.local?.then((h) => h.release(), () => {})
    this.local = undefined
  }
}
