// What happens during a run, as data. The terminal reporter, --json and the log file each
// render these; tests assert on them rather than on text.
import type { Secrets } from './secrets.ts'

export type Status = 'ok' | 'changed' | 'skipped' | 'failed' | 'unreachable'
export type Counts = Record<Status, number>

export type Failure = { message: string; cmd?: string; exitCode?: number | null; stderr?: string }

export type Event =
  | { kind: 'start'; inventory: string; check: boolean; log?: string }
  | { kind: 'playbook'; id: string; name: string; pattern: string; hosts: string[] }
  | { kind: 'task'; playbook: string; task: string }
  /** a mutation: run, or under --check only planned */
  | { kind: 'cmd'; host: string; task: string; cmd: string; planned: boolean; probe: boolean }
  | { kind: 'cmd-end'; host: string; task: string; cmd: string; exitCode: number | null; ms: number; stdout: string; stderr: string }
  | { kind: 'output'; host: string; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'diff'; host: string; task: string; file: string; diff: string }
  | { kind: 'note'; host: string; task: string; text: string }
  | { kind: 'result'; playbook: string; task: string; host: string; status: Status; ms: number; reason?: string; failure?: Failure }
  | { kind: 'interrupted'; playbook: string; task: string }
  | { kind: 'recap'; hosts: Record<string, Counts>; ms: number }

export type Sink = (e: Event) => void
export type Emit = (e: Event) => void

/** One emit for the run: redacts, then hands the event to every sink. */
export function emitter(secrets: Secrets, sinks: Sink[]): Emit {
  return (e) => {
    const clean = secrets.redactDeep(e)
    for (const s of sinks) s(clean)
  }
}

export const zeroCounts = (): Counts => ({ ok: 0, changed: 0, skipped: 0, failed: 0, unreachable: 0 })
