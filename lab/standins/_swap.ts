// Swap for the stand-ins. The state is /proc/swaps itself: in the lab each host has its own file
// bind-mounted there (so every reader, `swapon --show` and `cat /proc/swaps` alike, sees it), and
// swapoff/swapon rewrite it in place. /etc/fstab says what `swapon -a` turns on.
import fs from 'node:fs'
import { p } from './_fs.ts'
import { readText } from './_io.ts'

export const PROC_SWAPS = '/proc/swaps'
const HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority'

export type Swap = { name: string; type: string; kb: number; usedKb: number; prio: number }

export function activeSwaps(): Swap[] {
  const text = readText(p(PROC_SWAPS)) ?? HEADER + '\n'
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [name = '', type = 'file', kb = '0', usedKb = '0', prio = '-2'] = l.trim().split(/\s+/)
      return { name, type, kb: Number(kb), usedKb: Number(usedKb), prio: Number(prio) }
    })
}

/** Rewrite /proc/swaps in place (it is a bind-mount target in the lab: no rename). */
export function writeSwaps(swaps: Swap[]) {
  const rows = swaps.map((s) => `${s.name.padEnd(40)}${s.type}\t\t${s.kb}\t\t${s.usedKb}\t\t${s.prio}`)
  fs.writeFileSync(p(PROC_SWAPS), [HEADER, ...rows].join('\n') + '\n')
}

/** Swap entries of /etc/fstab that `swapon -a` turns on (not commented, not noauto). */
export function fstabSwaps(): string[] {
  return (readText(p('/etc/fstab')) ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .filter((f) => f[2] === 'swap' && !(f[3] ?? '').split(',').includes('noauto'))
    .map((f) => f[0]!)
}
