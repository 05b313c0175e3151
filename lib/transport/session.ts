// Per-host state for one run: its connection (opened on first use, then reused for every task),
// its persistent shells (one per privilege level, when on), its facts (gathered once), what its
// tasks registered, and whether it is still in play.
import { exec, type Connection, type ExecOptions, type ExecResult } from './connection.ts'
import { UnreachableError } from '../base/errors.ts'
import { FACTS_COMMAND, parseFacts, type Facts } from './facts.ts'
import type { HostLocks } from './host-lock.ts'
import type { Host } from '../inventory/inventory.ts'
import { PersistentShell, type ShellLevel } from './persistent-shell.ts'
import { wrapCommand, type Become } from './shell.ts'
import { connectSsh, type SshOptions } from './ssh.ts'

export type HostState = 'active' | 'failed' | 'unreachable'

export type SessionOptions = SshOptions & {
  /** the run's choice (--persistent-shell / --no-persistent-shell); a host's zxplay_persistent_shell decides where set, except that the flag's "no" wins */
  persistentShell?: boolean
  /** a line for -v (why a host runs a command per channel) */
  note?: (host: string, text: string) => void
}

/** The persistent shell is on unless `--no-persistent-shell` or a host's `zxplay_persistent_shell: false` turns it off (bench/README.md). */
export const PERSISTENT_SHELL_DEFAULT = true

export type CommandOptions = Pick<ExecOptions, 'input' | 'onStdout' | 'onStderr'> & {
  become?: Become
  /** answers sudo's (or su's) prompt: once per run on the persistent shell, else once per command */
  becomePassword?: string
  timeoutMs: number
}

export type CommandResult = ExecResult & {
  /** what `lost` means here: the persistent shell that ran the command ended under it */
  lostReason?: string
}

export class HostSession {
  host: Host
  state: HostState = 'active'
  registered: Record<string, unknown> = {}
  /** Mutations run (or planned) on this host so far: a remembered read is good until this moves. */
  mutations = 0
  /** Reads shared between tasks (Context.remember), with the mutation count they were made at. */
  remembered = new Map<string, { at: number; value: Promise<unknown> }>()
  private opts: SessionOptions
  /** a changing run's locks on the hosts: every new connection takes its host's before any command */
  private locks?: HostLocks
  private conn?: Promise<Connection>
  /** per privilege level ('' the login user, else the sudo user); undefined: it could not start */
  private shells = new Map<string, Promise<PersistentShell | undefined>>()
  private facts?: Promise<Facts>
  /** Why the session ended for good (end()): no command may open a new connection after it. */
  private ended?: string

  constructor(host: Host, opts: SessionOptions, locks?: HostLocks) {
    this.host = host
    this.opts = opts
    this.locks = locks
  }

  connection(): Promise<Connection> {
    if (this.ended) return Promise.reject(new UnreachableError(this.host.name, this.ended))
    this.conn ??= this.open()
    return this.conn
  }

  private async open(): Promise<Connection> {
    // local.ts is loaded only for a `connection: local` host: most runs only use SSH
    const conn = this.host.connection === 'local' ? (await import('./local.ts')).connectLocal(this.host.name) : await connectSsh(this.host, this.opts)
    try {
      await this.locks?.take(this.host, conn)
    } catch (e) {
      await conn.close()
      throw e
    }
    return conn
  }

  /** Whether commands go to a persistent shell on this host: the flag's "no" wins, then the host's var, then the flag, then the default. */
  persistentShell(): boolean {
    if (this.opts.persistentShell === false) return false
    return this.host.persistentShell ?? this.opts.persistentShell ?? PERSISTENT_SHELL_DEFAULT
  }

  /**
   * Run a task's script (strict mode, its time limit): over the persistent shell of its privilege
   * level when there is one and it is free, else over a channel of its own. Never throws for a
   * failing command.
   */
  async command(script: string, o: CommandOptions): Promise<CommandResult> {
    const conn = await this.connection()
    const shell = await this.shellFor(conn, o.become, o.becomePassword)
    const io = { input: o.input, onStdout: o.onStdout, onStderr: o.onStderr, timeoutMs: o.timeoutMs }
    if (shell?.idle) {
      const r = await exec(shell.runner(this.host.name, script, o.timeoutMs), script, io)
      // a lost channel reads as over a channel of its own ("connection lost"); the shell alone gone says so
      return r.lost && !shell.channelLost ? { ...r, lostReason: `the persistent shell ${shell.dead ?? 'ended'} while the command ran; the next command starts a new one` } : r
    }
    return exec(conn, wrapCommand(script, o.become, o.timeoutMs), { ...io, becomePassword: o.becomePassword, su: o.become?.method === 'su' })
  }

  gatherFacts(): Promise<Facts> {
    this.facts ??= (async () => {
      const timeoutMs = this.opts.connectTimeoutMs * 3
      const r = await this.command(FACTS_COMMAND, { timeoutMs })
      if (r.exitCode !== 0) throw new UnreachableError(this.host.name, `gathering facts failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`)
      return parseFacts(r.stdout)
    })()
    return this.facts
  }

  /** The level's shell, started on first use; undefined where it is off or could not start (said once at -v). */
  private async shellFor(conn: Connection, become: Become | undefined, password: string | undefined): Promise<PersistentShell | undefined> {
    if (!this.persistentShell()) return undefined
    // su answers on a terminal-less stdin in its own way: its commands keep a channel each
    if (become?.method === 'su') return undefined
    const key = become ? become.user : ''
    const kept = this.shells.get(key)
    const current = kept && (await kept)
    if (kept && (!current || !current.dead)) return current
    const level: ShellLevel = become ? { sudoUser: become.user, password } : {}
    const started = PersistentShell.start(conn, level, this.opts.connectTimeoutMs * 3).catch((e: Error) => {
      const who = become ? `under sudo as ${become.user}` : 'as the login user'
      this.opts.note?.(this.host.name, `persistent shell ${who} could not start (${e.message}): each command runs over a channel of its own`)
      return undefined
    })
    this.shells.set(key, started)
    return started
  }

  /**
   * Close for good (Ctrl-C): a task still running on this host gets an error for its next command
   * instead of a new connection that would run it after all.
   */
  end(reason: string): Promise<void> {
    this.ended = reason
    return this.close()
  }

  /** Close the connection (and its shells); a later command opens a new one (after a lost connection, say). */
  async close(): Promise<void> {
    const c = this.conn
    const shells = [...this.shells.values()]
    this.conn = undefined
    this.shells.clear()
    for (const s of shells) void s.then((x) => x?.close())
    if (c) await c.then((x) => x.close()).catch(() => {})
  }
}
