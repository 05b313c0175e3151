// The persistent shell's client: one long-lived bash (shell-server.ts) on one channel of the
// host's connection, per privilege level, started once and then sent each command as a request.
// Each command comes back as a Proc, so exec (connection.ts) applies the same output limits,
// backstop timer and lost-transport rules as on a channel of its own.
import { PassThrough, Writable } from 'node:stream'
import type { Connection, Proc } from './connection.ts'
import { FrameReader } from './frames.ts'
import { inlineTest, SERVER_SCRIPT, SERVER_VERSION, textInput } from './shell-server.ts'
import { inLoginBash, shq, strictMode, SUDO_PROMPT } from './shell.ts'

/** Who the shell runs as: the login user, or a user reached with sudo (its password answered once). */
export type ShellLevel = { sudoUser?: string; password?: string }

type Running = { stdout: PassThrough; stderr: PassThrough; ends: number; status?: number; finish(r: { exitCode: number | null; signal: string | null }): void }

/** Seconds a stopped command gets to end before its shell is given up for a new one. */
const STOP_GRACE_MS = 2500

export class PersistentShell {
  /** why the shell can no longer run commands; set once */
  dead?: string
  /** its channel closed without an exit status: sshd or the network went away, not the shell alone */
  channelLost = false
  private proc: Proc
  private current?: Running

  private constructor(proc: Proc) {
    this.proc = proc
  }

  /** Start the shell; throws an Error saying why it could not start (the caller falls back). */
  static async start(conn: Connection, level: ShellLevel, timeoutMs: number): Promise<PersistentShell> {
    const proc = await conn.spawn(startCommand(level))
    const shell = new PersistentShell(proc)
    await shell.handshake(level, timeoutMs)
    return shell
  }

  get idle(): boolean {
    return !this.dead && !this.current
  }

  /** What exec needs: a Connection whose one command is `script`, run by this shell under a time limit. */
  runner(host: string, script: string, limitMs: number): Connection {
    return { host, spawn: async () => this.spawn(script, limitMs), close: async () => {} }
  }

  /** End the shell: it exits once its command (if any) has ended. */
  close(why = 'closed'): void {
    this.dead ??= why
    this.proc.stdin.end()
  }

  private spawn(script: string, limitMs: number): Proc {
    if (this.dead) throw new Error(`the persistent shell ${this.dead}`)
    if (this.current) throw new Error('the persistent shell is busy')
    let finish!: Running['finish']
    const done = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => (finish = resolve))
    const running: Running = { stdout: new PassThrough(), stderr: new PassThrough(), ends: 0, finish }
    this.current = running
    void done.then(() => {
      if (this.current === running) this.current = undefined
      running.stdout.end()
      running.stderr.end()
    })
    const input: Buffer[] = []
    const send = () => {
      const data = Buffer.concat(input)
      // a lone plain `test` without input: the server runs it itself (strict mode changes nothing there)
      const inline = data.length === 0 && inlineTest(script)
      const body = Buffer.from(inline ? script : strictMode(script))
      const head = `${body.length} ${data.length} ${Math.max(0, Math.ceil(limitMs))} ${inline ? 'i' : data.length && textInput(data) ? 't' : 's'}\n`
      this.proc.stdin.write(Buffer.concat([Buffer.from(head), body, data, Buffer.from(data.length ? 'go\n' : '')]))
    }
    const stdin = new Writable({
      write(chunk: Buffer, _enc, cb) {
        input.push(chunk)
        cb()
      },
      final(cb) {
        send()
        cb()
      },
    })
    let stopping: NodeJS.Timeout | undefined
    void done.then(() => clearTimeout(stopping))
    return {
      stdin,
      stdout: running.stdout,
      stderr: running.stderr,
      done,
      kill: () => {
        // TERM to the shell, which passes it to the command's process group and lives on; a
        // command that does not end (a stuck descendant holding its output) costs the shell
        this.proc.signal?.('TERM')
        stopping ??= setTimeout(() => this.discard('was given up: a stopped command did not end'), STOP_GRACE_MS)
        stopping.unref()
      },
    }
  }

  private discard(why: string): void {
    this.dead ??= why
    this.proc.kill()
    this.current?.finish({ exitCode: null, signal: null })
  }

  /** Until both streams said ready: answer sudo's prompt once; anything else first is an error. */
  private handshake(level: ShellLevel, timeoutMs: number): Promise<void> {
    const proc = this.proc
    let stderrText = ''
    let stdoutText = ''
    let prompted = false
    let ready = 0
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs / 1000}s`), timeoutMs)
      const fail = (why: string) => {
        clearTimeout(timer)
        this.dead ??= `could not start: ${why}`
        proc.kill()
        reject(new Error(why))
      }
      const readers = {
        stdout: this.reader('stdout'),
        stderr: this.reader('stderr'),
      }
      const readyLine = new RegExp(`(?:^|\\n)R${SERVER_VERSION} \\d+\\n`)
      const early = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
        const text = (stream === 'stdout' ? stdoutText : stderrText) + chunk.toString('latin1')
        const m = readyLine.exec(text)
        if (!m) {
          if (stream === 'stdout') stdoutText = text.slice(-4096)
          else {
            stderrText = text.slice(-4096)
            if (stderrText.includes(SUDO_PROMPT)) {
              stderrText = stderrText.replace(SUDO_PROMPT, '')
              // a second prompt: the password was refused
              if (prompted || level.password === undefined) return fail('sudo refused the become password')
              prompted = true
              proc.stdin.write(`${level.password}\n`)
            }
          }
          return
        }
        const rest = Buffer.from(text.slice(m.index + m[0].length), 'latin1')
        handlers[stream] = (c) => readers[stream].push(c)
        if (rest.length) readers[stream].push(rest)
        if (++ready === 2) {
          clearTimeout(timer)
          resolve()
        }
      }
      const handlers: Record<'stdout' | 'stderr', (c: Buffer) => void> = { stdout: (c) => early('stdout', c), stderr: (c) => early('stderr', c) }
      proc.stdout.on('data', (c: Buffer) => handlers.stdout(c))
      proc.stderr.on('data', (c: Buffer) => handlers.stderr(c))
      proc.stdin.on('error', () => {})
      void proc.done.then((end) => {
        const why = ready === 2 ? `ended (${end.exitCode === null ? (end.signal ? `killed by ${end.signal}` : 'its connection closed') : `exit ${end.exitCode}`})` : undefined
        if (why && end.exitCode === null && !end.signal) this.channelLost = true
        if (why) {
          this.dead ??= why
          this.current?.finish({ exitCode: null, signal: null })
        } else fail(`${stderrText.trim() || stdoutText.trim() || 'no output'} (exit ${end.exitCode ?? end.signal})`)
      })
    })
  }

  private reader(stream: 'stdout' | 'stderr'): FrameReader {
    return new FrameReader({
      data: (b) => this.current?.[stream].write(b),
      end: (status, both) => {
        const c = this.current
        if (!c) return this.discard('sent the end of a command that was not running')
        if (both && (stream !== 'stdout' || c.ends > 0)) return this.discard('sent the end of both streams where it cannot be')
        if (stream === 'stdout') c.status = Number(status)
        c.ends += both ? 2 : 1
        if (c.ends === 2) c.finish({ exitCode: c.status ?? null, signal: null })
      },
      ready: () => this.discard('started again'),
      broken: (why) => this.discard(`sent ${why}`),
    })
  }
}

/** The command that starts the shell: in the login bash (as every command is without become), or under sudo. */
function startCommand(level: ShellLevel): string {
  if (level.sudoUser === undefined) return inLoginBash(SERVER_SCRIPT)
  const user = shq(level.sudoUser)
  const ask = level.password === undefined ? '-n' : `-S -p ${shq(SUDO_PROMPT)}`
  return `sudo ${ask} -H -u ${user} -- bash -c ${shq(SERVER_SCRIPT)}`
}
