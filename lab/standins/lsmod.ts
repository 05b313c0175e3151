// lsmod stand-in: the modules modprobe loaded on this node (node.json), in lsmod's layout.
import { MODULES } from './_kmod.ts'
import { isEntry, say } from './_io.ts'
import { readState } from './_node.ts'

export async function main(argv: string[]): Promise<number> {
  if (argv.length) {
    say('Usage: lsmod')
    return 1
  }
  const loaded = readState().modules
  say('Module                  Size  Used by')
  for (const m of [...loaded].reverse()) {
    const users = loaded.filter((u) => MODULES[u]?.deps.includes(m))
    say(`${m.padEnd(19)} ${String(MODULES[m]?.size ?? 16_384).padStart(8)}  ${users.length}${users.length ? ' ' + users.join(',') : ''}`)
  }
  return 0
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
