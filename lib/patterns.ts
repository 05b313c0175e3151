// Ansible host patterns, for a playbook's `hosts:` and for --limit.
//
//   all, *            every host
//   web1, workers     a host or a group (its hosts, through children too)
//   web*, node?, db[12]   globs over host names and group names
//   a:b, a,b          union;   a:&b  intersection;   a:!b  exclusion
//   workers[0], g[-1] one host of a group by position (Ansible's subscript)
//
// As in Ansible, unions apply first, then intersections, then exclusions, whatever the
// order written; a pattern with only & and ! terms starts from all.

import { PatternError } from './errors.ts'
import { closestNames } from './suggest.ts'
import type { Host, Inventory } from './inventory.ts'

/** `allowEmpty`: known names that select nobody (an empty group) give [] instead of an error. */
export function selectHosts(inv: Inventory, pattern: string, opts: { allowEmpty?: boolean } = {}): Host[] {
  const terms = pattern
    .split(/[:,]/)
    .map((t) => t.trim())
    .filter(Boolean)
  if (!terms.length) throw new PatternError(pattern, 'empty pattern (expected all, a host or group name, or a glob like web*)')

  const unions: Set<string>[] = []
  const intersections: Set<string>[] = []
  const exclusions: Set<string>[] = []
  for (const term of terms) {
    const op = term.startsWith('&') || term.startsWith('!') ? term.charAt(0) : ''
    const name = term.slice(op.length).trim()
    if (!name) throw new PatternError(pattern, `'${op}' must be followed by a host or group name`)
    const bucket = op === '&' ? intersections : op === '!' ? exclusions : unions
    bucket.push(hostsFor(inv, name, pattern))
  }

  let selected = new Set(unions.length ? unions.flatMap((s) => [...s]) : inv.hosts.map((h) => h.name))
  for (const s of intersections) selected = new Set([...selected].filter((n) => s.has(n)))
  for (const s of exclusions) selected = new Set([...selected].filter((n) => !s.has(n)))

  const result = inv.hosts.filter((h) => selected.has(h.name))
  if (!result.length && !opts.allowEmpty) throw new PatternError(pattern, 'matches no hosts')
  return result
}

function hostsFor(inv: Inventory, name: string, pattern: string): Set<string> {
  if (name === 'all' || name === '*') return new Set(inv.hosts.map((h) => h.name))
  const sub = /^(.+)\[(-?\d+)\]$/.exec(name)
  if (sub && (inv.groups.has(sub[1]!) || inv.hosts.some((h) => h.name === sub[1]))) {
    const members = [...hostsFor(inv, sub[1]!, pattern)]
    const at = Number(sub[2])
    const one = members.at(at)
    return new Set(one ? [one] : [])
  }
  if (!/[*?[]/.test(name)) {
    const group = inv.groups.get(name)
    if (group) return new Set(group.hosts)
    if (inv.hosts.some((h) => h.name === name)) return new Set([name])
    const near = closestNames(name, [...inv.groups.keys(), ...inv.hosts.map((h) => h.name)])
    const hint = near.length ? ` (did you mean ${near.slice(0, 3).map((n) => `'${n}'`).join(' or ')}?)` : ''
    throw new PatternError(pattern, `no host or group named '${name}'${hint}`)
  }
  const glob = globToRegExp(name)
  const matched = new Set<string>()
  for (const h of inv.hosts) if (glob.test(h.name)) matched.add(h.name)
  // 'all' is left out of globs so that `a*` means hosts and groups starting with a, not everything.
  for (const g of inv.groups.values()) if (g.name !== 'all' && glob.test(g.name)) g.hosts.forEach((n) => matched.add(n))
  if (!matched.size) throw new PatternError(pattern, `no host or group matches '${name}'`)
  return matched
}

/** fnmatch-style: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`; everything else literal. */
function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i)
    const end = c === '[' ? glob.indexOf(']', i + 2) : -1
    if (c === '*') source += '.*'
    else if (c === '?') source += '.'
    else if (end > 0) {
      const set = glob.slice(i + 1, end).replace(/\\/g, '\\\\')
      source += set.startsWith('!') ? `[^${set.slice(1)}]` : `[${set}]`
      i = end
    } else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}
