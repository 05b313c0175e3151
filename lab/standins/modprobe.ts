// modprobe stand-in: loads known modules into node.json's `modules` (with their dependencies);
// an unknown module fails as on a kernel without it. -a loads several, -r removes, -q is quiet.
import { MODULES, modulesDir, withDeps } from './_kmod.ts'
import { isEntry, isRoot, warn } from './_io.ts'
import { readState, writeState } from './_node.ts'

export async function main(argv: string[]): Promise<number> {
  let all = false
  let remove = false
  let quiet = false
  let dryRun = false
  const words: string[] = []
  for (const a of argv) {
    if (a === '--all') all = true
    else if (a === '--remove') remove = true
    else if (a === '--quiet') quiet = true
    else if (a === '--dry-run') dryRun = true
    else if (a === '--verbose' || a === '--use-blacklist') {
      // accepted
    } else if (/^-[arqnvb]+$/.test(a)) {
      all ||= a.includes('a')
      remove ||= a.includes('r')
      quiet ||= a.includes('q')
      dryRun ||= a.includes('n')
    } else if (a.startsWith('-')) {
      warn(`modprobe: unrecognized option '${a}'`)
      warn('modprobe: ERROR: Error parsing command line.')
      return 1
    } else words.push(a)
  }
  if (!words.length) {
    warn('modprobe: ERROR: missing parameters. See -h.')
    return 1
  }
  // without -a (or with -r), the first word is the module and the rest are its parameters
  const names = all || remove ? words : [words[0]!]
  const params = all || remove ? [] : words.slice(1)
  const state = readState()
  for (const name of names.map((n) => n.replace(/-/g, '_'))) {
    if (!MODULES[name]) {
      if (!quiet) warn(`modprobe: FATAL: Module ${name} not found in directory ${modulesDir()}`)
      return 1
    }
    if (remove) {
      if (!state.modules.includes(name)) continue
      const users = state.modules.filter((m) => MODULES[m]?.deps.includes(name))
      if (users.length) {
        warn(`modprobe: FATAL: Module ${name} is in use.`)
        return 1
      }
      if (!isRoot()) {
        warn(`modprobe: ERROR: could not remove '${name}': Operation not permitted`)
        return 1
      }
      if (!dryRun) state.modules = state.modules.filter((m) => m !== name)
      continue
    }
    if (state.modules.includes(name)) continue // already loaded: parameters are not applied again
    if (params.some((p) => !p.includes('='))) {
      warn(`modprobe: ERROR: could not insert '${name}': Unknown symbol in module, or unknown parameter (see dmesg)`)
      return 1
    }
    if (!isRoot()) {
      warn(`modprobe: ERROR: could not insert '${name}': Operation not permitted`)
      return 1
    }
    if (!dryRun) for (const m of withDeps(name)) if (!state.modules.includes(m)) state.modules.push(m)
  }
  writeState(state)
  return 0
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
