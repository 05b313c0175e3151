// YAML written by users (the inventory, -e @file.yaml): the schema it is read with, and how its
// values and errors read in our messages. Pure.
import { CORE_SCHEMA, loadAll, mergeTag, YAMLException, type Schema } from 'js-yaml'

// Merge keys (<<: *defaults) are common in Ansible inventories, and PyYAML reads them.
export const YAML_SCHEMA = CORE_SCHEMA.withTags(mergeTag)

/**
 * At most this many values once aliases are expanded. Nested aliases (a "billion laughs") make a
 * few hundred bytes stand for billions of values: every later walk over them (merging vars, a
 * message showing one) then takes minutes and gigabytes.
 */
export const MAX_YAML_VALUES = 100_000

/** Every document of a YAML text (the schema above by default); a YAMLException for bad YAML or too many values. */
export function loadYaml(text: string, schema: Schema = YAML_SCHEMA): unknown[] {
  const docs = loadAll(text, { schema })
  // Aliases share one object: count each subtree once, and stop as soon as the total is too large.
  const sizes = new Map<object, number>()
  const size = (v: unknown): number => {
    if (typeof v !== 'object' || v === null) return 1
    const known = sizes.get(v)
    if (known !== undefined) return known
    sizes.set(v, Infinity) // an alias to a value that contains it counts as too many
    let n = 1
    for (const child of Object.values(v)) if ((n += size(child)) > MAX_YAML_VALUES) break
    sizes.set(v, n)
    return n
  }
  if (docs.reduce<number>((n, d) => n + size(d), 0) > MAX_YAML_VALUES) {
    throw new YAMLException(`its aliases expand to more than ${MAX_YAML_VALUES} values (nested aliases, a "billion laughs"?); expected an ordinary document`)
  }
  return docs
}

/** Characters that would move the cursor, recolour the terminal or end a line in a message. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g
const visible = (s: string) => s.replace(UNPRINTABLE, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
const SHOWN = 80

/** A value as JSON for a message, at most SHOWN characters of it (a value can be megabytes). */
export function showJson(value: unknown): string {
  if (value === undefined) return 'nothing'
  let out = ''
  const put = (s: string) => (out += s).length > SHOWN
  const walk = (v: unknown): boolean => {
    if (Array.isArray(v)) {
      if (put('[')) return true
      for (const [i, x] of v.entries()) if ((i && put(',')) || walk(x)) return true
      return put(']')
    }
    if (typeof v === 'object' && v !== null) {
      if (put('{')) return true
      for (const [i, [k, x]] of Object.entries(v).entries()) if ((i && put(',')) || put(`${JSON.stringify(k.slice(0, SHOWN))}:`) || walk(x)) return true
      return put('}')
    }
    return put(typeof v === 'string' ? JSON.stringify(v.slice(0, SHOWN + 1)) : String(JSON.stringify(v) ?? v))
  }
  const cut = walk(value)
  return visible(cut ? `${out.slice(0, SHOWN)}…` : out)
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A value as it would read in an error message: 'text', 3, a list, a map, nothing. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  if (typeof value === 'string') return `'${visible(value.length > SHOWN ? `${value.slice(0, SHOWN)}…` : value)}'`
  return String(value)
}

export function describeYamlError(e: YAMLException): string {
  const mark = e.mark
  if (!mark) return e.reason
  let reason = e.reason
  if (reason === 'duplicated mapping key') {
    const key = /^[^\s:]+/.exec(mark.buffer.slice(mark.position))?.[0]
    if (key) reason = `duplicated mapping key '${key}'`
  }
  return `line ${mark.line + 1}, column ${mark.column + 1}: ${reason}`
}

export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return e instanceof Error ? e.message : String(e)
}
