// Per-host state for one run: its connection (opened on first use, then reused for every task),
// its facts (gathered once), what its tasks registered, and whether it is still in play.
import { exec, type Connection } from './connection.ts'
import { UnreachableError } from '../base/errors.ts'
import { FACTS_COMMAND, parseFacts, type Facts } from './facts.ts'
import type { HostLocks } from './host-lock.ts'
import type { Host } from '../inventory/inventory.ts'
import { wrapCommand } from './shell.ts'
import { connectSsh, type SshOptions } from './ssh.ts'

export type HostState = 'active' | 'failed' | 'unreachable'

export class HostSession {
  host: Host
  state: HostState = 'active'
  registered: Record<string, unknown> = {}
  /** Mutations run (or planned) on this host so far: a remembered read is good until this moves. */
  mutations = 0
  /** Reads shared between tasks (Context.remember), with the mutation count they were made at. */
  remembered = new Map<string, { at: number; value: Promise<unknown> }>()
  private ssh: SshOptions
  /** a changing run's locks on the hosts: every new connection takes its host's before any command */
  private locks?: HostLocks
  private conn?: Promise<Connection>
  private facts?: Promise<Facts>
  /** Why the session ended for good (end()): no command may open a new connection after it. */
  private ended?: string

  constructor(host: Host, ssh: SshOptions, locks?: HostLocks) {
    this.host = host
    this.ssh = ssh
    this.locks = locks
  }

  connection(): Promise<Connection> {
    if (this.ended) return Promise.reject(new UnreachableError(this.host.name, this.ended))
    this.conn ??= this.open()
    return this.conn
  }

  private async open(): Promise<Connection> {
    // local.ts is loaded only for a `connection: local` host: most runs only use SSH
    const conn = this.host.connection === 'local' ? (await import('./local.ts')).connectLocal(this.host.name) : await connectSsh(this.host, this.ssh)
    try {
      await this.locks?.take(this.host, conn)
    } catch (e) {
      await conn.close()
      throw e
    }
    return conn
  }

  gatherFacts(): Promise<Facts> {
    this.facts ??= (async () => {
      const timeoutMs = this.ssh.connectTimeoutMs * 3
      const r = await exec(await this.connection(), wrapCommand(FACTS_COMMAND, undefined, timeoutMs), { timeoutMs })
      if (r.exitCode !== 0) throw new UnreachableError(this.host.name, `gathering facts failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`)
      return parseFacts(r.stdout)
    })()
    return this.facts
  }

  /**
   * Close for good (Ctrl-C): a task still running on this host gets an error for its next command
   * instead of a new connection that would run it after all.
   */
  end(reason: string): Promise<void> {
    this.ended = reason
    return this.close()
  }

  /** Close the connection; a later command opens a new one (after a lost connection, say). */
  async close(): Promise<void> {
    const c = this.conn
    this.conn = undefined
    if (c) await c.then((x) => x.close()).catch(() => {})
  }
}
