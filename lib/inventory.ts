// The inventory: Ansible's YAML shape (all: { vars, hosts, children }), checked in one pass
// before anything connects. Pure, except loadInventory's read of the file.
//
// Variable precedence, lowest to highest; a later source replaces a whole top-level key
// (Ansible's default hash_behaviour=replace):
//   1. all.vars
//   2. group vars: parents before children, by depth (a group's longest path from all);
//      groups at the same depth by name, so 'web' overrides 'db' (Ansible's rule)
//   3. host vars: the host's own keys and its vars: map (the own keys win)
//   4. extra vars (-e, see extra-vars.ts); a dotted key (-e aws.region=x) replaces only that nested value
// Connection settings (address, port, user, ...) are ordinary vars resolved after the merge,
// so `user:` or `ansible_user:` in group vars applies to every host of the group.

import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { YAMLException } from 'js-yaml'
import { InventoryError } from './errors.ts'
import { applyExtraVars, dottedPathsOf, type DottedPaths } from './extra-vars.ts'
import { closestNames } from './suggest.ts'
import { describeFsError, describeYamlError, isMap, loadYaml, show } from './yaml.ts'

export type Vars = Record<string, unknown>

export type Host = {
  name: string
  connection: 'ssh' | 'local'
  address: string // for local: 'localhost' unless set
  port: number
  user?: string
  key?: string // absolute path
  knownHosts?: string // absolute path
  hostKeyChecking: 'strict' | 'accept-new'
  become: boolean
  becomeUser: string
  groups: string[] // every group the host is in, incl. 'all', lowest precedence first
  vars: Vars // merged (see the top of this file), incl. the connection settings that were set (not defaults)
}

export type Group = { name: string; parents: string[]; hosts: string[] }

export type Inventory = { file: string; hosts: Host[]; groups: Map<string, Group> }

const CONNECTION_KEYS = [
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
type ConnectionKey = (typeof CONNECTION_KEYS)[number]

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

// Host and group names also appear in patterns, where ':', ',', '&', '!', '*', '?', '[' are operators.
const VALID_NAME = /^[A-Za-z0-9._-]+$/
// Shell characters, and control or direction characters that would garble a message or a log line.
const UNSAFE_IN_ADDRESS = /[\s;&|$`'"<>(){}[\]*?!#\\\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/
// POSIX user names, plus user@domain, DOMAIN\\user and a trailing $ (directory and Samba accounts).
const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._@\\-]*\$?$/

type Problem = { path: string; message: string }

// Stands in for a setting whose value was already reported as invalid, so it does not
// also come out as missing ("has no address") further on.
const REPORTED = Symbol('reported')

type GroupDraft = {
  name: string
  path: string // where it is first declared
  parents: string[]
  children: Map<string, string> // child name → path of its entry
  vars: Vars
}

type HostDraft = {
  name: string
  path: string // where it is first declared
  groups: string[] // direct groups
  vars: Vars
}

type Draft = {
  file: string
  dir: string
  groups: Map<string, GroupDraft>
  hosts: Map<string, HostDraft>
  problems: Problem[]
}

export async function loadInventory(file: string, extraVars: Vars = {}): Promise<Inventory> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw new InventoryError(file, '', `cannot read the inventory: ${describeFsError(e)}`)
  }
  return parseInventory(text, file, extraVars)
}

export function parseInventory(text: string, file: string, extraVars: Vars = {}): Inventory {
  const root = parseYaml(text, file)
  const d: Draft = {
    file,
    dir: path.dirname(path.resolve(file)),
    groups: new Map(),
    hosts: new Map(),
    problems: [],
  }
  const all = draftGroup(d, 'all', 'all')
  for (const [name, value] of Object.entries(root)) {
    if (name === 'hosts' || name === 'vars' || name === 'children') {
      report(d, name, `'${name}:' at the top level would be a group name; put it under all:`)
      continue
    }
    if (name === 'all') readGroup(d, name, value, name)
    else {
      all.children.set(name, name)
      readGroup(d, name, value, name, 'all')
    }
  }
  removeCycles(d)
  for (const g of d.groups.values()) {
    const host = d.hosts.get(g.name)
    if (host) {
      report(d, g.path, `group '${g.name}' has the same name as the host at ${host.path}; rename one so host patterns are unambiguous`)
    }
  }

  const extra = readVars(d, extraVars, 'extra vars')
  const order = precedenceOrder(d)
  const hosts = [...d.hosts.values()].map((h) => resolveHost(d, h, order, extra, dottedPathsOf(extraVars)))
  const groups = new Map<string, Group>()
  for (const g of d.groups.values()) {
    const members = hosts.filter((h) => h.groups.includes(g.name)).map((h) => h.name)
    groups.set(g.name, { name: g.name, parents: g.parents, hosts: members })
  }

  const [first, ...rest] = d.problems
  if (first) {
    const more = rest.map((p) => `\n${file}: ${p.path}: ${p.message}`).join('')
    throw new InventoryError(file, first.path, first.message + more)
  }
  const inventory = { file, hosts, groups }
  for (const h of hosts) owners.set(h, inventory)
  return inventory
}

const owners = new WeakMap<Host, Inventory>()

/** The inventory a host was loaded from: for checks across hosts (exactly one control plane, addresses in a CIDR). */
export function inventoryOf(host: Host): Inventory | undefined {
  return owners.get(host)
}

function parseYaml(text: string, file: string): Record<string, unknown> {
  let docs: unknown[]
  try {
    docs = loadYaml(text)
  } catch (e) {
    if (e instanceof YAMLException) throw new InventoryError(file, '', describeYamlError(e))
    throw e
  }
  const [root] = docs
  if (docs.length > 1) throw new InventoryError(file, '', 'expected one YAML document, found several (---)')
  if (!isMap(root)) {
    throw new InventoryError(file, '', `expected a map with all: or group names at the top level, got ${show(root)}`)
  }
  return root
}

function report(d: Draft, path: string, message: string) {
  d.problems.push({ path, message })
}

function draftGroup(d: Draft, name: string, at: string): GroupDraft {
  let g = d.groups.get(name)
  if (!g) {
    g = { name, path: at, parents: [], children: new Map(), vars: {} }
    d.groups.set(name, g)
  }
  return g
}

// A group may be declared in several places (e.g. defined at the top and listed as
// `web:` under another group's children); like Ansible, the declarations merge.
function readGroup(d: Draft, name: string, value: unknown, at: string, parent?: string) {
  if (!VALID_NAME.test(name)) {
    return report(d, at, `invalid group name '${name}' (use letters, digits, '.', '_' or '-')`)
  }
  const g = draftGroup(d, name, at)
  if (parent && !g.parents.includes(parent)) g.parents.push(parent)
  if (value === null || value === undefined) return
  if (!isMap(value)) {
    return report(d, at, `expected a group (a map with hosts:, vars: or children:), got ${show(value)}`)
  }
  for (const [key, v] of Object.entries(value)) {
    const here = `${at}.${key}`
    const isEmpty = v === null || v === undefined
    if (key === 'hosts') {
      if (isEmpty) continue
      if (!isMap(v)) report(d, here, `expected a map of host names (name: or name: {address: ...}), got ${show(v)}`)
      else for (const [hostName, entry] of Object.entries(v)) readHost(d, hostName, entry, `${here}.${hostName}`, name)
    } else if (key === 'vars') {
      if (isEmpty) continue
      if (!isMap(v)) report(d, here, `expected a map of variables, got ${show(v)}`)
      else Object.assign(g.vars, readVars(d, v, here))
    } else if (key === 'children') {
      if (isEmpty) continue
      if (!isMap(v)) report(d, here, `expected a map of group names, got ${show(v)}`)
      else
        for (const [child, childValue] of Object.entries(v)) {
          if (!g.children.has(child)) g.children.set(child, `${here}.${child}`)
          readGroup(d, child, childValue, `${here}.${child}`, name)
        }
    } else {
      report(d, here, `unknown key '${key}' in group '${name}' (expected hosts, vars or children)`)
    }
  }
}

// The same host may be listed in several groups (Ansible allows it): its entries merge,
// the later non-empty value winning per key, except that two different addresses are an error.
function readHost(d: Draft, name: string, entry: unknown, at: string, group: string) {
  if (!VALID_NAME.test(name)) {
    const range = name.includes('[') ? '; host ranges like [01:09] are not supported' : ''
    return report(d, at, `invalid host name '${name}' (use letters, digits, '.', '_' or '-'${range})`)
  }
  if (entry !== null && entry !== undefined && !isMap(entry)) {
    return report(d, at, `expected a map of host variables (address:, port:, ...) or nothing, got ${show(entry)}`)
  }
  const vars = readHostEntry(d, entry ?? {}, at)
  let h = d.hosts.get(name)
  if (!h) {
    h = { name, path: at, groups: [], vars: {} }
    d.hosts.set(name, h)
  }
  if (!h.groups.includes(group)) h.groups.push(group)
  const [before, now] = [h.vars.address, vars.address]
  if (typeof before === 'string' && typeof now === 'string' && before !== now) {
    report(d, at, `duplicate host '${name}' with different addresses: '${now}' here, '${before}' at ${h.path}`)
  }
  for (const [key, value] of Object.entries(vars)) {
    if (value !== null && value !== undefined) h.vars[key] = value
  }
}

function readHostEntry(d: Draft, entry: Vars, at: string): Vars {
  const own: Vars = {}
  let nested: Vars = {}
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'vars') {
      if (value === null || value === undefined) continue
      if (!isMap(value)) report(d, `${at}.vars`, `expected a map of variables, got ${show(value)}`)
      else nested = readVars(d, value, `${at}.vars`)
      continue
    }
    const typo = connectionKeyTypo(key)
    if (typo) {
      report(d, `${at}.${key}`, `unknown key '${key}' (did you mean '${typo}'?); a variable with this name goes under vars:`)
      own[typo] = REPORTED
      continue
    }
    own[key] = value
  }
  return { ...nested, ...readVars(d, own, at) }
}

// Short names get a tighter limit so ordinary variables like `dev` or `host` are not taken for typos.
function connectionKeyTypo(key: string): string | undefined {
  if (KNOWN_HOST_KEYS.includes(key)) return undefined
  return closestNames(key, KNOWN_HOST_KEYS, key.length <= 4 ? 1 : 2)[0]
}

// Renames Ansible's names to ours and checks connection settings where they are written,
// so an error points at the exact key. Invalid values are reported and marked REPORTED.
function readVars(d: Draft, raw: Vars, at: string): Vars {
  const vars: Vars = {}
  const spelledAs = new Map<ConnectionKey, string>()
  for (const [key, value] of Object.entries(raw)) {
    const name = ANSIBLE_NAMES.get(key) ?? (isConnectionKey(key) ? key : undefined)
    if (!name) {
      vars[key] = value
      continue
    }
    const checked =
      value === null || value === undefined || value === REPORTED ? { value } : checkSetting(name, key, value, d.dir)
    if ('problem' in checked) {
      report(d, `${at}.${key}`, checked.problem)
      vars[name] = REPORTED
      continue
    }
    const other = spelledAs.get(name)
    if (other && vars[name] !== checked.value && vars[name] !== REPORTED && checked.value !== REPORTED) {
      report(d, `${at}.${key}`, `'${other}' and '${key}' set the same thing to different values; keep one`)
    }
    vars[name] = checked.value
    spelledAs.set(name, key)
  }
  return vars
}

function isConnectionKey(key: string): key is ConnectionKey {
  return (CONNECTION_KEYS as readonly string[]).includes(key)
}

type Checked = { value: unknown } | { problem: string }

function checkSetting(name: ConnectionKey, spelled: string, value: unknown, dir: string): Checked {
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

// Drops each `children` entry that closes a cycle, after reporting it, so the rest can still be checked.
function removeCycles(d: Draft) {
  const state = new Map<string, 'visiting' | 'done'>()
  const trail: string[] = []
  const visit = (g: GroupDraft) => {
    state.set(g.name, 'visiting')
    trail.push(g.name)
    for (const [childName, childPath] of g.children) {
      const child = d.groups.get(childName)
      if (!child) continue
      if (state.get(childName) === 'visiting') {
        const cycle = [...trail.slice(trail.indexOf(childName)), childName].join(' → ')
        report(d, childPath, `cycle in children: ${cycle}`)
        g.children.delete(childName)
        child.parents = child.parents.filter((p) => p !== g.name)
      } else if (!state.has(childName)) {
        visit(child)
      }
    }
    trail.pop()
    state.set(g.name, 'done')
  }
  const all = d.groups.get('all')
  if (all) visit(all)
}

/** Every group name, lowest precedence first: by depth from all, then by name. */
function precedenceOrder(d: Draft): string[] {
  const depths = new Map<string, number>()
  const depth = (name: string): number => {
    const known = depths.get(name)
    if (known !== undefined) return known
    const parents = d.groups.get(name)?.parents ?? []
    const value = parents.length ? 1 + Math.max(...parents.map(depth)) : 0
    depths.set(name, value)
    return value
  }
  const byDepthThenName = (a: string, b: string) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0)
  return [...d.groups.keys()].sort(byDepthThenName)
}

function resolveHost(
  d: Draft,
  h: HostDraft,
  order: string[],
  extra: Vars,
  dotted: DottedPaths | undefined
): Host {
  const memberOf = new Set<string>(['all'])
  const addWithParents = (name: string) => {
    if (memberOf.has(name)) return
    memberOf.add(name)
    for (const parent of d.groups.get(name)?.parents ?? []) addWithParents(parent)
  }
  h.groups.forEach(addWithParents)
  const groups = order.filter((g) => memberOf.has(g))

  const vars: Vars = {}
  for (const g of groups) Object.assign(vars, d.groups.get(g)?.vars)
  Object.assign(vars, h.vars)
  applyExtraVars(vars, extra, dotted)
  for (const key of CONNECTION_KEYS) if (vars[key] === null) delete vars[key]
  // Ansible's magic vars: files a playbook reads (iamroles.txt…) are found beside the inventory.
  vars.inventory_dir = d.dir
  vars.inventory_file = path.join(d.dir, path.basename(d.file))
  // Defaults stay out of vars, so later code can tell a port that was set from the default.
  const setting = <K extends keyof typeof DEFAULTS>(key: K) => (vars[key] ?? DEFAULTS[key]) as (typeof DEFAULTS)[K]
  const connection = setting('connection') as Host['connection']
  const address = vars.address ?? (connection === 'local' ? 'localhost' : undefined)
  if (typeof address !== 'string' && address !== REPORTED) {
    report(d, h.path, `host '${h.name}' has no address (set address: or connection: local)`)
  }

  const host: Host = {
    name: h.name,
    connection,
    address: typeof address === 'string' ? address : '',
    port: setting('port'),
    hostKeyChecking: setting('host_key_checking') as Host['hostKeyChecking'],
    become: setting('become'),
    becomeUser: setting('become_user'),
    groups,
    vars,
  }
  if (typeof vars.user === 'string') host.user = vars.user
  if (typeof vars.key === 'string') host.key = vars.key
  if (typeof vars.known_hosts === 'string') host.knownHosts = vars.known_hosts
  return host
}
