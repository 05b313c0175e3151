// ~/.ssh/config as OpenSSH reads it (ssh_config(5)): options given on the command line first
// (Ansible's -o options, our inventory's settings), then the user's file, then the system's;
// the first value of each keyword wins; Host and Match decide which lines apply; Include reads
// other files in place. Keywords that change where or how zxplay connects are honoured, those
// that cannot matter here are ignored (IGNORED says why), anything else that applies to the host
// is refused by name. Pure apart from reading the files (and globbing Include).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** One option as ssh reads it: keyword lowercased, its arguments, where it was written. */
export type SshOption = { keyword: string; args: string[]; where: string }

export class SshConfigError extends Error {}

// Honoured (see targetOf).
const SUPPORTED = new Set([
  'hostname',
  'port',
  'user',
  'identityfile',
  'proxyjump',
  'proxycommand',
  'userknownhostsfile',
  'globalknownhostsfile',
  'stricthostkeychecking',
  'connecttimeout',
  'identityagent',
  'serveraliveinterval',
  'serveralivecountmax',
])
// Keywords every value of which is harmless here, with why.
const IGNORED = new Map<string, string>([
  ...['controlmaster', 'controlpath', 'controlpersist'].map((k) => [k, 'zxplay keeps one connection per host for the whole run'] as const),
  ...['compression', 'tcpkeepalive', 'loglevel', 'visualhostkey', 'checkhostip', 'hashknownhosts', 'updatehostkeys', 'addkeystoagent', 'usekeychain', 'batchmode'].map(
    (k) => [k, 'does not change what runs where'] as const
  ),
  ...['forwardx11', 'forwardx11trusted', 'requesttty', 'sendenv'].map((k) => [k, 'zxplay asks for no terminal, X11 or environment'] as const),
  ...[
    'identitiesonly',
    'preferredauthentications',
    'pubkeyauthentication',
    'passwordauthentication',
    'kbdinteractiveauthentication',
    'gssapiauthentication',
    'gssapidelegatecredentials',
  ].map((k) => [k, 'zxplay offers the key file, then the agent, then a password it was given'] as const),
  ...['ciphers', 'macs', 'kexalgorithms', 'hostkeyalgorithms', 'pubkeyacceptedalgorithms', 'pubkeyacceptedkeytypes', 'casignaturealgorithms'].map(
    (k) => [k, "ssh2 negotiates from its own list of algorithms"] as const
  ),
])
// Refused keywords whose value says "off": harmless.
const OFF = new Set(['no', 'none', 'false', 'off'])

// Options that collect every value rather than keep the first.
const MULTI = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv', 'setenv'])

/** The home directory from the password database, as OpenSSH uses it (not $HOME). */
export const homeDir = (): string => os.userInfo().homedir
const localUser = (): string => os.userInfo().username

export function tildeExpand(p: string): string {
  return p === '~' ? homeDir() : p.startsWith('~/') ? path.join(homeDir(), p.slice(2)) : p
}

/** Split a config line (or an -o value) as OpenSSH does: `Key value`, `Key=value`, double quotes. */
export function splitLine(line: string): string[] {
  const m = /^\s*([^\s=]+)\s*(?:=\s*|\s+|$)(.*)$/.exec(line)
  if (!m) return []
  // a command is the rest of the line as written, quotes and all (readconf.c)
  if (m[1]!.toLowerCase() === 'proxycommand') return m[2]!.trim() ? [m[1]!, m[2]!.trim()] : [m[1]!]
  const args: string[] = []
  const re = /"([^"]*)"|(\S+)/g
  for (const a of m[2]!.matchAll(re)) args.push(a[1] ?? a[2]!)
  return [m[1]!, ...args]
}

/** OpenSSH's wildcard match: `*` any run, `?` exactly one character. */
export function matchPattern(name: string, pattern: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${re}$`, 's').test(name)
}

/** A comma-separated list with `!` negations: any negation that matches wins, else any positive match. */
export function matchPatternList(name: string, list: string): boolean {
  let hit = false
  for (const p of list.split(',')) {
    if (p.startsWith('!')) {
      if (matchPattern(name, p.slice(1))) return false
    } else if (matchPattern(name, p)) hit = true
  }
  return hit
}

type Lookup = {
  /** the name asked for, as given: Host patterns match it case-sensitively */
  host: string
  options: Map<string, SshOption>
  multi: Map<string, SshOption[]>
  /** user given on the command line (ours: the inventory), for %r before User is known */
  user?: string
}

function setOption(l: Lookup, o: SshOption) {
  // ProxyJump and ProxyCommand exclude each other: the first one set wins (readconf.c).
  if ((o.keyword === 'proxyjump' && l.options.has('proxycommand')) || (o.keyword === 'proxycommand' && l.options.has('proxyjump'))) return
  if (MULTI.has(o.keyword)) l.multi.set(o.keyword, [...(l.multi.get(o.keyword) ?? []), o])
  else if (!l.options.has(o.keyword)) l.options.set(o.keyword, o)
}

/**
 * Resolve every option for `host`: `given` (the command line's -o options, first wins as in ssh),
 * then each config file in order. The result maps keyword → option (or options, for MULTI ones).
 */
export function resolveOptions(host: string, given: SshOption[], files: string[], readFile = (f: string) => fs.readFileSync(f, 'utf8')): Map<string, SshOption[]> {
  const l: Lookup = { host, options: new Map(), multi: new Map() }
  for (const o of given) setOption(l, o)
  l.user = l.options.get('user')?.args[0]
  files.forEach((file, i) => {
    let text: string
    try {
      text = readFile(file)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
      throw new SshConfigError(`${file}: cannot read: ${(e as Error).message}`)
    }
    readConfig(l, text, file, i === 0 ? path.join(homeDir(), '.ssh') : '/etc/ssh', 0)
  })
  const out = new Map<string, SshOption[]>()
  for (const [k, o] of l.options) out.set(k, [o])
  for (const [k, os] of l.multi) out.set(k, os)
  return out
}

function readConfig(l: Lookup, text: string, file: string, includeDir: string, depth: number) {
  if (depth > 16) throw new SshConfigError(`${file}: Include nested more than 16 deep (a loop?)`)
  let active = true
  text.split('\n').forEach((raw, i) => {
    const where = `${file}:${i + 1}`
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const [word, ...args] = splitLine(line)
    if (!word) return
    const keyword = word.toLowerCase()
    if (keyword === 'host') {
      active = hostMatches(l.host, args)
      return
    }
    if (keyword === 'match') {
      active = matchLine(l, args, where)
      return
    }
    if (!active) return
    if (keyword === 'include') {
      for (const pattern of args) {
        const full = tildeExpand(pattern)
        for (const f of globFiles(path.isAbsolute(full) ? full : path.join(includeDir, full))) {
          readConfig(l, fs.readFileSync(f, 'utf8'), f, includeDir, depth + 1)
        }
      }
      return
    }
    if (!args.length) throw new SshConfigError(`${where}: '${word}' needs a value`)
    setOption(l, { keyword, args, where })
  })
}

function hostMatches(host: string, patterns: string[]): boolean {
  let hit = false
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchPattern(host, p.slice(1))) return false
    } else if (matchPattern(host, p)) hit = true
  }
  return hit
}

function matchLine(l: Lookup, args: string[], where: string): boolean {
  let ok = true
  for (let i = 0; i < args.length; i++) {
    let criterion = args[i]!.toLowerCase()
    const negate = criterion.startsWith('!')
    if (negate) criterion = criterion.slice(1)
    if (criterion === 'all') continue
    const value = args[++i]
    if (value === undefined) throw new SshConfigError(`${where}: Match ${criterion} needs a value`)
    let hit: boolean
    if (criterion === 'host') hit = matchPatternList(hostnameOf(l, l.options.get('hostname')), value)
    else if (criterion === 'originalhost') hit = matchPatternList(l.host, value)
    else if (criterion === 'user') hit = matchPatternList(l.options.get('user')?.args[0] ?? localUser(), value)
    else if (criterion === 'localuser') hit = matchPatternList(localUser(), value)
    else throw new SshConfigError(`${where}: 'Match ${criterion}' is not supported by zxplay (supported: all, host, originalhost, user, localuser)`)
    if (hit === negate) ok = false
  }
  return ok
}

/** Include's glob: `*`, `?` in the file name part (and directory parts), sorted as glob(3) does. */
function globFiles(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return fs.existsSync(pattern) ? [pattern] : []
  const parts = pattern.split('/')
  let found = ['/']
  for (const part of parts.slice(1)) {
    const next: string[] = []
    for (const dir of found) {
      if (!/[*?[]/.test(part)) {
        const p = path.join(dir, part)
        if (fs.existsSync(p)) next.push(p)
        continue
      }
      let names: string[] = []
      try {
        names = fs.readdirSync(dir)
      } catch {
        continue
      }
      for (const n of names.sort()) if (!n.startsWith('.') && matchPattern(n, part)) next.push(path.join(dir, n))
    }
    found = next
  }
  return found.filter((f) => fs.statSync(f).isFile())
}

type Tokens = Record<string, string>

/** HostName with its tokens expanded, else the name asked for; lowercased, as ssh does. */
function hostnameOf(l: Lookup, o: SshOption | undefined): string {
  return (o ? expandTokens(o.args[0]!, tokens(l), 'HostName', o.where) : l.host).toLowerCase()
}

function tokens(l: Lookup, hostname?: string, port?: string, user?: string): Tokens {
  return {
    '%': '%',
    h: hostname ?? l.host.toLowerCase(),
    n: l.host,
    p: port ?? '22',
    r: user ?? l.user ?? localUser(),
    u: localUser(),
    d: homeDir(),
    i: String(os.userInfo().uid),
    L: os.hostname().split('.')[0]!,
    l: os.hostname(),
  }
}

/** ${NAME} in a path, from the environment (ssh_config(5) ENVIRONMENT VARIABLES); unset is an error, as in ssh. */
function expandEnv(value: string, o: SshOption): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = process.env[name]
    if (v === undefined) throw new SshConfigError(`${o.where}: environment variable \${${name}} in ${o.keyword} is not set`)
    return v
  })
}

export function expandTokens(value: string, t: Tokens, keyword: string, where: string): string {
  return value.replace(/%(.)/g, (_, c: string) => {
    const v = t[c]
    if (v === undefined) throw new SshConfigError(`${where}: token %${c} in ${keyword} is not supported by zxplay (supported: %%, %h, %n, %p, %r, %u, %d, %i, %l, %L)`)
    return v
  })
}

/** Where and how to connect to one host (or one jump host), as ssh would. */
export type SshTarget = {
  /** what we call it in messages: the inventory name or the jump spec */
  label: string
  hostname: string
  port: number
  user: string
  identityFiles: string[]
  /** the next hop(s), OpenSSH syntax: [user@]host[:port][,…] */
  proxyJump?: string
  /** a local command whose stdin/stdout are the connection (tokens expanded) */
  proxyCommand?: string
  /** user known_hosts files, then global ones */
  knownHosts?: string[]
  globalKnownHosts?: string[]
  strictHostKeyChecking?: 'strict' | 'accept-new' | 'off'
  connectTimeoutMs?: number
  /** ssh-agent socket: undefined for $SSH_AUTH_SOCK, '' for none */
  agent?: string
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
}

/** The files ssh reads: the user's, then the system's. */
export const configFiles = (): string[] => [path.join(homeDir(), '.ssh', 'config'), '/etc/ssh/ssh_config']

/** Refuse, by name and place, a keyword zxplay cannot honour (or a bad value of one it does). */
export function checkOption(o: SshOption): string | undefined {
  const v = o.args[0]!.toLowerCase()
  if (SUPPORTED.has(o.keyword) || IGNORED.has(o.keyword)) {
    if (o.keyword === 'stricthostkeychecking' && !['yes', 'no', 'off', 'ask', 'accept-new'].includes(v)) return `StrictHostKeyChecking must be yes, no, ask or accept-new, got '${o.args[0]}'`
    if (['port', 'connecttimeout', 'serveraliveinterval', 'serveralivecountmax'].includes(o.keyword) && !/^\d+$/.test(v) && !(o.keyword === 'connecttimeout' && v === 'none'))
      return `${o.keyword} must be a whole number, got '${o.args[0]}'`
    return undefined
  }
  if (OFF.has(v)) return undefined
  return `ssh option '${o.args.length ? `${o.keyword} ${o.args.join(' ')}` : o.keyword}' is not supported by zxplay; remove it for this host (zxplay honours ${[...SUPPORTED].join(', ')})`
}

/** The connection for `label` from resolved options; every option that applies is checked first. */
export function targetOf(label: string, host: string, resolved: Map<string, SshOption[]>): SshTarget {
  for (const os of resolved.values()) for (const o of os) {
    const problem = checkOption(o)
    if (problem) throw new SshConfigError(`${o.where}: ${problem}`)
  }
  const one = (k: string) => resolved.get(k)?.[0]
  const l: Lookup = { host, options: new Map(), multi: new Map() }
  const hostname = hostnameOf(l, one('hostname'))
  const port = one('port')?.args[0] ?? '22'
  const user = one('user')?.args[0] ?? localUser()
  const t = tokens(l, hostname, port, user)
  const paths = (o: SshOption) => o.args.map((a) => tildeExpand(expandTokens(expandEnv(a, o), t, o.keyword, o.where)))
  const target: SshTarget = {
    label,
    hostname,
    port: Number(port),
    user,
    identityFiles: (resolved.get('identityfile') ?? []).flatMap(paths),
  }
  const jump = one('proxyjump')
  const command = one('proxycommand')
  if (jump && jump.args[0]!.toLowerCase() !== 'none') target.proxyJump = jump.args.join(' ')
  if (command && command.args[0]!.toLowerCase() !== 'none') target.proxyCommand = expandTokens(command.args.join(' '), t, 'ProxyCommand', command.where)
  const known = one('userknownhostsfile')
  if (known) target.knownHosts = paths(known)
  const global = one('globalknownhostsfile')
  if (global) target.globalKnownHosts = paths(global)
  const strict = one('stricthostkeychecking')?.args[0]!.toLowerCase()
  if (strict) target.strictHostKeyChecking = strict === 'accept-new' ? 'accept-new' : strict === 'no' || strict === 'off' ? 'off' : 'strict'
  const timeout = one('connecttimeout')?.args[0]
  if (timeout && timeout !== 'none') target.connectTimeoutMs = Number(timeout) * 1000
  const agent = one('identityagent')
  if (agent) target.agent = agent.args[0]!.toLowerCase() === 'none' ? '' : agent.args[0] === 'SSH_AUTH_SOCK' ? undefined : paths(agent)[0]
  const alive = one('serveraliveinterval')?.args[0]
  if (alive) target.keepaliveIntervalMs = Number(alive) * 1000
  const count = one('serveralivecountmax')?.args[0]
  if (count) target.keepaliveCountMax = Number(count)
  return target
}

/** One hop of a ProxyJump chain, itself looked up in the config files (as `ssh -J` does: a new ssh). */
export function resolveJump(spec: string, files: string[], given: SshOption[] = []): SshTarget {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim())
  if (!m) throw new SshConfigError(`ProxyJump '${spec}' is not [user@]host[:port]`)
  const own: SshOption[] = []
  if (m[1]) own.push({ keyword: 'user', args: [m[1]], where: `-J ${spec}` })
  if (m[3]) own.push({ keyword: 'port', args: [m[3]], where: `-J ${spec}` })
  const name = m[2]!.replace(/^\[|\]$/g, '')
  return targetOf(spec, name, resolveOptions(name, [...own, ...given], files))
}

export const defaultIdentityFiles = () => ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(homeDir(), '.ssh', f))
