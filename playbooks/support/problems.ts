// Bad vars are reported together: every problem of a host as one InventoryError, one line each
// (the CLI gathers these lines from every playbook and host and prints them all at once).
import { InventoryError } from '../../lib/errors.ts'

/** One bad var: its key (e.g. `ray.image`) and what was expected. */
export type Problem = { key: string; message: string }

/**
 * Throws one InventoryError for `problems` (named after the first, its message every line), plus
 * the lines of errors already thrown elsewhere (`also`, e.g. one naming another file); else returns.
 */
export function throwProblems(file: string, problems: Problem[], also: InventoryError[] = []): void {
  const lines = [...problems.map((p) => `${file}: ${p.key}: ${p.message}`), ...also.map((e) => e.message)]
  if (!lines.length) return
  const first = problems[0]
  const err = first ? new InventoryError(file, first.key, first.message) : also[0]!
  err.message = lines.join('\n')
  throw err
}

/** The InventoryError `fn` throws, if any (other errors pass through). */
export function inventoryErrorOf(fn: () => unknown): InventoryError[] {
  try {
    fn()
    return []
  } catch (e) {
    if (e instanceof InventoryError) return [e]
    throw e
  }
}
