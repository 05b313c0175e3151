// swapoff stand-in: -a (everything in /proc/swaps) or named files; see _swap.ts for the state.
import { activeSwaps, writeSwaps } from './_swap.ts'
import { isEntry, isRoot, warn } from './_io.ts'

export async function main(argv: string[]): Promise<number> {
  const all = argv.some((a) => a === '-a' || a === '--all' || /^-[av]+$/.test(a) && a.includes('a'))
  const bad = argv.find((a) => a.startsWith('-') && !/^-[av]+$/.test(a) && a !== '--all' && a !== '--verbose')
  if (bad) {
    warn(`swapoff: unrecognized option '${bad}'\nTry 'swapoff --help' for more information.`)
    return 16
  }
  const names = argv.filter((a) => !a.startsWith('-'))
  if (!all && !names.length) {
    warn("swapoff: bad usage\nTry 'swapoff --help' for more information.")
    return 16
  }
  const active = activeSwaps()
  const off = all ? active.map((s) => s.name) : names
  if (!off.length) return 0
  for (const n of names) {
    if (!active.some((s) => s.name === n)) {
      warn(`swapoff: ${n}: swapoff failed: Invalid argument`)
      return 4
    }
  }
  if (!isRoot()) {
    warn('swapoff: Not superuser.')
    return all ? 32 : 4
  }
  writeSwaps(active.filter((s) => !off.includes(s.name)))
  return 0
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
