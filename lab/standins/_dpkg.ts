// dpkg-query (and `dpkg -l/-s/-W`) over node.json's packages: a real dpkg-query on a lab host
// would read this machine's own dpkg database.
import { BASE_PACKAGES, k8sPackages } from './_apt.ts'
import { io, say, warn } from './_io.ts'
import { readState } from './_node.ts'
import type { Package } from './_node.ts'

const descriptionOf = (name: string, pkg: Package) => {
  const minor = Number(/^1\.(\d+)\./.exec(pkg.version)?.[1] ?? 36)
  return (BASE_PACKAGES[name] ?? k8sPackages(minor, '')[name])?.description ?? ''
}

/** Shell-style globs, as dpkg-query matches package names. */
const globRe = (g: string) => new RegExp(`^${g.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)

function fields(name: string, pkg: Package): Record<string, string> {
  const status = `${pkg.held ? 'hold' : 'install'} ok installed`
  return {
    Package: name,
    'binary:Package': name,
    Version: pkg.version,
    Architecture: 'amd64',
    Status: status,
    'db:Status-Abbrev': pkg.held ? 'hi ' : 'ii ',
    'db:Status-Want': pkg.held ? 'hold' : 'install',
    'db:Status-Status': 'installed',
    'binary:Summary': descriptionOf(name, pkg),
    Description: descriptionOf(name, pkg),
  }
}

/** dpkg-query's --showformat: ${Field}, ${Field;width}, and backslash escapes. */
function format(fmt: string, f: Record<string, string>): string {
  return fmt
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\\\/g, '\\')
    .replace(/\$\{([^};]+)(?:;(-?\d+))?\}/g, (_, key: string, width?: string) => {
      const v = f[key] ?? ''
      if (!width) return v
      const w = Number(width)
      return w < 0 ? v.padEnd(-w) : v.padStart(w)
    })
}

/** Select packages by names/globs; missing ones are reported as dpkg-query does. */
function select(patterns: string[]): { found: [string, Package][]; missing: string[] } {
  const pkgs = Object.entries(readState().packages).sort(([a], [b]) => a.localeCompare(b))
  if (!patterns.length) return { found: pkgs, missing: [] }
  const found: [string, Package][] = []
  const missing: string[] = []
  for (const pat of patterns) {
    const re = globRe(pat)
    const hit = pkgs.filter(([n]) => re.test(n))
    if (!hit.length) missing.push(pat)
    for (const h of hit) if (!found.includes(h)) found.push(h)
  }
  return { found, missing }
}

function list(patterns: string[]): number {
  const { found, missing } = select(patterns)
  if (found.length) {
    const nw = Math.max(14, ...found.map(([n]) => n.length))
    const vw = Math.max(12, ...found.map(([, p]) => p.version.length))
    const dw = Math.max(10, 78 - (4 + nw + 1 + vw + 1 + 12 + 1))
    say('Desired=Unknown/Install/Remove/Purge/Hold')
    say('| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend')
    say('|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)')
    say(`||/ ${'Name'.padEnd(nw)} ${'Version'.padEnd(vw)} ${'Architecture'.padEnd(12)} Description`)
    say(`+++-${'='.repeat(nw)}-${'='.repeat(vw)}-${'='.repeat(12)}-${'='.repeat(dw)}`)
    for (const [n, p] of found) {
      say(`${p.held ? 'hi' : 'ii'}  ${n.padEnd(nw)} ${p.version.padEnd(vw)} ${'amd64'.padEnd(12)} ${descriptionOf(n, p).slice(0, dw)}`)
    }
  }
  for (const m of missing) warn(`dpkg-query: no packages found matching ${m}`)
  return missing.length ? 1 : 0
}

function status(names: string[]): number {
  const state = readState()
  let code = 0
  names.forEach((n, i) => {
    const p = state.packages[n]
    if (!p) {
      warn(`dpkg-query: package '${n}' is not installed and no information is available`)
      code = 1
      return
    }
    if (i) say('')
    say(
      [
        `Package: ${n}`,
        `Status: ${fields(n, p).Status}`,
        'Priority: optional',
        `Architecture: amd64`,
        `Version: ${p.version}`,
        `Description: ${descriptionOf(n, p)}`,
      ].join('\n')
    )
  })
  if (code) warn('Use dpkg --info (= dpkg-deb --info) to examine archive files.')
  return code
}

/**
 * dpkg-query's actions: -W/--show (with -f/--showformat), -l/--list, -s/--status.
 */
export function dpkgQuery(argv: string[]): number {
  let action: 'show' | 'list' | 'status' | undefined
  let fmt = '${binary:Package}\t${Version}\n'
  const names: string[] = []
  const usage = (msg: string) => {
    warn(`dpkg-query: error: ${msg}\n\nUse --help for help about querying packages.`)
    return 2
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--show') action = 'show'
    else if (a === '--list') action = 'list'
    else if (a === '--status') action = 'status'
    else if (a.startsWith('--showformat=')) fmt = a.slice('--showformat='.length)
    else if (a === '--showformat') {
      if (argv[i + 1] === undefined) return usage('--showformat needs a value')
      fmt = argv[++i]!
    } else if (a.startsWith('--')) return usage(`unknown option ${a}`)
    else if (a.startsWith('-') && a.length > 1) {
      // clustered short options; -f takes the rest (an optional '=' is dropped) or the next word
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!
        if (c === 'W') action = 'show'
        else if (c === 'l') action = 'list'
        else if (c === 's') action = 'status'
        else if (c === 'f') {
          const rest = a.slice(j + 1)
          if (rest) fmt = rest.startsWith('=') ? rest.slice(1) : rest
          else {
            if (argv[i + 1] === undefined) return usage('-f needs a value')
            fmt = argv[++i]!
          }
          break
        } else return usage(`unknown option -${c}`)
      }
    } else names.push(a)
  }
  if (!action) return usage('need an action option')
  if (action === 'list') return list(names)
  if (action === 'status') {
    if (!names.length) return usage('--status needs at least one package name argument')
    return status(names)
  }
  const { found, missing } = select(names)
  for (const [n, p] of found) io.out(format(fmt, fields(n, p)))
  for (const m of missing) warn(`dpkg-query: no packages found matching ${m}`)
  return missing.length ? 1 : 0
}
