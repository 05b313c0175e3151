// apt-cache stand-in: `madison` (every version each package's lists offer, newest first, with the
// index it comes from), over the catalogue apt-get sees (_apt.ts).
import { available } from './_apt.ts'
import { isEntry, say, warn } from './_io.ts'
import { readState } from './_node.ts'

export async function main(argv: string[]): Promise<number> {
  const flags = argv.filter((a) => a.startsWith('-'))
  const [cmd, ...names] = argv.filter((a) => !a.startsWith('-'))
  for (const f of flags) {
    if (!['-q', '--quiet', '-qq'].includes(f)) {
      warn(`E: Command line option '${f.replace(/^-+/, '')}' [from ${f}] is not understood in combination with the other options.`)
      return 100
    }
  }
  if (cmd !== 'madison') {
    warn(cmd ? `E: zxlab stand-in: apt-cache ${cmd} is not modelled (madison is)` : 'E: No operation specified')
    return 100
  }
  const state = readState()
  const avail = available(state)
  for (const name of names) {
    const offer = avail.get(name)
    if (!offer) continue // apt-cache madison is silent about packages no list offers, and exits 0
    // apt prints name and version right-aligned in 10 columns, newest first
    for (const v of [...offer.versions].reverse()) say(`${name.padStart(10)} | ${v.padStart(10)} | ${offer.origin} Packages`)
  }
  return 0
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
