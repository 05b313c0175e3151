// The exit-code decision of `zxplay`, kept apart from cli.ts so it can be judged on its own (mutation testing).
import { InventoryError, PatternError, TemplateError, UsageError } from '../base/errors.ts'
import type { Counts } from '../output/events.ts'
import { HostLockError } from '../transport/host-lock.ts'
import { LockError } from '../transport/lock.ts'

// Ansible's exit codes: 4 when any host was unreachable (even if another failed), 2 when one failed,
// 99 when the user interrupted (ansible-playbook's "User interrupted execution").
export const EXIT = { ok: 0, error: 1, failed: 2, unreachable: 4, input: 5, interrupted: 99 } as const

/** A run's exit code from its recap. */
export function exitCode(hosts: Record<string, Counts>, interrupted: boolean): number {
  const all = Object.values(hosts)
  if (interrupted) return EXIT.interrupted
  if (all.some((c) => c.unreachable)) return EXIT.unreachable
  if (all.some((c) => c.failed)) return EXIT.failed
  return EXIT.ok
}

/** An error that ended the command: its exit code (5 for bad input) and the line shown (a stack only for the unexpected). */
export function errorExit(err: unknown): { code: number; message: string } {
  const input = err instanceof UsageError || err instanceof InventoryError || err instanceof PatternError || err instanceof TemplateError
  const known = input || err instanceof LockError || err instanceof HostLockError
  const message = known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)
  return { code: input ? EXIT.input : EXIT.error, message }
}
