// Resource-level operations the kubectl stand-in's commands share: reading manifests (files,
// folders, stdin, pre-seeded URLs), mapping kinds, resolving type names (deploy, ds,
// deployments.apps, Deployment), label and field selectors, cascading deletion.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { p } from './_fs.ts'
import { userPath } from './_kubeconfig.ts'
import type { IO } from './_io.ts'
import { arr, dig, isObj, loadYamlDocs, objOr, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { customKinds, KINDS, splitApiVersion } from './_schema.ts'
import type { KindInfo } from './_schema.ts'
import { deleteObj, listObjs, metaOf } from './_store.ts'
import type { Store } from './_store.ts'
import { ownedBy } from './_controllers.ts'

export class CliError extends Error {}

export type Source = { source: string; obj: Obj; url?: string }

/** Every object in the -f sources, in order (List kinds expanded, empty documents dropped). */
export function readSources(files: string[], io: IO, recursive = false): Source[] {
  const out: Source[] = []
  const parse = (text: string, source: string, url?: string) => {
    let docs: unknown[]
    try {
      docs = loadYamlDocs(text)
    } catch (e) {
      const m = /\((\d+):(\d+)\)/.exec((e as Error).message)
      throw new CliError(`error: error parsing ${source}: error converting YAML to JSON: yaml: ${m ? `line ${m[1]}: ` : ''}${((e as { reason?: string }).reason ?? (e as Error).message).split('\n')[0]}`)
    }
    for (const d of docs) {
      if (d === null || d === undefined) continue
      if (!isObj(d)) throw new CliError(`error: error validating "${source}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false`)
      if (d.kind === 'List' || (typeof d.kind === 'string' && d.kind.endsWith('List') && Array.isArray(d.items))) {
        for (const item of arr(d.items)) if (isObj(item)) out.push({ source, obj: item, ...(url ? { url } : {}) })
      } else out.push({ source, obj: d, ...(url ? { url } : {}) })
    }
  }
  for (const f of files) {
    if (f === '-') {
      parse(io.stdin(), 'STDIN')
      continue
    }
    if (/^https?:\/\//.test(f)) {
      const sha = createHash('sha256').update(f).digest('hex')
      const seeded = p(`/var/lib/zxlab/urls/${sha}.yaml`)
      let text: string
      try {
        text = fs.readFileSync(seeded, 'utf8')
      } catch {
        const host = /^https?:\/\/([^/:]+)/.exec(f)?.[1] ?? ''
        throw new CliError(`error: unable to read URL "${f}", server reported Get "${f}": dial tcp: lookup ${host} on 127.0.0.53:53: server misbehaving`)
      }
      parse(text, f, f)
      continue
    }
    const real = userPath(f)
    let st: fs.Stats
    try {
      st = fs.statSync(real)
    } catch {
      throw new CliError(`error: the path "${f}" does not exist`)
    }
    if (st.isDirectory()) {
      const walk = (dir: string, shown: string) => {
        for (const e of fs.readdirSync(dir).sort()) {
          const full = path.join(dir, e)
          const shownPath = path.join(shown, e)
          if (fs.statSync(full).isDirectory()) {
            if (recursive) walk(full, shownPath)
          } else if (/\.(ya?ml|json)$/.test(e)) parse(fs.readFileSync(full, 'utf8'), shownPath)
        }
      }
      walk(real, f)
      continue
    }
    let text: string
    try {
      text = fs.readFileSync(real, 'utf8')
    } catch (e) {
      throw new CliError(`error: open ${f}: ${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (e as Error).message}`)
    }
    parse(text, f)
  }
  return out
}

export const allKinds = (s: Store | undefined): KindInfo[] => [...KINDS, ...(s ? customKinds(listObjs(s, 'apiextensions.k8s.io', 'CustomResourceDefinition')) : [])]

/** The kind an object's apiVersion/kind maps to, or the real "no matches" error. */
export function mapKind(s: Store | undefined, obj: Obj): { info: KindInfo; version: string } | { error: string } {
  const apiVersion = str(obj.apiVersion)
  const kind = str(obj.kind)
  const missing = [...(apiVersion ? [] : ['apiVersion not set']), ...(kind ? [] : ['kind not set'])]
  if (missing.length) return { error: `error validating data: [${missing.join(', ')}]` }
  const { group, version } = splitApiVersion(apiVersion as string)
  const info = allKinds(s).find((k) => k.group === group && k.kind === kind && k.versions.includes(version))
  if (!info) return { error: `no matches for kind "${kind}" in version "${apiVersion}"` }
  return { info, version }
}

/** A type name as kubectl accepts it: plural, singular, short name, Kind, plural.group. */
export function resolveType(s: Store | undefined, name: string): KindInfo | undefined {
  const n = name.toLowerCase()
  const kinds = allKinds(s)
  const dot = n.indexOf('.')
  if (dot > 0) {
    const base = n.slice(0, dot)
    const rest = n.slice(dot + 1)
    const byGroup = kinds.find((k) => (k.plural === base || k.singular === base || k.kind.toLowerCase() === base) && (k.group === rest || `${k.versions[0]}.${k.group}` === rest))
    if (byGroup) return byGroup
  }
  return kinds.find((k) => k.plural === n || k.singular === n || k.short.includes(n) || k.kind.toLowerCase() === n)
}

// ---------------------------------------------------------------------------
// Selectors

type Req = { key: string; op: 'eq' | 'ne' | 'in' | 'notin' | 'exists' | '!exists'; values: string[] }

export function parseSelector(sel: string): Req[] {
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of sel) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  if (cur.trim()) parts.push(cur)
  return parts.map((raw) => {
    const t = raw.trim()
    let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t)
    if (m) return { key: m[1] as string, op: m[2] as 'in' | 'notin', values: (m[3] as string).split(',').map((v) => v.trim()) }
    m = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(t)
    if (m) return { key: m[1] as string, op: m[2] === '!=' ? 'ne' : 'eq', values: [(m[3] as string).trim()] }
    if (/^![^\s!=]+$/.test(t)) return { key: t.slice(1), op: '!exists', values: [] }
    if (/^[^\s!=(),]+$/.test(t)) return { key: t, op: 'exists', values: [] }
    throw new CliError(`error: unable to parse requirement: found '${t}', expected: in, notin, =, ==, !=, gt, lt`)
  })
}

export function matchesSelector(reqs: Req[], labels: Obj): boolean {
  return reqs.every((r) => {
    const has = r.key in labels
    const v = String(labels[r.key] ?? '')
    switch (r.op) {
      case 'eq':
        return has && v === r.values[0]
      case 'ne':
        return !has || v !== r.values[0]
      case 'in':
        return has && r.values.includes(v)
      case 'notin':
        return !has || !r.values.includes(v)
      case 'exists':
        return has
      case '!exists':
        return !has
    }
    return false
  })
}

export function matchesFieldSelector(sel: string, obj: Obj): boolean {
  for (const part of sel.split(',').filter(Boolean)) {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(part)
    if (!m) throw new CliError(`error: invalid selector: '${part}'; can't understand '${part}'`)
    const v = dig(obj, ...(m[1] as string).split('.'))
    const eq = String(v ?? '') === m[3]
    if (m[2] === '!=' ? eq : !eq) return false
  }
  return true
}

// ---------------------------------------------------------------------------
// Deletion with the garbage collector's cascade

export function cascadeDelete(s: Store, obj: Obj) {
  deleteObj(s, obj)
  const kind = obj.kind
  if (kind === 'Namespace') {
    const n = String(metaOf(obj).name)
    for (const [k, o] of Object.entries(s.objects)) if (k.split('/')[2] === n) cascadeDelete(s, o)
    return
  }
  if (kind === 'CustomResourceDefinition') {
    const group = String(dig(obj, 'spec', 'group'))
    const ck = String(dig(obj, 'spec', 'names', 'kind'))
    for (const [k, o] of Object.entries(s.objects)) if (k.startsWith(`${group}/${ck}/`)) deleteObj(s, o)
    return
  }
  // dependents (ownerReferences)
  for (const o of Object.values(s.objects)) if (arr(metaOf(o).ownerReferences).length && ownedBy(o, obj)) cascadeDelete(s, o)
}

export const labelsOf = (o: Obj) => objOr(metaOf(o).labels)
