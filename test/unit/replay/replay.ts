// The replay harness: one task of a playbook, run by the real run loop and the real task context
// against fake hosts given as data (facts, the answers of the commands it will run, files), as
// pyinfra's operation tests do: facts in, commands out. The fake sits at the transport boundary
// (a Connection), so what a replay shows is what a host would receive. Not a test file itself.
import { createHash } from 'node:crypto'
import { PassThrough } from 'node:stream'
import type { Event, Status } from '../../../lib/output/events.ts'
import { parseInventory } from '../../../lib/inventory/inventory.ts'
import { selectHosts } from '../../../lib/inventory/patterns.ts'
import { VarsTable } from '../../../lib/inventory/vars-spec.ts'
import type { Playbook } from '../../../lib/engine/playbook.ts'
import { runPlan } from '../../../lib/engine/run.ts'
import { Secrets } from '../../../lib/output/secrets.ts'
import type { Connection, Proc } from '../../../lib/transport/connection.ts'
import { FACTS_COMMAND, type Facts } from '../../../lib/transport/facts.ts'
import { HostSession } from '../../../lib/transport/session.ts'

/** What a command answers: its stdout (exit 0), an exit code, or the whole answer. */
export type Answer = string | number | { stdout?: string; stderr?: string; exit?: number }
/** Which commands an answer is for: the script exactly, a pattern, or a predicate. */
export type Match = string | RegExp | ((script: string) => boolean)
/** An answer, or one made from what the command got on stdin (a manifest compared with `cmp -s -`). */
export type Rule = [Match, Answer | ((input: string, script: string) => Answer)]

export type FakeFile = { content: string; mode?: string; owner?: string; group?: string }

/** One fake host: what it answers. A read nobody answers fails the replay; a mutation answers exit 0. */
export type FakeHost = {
  facts?: Partial<Facts>
  commands?: Rule[]
  /** files the host has: uploads compare with them (content, mode, owner) and write them; `cat FILE` reads them */
  files?: Record<string, FakeFile>
  /** what earlier tasks registered on it */
  registered?: Record<string, unknown>
}

export type World = {
  /** the inventory, YAML (default: one control-plane host `cp1`, no workers) */
  inventory?: string
  /** where that inventory is said to be (inventory_dir: files beside it, such as env.list) */
  inventoryFile?: string
  hosts?: Record<string, FakeHost>
  check?: boolean
  diff?: boolean
}

export type Upload = { dest: string; content: string; mode: string; owner?: string; group?: string; validate?: string }

export type HostReplay = {
  status: Status | undefined
  /** the task's reason, or its failure's message */
  reason: string | undefined
  /** mutations: run, or only planned under --check; an upload that wrote (or would) as `upload DEST (mode M)` */
  changes: string[]
  /** read-only commands (an upload's comparison as `compare DEST`) */
  probes: string[]
  /** files written (never under --check) */
  uploads: Upload[]
  log: string[]
  diffs: { file: string; diff: string }[]
  registered: Record<string, unknown>
  /** what the host really did that changes it: mutations it ran and uploads that wrote (none under --check) */
  executed: string[]
  /** every command the host received, as run by bash (sudo and the time limit taken off) */
  received: { script: string; input: string; become: boolean }[]
}

export type Replay = HostReplay & { hosts: Record<string, HostReplay>; events: Event[] }

const DEFAULT_INVENTORY = 'all: {children: {control_plane: {hosts: {cp1: {address: 10.0.0.10}}}, workers: {hosts: {}}}}'
const DEFAULT_FACTS: Facts = { hostname: 'cp1', distro: 'debian', distroVersion: '13', arch: 'x86_64', kernel: '6.12.0', cpus: 2, memoryMb: 4096, user: 'root' }

/** Run the task named `taskName` of `pb` on the hosts its pattern selects in `world`. */
export async function replay(pb: Playbook, taskName: string, world: World = {}): Promise<Replay> {
  const task = pb.tasks.find((t) => t.name === taskName)
  if (!task) throw new Error(`replay: ${pb.id} has no task '${taskName}' (it has: ${pb.tasks.map((t) => t.name).join('; ')})`)
  const inventory = parseInventory(world.inventory ?? DEFAULT_INVENTORY, world.inventoryFile ?? '/srv/zxplay/inventory.yaml')
  const fakes = new Map<string, FakeConnection>()
  const sessions = new Map<string, HostSession>()
  for (const host of inventory.hosts) {
    const fake = new FakeConnection(host.name, world.hosts?.[host.name] ?? {})
    fakes.set(host.name, fake)
    const session = new ReplaySession(host, fake)
    session.registered = { ...(world.hosts?.[host.name]?.registered ?? {}) }
    sessions.set(host.name, session)
  }
  const vars = new VarsTable([pb], inventory)
  vars.check()
  const events: Event[] = []
  const hosts = selectHosts(inventory, pb.hosts, { allowEmpty: true })
  const one = { ...pb, tasks: [task] }
  await runPlan([{ playbook: one, hosts, tasks: [task] }], sessions, {
    check: world.check ?? false,
    diff: world.diff ?? false,
    verbose: false,
    forks: 5,
    taskTimeoutMs: 60_000,
    templatesDir: new URL('../../../templates', import.meta.url).pathname,
    secrets: new Secrets(),
    emit: (e) => {
      events.push(e)
      if (e.kind === 'cmd' && !e.probe && !e.planned) fakes.get(e.host)?.mutations.push(e.cmd)
    },
    vars,
  })
  const unanswered = [...fakes.values()].flatMap((f) => f.unanswered)
  if (unanswered.length) throw new Error(unanswered.join('\n'))
  const byHost = Object.fromEntries([...sessions].map(([name, s]) => [name, hostReplay(name, events, fakes.get(name)!, s.registered, world.check ?? false)]))
  const first = byHost[hosts[0]?.name ?? ''] ?? hostReplay('', events, new FakeConnection('', {}), {}, false)
  return { ...first, hosts: byHost, events }
}

function hostReplay(name: string, events: Event[], fake: FakeConnection, registered: Record<string, unknown>, check: boolean): HostReplay {
  const mine = events.filter((e) => 'host' in e && e.host === name)
  const result = mine.find((e) => e.kind === 'result')
  const cmds = mine.flatMap((e) => (e.kind === 'cmd' ? [e] : []))
  return {
    status: result?.kind === 'result' ? result.status : undefined,
    reason: result?.kind === 'result' ? (result.reason ?? result.failure?.message) : undefined,
    // in the order the host got them; under --check, in the order they were planned
    changes: check ? cmds.filter((c) => !c.probe).map((c) => c.cmd) : fake.executed,
    probes: cmds.filter((c) => c.probe).map((c) => fake.upload(c.cmd)?.compare ?? c.cmd),
    uploads: fake.written,
    log: mine.flatMap((e) => (e.kind === 'note' ? [e.text] : [])),
    diffs: mine.flatMap((e) => (e.kind === 'diff' ? [{ file: e.file, diff: e.diff }] : [])),
    registered,
    executed: fake.executed,
    received: fake.received,
  }
}

/** The files a run wrote, as a later run's host has them: replay a converged host from a fresh one. */
export const filesAfter = (r: HostReplay, before: Record<string, FakeFile> = {}): Record<string, FakeFile> => ({ ...before, ...Object.fromEntries(r.uploads.map((u) => [u.dest, u])) })

const uploadLine = (u: Upload) => `upload ${u.dest} (mode ${u.mode}${u.owner ? `, owner ${u.owner}` : ''})`

/** A session whose connection is the fake: facts are gathered through it like any other command. */
class ReplaySession extends HostSession {
  private fake: Connection
  constructor(host: ConstructorParameters<typeof HostSession>[0], fake: Connection) {
    super(host, { connectTimeoutMs: 1000 })
    this.fake = fake
  }
  override connection(): Promise<Connection> {
    return Promise.resolve(this.fake)
  }
}

/** A POSIX single-quoted string at the start of `s` (shq's output): its value and the rest. */
function unquote(s: string): [string, string] {
  if (!s.startsWith("'")) throw new Error(`replay: expected a quoted string at: ${s.slice(0, 60)}`)
  let out = ''
  let i = 1
  for (;;) {
    const end = s.indexOf("'", i)
    if (end < 0) throw new Error('replay: unterminated quoted string')
    out += s.slice(i, end)
    if (s.startsWith("\\''", end + 1)) {
      out += "'"
      i = end + 4
    } else return [out, s.slice(end + 1)]
  }
}

const STRICT = 'set -euo pipefail\n'

/** The script a task wrote, from the command the transport was handed (wrapCommand's shapes). */
export function unwrap(command: string): { script: string; become: boolean } {
  const afterStrict = (body: string) => {
    const at = body.indexOf(STRICT)
    if (at < 0) throw new Error(`replay: no strict-mode preamble in: ${body.slice(0, 80)}`)
    return body.slice(at + STRICT.length)
  }
  if (command.startsWith('__zxplay=')) return { script: afterStrict(unquote(command.slice('__zxplay='.length))[0]), become: false }
  if (command.startsWith('bash -c ')) return { script: afterStrict(unquote(command.slice('bash -c '.length))[0]), become: false }
  if (command.startsWith('sudo -n ')) {
    const at = command.indexOf(' bash -c ')
    return { script: afterStrict(unquote(command.slice(at + ' bash -c '.length))[0]), become: true }
  }
  throw new Error(`replay: a command shape the fake host does not take (become with a password or su?): ${command.slice(0, 80)}`)
}

type UploadSpec = { dest: string; hash: string; mode: string; owner?: string; group?: string; validate?: string; dryRun: boolean; wantOld: boolean; compare: string }

/** A fake host's side of the transport: answers each command from its rules and keeps its files. */
class FakeConnection implements Connection {
  readonly host: string
  received: HostReplay['received'] = []
  executed: string[] = []
  written: Upload[] = []
  private files: Map<string, FakeFile>
  private rules: Rule[]
  private facts: Facts
  constructor(name: string, h: FakeHost) {
    this.host = name
    this.rules = h.commands ?? []
    this.files = new Map(Object.entries(h.files ?? {}))
    this.facts = { ...DEFAULT_FACTS, hostname: name, ...h.facts }
  }

  /** The upload script's spec (upload.ts's shape), or undefined for any other command. */
  upload(script: string): UploadSpec | undefined {
    const dest = /^d=(.*)$/m.exec(script)?.[1]
    const check = /^if \[ "\$cur" = ([0-9a-f]{64}) \] && \[ "\$meta" = (\S+) \]/m.exec(script)
    if (!dest || !check || !script.includes('sha256sum')) return undefined
    const path = dest.startsWith("$'") ? dest.slice(2, -1).replace(/\\'/g, "'").replace(/\\\\/g, '\\') : dest
    const [mode = '', ownership] = check[2]!.replace(/^\$'|'$/g, '').split(' ')
    const [owner, group] = (ownership ?? '').split(':')
    // the validate command as the playbook wrote it: %s where the temporary file goes
    const validate = /^\s*if ! out=\$\( \{ (.*) ; \} 2>&1 \); then/m.exec(script)?.[1]?.replaceAll('"$tmp"', '%s')
    return { dest: path, hash: check[1]!, mode, owner: owner || undefined, group: group || undefined, validate, dryRun: !script.includes('cat > "$tmp"'), wantOld: script.includes('base64 -w0'), compare: `compare ${path}` }
  }

  private answerUpload(u: UploadSpec, input: string): { stdout: string; exit: number; stderr?: string } {
    const cur = this.files.get(u.dest)
    const meta = cur ? `${cur.mode ?? '644'}${u.owner ? ` ${cur.owner ?? 'root'}` : ''}${u.group ? `:${cur.group ?? 'root'}` : ''}` : ''
    const want = `${u.mode}${u.owner ? ` ${u.owner}` : ''}${u.group ? `:${u.group}` : ''}`
    const same = !!cur && sha(cur.content) === u.hash && meta === want
    if (same) return { stdout: 'same 1\n', exit: 0 }
    let stdout = `differs ${cur ? 1 : 0}\n`
    if (u.wantOld && cur) stdout += `${Buffer.from(cur.content).toString('base64')}\n`
    if (!u.dryRun) {
      if (sha(input) !== u.hash) return { stdout, stderr: 'the content arrived incomplete', exit: 1 }
      // a rule for the validate command (as written, with %s) answers it; none: it accepts
      const check = u.validate === undefined ? undefined : this.answer(u.validate, input, true)
      if (check && check.exit !== 0) return { stdout, stderr: `${u.dest} was left as it was: the new content failed its check: ${check.stderr}`, exit: 1 }
      const file: FakeFile = { content: input, mode: u.mode, owner: u.owner ?? cur?.owner, group: u.group ?? cur?.group }
      this.files.set(u.dest, file)
      const written = { dest: u.dest, content: input, mode: u.mode, ...(u.owner ? { owner: u.owner } : {}), ...(u.group ? { group: u.group } : {}), ...(u.validate ? { validate: u.validate } : {}) }
      this.written.push(written)
      this.executed.push(uploadLine(written))
    }
    return { stdout, exit: 0 }
  }

  private answer(script: string, input: string, mutation: boolean): { stdout: string; stderr: string; exit: number } {
    if (script === FACTS_COMMAND) {
      const f = this.facts
      const kv = { hostname: f.hostname, distro: f.distro, distroVersion: f.distroVersion, arch: f.arch, kernel: f.kernel, cpus: f.cpus, memoryKb: f.memoryMb * 1024, user: f.user }
      return { stdout: Object.entries(kv).map(([k, v]) => `${k}=${v}\n`).join(''), stderr: '', exit: 0 }
    }
    const upload = this.upload(script)
    if (upload) return { stderr: '', ...this.answerUpload(upload, input) }
    const rule = this.rules.find(([m]) => (typeof m === 'string' ? m === script : m instanceof RegExp ? m.test(script) : m(script)))
    const cat = /^cat (\/\S+)( 2>\/dev\/null \|\| true)?$/.exec(script)
    if (!rule && cat) {
      // a file it reads: from the host's files
      const file = this.files.get(cat[1]!)
      if (file) return { stdout: file.content, stderr: '', exit: 0 }
      return cat[2] ? { stdout: '', stderr: '', exit: 0 } : { stdout: '', stderr: `cat: ${cat[1]}: No such file or directory\n`, exit: 1 }
    }
    if (!rule) {
      if (mutation) return { stdout: '', stderr: '', exit: 0 }
      this.unanswered.push(`replay: ${this.host} has no answer for the read:\n${script}`)
      return { stdout: '', stderr: 'replay: no answer', exit: 127 }
    }
    const a = typeof rule[1] === 'function' ? rule[1](input, script) : rule[1]
    if (typeof a === 'string') return { stdout: a, stderr: '', exit: 0 }
    if (typeof a === 'number') return { stdout: '', stderr: '', exit: a }
    return { stdout: a.stdout ?? '', stderr: a.stderr ?? '', exit: a.exit ?? 0 }
  }

  /** reads no rule answered: the replay fails with them */
  unanswered: string[] = []
  /** Scripts announced as mutations (their `cmd` events come first): unanswered ones succeed. */
  mutations: string[] = []

  async spawn(command: string): Promise<Proc> {
    const { script, become } = unwrap(command)
    const stdin = new PassThrough()
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    const chunks: Buffer[] = []
    stdin.on('data', (c: Buffer) => chunks.push(c))
    const done = new Promise<{ exitCode: number | null; signal: string | null }>((resolve, reject) => {
      stdin.on('finish', () => {
        try {
          const input = Buffer.concat(chunks).toString()
          this.received.push({ script, input, become })
          const mutation = this.mutating(script)
          if (mutation) this.executed.push(script)
          const a = this.answer(script, input, mutation)
          stdout.end(a.stdout)
          stderr.end(a.stderr)
          resolve({ exitCode: a.exit, signal: null })
        } catch (e) {
          stdout.end()
          stderr.end()
          reject(e)
        }
      })
    })
    return { stdin, stdout, stderr, done, kill: () => {} }
  }

  private mutating(script: string): boolean {
    const i = this.mutations.indexOf(script)
    if (i < 0) return false
    this.mutations.splice(i, 1)
    return true
  }

  async close(): Promise<void> {}
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
