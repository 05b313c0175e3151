// Extra vars (-e), the highest-precedence variables. Pure, except the read of @file arguments.
//
//   -e 'a=1 b="x y"'    key=value items, split and unquoted exactly as Ansible's parse_kv does
//                       (kv.ts): one pair of matching outer quotes goes, nothing more. A value
//                       is a string, as in Ansible, except that unquoted `true`/`false` become
//                       booleans and unquoted integers (0, 42, -7; no leading zeros) numbers, so
//                       `k8s_version=1.30`, `x=null` and `zip=007` stay the strings given, and
//                       "'3'" is the string 3.
//   -e a.b.c=value      a dotted key: replaces only that nested value of the inventory's `a`
//   -e @vars.yaml       a YAML file of variables, relative to the working directory
//   -e '{"k": [1]}'     a JSON or YAML flow map
// Files and maps keep their YAML typing. Later arguments win.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { CORE_SCHEMA, YAMLException } from 'js-yaml'
import { UsageError } from '../base/errors.ts'
import { KvError, parseKv } from '../base/kv.ts'
import type { Vars } from './host-vars.ts'
import { describeFsError, describeYamlError, isMap, loadYaml, show } from '../base/yaml.ts'

/** Nested paths, by top-level key, for the keys that were set only through dotted keys. */
export type DottedPaths = ReadonlyMap<string, string[][]>

// Which top-level extra vars were set only through dotted keys, and at which nested paths:
// those replace only the nested values when laid over the inventory's vars.
const dottedPaths = new WeakMap<Vars, DottedPaths>()

/** Parses the values of -e flags: key=value, @file.yaml, or a {"json": "map"}. Later ones win. */
export function parseExtraVars(args: string[], cwd: string): Vars {
  const vars: Vars = {}
  const dotted = new Map<string, string[][]>()
  const setWhole = (entries: Vars) => {
    for (const [key, value] of Object.entries(entries)) {
      vars[key] = value
      dotted.delete(key)
    }
  }
  for (const arg of args) {
    if (arg === '') continue
    if (arg.startsWith('@')) setWhole(readVarsFile(arg.slice(1), cwd))
    else if (arg.startsWith('/') || arg.startsWith('.')) throw new UsageError(`-e '${arg}': a file of variables is written @${arg}`)
    else if (arg.startsWith('{') || arg.startsWith('[')) setWhole(parseFlowMap(arg))
    else {
      for (const item of kvItems(arg)) {
        if ('raw' in item) throw new UsageError(`-e '${arg}': '${item.raw}' is not key=value (expected key=value items, @file.yaml or a {"json": "map"})`)
        const [top, ...nested] = parseVarName(item.key, arg)
        const value = item.quoted ? item.value : parseValue(item.value)
        if (!nested.length) {
          setWhole({ [top]: value })
          continue
        }
        const setAsWhole = Object.hasOwn(vars, top) && !dotted.has(top)
        vars[top] = withNestedValue(vars[top], nested, value)
        if (!setAsWhole) dotted.set(top, [...(dotted.get(top) ?? []), nested])
      }
    }
  }
  if (dotted.size) dottedPaths.set(vars, dotted)
  return vars
}

/** The dotted keys of vars that came from parseExtraVars, to hand to applyExtraVars. */
export function dottedPathsOf(extra: Vars): DottedPaths | undefined {
  return dottedPaths.get(extra)
}

/** Lays extra vars over a host's vars: a key set whole replaces; a dotted key only its nested value. */
export function applyExtraVars(vars: Vars, extra: Vars, dotted?: DottedPaths): void {
  for (const [key, value] of Object.entries(extra)) {
    const paths = dotted?.get(key)
    vars[key] = paths ? withNestedValues(vars[key], value, paths) : value
  }
}

function parseVarName(name: string, arg: string): [string, ...string[]] {
  const [top = '', ...nested] = name.trim().split('.')
  const bad = [top, ...nested].find((part) => !/^[A-Za-z0-9_-]+$/.test(part) || part === '__proto__')
  if (bad !== undefined) {
    throw new UsageError(`-e '${arg}': invalid variable name '${name}' (use letters, digits, '_' or '-', and '.' between nested keys)`)
  }
  return [top, ...nested]
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/

function kvItems(arg: string) {
  try {
    return parseKv(arg)
  } catch (e) {
    if (e instanceof KvError) throw new UsageError(`-e '${arg}': ${e.message}`)
    throw e
  }
}

/** An unquoted key=value's value: a string, except exactly true/false and integers without leading zeros. */
function parseValue(text: string): unknown {
  if (text === 'true') return true
  if (text === 'false') return false
  if (INTEGER.test(text)) {
    const n = Number(text)
    // Past 2^53 a number would lose digits (an ID, a serial): it stays the text. -0 is 0.
    if (Number.isSafeInteger(n)) return n || 0
  }
  return text
}

function parseFlowMap(arg: string): Vars {
  let value: unknown
  try {
    value = loadYaml(arg, CORE_SCHEMA)[0]
  } catch (e) {
    throw new UsageError(`-e '${arg}': invalid map: ${e instanceof YAMLException ? describeYamlError(e) : String(e)}`)
  }
  if (!isMap(value)) throw new UsageError(`-e '${arg}': expected a map like {"key": "value"}, got ${show(value)}`)
  return value
}

function readVarsFile(file: string, cwd: string): Vars {
  const full = path.resolve(cwd, file)
  let docs: unknown[]
  try {
    docs = loadYaml(readFileSync(full, 'utf8'))
  } catch (e) {
    if (e instanceof YAMLException) throw new UsageError(`-e @${file}: invalid YAML: ${describeYamlError(e)}`)
    throw new UsageError(`-e @${file}: cannot read ${full}: ${describeFsError(e)}`)
  }
  const [value = {}, ...more] = docs
  if (more.length) throw new UsageError(`-e @${file}: expected one YAML document, found several (---)`)
  if (!isMap(value)) throw new UsageError(`-e @${file}: expected a map of variables, got ${show(value)}`)
  return value
}

function withNestedValue(target: unknown, keys: string[], value: unknown): Vars {
  const copy: Vars = isMap(target) ? { ...target } : {}
  const [key, ...rest] = keys
  if (key === undefined) return copy
  copy[key] = rest.length ? withNestedValue(copy[key], rest, value) : value
  return copy
}

function withNestedValues(target: unknown, source: unknown, paths: string[][]): unknown {
  let result = target
  for (const keys of paths) result = withNestedValue(result, keys, valueAt(source, keys))
  return result
}

function valueAt(source: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>((value, key) => (isMap(value) ? value[key] : undefined), source)
}
