// Connection variables: which inventory keys set how a host is reached (ours and Ansible's
// names), how each is checked where it is written, and how the merged vars become a Host's
// connection settings. Pure. Its own module so inventory sources (inventory.ts) and the
// transport's settings can change apart.
import os from 'node:os'
import path from 'node:path'
import { closestNames } from '../base/suggest.ts'
import { shlexSplit } from '../base/shlex.ts'
import { checkOption, splitLine, tildeExpand, type SshOption } from '../base/ssh-config.ts'
import { show } from '../base/yaml.ts'
import { SECRET_MIN_LENGTH } from '../output/secrets.ts'

export type Vars = Record<string, unknown>

/** How a host is reached: the connection part of a Host. */
export type HostConnection = {
  connection: 'ssh' | 'local'
  address: string // the inventory name unless set (for local: 'localhost')
  port: number
  user?: string
  key?: string // absolute path
  knownHosts?: string // absolute path
  /** 'off': any host key is accepted (ansible_host_key_checking: false) */
  hostKeyChecking: 'strict' | 'accept-new' | 'off'
  become: boolean
  becomeUser: string
  becomeMethod: 'sudo' | 'su'
  /** ansible_password: ssh password authentication (a secret) */
  password?: string
  /** ansible_become_password: answers sudo's or su's prompt (a secret) */
  becomePassword?: string
  /** ssh options from ansible_ssh_args, _common_args, _extra_args, as ssh's -o, in Ansible's order */
  sshOptions: SshOption[]
  /** ssh's -F: the only config file read (else ~/.ssh/config, then /etc/ssh/ssh_config) */
  sshConfigFile?: string
  /** seconds to wait for the connection (ansible_ssh_timeout) */
  connectTimeout?: number
  /** zxplay_persistent_shell: commands over one long-lived shell (true) or a channel each (false); unset: the run's choice */
  persistentShell?: boolean
  /** Ansible keys that are set, accepted and have no effect in zxplay, with why (said at -v) */
  unused: string[]
}

// Our names, which inventories may use (they predate Ansible's), and Ansible's that have no
// name of ours: each is read and checked by checkSetting.
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
  'ansible_password',
  'ansible_become_method',
  'ansible_become_password',
  'ansible_ssh_args',
  'ansible_ssh_common_args',
  'ansible_ssh_extra_args',
  'ansible_ssh_timeout',
  'zxplay_persistent_shell',
] as const
export type ConnectionKey = (typeof CONNECTION_KEYS)[number]
// Names only Ansible's spelling sets: a plain `password:` stays an ordinary variable.
const ANSIBLE_ONLY = new Set<string>(CONNECTION_KEYS.filter((k) => k.startsWith('ansible_')))

// Every name Ansible documents for the ssh, paramiko and local connections and the sudo and su
// become plugins (ansible-doc -t connection ssh; -t become su), to ours. They are renamed where
// they are read, so precedence works across spellings.
const ANSIBLE_NAMES = new Map<string, ConnectionKey>([
  ['ansible_host', 'address'],
  ['ansible_ssh_host', 'address'],
  ['ansible_paramiko_host', 'address'],
  ['ansible_port', 'port'],
  ['ansible_ssh_port', 'port'],
  ['ansible_user', 'user'],
  ['ansible_ssh_user', 'user'],
  ['ansible_paramiko_user', 'user'],
  ['ansible_ssh_private_key_file', 'key'],
  ['ansible_private_key_file', 'key'],
  ['ansible_become', 'become'],
  ['ansible_become_user', 'become_user'],
  ['ansible_sudo_user', 'become_user'],
  ['ansible_su_user', 'become_user'],
  ['ansible_connection', 'connection'],
  ['ansible_host_key_checking', 'host_key_checking'],
  ['ansible_ssh_host_key_checking', 'host_key_checking'],
  ['ansible_paramiko_host_key_checking', 'host_key_checking'],
  ['ansible_ssh_pass', 'ansible_password'],
  ['ansible_ssh_password', 'ansible_password'],
  ['ansible_paramiko_pass', 'ansible_password'],
  ['ansible_paramiko_password', 'ansible_password'],
  ['ansible_become_pass', 'ansible_become_password'],
  ['ansible_sudo_pass', 'ansible_become_password'],
  ['ansible_su_pass', 'ansible_become_password'],
  ...[...ANSIBLE_ONLY].map((k) => [k, k as ConnectionKey] as const),
])

// Documented connection keys that change nothing in zxplay: accepted, and said so at -v.
const UNUSED = new Map<string, string>([
  ['ansible_python_interpreter', 'zxplay runs no Python on hosts'],
  ...['ansible_pipelining', 'ansible_ssh_pipelining'].map((k) => [k, 'zxplay always sends commands over its one connection'] as const),
  ...['ansible_control_path', 'ansible_control_path_dir'].map((k) => [k, 'zxplay keeps one connection per host for the whole run'] as const),
  ...['ansible_scp_executable', 'ansible_scp_extra_args', 'ansible_scp_if_ssh', 'ansible_sftp_batch_mode', 'ansible_sftp_executable', 'ansible_sftp_extra_args', 'ansible_ssh_transfer_method'].map(
    (k) => [k, 'zxplay copies files over its own connection, not with scp or sftp'] as const
  ),
  ['ansible_sshpass_prompt', 'zxplay answers password authentication itself, without sshpass'],
  ['ansible_ssh_use_tty', 'zxplay asks for no terminal: sudo and su are answered over stdin'],
  ['ansible_ssh_retries', 'zxplay does not retry a connection: a host that cannot be reached is reported unreachable'],
  ['ansible_paramiko_use_rsa_sha2_algorithms', 'ssh2 negotiates rsa-sha2 itself'],
  ['ansible_su_prompt_l10n', "zxplay recognises su's password prompt by its 'assword:' ending"],
])

// Documented connection keys zxplay cannot honour, and what to do instead.
const REFUSED = new Map<string, string>([
  ['ansible_ssh_executable', 'zxplay connects with its own SSH client (ssh2), not an ssh program; remove it'],
  ['ansible_ssh_pkcs11_provider', 'zxplay cannot use PKCS#11 tokens; put the key in ssh-agent instead'],
  ...['ansible_become_exe', 'ansible_sudo_exe', 'ansible_su_exe'].map((k) => [k, 'zxplay runs sudo or su from the PATH; remove it'] as const),
  ...['ansible_become_flags', 'ansible_sudo_flags', 'ansible_su_flags'].map((k) => [k, 'zxplay chooses the sudo and su flags itself; remove it'] as const),
])

const KNOWN_HOST_KEYS = [...CONNECTION_KEYS, ...ANSIBLE_NAMES.keys(), ...UNUSED.keys(), ...REFUSED.keys()]

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
  return ANSIBLE_NAMES.get(key) ?? ((CONNECTION_KEYS as readonly string[]).includes(key) && !ANSIBLE_ONLY.has(key) ? (key as ConnectionKey) : undefined)
}

/** Why zxplay refuses a documented Ansible connection key, and what to do; undefined for any other key. */
export function refusedKey(key: string): string | undefined {
  const why = REFUSED.get(key)
  return why && `'${key}' is not supported: ${why}`
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
    case 'become':
    case 'zxplay_persistent_shell': {
      const on = asBoolean(value)
      return on === undefined ? { problem: `expected true or false, got ${got}` } : { value: on }
    }
    case 'connection':
      if (value === 'ssh' || value === 'local') return { value }
      if (spelled === 'ansible_connection' && (value === 'paramiko' || value === 'paramiko_ssh' || value === 'smart')) return { value: 'ssh' }
      return { problem: `expected 'ssh', 'local' or 'paramiko' (zxplay's two transports), got ${got}` }
    case 'host_key_checking': {
      if (value === 'strict' || value === 'accept-new') return { value }
      if (!spelled.startsWith('ansible_')) return { problem: `expected 'strict' or 'accept-new', got ${got}` }
      // Ansible's is a boolean: false turns checking off
      const on = asBoolean(value)
      if (on === undefined) return { problem: `expected true or false, got ${got}` }
      return { value: on ? 'strict' : 'off' }
    }
    case 'ansible_password':
    case 'ansible_become_password':
      // the value itself is never shown; shorter ones could not be hidden from output (secrets.ts)
      if ((typeof value !== 'string' && typeof value !== 'number') || String(value).length < SECRET_MIN_LENGTH) return { problem: `expected a password of at least ${SECRET_MIN_LENGTH} characters` }
      return { value: String(value) }
    case 'ansible_become_method':
      if (value === 'sudo' || value === 'su') return { value }
      return { problem: `expected 'sudo' or 'su' (the become methods zxplay runs), got ${got}` }
    case 'ansible_ssh_args':
    case 'ansible_ssh_common_args':
    case 'ansible_ssh_extra_args': {
      if (typeof value !== 'string') return { problem: `expected ssh arguments as one string, got ${got}` }
      const parsed = parseSshArgs(value, spelled)
      return 'problem' in parsed ? parsed : { value }
    }
    case 'ansible_ssh_timeout': {
      const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value
      if (typeof n === 'number' && Number.isInteger(n) && n >= 1) return { value: n }
      return { problem: `expected a whole number of seconds, got ${got}` }
    }
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

// Ansible's YAML 1.1 reads yes/no as booleans; YAML 1.2 keeps them strings.
function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  const word = typeof value === 'string' ? value.toLowerCase() : undefined
  if (word === 'yes' || word === 'true' || word === 'on') return true
  if (word === 'no' || word === 'false' || word === 'off') return false
  return undefined
}

/**
 * ssh's command-line arguments as Ansible passes them (shlex-split): -o Key=Value (or -oKey=Value,
 * -o 'Key Value'), -F, -J, -p, -l, -i and -C; each -o is an ssh_config line, checked like one. Anything
 * else is refused by name.
 */
export function parseSshArgs(text: string, key: string): { options: SshOption[]; configFile?: string } | { problem: string } {
  let words: string[]
  try {
    words = shlexSplit(text)
  } catch (e) {
    return { problem: `cannot split '${text}' as a shell would: ${(e as Error).message}` }
  }
  const flagKeyword: Record<string, string> = { '-J': 'proxyjump', '-p': 'port', '-l': 'user', '-i': 'identityfile' }
  const options: SshOption[] = []
  let configFile: string | undefined
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!
    const flag = w.slice(0, 2)
    if (w === '-C') continue // compression: changes nothing here
    if (flag !== '-o' && flag !== '-F' && !(flag in flagKeyword)) return { problem: `ssh argument '${w}' is not supported by zxplay (it reads -o Key=Value, -F, -J, -p, -l, -i and -C); remove it` }
    const arg = w.length > 2 ? w.slice(2) : words[++i]
    if (arg === undefined) return { problem: `ssh argument '${w}' needs a value` }
    if (flag === '-F') {
      // ssh reads this file instead of ~/.ssh/config and /etc/ssh/ssh_config
      configFile = arg
      continue
    }
    const where = `${key} (${w.length > 2 ? w : `${w} ${arg}`})`
    let option: SshOption
    if (flag === '-o') {
      const [word, ...args] = splitLine(arg)
      if (!word || !args.length) return { problem: `ssh option '${arg}' is not Key=Value` }
      option = { keyword: word.toLowerCase(), args, where }
      if (['host', 'match', 'include'].includes(option.keyword)) return { problem: `ssh option '${word}' cannot be given with -o` }
    } else option = { keyword: flagKeyword[flag]!, args: [arg], where }
    const problem = checkOption(option)
    if (problem) return { problem }
    options.push(option)
  }
  return { options, configFile }
}

function expandHome(file: string): string {
  if (file === '~') return os.homedir()
  return file.startsWith('~/') ? path.join(os.homedir(), file.slice(2)) : file
}

/**
 * The connection settings of a host from its merged vars (unset connection keys that are null are
 * dropped from `vars`); defaults stay out of vars, so later code can tell a port that was set from
 * the default. `problem` says what is wrong.
 * As in Ansible, a host without an address is reached by its inventory name.
 */
export function resolveConnection(name: string, vars: Vars): { settings: HostConnection; problem?: string } {
  for (const key of CONNECTION_KEYS) if (vars[key] === null) delete vars[key]
  const setting = <K extends keyof typeof DEFAULTS>(key: K) => (vars[key] ?? DEFAULTS[key]) as (typeof DEFAULTS)[K]
  const connection = setting('connection') as HostConnection['connection']
  let problem: string | undefined
  let address = vars.address ?? (connection === 'local' ? 'localhost' : name)
  if (address === name && vars.address === undefined) {
    const checked = checkSetting('address', 'ansible_host', name, '')
    if ('problem' in checked) {
      problem = `host '${name}' has no ansible_host, and its name cannot be used as the address: ${checked.problem}; set ansible_host`
      address = ''
    }
  }
  const sshOptions: SshOption[] = []
  let sshConfigFile: string | undefined
  for (const k of ['ansible_ssh_args', 'ansible_ssh_common_args', 'ansible_ssh_extra_args'] as const) {
    const parsed = typeof vars[k] === 'string' ? parseSshArgs(vars[k], k) : undefined
    if (!parsed || !('options' in parsed)) continue
    sshOptions.push(...parsed.options)
    sshConfigFile ??= parsed.configFile
  }
  const settings: HostConnection = {
    connection,
    address: typeof address === 'string' ? address : '',
    port: setting('port'),
    hostKeyChecking: setting('host_key_checking') as HostConnection['hostKeyChecking'],
    become: setting('become'),
    becomeUser: setting('become_user'),
    becomeMethod: (vars.ansible_become_method ?? 'sudo') as HostConnection['becomeMethod'],
    sshOptions,
    unused: Object.keys(vars)
      .filter((k) => UNUSED.has(k))
      .map((k) => `${k}: accepted, unused (${UNUSED.get(k)})`),
  }
  if (typeof vars.user === 'string') settings.user = vars.user
  if (typeof vars.key === 'string') settings.key = vars.key
  if (typeof vars.known_hosts === 'string') settings.knownHosts = vars.known_hosts
  if (typeof vars.ansible_password === 'string') settings.password = vars.ansible_password
  if (typeof vars.ansible_become_password === 'string') settings.becomePassword = vars.ansible_become_password
  if (sshConfigFile) settings.sshConfigFile = tildeExpand(sshConfigFile)
  if (typeof vars.ansible_ssh_timeout === 'number') settings.connectTimeout = vars.ansible_ssh_timeout
  if (typeof vars.zxplay_persistent_shell === 'boolean') settings.persistentShell = vars.zxplay_persistent_shell
  return { settings, problem }
}
