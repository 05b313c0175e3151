// Templates: `{{ dotted.path | filter }}` substitution and `{# comments #}`, nothing more.
// Strict on purpose: a missing variable or a map without `| json` is an error, never ''
// or '[object Object]', because a silently broken manifest fails later and far away.
//
//   {{ name }}  {{ db.hosts.0 }}             value (null counts as missing)
//   {{ x | json }}                           JSON, also the safe way to put any string into YAML
//   {{ x | b64 }}                            base64 of the text
//   {{ x | default("text") }}                a JSON literal used when x is missing
//   {{ x | indent(4) }}                      indent every line but the first
//   {{ "{{" }}                               a JSON string literal, for a literal {{ in the output

import { readFile } from 'node:fs/promises'
import { TemplateError } from '../base/errors.ts'
import { closestNames } from '../base/suggest.ts'
import type { Vars } from '../inventory/inventory.ts'

const MISSING = Symbol('missing')
const VAR_PATH = /^[A-Za-z_][\w-]*(\.[\w-]+)*$/
const FILTERS = ['json', 'b64', 'default', 'indent']

type Fail = (message: string) => never

export async function renderFile(file: string, vars: Vars): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new TemplateError(file, 0, code === 'ENOENT' ? 'template file not found' : String(e))
  }
  return renderTemplate(text, vars, file)
}

export function renderTemplate(text: string, vars: Vars, file: string): string {
  const opening = /\{[{#%]/g
  let out = ''
  let at = 0
  for (;;) {
    opening.lastIndex = at
    const open = opening.exec(text)?.index
    if (open === undefined) return out + text.slice(at)
    out += text.slice(at, open)
    const fail: Fail = (message) => {
      throw new TemplateError(file, lineAt(text, open), message)
    }
    const kind = text.charAt(open + 1)
    if (kind === '%') fail(`'{%' blocks (if, for) are not supported; only {{ var }} and {# comment #} (write {{ "{%" }} for a literal {%)`)
    const close = kind === '#' ? text.indexOf('#}', open + 2) : closingBraces(text, open + 2)
    if (close < 0) fail(kind === '#' ? `unclosed '{#' (expected '#}')` : `unclosed '{{' (expected '}}')`)
    if (kind === '{') out += evaluate(text.slice(open + 2, close), vars, fail)
    at = close + 2
  }
}

function lineAt(text: string, index: number): number {
  return text.slice(0, index).split('\n').length
}

/** The characters outside "strings" and (arguments), with their index. */
function* topLevel(text: string, from = 0): Generator<[number, string]> {
  let depth = 0
  let inString = false
  for (let i = from; i < text.length; i++) {
    const c = text.charAt(i)
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (depth <= 0) yield [i, c]
  }
}

/** Index of the `}}` that ends an expression, skipping any inside "strings" or (arguments). */
function closingBraces(text: string, from: number): number {
  for (const [i, c] of topLevel(text, from)) if (c === '}' && text.charAt(i + 1) === '}') return i
  return -1
}

/** Splits on `|` outside "strings" and (arguments). */
function splitPipes(expression: string): string[] {
  const parts: string[] = []
  let start = 0
  for (const [i, c] of topLevel(expression)) {
    if (c !== '|') continue
    parts.push(expression.slice(start, i).trim())
    start = i + 1
  }
  return [...parts, expression.slice(start).trim()]
}

function evaluate(expression: string, vars: Vars, fail: Fail): string {
  const [subject = '', ...filters] = splitPipes(expression)
  let value: unknown
  if (subject.startsWith('"')) value = parseJson(subject, `invalid string literal ${subject}`, fail)
  else if (!subject) fail('empty {{ }} (expected a variable name)')
  else if (!VAR_PATH.test(subject)) fail(`expected a variable like name or a.b.0, got '${subject}' (templates have no expressions)`)
  else value = lookup(vars, subject)

  const present = (): unknown => (value === MISSING ? fail(missingMessage(vars, subject)) : value)
  for (const filter of filters) {
    if (!filter) fail(`empty filter after '|' (filters are json, b64, default(...), indent(N))`)
    const [, name = filter, arg] = /^(\w+)\s*(?:\(([\s\S]*)\))?$/.exec(filter) ?? []
    if (!FILTERS.includes(name)) {
      const near = closestNames(name, FILTERS)[0]
      fail(`unknown filter '${name}'${near ? ` (did you mean '${near}'?)` : ''}; filters are json, b64, default(...), indent(N)`)
    }
    if (name === 'default') {
      if (!arg?.trim()) fail(`default needs a value: default("text"), default(3) or default(false)`)
      // Checked even when unused, so a bad default shows on the first render, not on the host that needs it.
      const fallback = parseJson(arg, `default(${arg}): expected a JSON literal, e.g. default("text")`, fail)
      if (value === MISSING) value = fallback
      continue
    }
    if (name === 'indent') {
      if (!arg || !/^\s*\d+\s*$/.test(arg)) fail(`indent needs a number of spaces, e.g. indent(4)`)
      // Like Jinja's indent: blank lines stay empty, so no trailing spaces appear.
      value = toText(present(), subject, fail).replace(/\n(?=[^\n])/g, `\n${' '.repeat(Number(arg))}`)
      continue
    }
    if (arg !== undefined) fail(`${name} takes no argument`)
    if (name === 'json') value = toYamlSafeJson(present())
    else value = Buffer.from(toText(present(), subject, fail)).toString('base64')
  }
  return toText(present(), subject, fail)
}

function parseJson(text: string, message: string, fail: Fail): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return fail(message)
  }
}

function lookup(vars: Vars, path: string): unknown {
  let value: unknown = vars
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return MISSING
    value = (value as Record<string, unknown>)[key]
  }
  return value ?? MISSING
}

function toText(value: unknown, subject: string, fail: Fail): string {
  if (typeof value === 'object' && value !== null) {
    const kind = Array.isArray(value) ? 'a list' : 'a map'
    fail(`'${subject}' is ${kind}; write {{ ${subject} | json }} to render it`)
  }
  return String(value)
}

// JSON is YAML flow syntax. Escaping the few characters YAML forbids or may read as line
// breaks (DEL, C1 controls incl. NEL, LS, PS, BOM, U+FFFE/U+FFFF) keeps any string safe there.
function toYamlSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
}

/** "missing variable 'db.hots' (did you mean 'db.host'?)", looking where the path stopped resolving. */
function missingMessage(vars: Vars, path: string): string {
  const keys = path.split('.')
  let value: unknown = vars
  for (const [i, key] of keys.entries()) {
    const prefix = keys.slice(0, i).join('.')
    const label = (k: string) => (prefix ? `${prefix}.${k}` : k)
    if (typeof value !== 'object' || value === null) {
      return `missing variable '${path}' ('${prefix}' is ${describe(value)}, not a map)`
    }
    const record = value as Record<string, unknown>
    const next = Object.hasOwn(record, key) ? record[key] : undefined
    if (next === null) return `missing variable '${path}' (it is null)`
    if (next === undefined) {
      const existing = Object.keys(record).filter((k) => record[k] !== null && record[k] !== undefined)
      // Fewer edits than the name is long, so 'x' does not suggest every other one-letter key.
      const near = closestNames(key, existing, Math.min(Math.max(2, Math.floor(key.length / 3)), key.length - 1))
      const quoted = near.slice(0, 3).map((k) => `'${label(k)}'`)
      if (quoted.length) return `missing variable '${path}' (did you mean ${quoted.join(' or ')}?)`
      const where = prefix ? `in '${prefix}'` : 'at the top level'
      if (!existing.length) return `missing variable '${path}' (nothing is defined ${where})`
      const shown = existing.slice(0, 8).map(label).join(', ') + (existing.length > 8 ? ', …' : '')
      return `missing variable '${path}' (defined ${where}: ${shown})`
    }
    value = next
  }
  return `missing variable '${path}'`
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `the string '${value}'` : `the ${typeof value} ${String(value)}`
}
