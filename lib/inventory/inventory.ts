// The inventory: Ansible's YAML shape (all: { vars, hosts, children }), checked in one pass
// before anything connects. Its sources (YAML, INI, folders, host lists, group_vars/ and
// host_vars/) are read in inventory-sources.ts; this module is pure apart from loadInventory.
//
// Variable precedence, lowest to highest; a later source replaces a whole top-level key
// (Ansible's default hash_behaviour=replace):
//   0. connection vars from command-line flags (-u …), below everything in the inventory
//   1. all.vars, then group_vars/all files
//   2. group vars: parents before children, by depth (a group's longest path from all); at the
//      same depth by ansible_group_priority, then by name, so 'web' overrides 'db' (Ansible's rule);
//      then the group_vars/ files of those groups in the same order
//   3. host vars: the host's own keys and its vars: map (the own keys win), then host_vars/ files
//   4. extra vars (-e, see extra-vars.ts); a dotted key (-e aws.region=x) replaces only that nested value
// Connection settings (address, port, user, ...; host-vars.ts) are ordinary vars resolved after the merge,
// so `user:` or `ansible_user:` in group vars applies to every host of the group.

import path from 'node:path'
import { InventoryError } from '../base/errors.ts'
import { applyExtraVars, dottedPathsOf, type DottedPaths } from './extra-vars.ts'
import { expandHostPattern } from './host-pattern.ts'
import { checkSetting, connectionKeyOf, connectionKeyTypo, refusedKey, resolveConnection, type ConnectionKey, type HostConnection, type Vars } from './host-vars.ts'
import { parseSource, readSources, readVarsFiles, varsDirsOf, type Source } from './inventory-sources.ts'
import { decryptVault, type VaultPassword } from './vault.ts'
import { SECRET_MIN_LENGTH } from '../output/secrets.ts'
import { isMap, show, Unsafe, Vaulted } from '../base/yaml.ts'

export type { Vars }

export type Host = HostConnection & {
  name: string
  groups: string[] // every group the host is in, incl. 'all', lowest precedence first
  vars: Vars // merged (see the top of this file), incl. the connection settings that were set (not defaults)
}

export type Group = { name: string; parents: string[]; hosts: string[] }

/** What `zxplay inventory` prints, Ansible's view: groups with their direct hosts and children, each host's variables as written. */
export type Listing = { groups: { name: string; children: string[]; hosts: string[] }[]; hostVars: Map<string, Vars> }

export type Inventory = {
  file: string // the first source: what messages and the lock name
  sources: string[]
  hosts: Host[]
  groups: Map<string, Group>
  listing: Listing
  secrets: string[] // values decrypted from Ansible Vault: to be redacted from all output
}

export type LoadOptions = {
  extraVars?: Vars
  /** Ansible-named connection vars from command-line flags (-u …): the lowest precedence, below all.vars; not listed. */
  cliVars?: Vars
  /** group_vars/ and host_vars/ beside the playbooks count too, after those beside the inventory (Ansible's order). */
  playbookDir?: string
  vaultPassword?: VaultPassword
}

// Host and group names also appear in patterns, where ':', ',', '&', '!', '*', '?', '[' are operators.
const VALID_NAME = /^[A-Za-z0-9._-]+$/
// Host names as Ansible allows them in practice (non-ASCII letters, IPv6 addresses), still without pattern operators.
const HOST_NAME = /^[\p{L}\p{M}\p{N}._-][\p{L}\p{M}\p{N}._:-]*$/u

type Problem = { file: string; path: string; message: string }

// Stands in for a setting whose value was already reported as invalid, so it does not
// also come out as missing ("has no address") further on.
const REPORTED = Symbol('reported')

/** One place variables come from: checked and renamed to ours (vars), and as written (raw, for the listing). */
type Layer = { vars: Vars; raw: Vars }

type GroupDraft = {
  name: string
  path: string // where it is first declared
  parents: string[]
  children: Map<string, string> // child name → path of its entry
  hosts: string[] // direct members, in the order they were added
  priority: number // ansible_group_priority: among groups at the same depth, the higher wins
} & Layer

type HostDraft = {
  name: string
  file: string // the first source it is in (inventory_file)
  path: string // where it is first declared
  groups: string[] // direct groups
} & Layer

type Draft = {
  file: string // the source being read
  dir: string
  groups: Map<string, GroupDraft>
  hosts: Map<string, HostDraft>
  files: Map<string, Layer>[] // per vars folder: 'group NAME' / 'host NAME' → its group_vars / host_vars
  problems: Problem[]
  vault?: VaultPassword
  secrets: string[]
}

export async function loadInventory(sources: string | string[], opts: LoadOptions = {}): Promise<Inventory> {
  const list = typeof sources === 'string' ? [sources] : sources
  const varsDirs = [...varsDirsOf(list), ...(opts.playbookDir ? [path.resolve(opts.playbookDir)] : [])]
  return buildInventory(readSources(list, opts.vaultPassword), list, opts, varsDirs)
}

/** One inventory file's text (YAML, or INI for an .ini name), without group_vars/ or host_vars/. */
export function parseInventory(text: string, file: string, extraVars: Vars = {}, opts: LoadOptions = {}): Inventory {
  return buildInventory([parseSource(text, file)], [file], { ...opts, extraVars }, [])
}

function buildInventory(sources: Source[], names: string[], opts: LoadOptions, varsDirs: string[]): Inventory {
  const file = names[0] ?? ''
  const d: Draft = { file, dir: path.dirname(path.resolve(file)), groups: new Map(), hosts: new Map(), files: [], problems: [], secrets: [] }
  if (opts.vaultPassword !== undefined) d.vault = opts.vaultPassword
  const all = draftGroup(d, 'all', 'all')
  // Ansible's two implicit groups; ungrouped holds the hosts that are in no other group.
  all.children.set('ungrouped', 'ungrouped')
  draftGroup(d, 'ungrouped', 'ungrouped').parents.push('all')
  for (const source of sources) {
    d.file = source.file
    d.dir = path.dirname(path.resolve(source.file))
    readRoot(d, source.root)
  }
  d.file = file
  d.dir = path.dirname(path.resolve(file))
  reconcile(d)
  for (const g of d.groups.values()) {
    const host = d.hosts.get(g.name)
    if (host) {
      report(d, g.path, `group '${g.name}' has the same name as the host at ${host.path}; rename one so host patterns are unambiguous`)
    }
  }
  for (const dir of varsDirs) readVarsFolder(d, dir)
  d.file = file
  d.dir = path.dirname(path.resolve(file))

  const extraVars = opts.extraVars ?? {}
  const extra = readVars(d, extraVars, 'extra vars')
  const cli = readVars(d, opts.cliVars ?? {}, 'command-line flags')
  const order = precedenceOrder(d)
  const resolved = [...d.hosts.values()].map((h) => resolveHost(d, h, order, { cli, extra, extraRaw: extraVars }, dottedPathsOf(extraVars)))
  const hosts = resolved.map((r) => r.host)
  const groups = new Map<string, Group>()
  for (const g of d.groups.values()) {
    const members = hosts.filter((h) => h.groups.includes(g.name)).map((h) => h.name)
    groups.set(g.name, { name: g.name, parents: g.parents, hosts: members })
  }

  const [first, ...rest] = d.problems
  if (first) {
    const more = rest.map((p) => `\n${p.file}${p.path ? `: ${p.path}` : ''}: ${p.message}`).join('')
    throw new InventoryError(first.file, first.path, first.message + more)
  }
  const listing: Listing = {
    groups: [...d.groups.values()].map((g) => ({ name: g.name, children: [...g.children.keys()], hosts: g.hosts })),
    hostVars: new Map(resolved.map((r) => [r.host.name, r.raw])),
  }
  const inventory = { file, sources: names, hosts, groups, listing, secrets: d.secrets }
  for (const h of hosts) owners.set(h, inventory)
  return inventory
}

const owners = new WeakMap<Host, Inventory>()

/** The inventory a host was loaded from: for checks across hosts (exactly one control plane, addresses in a CIDR). */
export function inventoryOf(host: Host): Inventory | undefined {
  return owners.get(host)
}

function readRoot(d: Draft, root: Record<string, unknown>) {
  for (const [name, value] of Object.entries(root)) {
    if (name === 'hosts' || name === 'vars' || name === 'children') {
      report(d, name, `'${name}:' at the top level would be a group name; put it under all:`)
      continue
    }
    readGroup(d, name, value, name)
  }
}

// Ansible's reconcile_inventory: groups without a parent go under all (in the order they were
// declared), hosts in no group but all go to ungrouped, and leave it when they are in another.
function reconcile(d: Draft) {
  const all = d.groups.get('all')!
  for (const g of d.groups.values()) {
    if (g.name !== 'all' && !g.parents.length) {
      g.parents.push('all')
      all.children.set(g.name, g.path)
    }
  }
  removeCycles(d)
  const ungrouped = d.groups.get('ungrouped')!
  for (const h of d.hosts.values()) {
    const others = h.groups.filter((g) => g !== 'all' && g !== 'ungrouped')
    if (h.groups.includes('ungrouped') && others.length) {
      h.groups = h.groups.filter((g) => g !== 'ungrouped')
      ungrouped.hosts = ungrouped.hosts.filter((n) => n !== h.name)
    } else if (!h.groups.includes('ungrouped') && !others.length) {
      h.groups.push('ungrouped')
      ungrouped.hosts.push(h.name)
    }
  }
}

// group_vars/ and host_vars/ of one folder, for the groups and hosts the inventory has.
function readVarsFolder(d: Draft, dir: string) {
  const layers = new Map<string, Layer>()
  d.files.push(layers)
  d.dir = dir
  const read = (kind: 'group_vars' | 'host_vars', name: string) => {
    let files: ReturnType<typeof readVarsFiles>
    try {
      files = readVarsFiles(dir, kind, name, d.vault)
    } catch (e) {
      if (!(e instanceof InventoryError)) throw e
      return void d.problems.push({ file: e.file, path: e.path, message: e.detail })
    }
    if (!files.length) return
    const layer: Layer = { vars: {}, raw: {} }
    for (const f of files) {
      d.file = f.file
      const vars = readVars(d, f.vars, '')
      // a whole encrypted file is secret throughout, as a !vault value is: each text in it is hidden
      if (f.encrypted) keepSecrets(d, vars)
      Object.assign(layer.vars, vars)
      Object.assign(layer.raw, f.vars)
    }
    layers.set(`${kind === 'group_vars' ? 'group' : 'host'} ${name}`, layer)
  }
  for (const g of d.groups.keys()) read('group_vars', g)
  for (const h of d.hosts.keys()) read('host_vars', h)
}

function report(d: Draft, path: string, message: string) {
  d.problems.push({ file: d.file, path, message })
}

const keyPath = (at: string, key: string) => (at ? `${at}.${key}` : key)

function draftGroup(d: Draft, name: string, at: string): GroupDraft {
  let g = d.groups.get(name)
  if (!g) {
    g = { name, path: at, parents: [], children: new Map(), hosts: [], priority: 1, vars: {}, raw: {} }
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
  for (const [key, written] of Object.entries(value)) {
    const here = `${at}.${key}`
    // as Ansible's YAML plugin: `hosts: web1` is short for `hosts: {web1: }` (also for children and vars)
    const v = typeof written === 'string' && ['hosts', 'children', 'vars'].includes(key) ? { [written]: null } : written
    const isEmpty = v === null || v === undefined
    if (key === 'hosts') {
      if (isEmpty) continue
      if (!isMap(v)) report(d, here, `expected a map of host names (name: or name: {address: ...}), got ${show(v)}`)
      else for (const [pattern, entry] of Object.entries(v)) readHosts(d, pattern, entry, `${here}.${pattern}`, g)
    } else if (key === 'vars') {
      if (isEmpty) continue
      if (!isMap(v)) report(d, here, `expected a map of variables, got ${show(v)}`)
      else readGroupVars(d, g, v, here)
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

// ansible_group_priority orders groups of the same depth (Ansible keeps it out of the vars).
function readGroupVars(d: Draft, g: GroupDraft, vars: Vars, at: string) {
  const { ansible_group_priority: priority, ...rest } = vars
  if (priority !== undefined) {
    const n = typeof priority === 'string' && /^\s*[-+]?\d+\s*$/.test(priority) ? Number(priority) : priority
    if (typeof n === 'number' && Number.isInteger(n)) g.priority = n
    else report(d, `${at}.ansible_group_priority`, `expected a whole number, got ${show(priority)}`)
  }
  Object.assign(g.vars, readVars(d, rest, at))
  Object.assign(g.raw, rest)
}

// A host key may stand for several hosts (www[01:50].example.com) and carry a port (host:2222, [v6]:2222).
function readHosts(d: Draft, pattern: string, entry: unknown, at: string, group: GroupDraft) {
  let expanded: { names: string[]; port?: number }
  try {
    expanded = expandHostPattern(pattern)
  } catch (e) {
    return report(d, at, `invalid host range: ${(e as Error).message}`)
  }
  for (const name of expanded.names) readHost(d, name, entry, at, group, expanded.port)
}

// The same host may be listed in several groups (Ansible allows it): its entries merge,
// the later non-empty value winning per key, except that two different addresses in one file are an error.
function readHost(d: Draft, name: string, entry: unknown, at: string, group: GroupDraft, port?: number) {
  if (!HOST_NAME.test(name)) {
    return report(d, at, `invalid host name '${name}' (use letters, digits, '.', '_', '-', or ':' in an IPv6 address)`)
  }
  if (entry !== null && entry !== undefined && !isMap(entry)) {
    return report(d, at, `expected a map of host variables (address:, port:, ...) or nothing, got ${show(entry)}`)
  }
  let h = d.hosts.get(name)
  if (!h) {
    h = { name, file: d.file, path: at, groups: [], vars: {}, raw: {} }
    d.hosts.set(name, h)
    // as Ansible: the port of `host:2222` is set when the host is first seen, its own vars may override it
    if (port !== undefined) Object.assign(h, { vars: { port }, raw: { ansible_port: port } })
  }
  const { vars, raw } = readHostEntry(d, entry ?? {}, at)
  if (!h.groups.includes(group.name)) h.groups.push(group.name)
  if (!group.hosts.includes(name)) group.hosts.push(name)
  const [before, now] = [h.vars.address, vars.address]
  if (typeof before === 'string' && typeof now === 'string' && before !== now && h.file === d.file) {
    report(d, at, `duplicate host '${name}' with different addresses: '${now}' here, '${before}' at ${h.path}`)
  }
  for (const [key, value] of Object.entries(vars)) {
    if (value !== null && value !== undefined) h.vars[key] = value
  }
  Object.assign(h.raw, raw)
}

function readHostEntry(d: Draft, entry: Vars, at: string): Layer {
  const own: Vars = {}
  let nested: Layer = { vars: {}, raw: {} }
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'vars') {
      if (value === null || value === undefined) continue
      if (!isMap(value)) report(d, `${at}.vars`, `expected a map of variables, got ${show(value)}`)
      else nested = { vars: readVars(d, value, `${at}.vars`), raw: value }
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
  const raw = { ...nested.raw, ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== REPORTED)) }
  return { vars: { ...nested.vars, ...readVars(d, own, at) }, raw }
}

// Renames Ansible's names to ours and checks connection settings where they are written,
// so an error points at the exact key. Invalid values are reported and marked REPORTED.
// !unsafe values become their text, !vault values their decrypted text.
function readVars(d: Draft, raw: Vars, at: string): Vars {
  const vars: Vars = {}
  const spelledAs = new Map<ConnectionKey, string>()
  for (const [key, written] of Object.entries(raw)) {
    const value = reveal(d, written, keyPath(at, key), key)
    const name = connectionKeyOf(key)
    const refused = refusedKey(key)
    if (refused) report(d, keyPath(at, key), refused)
    if (!name) {
      vars[key] = value
      continue
    }
    const checked =
      value === null || value === undefined || value === REPORTED ? { value } : checkSetting(name, key, value, d.dir)
    if ('problem' in checked) {
      report(d, keyPath(at, key), checked.problem)
      vars[name] = REPORTED
      continue
    }
    const other = spelledAs.get(name)
    if (other && vars[name] !== checked.value && vars[name] !== REPORTED && checked.value !== REPORTED) {
      report(d, keyPath(at, key), `'${other}' and '${key}' set the same thing to different values; keep one`)
    }
    vars[name] = checked.value
    spelledAs.set(name, key)
  }
  return vars
}

/** Decrypted texts (in `value`, however deep) to be hidden from all output; too short ones are not kept (secrets.ts). */
function keepSecrets(d: Draft, value: unknown) {
  if (typeof value === 'string') {
    if (value.length >= SECRET_MIN_LENGTH && !d.secrets.includes(value)) d.secrets.push(value)
  } else if (Array.isArray(value)) for (const v of value) keepSecrets(d, v)
  else if (isMap(value)) for (const v of Object.values(value)) keepSecrets(d, v)
}

function reveal(d: Draft, value: unknown, at: string, name: string): unknown {
  if (value instanceof Unsafe) return value.text
  if (value instanceof Vaulted) {
    try {
      const text = decryptVault(value.ciphertext, d.vault, d.file, `the variable '${name}'`, at)
      keepSecrets(d, text)
      return text
    } catch (e) {
      if (!(e instanceof InventoryError)) throw e
      report(d, at, e.detail)
      return REPORTED
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => reveal(d, v, `${at}.${i}`, name))
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(d, v, `${at}.${k}`, name)]))
  return value
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
  // a cycle that no group outside it leads to is not under all
  for (const g of d.groups.values()) if (!state.has(g.name)) visit(g)
}

/** Every group name, lowest precedence first: by depth from all, then ansible_group_priority, then name. */
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
  const priority = (name: string) => d.groups.get(name)?.priority ?? 1
  const byDepthPriorityName = (a: string, b: string) => depth(a) - depth(b) || priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0)
  return [...d.groups.keys()].sort(byDepthPriorityName)
}

type Above = { cli: Vars; extra: Vars; extraRaw: Vars }

// Ansible's order (vars/manager.py): all's vars, all's group_vars files, the other groups' vars,
// their group_vars files, the host's vars, its host_vars files; files beside the inventory before
// those beside the playbooks. `raw` is the same merge as written, for the listing.
function resolveHost(d: Draft, h: HostDraft, order: string[], above: Above, dotted: DottedPaths | undefined): { host: Host; raw: Vars } {
  const memberOf = new Set<string>(['all'])
  const addWithParents = (name: string) => {
    if (memberOf.has(name)) return
    memberOf.add(name)
    for (const parent of d.groups.get(name)?.parents ?? []) addWithParents(parent)
  }
  h.groups.forEach(addWithParents)
  const groups = order.filter((g) => memberOf.has(g))
  const others = groups.filter((g) => g !== 'all')

  const layers: Layer[] = [{ vars: above.cli, raw: {} }, d.groups.get('all')!]
  const files = (key: string) => d.files.map((layers) => layers.get(key)).filter((l) => l !== undefined)
  layers.push(...files('group all'))
  for (const g of others) layers.push(d.groups.get(g)!)
  for (const dir of d.files) for (const g of others) if (dir.has(`group ${g}`)) layers.push(dir.get(`group ${g}`)!)
  layers.push(h, ...files(`host ${h.name}`))

  const vars: Vars = {}
  const raw: Vars = {}
  for (const layer of layers) {
    Object.assign(vars, layer.vars)
    Object.assign(raw, layer.raw)
  }
  applyExtraVars(vars, above.extra, dotted)
  applyExtraVars(raw, above.extraRaw, dotted)
  // Ansible's magic vars: files a playbook reads (iamroles.txt…) are found beside the inventory.
  const file = path.resolve(h.file)
  vars.inventory_dir = path.dirname(file)
  vars.inventory_file = file
  const { settings, problem } = resolveConnection(h.name, vars)
  if (problem) report(d, h.path, problem)
  const host: Host = { name: h.name, ...settings, groups, vars }
  return { host, raw }
}
