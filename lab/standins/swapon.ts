// swapon stand-in: --show (NAME TYPE SIZE USED PRIO), -s/--summary (/proc/swaps), -a (the swap
// lines of /etc/fstab); see _swap.ts for the state.
import { p } from './_fs.ts'
import { activeSwaps, fstabSwaps, writeSwaps } from './_swap.ts'
import { isEntry, isRoot, readText, say, warn } from './_io.ts'

const human = (kb: number) => {
  const units = ['K', 'M', 'G', 'T']
  let v = kb
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1).replace(/\.0$/, '')}${units[i]}`
}

export async function main(argv: string[]): Promise<number> {
  const [a, ...rest] = argv
  if (a === '--show' || a?.startsWith('--show=') || (a === '--noheadings' && rest[0] === '--show')) {
    const noHead = argv.includes('--noheadings')
    const swaps = activeSwaps()
    if (!swaps.length) return 0
    if (!noHead) say('NAME      TYPE SIZE USED PRIO')
    for (const s of swaps) say(`${s.name.padEnd(9)} ${s.type.padEnd(4)} ${human(s.kb).padStart(4)} ${(s.usedKb ? human(s.usedKb) : '0B').padStart(4)} ${String(s.prio).padStart(4)}`)
    return 0
  }
  if (a === '-s' || a === '--summary') {
    say((readText(p('/proc/swaps')) ?? 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n').trimEnd())
    return 0
  }
  if (a === '-a' || a === '--all') {
    const active = activeSwaps()
    const add = fstabSwaps().filter((n) => !active.some((s) => s.name === n))
    if (!add.length) return 0
    if (!isRoot()) {
      warn(`swapon: ${add[0]}: swapon failed: Operation not permitted`)
      return 4
    }
    writeSwaps([...active, ...add.map((name) => ({ name, type: 'file', kb: 2_097_148, usedKb: 0, prio: -2 }))])
    return 0
  }
  if (a === undefined) {
    const swaps = activeSwaps()
    if (swaps.length) return main(['--show'])
    return 0
  }
  warn(`zxlab stand-in: swapon ${argv.join(' ')} is not modelled (--show, -s, -a are)`)
  return 16
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
