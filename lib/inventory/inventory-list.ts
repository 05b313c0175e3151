// `zxplay inventory --list | --host NAME | --graph [GROUP]`: what ansible-inventory prints for the
// same sources (cli/inventory.py), so users and tests can compare the two. Pure.

import { UsageError } from '../base/errors.ts'
import type { Inventory, Vars } from './inventory.ts'
import { isMap, Unsafe, Vaulted } from '../base/yaml.ts'

/** `--list`: every group with its direct hosts and children, from all down, and `_meta.hostvars`. */
export function listInventory(inv: Inventory): Record<string, unknown> {
  const byName = new Map(inv.listing.groups.map((g) => [g.name, g]))
  const out: Record<string, unknown> = {}
  const seen = new Set<string>()
  const format = (name: string) => {
    const g = byName.get(name)!
    const entry: Record<string, string[]> = {}
    if (name !== 'all' && g.hosts.length) entry.hosts = g.hosts
    if (g.children.length) entry.children = g.children
    if (Object.keys(entry).length) out[name] = entry
    for (const child of g.children) {
      if (seen.has(child)) continue
      seen.add(child)
      format(child)
    }
  }
  format('all')
  const hostvars: Record<string, unknown> = {}
  for (const [host, vars] of inv.listing.hostVars) if (Object.keys(vars).length) hostvars[host] = asJson(vars)
  out._meta = { hostvars }
  return out
}

/** `--host NAME`: that host's variables. */
export function hostVars(inv: Inventory, name: string): Vars {
  const vars = inv.listing.hostVars.get(name)
  if (!vars) throw new UsageError(`no host '${name}' in the inventory (zxplay inventory --graph shows them)`)
  return asJson(vars) as Vars
}

/** `--graph [GROUP]`: the group tree, as ansible-inventory draws it. */
export function graphInventory(inv: Inventory, top = 'all'): string {
  const byName = new Map(inv.listing.groups.map((g) => [g.name, g]))
  if (!byName.has(top)) throw new UsageError(`no group '${top}' in the inventory: --graph takes a group name`)
  const lines: string[] = []
  const line = (text: string, depth: number) => lines.push(depth ? `${'  |'.repeat(depth)}--${text}` : text)
  const draw = (name: string, depth: number) => {
    const g = byName.get(name)!
    line(`@${name}:`, depth)
    for (const child of g.children) draw(child, depth + 1)
    if (name !== 'all') for (const h of g.hosts) line(h, depth + 1)
  }
  draw(top, 0)
  return lines.join('\n')
}

/** JSON as Ansible prints it: keys sorted, 4-space indent, !unsafe and !vault values marked as Ansible marks them. */
export function toAnsibleJson(value: unknown): string {
  return JSON.stringify(sortKeys(asJson(value)), null, 4)
}

function asJson(value: unknown): unknown {
  if (value instanceof Unsafe) return { __ansible_unsafe: value.text }
  if (value instanceof Vaulted) return { __ansible_vault: value.ciphertext }
  if (Array.isArray(value)) return value.map(asJson)
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asJson(v)]))
  return value
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (isMap(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]))
  return value
}
