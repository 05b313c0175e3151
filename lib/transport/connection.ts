// One connection per host, and the one way commands run over it. The transports (ssh.ts,
// local.ts) only start a process; how input, output, sudo's prompt and timeouts are handled
// lives here once, so both behave the same.
import type { Readable, Writable } from 'node:stream'
import { BECOME_OK, SU_PROMPT, SUDO_PROMPT, TERMINATED_EXIT, TIMED_OUT_EXIT } from './shell.ts'

const BACKSTOP_MS = 3000

/** A started command: its streams, how it ends, and how to stop it. */
export type Proc = {
  stdin: Writable
  stdout: Readable
  stderr: Readable
  /** exitCode null + signal null means the transport went away before the command said how it ended. */
  done: Promise<{ exitCode: number | null; signal: string | null }>
  kill(): void
  /** a signal to the command's process group, leaving its channel open (the persistent shell's stop) */
  signal?(name: 'TERM'): void
}

export interface Connection {
  readonly host: string
  spawn(command: string): Promise<Proc>
  close(): Promise<void>
}

export type ExecOptions = {
  input?: string | Buffer
  /** answered once if sudo (or su) shows its prompt; never written otherwise */
  becomePassword?: string
  /** the command is wrapped with su (wrapCommand): it always announces, and su's own prompt is answered */
  su?: boolean
  timeoutMs?: number
  onStdout?: (text: string) => void
  onStderr?: (text: string) => void
  /** how much output is kept and how much a command may print at all (characters); default OUTPUT */
  output?: OutputLimits
}

export type OutputLimits = { keep: number; max: number }

/**
 * A command's output is kept whole up to twice `keep`, else its first and last `keep` with a count
 * of what was left out between; past `max` (stdout and stderr together) the command is stopped.
 * Without a limit one command printing gigabytes ended the whole run (a string too long for V8).
 */
export const OUTPUT: OutputLimits = { keep: 8 * 2 ** 20, max: 256 * 2 ** 20 }

export type ExecResult = {
  stdout: string
  stderr: string
  exitCode: number | null
  signal: string | null
  ms: number
  timedOut: boolean
  /** the transport closed before the command ended */
  lost: boolean
  /** the command printed more than the limit's `max` and was stopped */
  overflow: boolean
}

/** Run one command to its end. Never throws for a failing command: the caller decides what failure means. */
export async function exec(conn: Connection, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const started = performance.now()
  const proc = await conn.spawn(command)
  const limits = opts.output ?? OUTPUT
  const stdout = new Kept(limits.keep)
  const stderr = new Kept(limits.keep)
  let timedOut = false
  let overflow = false
  const counted = () => {
    if (!overflow && stdout.total + stderr.total > limits.max) {
      overflow = true
      proc.kill()
    }
  }
  // With a become password (or su) we hold stdin until sudo or su has either prompted or let us through.
  let gate = opts.becomePassword !== undefined || opts.su === true
  let stderrBuf = ''
  let answered = false

  const sendInput = () => {
    if (opts.input !== undefined) proc.stdin.write(opts.input)
    proc.stdin.end()
  }
  proc.stdin.on('error', () => {}) // the command may exit without reading its input
  proc.stdout.setEncoding('utf8')
  proc.stderr.setEncoding('utf8')
  proc.stdout.on('data', (s: string) => {
    if (overflow) return
    stdout.add(s)
    opts.onStdout?.(s)
    counted()
  })
  proc.stderr.on('data', (s: string) => {
    if (!gate) {
      if (overflow) return
      stderr.add(s)
      opts.onStderr?.(s)
      counted()
      return
    }
    stderrBuf += s
    if (opts.su && SU_PROMPT.test(stderrBuf) && !stderrBuf.includes(BECOME_OK)) {
      // su asks once and fails on a wrong answer; without a password, its stdin ends: it fails at once
      stderrBuf = stderrBuf.replace(SU_PROMPT, '')
      if (opts.becomePassword === undefined || answered) proc.stdin.end()
      else proc.stdin.write(`${opts.becomePassword}\n`)
      answered = true
    } else if (!opts.su && stderrBuf.includes(SUDO_PROMPT)) {
      stderrBuf = stderrBuf.replace(SUDO_PROMPT, '')
      // A second prompt means the password was refused: stop rather than let sudo ask again.
      if (answered) {
        stderrBuf += 'sudo: the become password was refused\n'
        proc.kill()
        return
      }
      answered = true
      proc.stdin.write(`${opts.becomePassword}\n`)
    }
    const at = stderrBuf.indexOf(`${BECOME_OK}\n`)
    if (at >= 0) {
      gate = false
      const rest = stderrBuf.slice(0, at) + stderrBuf.slice(at + BECOME_OK.length + 1)
      stderrBuf = ''
      stderr.add(rest)
      if (rest) opts.onStderr?.(rest)
      sendInput()
    }
  })
  if (!gate) sendInput()

  // The command itself is expected to enforce the limit (shell.ts's watchdog on the host); this
  // timer is the backstop for a host that stopped answering, so it waits a little longer.
  let killed: (() => void) | undefined
  const timer =
    opts.timeoutMs && opts.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true
          proc.kill()
          setTimeout(() => killed?.(), 2000).unref()
        }, opts.timeoutMs + BACKSTOP_MS)
      : undefined
  const gone = new Promise<{ exitCode: null; signal: string }>((res) => (killed = () => res({ exitCode: null, signal: 'KILL' })))
  const end = await Promise.race([proc.done, gone])
  if (timer) clearTimeout(timer)
  const elapsed = performance.now() - started
  // Stopped on the host at its limit: exit 124, or TERM/KILL for what did not turn TERM into 124.
  const stopped = end.exitCode === TIMED_OUT_EXIT || end.exitCode === TERMINATED_EXIT || /^(SIG)?(TERM|KILL)$/.test(end.signal ?? '')
  if (stopped && opts.timeoutMs && elapsed >= opts.timeoutMs - 50) timedOut = true
  // `done` may come first (a child process's 'exit', an SSH exit-status): let the output arrive.
  await Promise.all([drained(proc.stdout), drained(proc.stderr)])
  if (gate) stderr.add(stderrBuf) // sudo never let us through: its complaint is the error
  return {
    stdout: stdout.text(),
    stderr: stderr.text(),
    exitCode: end.exitCode,
    signal: end.signal,
    ms: Math.round(performance.now() - started),
    timedOut,
    lost: !timedOut && !overflow && end.exitCode === null && end.signal === null,
    overflow,
  }
}

/** Output as kept (see OUTPUT): the head, a sliding tail, and how much fell out between. */
class Kept {
  total = 0
  private head = ''
  private tail: string[] = []
  private tailLength = 0
  private dropped = 0
  private keep: number
  constructor(keep: number) {
    this.keep = keep
  }

  add(s: string): void {
    this.total += s.length
    if (this.head.length < this.keep) {
      const room = this.keep - this.head.length
      this.head += s.slice(0, room)
      s = s.slice(room)
    }
    if (!s) return
    this.tail.push(s)
    this.tailLength += s.length
    while (this.tailLength > this.keep) {
      const first = this.tail[0]!
      const over = this.tailLength - this.keep
      const cut = Math.min(over, first.length)
      if (cut === first.length) this.tail.shift()
      else this.tail[0] = first.slice(cut)
      this.tailLength -= cut
      this.dropped += cut
    }
  }

  text(): string {
    const tail = this.tail.join('')
    return this.dropped ? `${this.head}\n[… ${this.dropped} characters of output left out by zxplay …]\n${tail}` : this.head + tail
  }
}

/** Resolves when the stream has ended or closed, or after `graceMs` for a transport that went away without ending it. */
function drained(stream: Readable, graceMs = 1000): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, graceMs)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    stream.once('end', done).once('close', done).once('error', done)
  })
}
