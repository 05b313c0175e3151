// YAML written by users (the inventory, -e @file.yaml): the schema it is read with, and how its
// values and errors read in our messages. Pure.
import { CORE_SCHEMA, defineScalarTag, FAILSAFE_SCHEMA, loadAll, mergeTag, NOT_RESOLVED, nullYaml11Tag, Schema, YAMLException } from 'js-yaml'

// Merge keys (<<: *defaults) are common in Ansible inventories, and PyYAML reads them.
export const YAML_SCHEMA = CORE_SCHEMA.withTags(mergeTag)

/**
 * At most this many values once aliases are expanded. Nested aliases (a "billion laughs") make a
 * few hundred bytes stand for billions of values: every later walk over them (merging vars, a
 * message showing one) then takes minutes and gigabytes.
 */
export const MAX_YAML_VALUES = 100_000

/** Every document of a YAML text (the schema above by default): the one place YAML written by users is read; a YAMLException for bad YAML or too many values. */
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
export const visible = (s: string) => s.replace(UNPRINTABLE, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
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

// ---- Ansible's YAML: PyYAML's YAML 1.1 resolvers, which Ansible reads inventories and vars files with ----
// (yes/on are booleans, 0644 is octal, 1e3 stays a string, dates read as Python prints them),
// plus Ansible's own tags: !unsafe (never templated) and !vault (an encrypted value).

/** `!unsafe 'text'`: Ansible never templates it; zxplay never templates variable values at all. */
export class Unsafe {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
}

/** `!vault | $ANSIBLE_VAULT;…`: decrypted where the inventory is resolved, with the vault password. */
export class Vaulted {
  readonly ciphertext: string
  constructor(ciphertext: string) {
    this.ciphertext = ciphertext
  }
}

const PY_BOOLS = new Map<string, boolean>([
  ...['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((w) => [w, true] as const),
  ...['no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((w) => [w, false] as const),
])
const PY_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/
const PY_FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/
const PY_TIMESTAMP =
  /^(?:([0-9]{4})-([0-9]{2})-([0-9]{2})|([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/
const NUMBER_START = [...'-+.0123456789']

function sexagesimal(digits: string): number {
  return digits.split(':').reduce((sum, part) => sum * 60 + Number(part), 0)
}

function pyInt(source: string): number | typeof NOT_RESOLVED {
  if (!PY_INT.test(source)) return NOT_RESOLVED
  let text = source.replaceAll('_', '')
  const sign = text.startsWith('-') ? -1 : 1
  if ('+-'.includes(text[0]!)) text = text.slice(1)
  if (text === '0') return 0
  if (text.startsWith('0b')) return sign * parseInt(text.slice(2), 2)
  if (text.startsWith('0x')) return sign * parseInt(text.slice(2), 16)
  if (text.startsWith('0')) return sign * parseInt(text, 8)
  return sign * (text.includes(':') ? sexagesimal(text) : Number(text))
}

function pyFloat(source: string): number | typeof NOT_RESOLVED {
  if (!PY_FLOAT.test(source)) return NOT_RESOLVED
  let text = source.replaceAll('_', '').toLowerCase()
  const sign = text.startsWith('-') ? -1 : 1
  if ('+-'.includes(text[0]!)) text = text.slice(1)
  if (text === '.inf') return sign * Infinity
  if (text === '.nan') return NaN
  return sign * (text.includes(':') ? sexagesimal(text) : Number(text))
}

/** A timestamp as Python's isoformat() prints the date or datetime PyYAML builds from it. */
function pyTimestamp(source: string): string | typeof NOT_RESOLVED {
  const m = PY_TIMESTAMP.exec(source)
  if (!m) return NOT_RESOLVED
  if (m[1]) return source
  const two = (s: string) => s.padStart(2, '0')
  let out = `${m[4]}-${two(m[5]!)}-${two(m[6]!)}T${two(m[7]!)}:${m[8]}:${m[9]}`
  const micro = (m[10] ?? '').slice(0, 6).padEnd(6, '0')
  if (Number(micro)) out += `.${micro}`
  const tz = m[11]
  if (tz === 'Z') out += '+00:00'
  else if (tz) {
    const [h = '0', min = '00'] = tz.slice(1).split(':')
    out += `${tz[0]}${two(h)}:${min}`
  }
  return out
}

export const ANSIBLE_SCHEMA = new Schema([
  ...FAILSAFE_SCHEMA.tags,
  nullYaml11Tag,
  defineScalarTag('tag:yaml.org,2002:bool', {
    implicit: true,
    implicitFirstChars: [...'yYnNtTfFoO'],
    resolve: (s) => PY_BOOLS.get(s) ?? NOT_RESOLVED,
    identify: (v) => typeof v === 'boolean',
  }),
  defineScalarTag('tag:yaml.org,2002:int', { implicit: true, implicitFirstChars: NUMBER_START, resolve: pyInt, identify: () => false }),
  defineScalarTag('tag:yaml.org,2002:float', { implicit: true, implicitFirstChars: NUMBER_START, resolve: pyFloat, identify: () => false }),
  defineScalarTag('tag:yaml.org,2002:timestamp', { implicit: true, implicitFirstChars: [...'0123456789'], resolve: pyTimestamp, identify: () => false }),
  mergeTag,
  defineScalarTag('!unsafe', { resolve: (s) => new Unsafe(s), identify: (v) => v instanceof Unsafe }),
  defineScalarTag('!vault', { resolve: (s) => new Vaulted(s), identify: (v) => v instanceof Vaulted }),
])

