// apt-mark stand-in: hold, unhold, showhold (and auto/manual/showauto/showmanual) on node.json's
// packages, with apt-mark's own messages.
import { available } from './_apt.ts'
import { isEntry, isRoot, say, warn } from './_io.ts'
import { readState, writeState } from './_node.ts'

export async function main(argv: string[]): Promise<number> {
  const words = argv.filter((a) => !a.startsWith('-'))
  const flags = argv.filter((a) => a.startsWith('-'))
  for (const f of flags) {
    if (!['-q', '--quiet', '-qq'].includes(f)) {
      warn(`E: Command line option '${f.replace(/^-+/, '')}' [from ${f}] is not understood in combination with the other options.`)
      return 100
    }
  }
  const [cmd, ...names] = words
  const state = readState()
  switch (cmd) {
    case 'showhold':
    case 'showholds':
    case 'showauto':
    case 'showmanual': {
      const pick = Object.entries(state.packages)
        .filter(([, pkg]) =>
          cmd.startsWith('showhold') ? pkg.held : cmd === 'showauto' ? pkg.auto === true : !pkg.auto
        )
        .map(([name]) => name)
        .filter((n) => !names.length || names.includes(n))
        .sort()
      for (const n of pick) say(n)
      return 0
    }
    case 'hold':
    case 'unhold':
    case 'auto':
    case 'manual': {
      if (!names.length) {
        warn('E: No packages found')
        return 100
      }
      const avail = available(state)
      const unknown = names.filter((n) => !state.packages[n] && !avail.has(n))
      if (unknown.length) {
        for (const n of unknown) warn(`E: Unable to locate package ${n}`)
        warn('E: No packages found')
        return 100
      }
      if (cmd === 'auto' || cmd === 'manual') {
        const auto = cmd === 'auto'
        let changed = false
        for (const n of names) {
          const pkg = state.packages[n]
          if (!pkg) say(`${n} can not be marked as it is not installed.`)
          else if ((pkg.auto === true) === auto) say(`${n} was already set to ${auto ? 'automatically' : 'manually'} installed.`)
          else {
            say(`${n} set to ${auto ? 'automatically' : 'manually'} installed.`)
            if (auto) pkg.auto = true
            else delete pkg.auto
            changed = true
          }
        }
        if (changed) {
          if (!isRoot()) {
            warn('E: Could not create temporary file for /var/lib/apt/extended_states - mkstemp (13: Permission denied)')
            warn('E: Failed to write temporary StateFile /var/lib/apt/extended_states')
            return 100
          }
          writeState(state)
        }
        return 0
      }
      const hold = cmd === 'hold'
      const todo: string[] = []
      for (const n of names) {
        const held = state.packages[n]?.held === true
        if (held === hold) say(hold ? `${n} was already set on hold.` : `${n} was already not hold.`)
        else if (!todo.includes(n)) todo.push(n)
      }
      if (!todo.length) return 0
      let code = 0
      if (!isRoot()) {
        warn('dpkg: error: requested operation requires superuser privilege')
        warn('E: Executing dpkg failed. Are you root?')
        code = 100
      } else {
        for (const n of todo) {
          const pkg = state.packages[n]
          // dpkg keeps selections only for packages it knows: not-installed ones are not held
          if (pkg) pkg.held = hold
          else warn(`dpkg: warning: package not in status nor available database at line 1: ${n}`)
        }
        writeState(state)
      }
      // apt-mark reports the marks it tried, even when dpkg refused them
      for (const n of todo) say(hold ? `${n} set on hold.` : `Canceled hold on ${n}.`)
      return code
    }
    case undefined:
      say('Usage: apt-mark [options] {auto|manual} pkg1 [pkg2 ...]')
      return 1
    default:
      if (/^(install|remove|deinstall|purge|show(install|remove|deinstall|purge)s?)$/.test(cmd)) {
        warn(`E: zxlab stand-in: apt-mark ${cmd} is not modelled`)
        return 100
      }
      warn(`E: Invalid operation ${cmd}`)
      return 100
  }
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
