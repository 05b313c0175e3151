// Connection variables: which inventory keys set how a host is reached (ours and Ansible's
// names), how each is checked where it is written, and how the merged vars become a Host's
// connection settings. Pure. Its own module so inventory sources (inventory.ts) and the
// transport's settings can change apart.
import os from 'node:os'
import path from 'node:path'
import { closestNames } from './suggest.ts'
import { show } from './yaml.ts'

export type Vars = Record<string, unknown>

/** How a host is reached: the connection part of a Host. */
export type HostConnection = {
  connection: 'ssh' | 'local'
  address: string // for local: 'localhost' unless set
  port: number
  user?: string
  key?: string // absolute path
  knownHosts?: string // absolute path
  hostKeyChecking: 'strict' | 'accept-new'
  become: boolean
  becomeUser: string
}

export const CONNECTION_KEYS = [
  'address',
  'port',
  'user',
  'key',
  'become',
  'become_user',
  'connection',
  'known_hosts',
  'host_key_checking',
] as const
export type ConnectionKey = (typeof CONNECTION_KEYS)[number]

// Ansible's names for the same settings, so an Ansible inventory loads unchanged.
// They are renamed to ours where they are read, so precedence works across both spellings.
const ANSIBLE_NAMES = new Map<string, ConnectionKey>([
  ['ansible_host', 'address'],
  ['ansible_ssh_host', 'address'],
  ['ansible_port', 'port'],
  ['ansible_ssh_port', 'port'],
  ['ansible_user', 'user'],
  ['ansible_ssh_user', 'user'],
  ['ansible_ssh_private_key_file', 'key'],
  ['ansible_private_key_file', 'key'],
  ['ansible_become', 'become'],
  ['ansible_become_user', 'become_user'],
  ['ansible_connection', 'connection'],
])
const KNOWN_HOST_KEYS = [...CONNECTION_KEYS, ...ANSIBLE_NAMES.keys()]

const DEFAULTS = {
  port: 22,
  become: false,
  become_user: 'root',
  connection: 'ssh',
  host_key_checking: 'strict',
}

// Shell characters, and control or direction characters that would garble a message or a log line.
const UNSAFE_IN_ADDRESS = /[\s;&|$`'"<>(){}[\]*?!#\\\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/
// POSIX user names, plus user@domain, DOMAIN\\user and a trailing $ (directory and Samba accounts).
const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._@\\-]*\$?$/

/** Our name for a connection key (ours or Ansible's spelling), or undefined for an ordinary variable. */
export function connectionKeyOf(key: string): ConnectionKey | undefined {
  return ANSIBLE_NAMES.get(key) ?? ((CONNECTION_KEYS as readonly string[]).includes(key) ? (key as ConnectionKey) : undefined)
}

/** The connection key a host-level key was probably meant to be. Short names get a tighter limit
 * so ordinary variables like `dev` or `host` are not taken for typos. */
export function connectionKeyTypo(key: string): string | undefined {
  if (KNOWN_HOST_KEYS.includes(key)) return undefined
  return closestNames(key, KNOWN_HOST_KEYS, key.length <= 4 ? 1 : 2)[0]
}

export type Checked = { value: unknown } | { problem: string }

/** Check one connection setting where it is written (`spelled`: the key as written); paths resolve from `dir`. */
export function checkSetting(name: ConnectionKey, spelled: string, value: unknown, dir: string): Checked {
  const got = show(value)
  switch (name) {
    case 'address':
      if (typeof value !== 'string' || value === '') return { problem: `expected a host name or IP address, got ${got}` }
      if (UNSAFE_IN_ADDRESS.test(value)) {
        return { problem: `expected a host name or IP address without spaces or shell characters, got ${got}` }
      }
      return { value }
    case 'port': {
      const port = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value
      if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) return { value: port }
      return { problem: `expected a port number from 1 to 65535, got ${got}` }
    }
    case 'become': {
      // Ansible's YAML 1.1 reads yes/no as booleans; YAML 1.2 keeps them strings.
      const word = typeof value === 'string' ? value.toLowerCase() : undefined
      if (typeof value === 'boolean') return { value }
      if (word === 'yes' || word === 'true' || word === 'on') return { value: true }
      if (word === 'no' || word === 'false' || word === 'off') return { value: false }
      return { problem: `expected true or false, got ${got}` }
    }
    case 'connection':
      if (value === 'ssh' || value === 'local') return { value }
      if (spelled === 'ansible_connection' && (value === 'paramiko' || value === 'smart')) return { value: 'ssh' }
      return { problem: `expected 'ssh' or 'local', got ${got}` }
    case 'host_key_checking':
      if (value === 'strict' || value === 'accept-new') return { value }
      return { problem: `expected 'strict' or 'accept-new', got ${got}` }
    case 'key':
    case 'known_hosts':
      if (typeof value !== 'string' || value === '') return { problem: `expected a file path, got ${got}` }
      return { value: path.resolve(dir, expandHome(value)) }
    case 'user':
    case 'become_user':
      if (typeof value !== 'string' || !USER_NAME.test(value)) return { problem: `expected a user name (letters, digits, '.', '_', '-', '@'), got ${got}` }
      return { value }
  }
}

function expandHome(file: string): string {
  if (file === '~') return os.homedir()
  return file.startsWith('~/') ? path.join(os.homedir(), file.slice(2)) : file
}

/**
 * The connection settings of a host from its merged vars (unset connection keys that are null are
 * dropped from `vars`); defaults stay out of vars, so later code can tell a port that was set from
 * the default. `problem` says what is missing; `reported` marks a value already reported as invalid.
 */
export function resolveConnection(name: string, vars: Vars, reported: unknown): { settings: HostConnection; problem?: string } {
  for (const key of CONNECTION_KEYS) if (vars[key] === null) delete vars[key]
  const setting = <K extends keyof typeof DEFAULTS>(key: K) => (vars[key] ?? DEFAULTS[key]) as (typeof DEFAULTS)[K]
  const connection = setting('connection') as HostConnection['connection']
  const address = vars.address ?? (connection === 'local' ? 'localhost' : undefined)
  const problem =
    typeof address !== 'string' && address !== reported ? `host '${name}' has no address (set address: or connection: local)` : undefined
  const settings: HostConnection = {
    connection,
    address: typeof address === 'string' ? address : '',
    port: setting('port'),
    hostKeyChecking: setting('host_key_checking') as HostConnection['hostKeyChecking'],
    become: setting('become'),
    becomeUser: setting('become_user'),
  }
  if (typeof vars.user === 'string') settings.user = vars.user
  if (typeof vars.key === 'string') settings.key = vars.key
  if (typeof vars.known_hosts === 'string') settings.knownHosts = vars.known_hosts
  return { settings, problem }
}
