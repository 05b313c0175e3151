// Ansible's host patterns, for a playbook's `hosts:` and for --limit, with ansible-core's grammar
// (ansible/inventory/manager.py):
//
//   all, *             every host
//   web1, workers      a host or a group (its hosts, through children too)
//   web*, node?, db[12]   fnmatch globs over group names and host names
//   ~web\d+            a regular expression, matched from the start of group and host names
//   a,b  a:b           union (a comma list, else ':' outside brackets);  a:&b  intersection;  a:!b  exclusion
//   g[0], g[-1]        one host of a group by position;  g[0:2], g[1:]  a slice, both ends included
//
// As in Ansible, unions apply first, then intersections, then exclusions, whatever the order
// written; a pattern with only & and ! terms starts from all. Unlike Ansible, a term that names
// nothing is an error (Ansible warns and goes on), and the hosts come in inventory order.

import path from 'node:path'
import { PatternError } from '../base/errors.ts'
import { parseAddress } from './host-pattern.ts'
import { closestNames } from '../base/suggest.ts'
import type { Host, Inventory } from './inventory.ts'

/** `allowEmpty`: known names that select nobody (an empty group) give [] instead of an error. */
export function selectHosts(inv: Inventory, pattern: string, opts: { allowEmpty?: boolean } = {}): Host[] {
  return evaluate(inv, splitHostPattern(pattern), pattern, opts)
}

/** Several patterns (a --limit @file's lines), evaluated together as one. */
export function selectHostsByList(inv: Inventory, patterns: string[], shown: string): Host[] {
  return evaluate(inv, patterns.map((p) => p.trim()), shown, {})
}

function evaluate(inv: Inventory, patterns: string[], pattern: string, opts: { allowEmpty?: boolean }): Host[] {
  const terms = patterns.filter(Boolean)
  if (!terms.length) throw new PatternError(pattern, 'empty pattern (expected all, a host or group name, or a glob like web*)')
  const unions = terms.filter((t) => t[0] !== '&' && t[0] !== '!')
  const ordered = [...(unions.length ? unions : ['all']), ...terms.filter((t) => t[0] === '&'), ...terms.filter((t) => t[0] === '!')]

  let selected = new Set<string>()
  for (const term of ordered) {
    const op = term[0] === '&' || term[0] === '!' ? term[0] : ''
    const name = term.slice(op.length).trim()
    if (!name) throw new PatternError(pattern, `'${op}' must be followed by a host or group name`)
    const these = new Set(matchOne(inv, name, pattern))
    if (op === '&') selected = new Set([...selected].filter((n) => these.has(n)))
    else if (op === '!') selected = new Set([...selected].filter((n) => !these.has(n)))
    else these.forEach((n) => selected.add(n))
  }
  const result = inv.hosts.filter((h) => selected.has(h.name))
  if (!result.length && !opts.allowEmpty) throw new PatternError(pattern, 'matches no hosts')
  return result
}

/**
 * --limit's patterns, with each `@file` replaced by the file's lines (Ansible's retry files and
 * host lists: one pattern a line), read relative to `cwd`. `read` is the file reader (fs in the CLI).
 */
export function limitPatterns(limit: string, cwd: string, read: (file: string) => string): string | string[] {
  const parts = splitHostPattern(limit)
  if (!parts.some((p) => p.startsWith('@'))) return limit
  return parts.flatMap((p) => {
    if (!p.startsWith('@')) return [p]
    const file = path.resolve(cwd, p.slice(1))
    try {
      return read(file).split('\n').map((l) => l.trim())
    } catch (e) {
      throw new PatternError(limit, `cannot read the limit file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`)
    }
  })
}

/** ansible-core's split_host_pattern: commas if there are any, else ':' outside [...] (a host:port or IPv6 address stays whole). */
export function splitHostPattern(pattern: string): string[] {
  const parts = pattern.includes(',') ? pattern.split(',') : parseAddress(pattern) ? [pattern] : (pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [])
  return parts.map((p) => p.trim()).filter(Boolean)
}

// A name ending in [i], [i:j], [i:] (ansible's PATTERN_WITH_SUBSCRIPT; [i-j] is Ansible's removed form).
const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+):([0-9]*))\]$/

/** One term without its & or !: the names of the hosts it selects, in the group's order. */
function matchOne(inv: Inventory, term: string, pattern: string): string[] {
  const sub = term[0] === '~' ? null : SUBSCRIPT.exec(term)
  const expr = sub ? sub[1]! : term
  const hosts = enumerate(inv, expr, pattern)
  if (!sub || !hosts.length) return hosts
  // ansible's _apply_subscript: [i] one host (negative from the end); [i:j] i to j inclusive; [i:] to
  // the end; and, as there, [i:0] is [i]
  const [, , index, start, end] = sub
  const one = index ?? (Number(end) === 0 && end !== '' ? start : undefined)
  const picked = one !== undefined ? [hosts.at(Number(one))] : hosts.slice(Number(start), end ? Number(end) + 1 : undefined)
  if (one !== undefined && picked[0] === undefined) throw new PatternError(pattern, `'${term}': ${expr} has ${hosts.length} host(s), so there is no [${one}]`)
  return picked.filter((n): n is string => n !== undefined)
}

/** ansible's _enumerate_matches: hosts of matching groups; matching hosts when no group matched or the term is a glob or regex. */
function enumerate(inv: Inventory, expr: string, pattern: string): string[] {
  const re = matcher(expr, pattern)
  const out = new Set<string>()
  let groupMatched = false
  for (const g of inv.groups.values()) {
    if (!re.test(g.name)) continue
    groupMatched = true
    g.hosts.forEach((n) => out.add(n))
  }
  if (!groupMatched || expr[0] === '~' || /[.?*[]/.test(expr)) for (const h of inv.hosts) if (re.test(h.name)) out.add(h.name)
  if (!out.size && !groupMatched) {
    if (expr[0] === '~' || /[?*[]/.test(expr)) throw new PatternError(pattern, `no host or group matches '${expr}'`)
    const near = closestNames(expr, [...inv.groups.keys(), ...inv.hosts.map((h) => h.name)])
    const hint = near.length ? ` (did you mean ${near.slice(0, 3).map((n) => `'${n}'`).join(' or ')}?)` : ''
    throw new PatternError(pattern, `no host or group named '${expr}'${hint}`)
  }
  return [...out]
}

/** `~regex` (python's re.match: anchored at the start only) or an fnmatch glob (the whole name). */
function matcher(expr: string, pattern: string): RegExp {
  if (expr[0] !== '~') return globToRegExp(expr)
  try {
    return new RegExp(`^(?:${expr.slice(1)})`)
  } catch (e) {
    throw new PatternError(pattern, `invalid regular expression '${expr}': ${(e as Error).message}`)
  }
}

/** python's fnmatch.translate: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`; an unclosed `[` is literal. */
function globToRegExp(glob: string): RegExp {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i)
    if (c === '*') source += '.*'
    else if (c === '?') source += '.'
    else if (c === '[') {
      let j = i + 1
      if (glob[j] === '!') j++
      if (glob[j] === ']') j++
      while (j < glob.length && glob[j] !== ']') j++
      if (j >= glob.length) source += '\\['
      else {
        let set = glob.slice(i + 1, j).replace(/\\/g, '\\\\')
        set = set.startsWith('!') ? `^${set.slice(1)}` : set.startsWith('^') ? `\\${set}` : set
        source += `[${set.replace(/\[/g, '\\[').replace(/\]/g, '\\]')}]`
        i = j
      }
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 's')
}
