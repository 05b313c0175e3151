// A task's result: ok, changed or skip (a task that returns nothing is `ok`, or `changed` when `$` ran a change).
export type Ok = { kind: 'ok'; reason: string }
export type Changed = { kind: 'changed'; reason: string }
export type Skip = { kind: 'skip'; reason: string }

export const ok = (reason: string): Ok => ({ kind: 'ok', reason })
export const skip = (reason: string): Skip => ({ kind: 'skip', reason })
/** A change made outside `$` (e.g. a file written on this machine). */
export const changed = (reason: string): Changed => ({ kind: 'changed', reason })
