// The lab's processes as /proc shows them (lab hosts share this machine's PID namespace), and the
// tails of their logs for error messages.
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/** Running: not gone, and not a zombie (dead, waiting for its parent to reap it). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // state is the field after the ")" that closes comm
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

export function killPids(pids: readonly number[]) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Until none of them is alive (see isAlive), or the time is up. */
export async function waitGone(pids: readonly number[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(10)
}

export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}
