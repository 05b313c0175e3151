// The ordered loop: playbooks → tasks → the task on every host in parallel (up to --forks),
// then the next task (Ansible's linear strategy). A host that fails or cannot be reached is out
// for the rest of the run; the others go on, unless the playbook says errors are fatal.
import { createContext } from './context.ts'
import { CommandError, UnreachableError } from '../base/errors.ts'
import { zeroCounts, type Counts, type Emit, type Failure, type Status } from '../output/events.ts'
import type { PlannedPlaybook } from './plan.ts'
import type { Host } from '../inventory/inventory.ts'
import type { Playbook, Task } from './playbook.ts'
import type { Secrets } from '../output/secrets.ts'
import type { HostSession } from '../transport/session.ts'
import { inventoryOf } from '../inventory/inventory.ts'
import { VarsTable } from '../inventory/vars-spec.ts'

export type RunOptions = {
  /** hosts the recap lists even when nothing ran on them */
  recapHosts?: string[]
  check: boolean
  diff: boolean
  verbose: boolean
  forks: number
  becomePassword?: string
  /** default time limit of one task on one host */
  taskTimeoutMs: number
  templatesDir: string
  secrets: Secrets
  emit: Emit
  /** becomes true on SIGINT: the run stops after the task in progress */
  interrupted?: () => boolean
  /** every host's vars, checked before the run (the CLI's); else checked here as tasks need them */
  vars?: VarsTable
}

export type Recap = { hosts: Record<string, Counts>; ms: number; interrupted: boolean }

type Outcome = { status: Status; reason?: string; failure?: Failure; ms: number }

export async function runPlan(planned: PlannedPlaybook[], sessions: Map<string, HostSession>, opts: RunOptions): Promise<Recap> {
  const started = performance.now()
  const counts: Record<string, Counts> = {}
  const count = (host: string, s: Status) => ((counts[host] ??= zeroCounts())[s] += 1)
  const hosts = [...sessions.values()].map((s) => s.host)
  const vars = opts.vars ?? new VarsTable(planned.map((p) => p.playbook), (hosts[0] && inventoryOf(hosts[0])) || { hosts, groups: new Map() })

  outer: for (const { playbook: pb, hosts, tasks } of planned) {
    opts.emit({ kind: 'playbook', id: pb.id, name: pb.name, pattern: pb.hosts, hosts: hosts.map((h) => h.name) })
    for (const task of tasks) {
      if (opts.interrupted?.()) {
        opts.emit({ kind: 'interrupted', playbook: pb.id, task: task.name })
        break outer
      }
      const active = hosts.map((h) => sessions.get(h.name)!).filter((s) => s.state === 'active')
      if (!active.length) break
      opts.emit({ kind: 'task', playbook: pb.id, task: task.name })
      const targets = task.once ? active.slice(0, 1) : active
      const registeredBefore = task.once ? { ...targets[0]!.registered } : {}
      const outcomes = await parallel(targets, opts.forks, (s) => runTask(pb, task, s, { ...opts, vars }, sessions))
      // Ctrl-C (or SIGTERM) closed the connections under this task: its failures are the interruption, not the hosts'.
      const cut = opts.interrupted?.() ?? false
      targets.forEach((s, i) => {
        const o = outcomes[i]!
        if (cut && o.failure) o.failure.message = `interrupted while this task ran: ${o.failure.message}`
        count(s.host.name, o.status)
        if (o.status === 'failed') s.state = 'failed'
        if (o.status === 'unreachable') s.state = 'unreachable'
        opts.emit({ kind: 'result', playbook: pb.id, task: task.name, host: s.host.name, status: o.status, ms: o.ms, reason: o.reason, failure: o.failure })
      })
      if (task.once && targets[0]?.state === 'active') {
        // Only what this task registered: what the first host registered earlier is its own (a
        // worker's `joined`), and copying it would give every host the first one's answer.
        const mine = targets[0].registered
        const fresh = Object.keys(mine).filter((k) => !(k in registeredBefore) || mine[k] !== registeredBefore[k])
        for (const s of active) for (const k of fresh) s.registered[k] = mine[k]
      }
      if (cut) {
        opts.emit({ kind: 'interrupted', playbook: pb.id, task: task.name })
        break outer
      }
      if (pb.anyErrorsFatal && outcomes.some((o) => o.status === 'failed' || o.status === 'unreachable')) {
        break outer
      }
    }
  }
  for (const name of opts.recapHosts ?? []) counts[name] ??= zeroCounts()
  return { hosts: counts, ms: Math.round(performance.now() - started), interrupted: opts.interrupted?.() ?? false }
}

async function runTask(pb: Playbook, task: Task, session: HostSession, opts: RunOptions, sessions: Map<string, HostSession>): Promise<Outcome> {
  const t0 = performance.now()
  const ms = () => Math.round(performance.now() - t0)
  const timeoutMs = task.timeout ?? opts.taskTimeoutMs
  const attempts = 1 + (task.retries ?? 0)
  let last: Outcome = { status: 'failed', ms: 0 }
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const scope = {
      playbook: pb.id,
      task: task.name,
      session,
      check: opts.check,
      diff: opts.diff,
      verbose: opts.verbose,
      becomePassword: opts.becomePassword,
      deadline: Date.now() + timeoutMs,
      timeoutMs,
      secrets: opts.secrets,
      emit: opts.emit,
      templatesDir: opts.templatesDir,
      changes: { mutated: false, noops: [] as string[] },
      sessions,
      varsOf: (h: Host) => opts.vars!.varsFor(pb, h),
      become: pb.become,
    }
    try {
      // inside the try: vars not checked before the run may be bad
      const ctx = createContext(scope)
      await session.connection()
      if (task.when && !(await task.when(ctx))) return { status: 'skipped', reason: 'condition is false', ms: ms() }
      const result = await task.run(ctx)
      if (task.until && !(await task.until(ctx))) throw new Error(`condition not met after attempt ${attempt}/${attempts}`)
      if (result?.kind === 'skip') return { status: 'skipped', reason: result.reason, ms: ms() }
      if (result?.kind === 'ok') return { status: 'ok', reason: result.reason, ms: ms() }
      if (result?.kind === 'changed') {
        session.mutations++ // a change made some other way (a file here, an API): remembered reads are stale
        return { status: 'changed', reason: result.reason, ms: ms() }
      }
      // nothing returned: what it did says changed; else ok, with what ensure found already so
      if (scope.changes.mutated) return { status: 'changed', ms: ms() }
      return { status: 'ok', reason: scope.changes.noops.join('; ') || undefined, ms: ms() }
    } catch (err) {
      last = toOutcome(err, ms())
      // Unreachable means the host is gone; retrying the task would only wait again.
      if (last.status === 'unreachable' || attempt === attempts) return last
      opts.emit({ kind: 'note', host: session.host.name, task: task.name, text: `attempt ${attempt}/${attempts} failed: ${last.failure?.message}; retrying` })
      await new Promise((r) => setTimeout(r, task.delay ?? 1000))
    }
  }
  return last
}

function toOutcome(err: unknown, ms: number): Outcome {
  if (err instanceof UnreachableError) return { status: 'unreachable', failure: { message: err.message }, ms }
  if (err instanceof CommandError) {
    return { status: 'failed', ms, failure: { message: err.message, cmd: err.cmd, exitCode: err.exitCode, stderr: err.stderr || err.stdout } }
  }
  return { status: 'failed', ms, failure: { message: err instanceof Error ? err.message : String(err) } }
}

/** Map over items with at most `limit` running at once; results in input order. */
async function parallel<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
