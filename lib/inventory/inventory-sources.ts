// Where an inventory comes from, as Ansible finds it (inventory/manager.py and its plugins):
// `-i FILE` (YAML or INI), `-i DIR` (every file in it), `-i 'h1,h2,'` (a host list), several `-i`
// in order; and the group_vars/ and host_vars/ files beside them. Each source is read into the
// YAML inventory shape ({group: {hosts, vars, children}}) for the one checking reader.

import fs from 'node:fs'
import path from 'node:path'
import { YAMLException } from 'js-yaml'
import { InventoryError } from '../base/errors.ts'
import { parseAddress } from './host-pattern.ts'
import { parseIni } from './inventory-ini.ts'
import { decryptVault, isVaultText, type VaultPassword } from './vault.ts'
import { ANSIBLE_SCHEMA, describeFsError, describeYamlError, isMap, loadYaml, show } from '../base/yaml.ts'

/** One inventory source read into the YAML inventory shape; `file` is what errors name. */
export type Source = { file: string; root: Record<string, unknown> }

const YAML_EXTS = ['.yaml', '.yml', '.json']
// Ansible's defaults: hidden files, vars folders and these extensions are skipped in an inventory folder.
const IGNORED_IN_DIR = /^\.|^host_vars$|^group_vars$|^vars_plugins$|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/

/** A comma list (`h1,h2,` or `h1,`) is a host list when no such path exists, as in Ansible. */
export function isHostList(source: string): boolean {
  return source.includes(',') && !fs.existsSync(source)
}

/** Every source's files, in Ansible's order, read and parsed. */
export function readSources(sources: string[], vault?: VaultPassword): Source[] {
  return sources.flatMap((s) => (isHostList(s) ? [hostList(s)] : readPath(s, vault)))
}

/** Where group_vars/ and host_vars/ are looked for: beside each file source, inside each folder source. */
export function varsDirsOf(sources: string[]): string[] {
  return sources.filter((s) => !isHostList(s)).map((s) => (isDir(s) ? path.resolve(s) : path.dirname(path.resolve(s))))
}

// Ansible's host_list plugin: names with an optional port, never expanded as ranges.
function hostList(source: string): Source {
  const hosts: Record<string, null> = {}
  for (const entry of source.split(',').map((h) => h.trim())) {
    if (!entry) continue
    if (parseAddress(entry)?.host.includes('[') ?? entry.includes('[')) {
      throw new InventoryError(source, '', `'${entry}': a host list takes no ranges (Ansible's neither): name each host, or use an inventory file`)
    }
    hosts[entry] = null
  }
  return { file: source, root: { ungrouped: { hosts } } }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

function readPath(source: string, vault?: VaultPassword): Source[] {
  if (isDir(source)) {
    return fs
      .readdirSync(source)
      .sort()
      .filter((name) => !IGNORED_IN_DIR.test(name))
      .flatMap((name) => readPath(path.join(source, name), vault))
  }
  let text: string
  try {
    text = fs.readFileSync(source, 'utf8')
  } catch (e) {
    throw new InventoryError(source, '', `cannot read the inventory: ${describeFsError(e)}`)
  }
  return [parseSource(isVaultText(text) ? decryptVault(text, vault, source, 'the inventory file') : text, source)]
}

/** An inventory file's text: YAML for .yaml/.yml/.json, INI for other extensions, either without one (YAML first, as Ansible tries). */
export function parseSource(text: string, file: string): Source {
  const ext = path.extname(file)
  if (text.startsWith('#!')) throw new InventoryError(file, '', 'inventory scripts are not supported: write the hosts as a YAML or INI inventory')
  if (ext === '.toml') throw new InventoryError(file, '', 'TOML inventories are not supported: use YAML or INI')
  if (YAML_EXTS.includes(ext)) return { file, root: yamlInventory(text, file) }
  if (ext) return { file, root: parseIni(text, file) }
  try {
    return { file, root: yamlInventory(text, file) }
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e
    return { file, root: parseIni(text, file) }
  }
}

function yamlInventory(text: string, file: string): Record<string, unknown> {
  const root = yamlDocument(text, file)
  if (!isMap(root)) {
    throw new InventoryError(file, '', `expected a map with all: or group names at the top level, got ${show(root)}`)
  }
  if ('plugin' in root) throw new InventoryError(file, 'plugin', `inventory plugins (plugin: ${String(root.plugin)}) are not supported: write the hosts as a YAML or INI inventory`)
  return root
}

function yamlDocument(text: string, file: string): unknown {
  let docs: unknown[]
  try {
    docs = loadYaml(text, ANSIBLE_SCHEMA)
  } catch (e) {
    if (e instanceof YAMLException) throw new InventoryError(file, '', describeYamlError(e))
    throw e
  }
  if (docs.length > 1) throw new InventoryError(file, '', 'expected one YAML document, found several (---)')
  return docs[0]
}

/**
 * The variables of group or host `name` from `dir/group_vars` or `dir/host_vars`, as Ansible's
 * host_group_vars finds them: the first of NAME, NAME.yml, NAME.yaml, NAME.json; a folder NAME/
 * is every such file in it, in lexical order, recursively. Empty files count for nothing.
 */
export function readVarsFiles(dir: string, kind: 'group_vars' | 'host_vars', name: string, vault?: VaultPassword): { file: string; vars: Record<string, unknown>; encrypted: boolean }[] {
  const base = path.join(dir, kind)
  if (!isDir(base)) return []
  const found = ['', ...YAML_EXTS].map((ext) => path.join(base, name + ext)).find((p) => fs.existsSync(p))
  if (!found) return []
  return filesIn(found).flatMap((file) => {
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (e) {
      throw new InventoryError(file, '', `cannot read the vars file: ${describeFsError(e)}`)
    }
    const encrypted = isVaultText(text)
    const data = yamlDocument(encrypted ? decryptVault(text, vault, file, 'the vars file') : text, file)
    if (data === null || data === undefined) return []
    if (!isMap(data)) throw new InventoryError(file, '', `expected a map of variables, got ${show(data)}`)
    return [{ file, vars: data, encrypted }]
  })
}

function filesIn(p: string): string[] {
  if (!isDir(p)) return [p]
  return fs
    .readdirSync(p)
    .sort()
    .filter((name) => !name.startsWith('.') && !name.endsWith('~'))
    .flatMap((name) => {
      const full = path.join(p, name)
      const ext = path.extname(name)
      if (isDir(full)) return ext ? [] : filesIn(full)
      return !ext || YAML_EXTS.includes(ext) ? [full] : []
    })
}
