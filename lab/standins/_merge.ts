// Client-side apply's three-way merge (last-applied vs new vs live), strategic-merge-style for
// the lists Kubernetes merges by key (containers by name, …), plus the patch types kubectl patch
// sends: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch.
import { clone, deepEqual, isObj } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'

/** Lists merged by a key in strategic merge patches (field name → key), the common ones. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
}

function mergeKey(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') {
    if (items.some((i) => isObj(i) && 'containerPort' in i)) return 'containerPort'
    if (items.some((i) => isObj(i) && 'port' in i)) return 'port'
  }
  return MERGE_KEYS[field]
}

/**
 * result = live, overlaid with `modified`, minus what `original` had and `modified` dropped.
 * Fields nobody applied (e.g. replicas set by an HPA or kubectl scale) stay.
 */
export function threeWay(original: unknown, modified: unknown, current: unknown, field = ''): unknown {
  if (isObj(modified)) {
    const cur = isObj(current) ? clone(current) : {}
    const orig = isObj(original) ? original : {}
    for (const [k, v] of Object.entries(modified)) {
      if (v === null) {
        delete cur[k]
        continue
      }
      cur[k] = threeWay(orig[k], v, cur[k], k)
    }
    for (const k of Object.keys(orig)) if (!(k in modified)) delete cur[k]
    return cur
  }
  if (Array.isArray(modified)) {
    const key = mergeKey(field, modified)
    if (!key || !Array.isArray(current) || !modified.every((m) => isObj(m) && key in m)) return clone(modified)
    const byKey = (list: unknown[]) => new Map(list.filter(isObj).map((x) => [JSON.stringify(x[key]), x]))
    const cur = byKey(current)
    const orig = byKey(Array.isArray(original) ? original : [])
    const mod = byKey(modified)
    const out: unknown[] = []
    for (const m of modified as Obj[]) {
      const k = JSON.stringify(m[key])
      out.push(threeWay(orig.get(k), m, cur.get(k), ''))
    }
    // live items nobody applied stay (after the applied ones), deleted ones go
    for (const c of current as unknown[]) {
      if (!isObj(c)) continue
      const k = JSON.stringify(c[key])
      if (!mod.has(k) && !orig.has(k)) out.push(clone(c))
    }
    return out
  }
  return modified
}

// ---------------------------------------------------------------------------

export class PatchError extends Error {}

const unescapePtr = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~')

function walk(doc: unknown, ptr: string): { parent: Obj | unknown[]; key: string } {
  if (!ptr.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${JSON.stringify(ptr)}`)
  const parts = ptr.split('/').slice(1).map(unescapePtr)
  let cur = doc
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(part)]
    else if (isObj(cur)) cur = cur[part]
    else cur = undefined
    if (cur === undefined) throw new PatchError(`doc is missing path: ${JSON.stringify(ptr)}: missing value`)
  }
  if (!Array.isArray(cur) && !isObj(cur)) throw new PatchError(`doc is missing path: ${JSON.stringify(ptr)}: missing value`)
  return { parent: cur, key: parts.at(-1) as string }
}

function getPtr(doc: unknown, ptr: string): unknown {
  if (ptr === '') return doc
  const { parent, key } = walk(doc, ptr)
  const v = Array.isArray(parent) ? parent[Number(key)] : parent[key]
  if (v === undefined) throw new PatchError(`doc is missing path: ${JSON.stringify(ptr)}: missing value`)
  return v
}

function addPtr(doc: unknown, ptr: string, value: unknown) {
  const { parent, key } = walk(doc, ptr)
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key)
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new PatchError(`Unable to access invalid index: ${key}`)
    parent.splice(i, 0, value)
  } else parent[key] = value
}

function removePtr(doc: unknown, ptr: string): unknown {
  const { parent, key } = walk(doc, ptr)
  if (Array.isArray(parent)) {
    const i = Number(key)
    if (!(i >= 0 && i < parent.length)) throw new PatchError(`Unable to remove nonexistent key: ${key}: missing value`)
    return parent.splice(i, 1)[0]
  }
  if (!(key in parent)) throw new PatchError(`Unable to remove nonexistent key: ${key}: missing value`)
  const v = parent[key]
  delete parent[key]
  return v
}

export function jsonPatch(doc: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch')
  const out = clone(doc)
  for (const op of ops) {
    if (!isObj(op)) throw new PatchError('invalid JSON patch operation')
    const path = String(op.path ?? '')
    switch (op.op) {
      case 'add':
        addPtr(out, path, clone(op.value))
        break
      case 'remove':
        removePtr(out, path)
        break
      case 'replace':
        getPtr(out, path)
        removePtr(out, path)
        addPtr(out, path, clone(op.value))
        break
      case 'move': {
        const v = removePtr(out, String(op.from))
        addPtr(out, path, v)
        break
      }
      case 'copy':
        addPtr(out, path, clone(getPtr(out, String(op.from))))
        break
      case 'test':
        if (!deepEqual(getPtr(out, path), op.value)) throw new PatchError(`testing value ${path} failed: test failed`)
        break
      default:
        throw new PatchError(`Unexpected kind: ${String(op.op)}`)
    }
  }
  return out
}

export function mergePatch(doc: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch)
  const out = isObj(doc) ? clone(doc) : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

/** Strategic merge patch: merge patch, but keyed lists merge by key ($patch: delete removes). */
export function strategicPatch(doc: unknown, patch: unknown, field = ''): unknown {
  if (isObj(patch)) {
    const out = isObj(doc) ? clone(doc) : {}
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith('$')) continue
      if (v === null) delete out[k]
      else out[k] = strategicPatch(out[k], v, k)
    }
    return out
  }
  if (Array.isArray(patch)) {
    const key = mergeKey(field, patch)
    if (!key || !Array.isArray(doc)) return clone(patch.filter((x) => !(isObj(x) && x.$patch === 'delete')))
    const out = clone(doc) as unknown[]
    for (const item of patch) {
      if (!isObj(item)) continue
      const i = out.findIndex((x) => isObj(x) && deepEqual(x[key], item[key]))
      if (item.$patch === 'delete') {
        if (i >= 0) out.splice(i, 1)
      } else if (i >= 0) out[i] = strategicPatch(out[i], item, '')
      else out.push(strategicPatch(undefined, item, ''))
    }
    return out
  }
  return patch
}
