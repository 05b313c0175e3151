// What a task gets: its host, vars and facts, a mutating `$`, a read-only `probe`, template
// rendering and upload. Under --check, `$` plans instead of running, and everything that only
// reads still runs, so the plan is true.
import { OUTPUT } from '../transport/connection.ts'
import { CommandError } from '../base/errors.ts'
import type { Emit } from '../output/events.ts'
import type { Facts } from '../transport/facts.ts'
import type { Host, Vars } from '../inventory/inventory.ts'
import type { Secrets } from '../output/secrets.ts'
import type { HostSession } from '../transport/session.ts'
import { buildCommand, sudoNeedsPassword } from '../transport/shell.ts'
import { renderFile } from './template.ts'
import { normalizeMode, parseUploadAnswer, uploadScript } from '../transport/upload.ts'
import { createEnsure, type Ensure, type FileOptions } from './ops.ts'

export type Output = {
  stdout: string
  stderr: string
  exitCode: number | null
  ok: boolean
  ms: number
  /** stdout without its last newline, as zx's ProcessOutput does */
  toString(): string
  lines(): string[]
}

export type CmdOptions = {
  /** written to the command's stdin: the way to pass secrets, never argv */
  input?: string | Buffer
  /** a non-zero exit is returned, not thrown */
  nothrow?: boolean
  /** the output holds secrets (a kubeconfig, a join command): kept out of the log and -v */
  secretOutput?: boolean
  /** override the host's `become` for this command */
  become?: boolean
}

type Template = (pieces: TemplateStringsArray, ...args: unknown[]) => Promise<Output>
export type Shell = Template & ((opts: CmdOptions) => Template)

/** What a playbook's tasks register: a name for each value. */
export type Registered = Record<string, unknown>

export type UploadOptions = Omit<FileOptions, 'dirMode'>

/**
 * `V`: the type of this host's vars, as the playbook's vars specs make them (checked before the run).
 * `R`: what its tasks register, key by key (`playbook<ClusterVars, { node: NodeFacts }>`): read
 * back typed, and absent until a task has registered it.
 */
export type Context<V = Vars, R extends Registered = Registered> = {
  host: Host
  vars: V
  check: boolean
  /** values registered by earlier tasks on this host (or by a `once` task for every host) */
  registered: Partial<R>
  /** a mutation: run (counts the task as changed), or only listed under --check */
  $: Shell
  /** a read-only command: runs under --check too, never counts as a change */
  probe: Shell
  /** a read-only check: exit 0 → true, any other exit → false */
  test: (pieces: TemplateStringsArray, ...args: unknown[]) => Promise<boolean>
  /** render templates/<file> (or a path) with this host's vars (+ extra) */
  render: (file: string, extra?: Vars) => Promise<string>
  /** put content at dest, only if it differs (content, mode, owner); true when it changed (or would) */
  upload: (dest: string, content: string | Buffer, opts?: UploadOptions) => Promise<boolean>
  /** ensure-style operations: a file, a folder, packages, a service, sysctl… changed only where they differ (ops.ts) */
  ensure: Ensure
  facts: () => Promise<Facts>
  register<K extends keyof R & string>(key: K, value: R[K]): void
  /**
   * A read shared by this and later tasks on this host, in any playbook of the run, until
   * something on the host changes (any task's mutation, run or planned): then it is read again.
   */
  remember: <T>(key: string, read: () => Promise<T>) => Promise<T>
  /** mark a value (or every match of a pattern) secret: redacted from output, log and errors from now on */
  secret: <T extends string | RegExp>(value: T) => T
  /** a line under this task in the output and the log */
  log: (text: string) => void
  /** every host in this run: its vars, what its tasks registered (Ansible's hostvars) */
  hostvars: Record<string, { vars: V; groups: string[]; registered: Partial<R> }>
  /** the same commands on another host of the run (Ansible's delegate_to); its mutations count for this task */
  on: (host: string) => Context<V, R>
}

export type TaskScope = {
  playbook: string
  task: string
  session: HostSession
  check: boolean
  diff: boolean
  verbose: boolean
  becomePassword?: string
  deadline: number
  timeoutMs: number
  secrets: Secrets
  emit: Emit
  templatesDir: string
  /** set once a mutation ran (or was planned): the task is `changed` unless it returns ok(); what ensure found already so */
  changes: { mutated: boolean; noops: string[] }
  /** all hosts of the run, for hostvars and delegation */
  sessions: Map<string, HostSession>
  /** a host's vars as this playbook sees them (checked and derived once per run) */
  varsOf: (host: Host) => Vars
  /** the playbook's become, over the host's */
  become?: boolean
}

export function createContext(scope: TaskScope): Context {
  const { session, emit } = scope
  const host = session.host
  const name = host.name
  const vars = scope.varsOf(host)

  async function run(script: string, opts: CmdOptions, mutation: boolean): Promise<Output> {
    const become = opts.become ?? scope.become ?? host.become
    if (mutation) {
      scope.changes.mutated = true
      session.mutations++
      if (scope.check) {
        emit({ kind: 'cmd', host: name, task: scope.task, cmd: script, planned: true, probe: false })
        return output('', '', 0, 0)
      }
    }
    emit({ kind: 'cmd', host: name, task: scope.task, cmd: script, planned: false, probe: !mutation })
    await session.connection() // connecting does not count against the command's time limit
    const remaining = scope.deadline - Date.now()
    if (remaining <= 0) throw new CommandError({ host: name, cmd: script, exitCode: null, stdout: '', stderr: '', reason: `timed out after ${scope.timeoutMs / 1000}s (the task's time limit)` })
    // the inventory's ansible_become_password wins over -K, as Ansible's variables win over its flags
    const becomePassword = become ? (host.becomePassword ?? scope.becomePassword) : undefined
    const su = become && host.becomeMethod === 'su'
    // -v: output in pieces that never split a secret, so each is redacted whole
    const shown = (stream: 'stdout' | 'stderr') =>
      scope.verbose && !opts.secretOutput ? scope.secrets.holder((text) => emit({ kind: 'output', host: name, stream, text })) : undefined
    const [out, err] = [shown('stdout'), shown('stderr')]
    const r = await session.command(script, {
      input: opts.input,
      become: become ? { user: host.becomeUser, withPassword: becomePassword !== undefined, method: host.becomeMethod } : undefined,
      becomePassword,
      timeoutMs: remaining,
      onStdout: out?.push,
      onStderr: err?.push,
    })
    out?.flush()
    err?.flush()
    const hidden = '(output hidden: secret)'
    emit({ kind: 'cmd-end', host: name, task: scope.task, cmd: script, exitCode: r.exitCode, ms: r.ms, stdout: opts.secretOutput ? hidden : r.stdout, stderr: opts.secretOutput ? hidden : r.stderr })
    const fail = (reason: string) =>
      new CommandError({ host: name, cmd: script, exitCode: r.exitCode, signal: r.signal, stdout: opts.secretOutput ? hidden : r.stdout, stderr: opts.secretOutput ? hidden : r.stderr, reason })
    if (r.overflow) throw fail(`printed more than ${OUTPUT.max / 2 ** 20} MiB of output, so it was stopped (the first and last ${OUTPUT.keep / 2 ** 20} MiB are kept)`)
    if (r.lost) {
      await session.close()
      throw Object.assign(fail(r.lostReason ?? 'connection lost while the command ran'), { lost: true })
    }
    if (r.timedOut) throw fail(`timed out after ${scope.timeoutMs / 1000}s (the task's time limit); the command was killed`)
    if (su && r.exitCode !== 0 && /Authentication failure/.test(r.stderr)) {
      throw fail(
        becomePassword === undefined
          ? `su to ${host.becomeUser} on ${name} asks for a password: set ansible_become_password or run again with --ask-become-pass (-K)`
          : `su to ${host.becomeUser} on ${name} refused the become password`
      )
    }
    if (become && r.exitCode !== 0 && sudoNeedsPassword(r.stderr)) {
      throw fail(`sudo on ${name} asks for a password: run again with --ask-become-pass (-K), or allow NOPASSWD for ${host.user ?? 'this user'}`)
    }
    if (r.exitCode !== 0 && !opts.nothrow) throw fail(`command failed with exit code ${r.exitCode ?? r.signal}`)
    return output(r.stdout, r.stderr, r.exitCode, r.ms)
  }

  const shell = (mutation: boolean): Shell =>
    ((first: TemplateStringsArray | CmdOptions, ...args: unknown[]) => {
      if (isTemplate(first)) return run(buildCommand(first, args), {}, mutation)
      return (pieces: TemplateStringsArray, ...a: unknown[]) => run(buildCommand(pieces, a), first, mutation)
    }) as Shell

  const mutate = shell(true)
  const probe = shell(false)

  async function upload(dest: string, content: string | Buffer, opts: FileOptions = {}): Promise<boolean> {
    const body = typeof content === 'string' ? Buffer.from(content) : content
    if (opts.secret) scope.secrets.add(body.toString())
    const spec = { dest, content: body, mode: normalizeMode(opts.mode), owner: opts.owner, group: opts.group, validate: opts.validate }
    const dirMode = opts.dirMode === undefined ? undefined : normalizeMode(opts.dirMode)
    // One round trip: compare and (unless --check) write in the same command.
    // A secret's old content never crosses the wire (its diff is hidden anyway): only hashes do.
    const r = await run(uploadScript({ ...spec, dirMode, dryRun: scope.check, wantOld: scope.diff && !opts.secret }), { input: scope.check ? undefined : body, become: opts.become, secretOutput: opts.secret }, false)
    const answer = parseUploadAnswer(r.stdout)
    if (answer.state === 'same') return false
    scope.changes.mutated = true
    session.mutations++
    if (scope.check) emit({ kind: 'cmd', host: name, task: scope.task, cmd: `upload ${dest} (mode ${spec.mode}${opts.owner ? `, owner ${opts.owner}` : ''})`, planned: true, probe: false })
    if (scope.diff) {
      const { diffText } = await import('../output/diff.ts') // only with --diff: not loaded at start-up
      const diff = opts.secret ? `(content of ${dest} is secret: diff hidden)` : await diffText(answer.old?.toString() ?? '', body.toString(), dest, answer.existed)
      emit({ kind: 'diff', host: name, task: scope.task, file: dest, diff })
    }
    return true
  }

  const log = (text: string) => emit({ kind: 'note', host: name, task: scope.task, text })

  return {
    host,
    vars,
    check: scope.check,
    registered: session.registered,
    $: mutate,
    probe,
    test: async (pieces, ...args) => (await probe({ nothrow: true })(pieces, ...args)).exitCode === 0,
    render: (file, extra) => renderFile(resolveTemplate(scope.templatesDir, file), { ...connectionVars(host), ...vars, ...extra }),
    upload,
    ensure: createEnsure({ $: mutate, read: probe({ nothrow: true }), readWith: (input) => probe({ input, nothrow: true }), upload, noop: (reason) => scope.changes.noops.push(reason), log }),
    facts: () => session.gatherFacts(),
    register(key, value) {
      session.registered[key] = value
    },
    remember<T>(key: string, read: () => Promise<T>): Promise<T> {
      const kept = session.remembered.get(key)
      if (kept && kept.at === session.mutations) return kept.value as Promise<T>
      const value = read()
      session.remembered.set(key, { at: session.mutations, value })
      // a failed read is not remembered: the next task asks again
      value.catch(() => session.remembered.get(key)?.value === value && session.remembered.delete(key))
      return value
    },
    secret(value) {
      if (typeof value === 'string') scope.secrets.add(value)
      else scope.secrets.addPattern(value)
      return value
    },
    log,
    get hostvars() {
      return Object.fromEntries(
        [...scope.sessions.values()].map((s) => [s.host.name, { vars: scope.varsOf(s.host), groups: s.host.groups, registered: s.registered }])
      )
    },
    on(other) {
      const s = scope.sessions.get(other)
      if (!s) throw new Error(`host '${other}' is not in the inventory`)
      return createContext({ ...scope, session: s })
    },
  }
}

/** What templates may always use, defaults included (Ansible's inventory_hostname and ansible_host). */
export const connectionVars = (h: Host): Vars => ({ inventory_hostname: h.name, address: h.address, port: h.port, ...(h.user ? { user: h.user } : {}) })

const isTemplate = (x: unknown): x is TemplateStringsArray => Array.isArray(x) && 'raw' in x

function output(stdout: string, stderr: string, exitCode: number | null, ms: number): Output {
  return {
    stdout,
    stderr,
    exitCode,
    ok: exitCode === 0,
    ms,
    toString: () => stdout.replace(/\n$/, ''),
    lines: () => stdout.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1),
  }
}

export function resolveTemplate(dir: string, file: string): string {
  return file.startsWith('/') || file.startsWith('.') ? file : `${dir}/${file.replace(/^templates\//, '')}`
}

