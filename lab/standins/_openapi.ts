// The API server's own OpenAPI v3 documents (../shared/reference/openapi-1.35/, read in place),
// and a check of an object against them the way the API server decodes and validates it:
// built-in kinds are decoded into Go structs (a wrong type is a decode error, an unknown field a
// strict-decoding error), custom resources are checked against their CRD's structural schema
// (apiextensions' messages). Documents load lazily, one group-version file per first use.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isObj } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'

export type Schema = Obj

/**
 * Where the documents are: $ZXLAB_OPENAPI_DIR; else the path the lab's bundler compiled in
 * (lab/netns/lab.ts: the same absolute path on every lab host, the real-host lab bind-mounts it);
 * else beside the checkout, as the stand-in's source runs in unit tests.
 */
export function openapiDir(): string {
  return process.env.ZXLAB_OPENAPI_DIR ?? process.env.ZXLAB_OPENAPI_BUILTIN ?? fileURLToPath(new URL('../../../shared/reference/openapi-1.35/', import.meta.url))
}

/** The compact index the namespace lab builds at lab-up (buildOpenapiIndex), if any. */
const indexDir = (): string | undefined => process.env.ZXLAB_OPENAPI_INDEX ?? process.env.ZXLAB_OPENAPI_INDEX_BUILTIN

type Doc = { schemas: Record<string, Schema>; kinds?: Map<string, string> }
const docs = new Map<string, Doc | null>()

const docFile = (root: string, group: string, version: string) => (group ? path.join(root, 'apis', group, `${version}.json`) : path.join(root, 'api', `${version}.json`))

/** A document's schemas without descriptions and paths: a twentieth of the size, parsed in a few ms instead of ~100. */
const compact = (text: string) => JSON.stringify((JSON.parse(text) as { components: { schemas: unknown } }).components.schemas, (k, v: unknown) => (k === 'description' ? undefined : v))

/** Write the compact form of every document under dir into out (the lab's state, never the checkout). */
export function buildOpenapiIndex(out: string, dir = openapiDir()): number {
  let n = 0
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name)
      if (e.isDirectory()) walk(r)
      else if (e.name.endsWith('.json')) {
        fs.mkdirSync(path.dirname(path.join(out, r)), { recursive: true })
        fs.writeFileSync(path.join(out, r), compact(fs.readFileSync(path.join(dir, r), 'utf8')), { mode: 0o644 })
        n++
      }
    }
  }
  walk('.')
  return n
}

/** The schemas of one group-version's document (null when the API server has none). */
function docOf(group: string, version: string): Doc | null {
  const key = `${group}/${version}`
  let d = docs.get(key)
  if (d !== undefined) return d
  const idx = indexDir()
  try {
    if (idx) {
      d = { schemas: JSON.parse(fs.readFileSync(docFile(idx, group, version), 'utf8')) as Record<string, Schema> }
      docs.set(key, d)
      return d
    }
  } catch {
    // no index entry: the documents themselves
  }
  let text: string
  try {
    text = fs.readFileSync(docFile(openapiDir(), group, version), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    // a missing documents folder is the lab's fault, not the object's: say so
    if (!fs.existsSync(openapiDir())) throw new Error(`zxlab: the API server's OpenAPI documents are not at ${openapiDir()} (set ZXLAB_OPENAPI_DIR)`)
    docs.set(key, null)
    return null
  }
  d = { schemas: (JSON.parse(text) as { components: { schemas: Record<string, Schema> } }).components.schemas }
  docs.set(key, d)
  return d
}

/** The group-versions loaded so far in this process (they load on first use). */
export const loadedDocs = () => [...docs.keys()]

/** The root schema of a built-in kind, and the document it lives in. */
export function kindSchema(group: string, version: string, kind: string): { doc: Doc; name: string } | undefined {
  const doc = docOf(group, version)
  if (!doc) return undefined
  doc.kinds ??= new Map(
    Object.entries(doc.schemas).flatMap(([name, s]) => {
      const gvks = s['x-kubernetes-group-version-kind']
      return Array.isArray(gvks) ? gvks.filter((g: Obj) => g.group === group && g.version === version).map((g: Obj) => [String(g.kind), name] as [string, string]) : []
    })
  )
  const name = doc.kinds.get(kind)
  return name ? { doc, name } : undefined
}

// ---------------------------------------------------------------------------
// The check

export type Problem =
  | { at: 'decode'; message: string }
  | { at: 'unknown'; path: string }
  | { at: 'field'; path: string; type: 'Required value' | 'Invalid value' | 'Unsupported value'; value?: unknown; detail?: string }

type Ctx = {
  doc: Doc | undefined
  custom: boolean // apiextensions' structural-schema rules and messages
  out: Problem[]
}

/** Where we are: the field-error path parts, the Go decoder's field stack and innermost struct. */
type At = { parts: (string | number)[]; mapKey: boolean[]; goFields: string[]; goStruct: string }

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity'
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString'
const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/
const QUANTITY_SUFFIX = /^(|[numkMGTPE]|[KMGTPE]i|[eE][-+]?[0-9]+)$/

/** Follow $ref (bare or as the single allOf the documents wrap it in); returns the schema and its component name. */
function resolve(ctx: Ctx, s: Schema): { s: Schema; ref?: string } {
  let ref: string | undefined
  for (let i = 0; i < 20; i++) {
    const r = typeof s.$ref === 'string' ? s.$ref : Array.isArray(s.allOf) && s.allOf.length === 1 && isObj(s.allOf[0]) && typeof s.allOf[0].$ref === 'string' ? (s.allOf[0].$ref as string) : undefined
    if (!r || !ctx.doc) return { s, ref }
    ref = r.slice(r.lastIndexOf('/') + 1)
    const next = ctx.doc.schemas[ref]
    if (!next) return { s, ref }
    s = next
  }
  return { s, ref }
}

/** field.Path as the API server prints it: a.b[0].c, map keys in brackets. */
export function fieldPath(at: At): string {
  let out = ''
  at.parts.forEach((p, i) => {
    if (typeof p === 'number' || at.mapKey[i]) out += `[${p}]`
    else out += (out ? '.' : '') + p
  })
  return out
}

const jsonKind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? 'number' : 'string')

/** Go's name of the type a schema decodes into (int32, []v1.Container, map[string]string…). */
function goType(ctx: Ctx, raw: Schema): string {
  const { s, ref } = resolve(ctx, raw)
  if (ref === QUANTITY) return 'resource.Quantity'
  if (ref === INT_OR_STRING) return 'intstr.IntOrString'
  if (ref && s.type === 'object' && isObj(s.properties)) {
    const parts = ref.split('.')
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`
  }
  switch (s.type) {
    case 'integer':
      return s.format === 'int64' ? 'int64' : 'int32'
    case 'number':
      return 'float64'
    case 'boolean':
      return 'bool'
    case 'string':
      return s.format === 'byte' ? '[]uint8' : ref?.endsWith('.Time') || ref?.endsWith('.MicroTime') ? 'v1.Time' : 'string'
    case 'array':
      return `[]${isObj(s.items) ? goType(ctx, s.items) : 'interface {}'}`
    case 'object':
      return isObj(s.additionalProperties) ? `map[string]${goType(ctx, s.additionalProperties)}` : 'map[string]interface {}'
  }
  return 'interface {}'
}

function decodeTypeError(ctx: Ctx, at: At, value: unknown, type: string) {
  let got = jsonKind(value)
  if (got === 'number' && /^int/.test(type)) got = `number ${String(value)}`
  const where = at.goFields.length ? `Go struct field ${at.goStruct}.${at.goFields.join('.')}` : 'Go value'
  ctx.out.push({ at: 'decode', message: `json: cannot unmarshal ${got} into ${where} of type ${type}` })
}

/** apiextensions' type error: "spec.x: Invalid value: "string": spec.x in body must be of type integer: "string"". */
function crTypeError(ctx: Ctx, at: At, value: unknown, want: string) {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value
  const p = fieldPath(at)
  ctx.out.push({ at: 'field', path: p, type: 'Invalid value', value: got, detail: `${p} in body must be of type ${want}: ${JSON.stringify(got)}` })
}

const child = (at: At, key: string | number, opts: { map?: boolean; goField?: boolean; goStruct?: string } = {}): At => ({
  parts: [...at.parts, key],
  mapKey: [...at.mapKey, !!opts.map],
  goFields: opts.goField ? [...at.goFields, String(key)] : at.goFields,
  goStruct: opts.goStruct ?? at.goStruct,
})

/** Go's strict base64: where decoding stops (the first byte outside the alphabet, else the final partial block). */
function base64ErrorAt(v: string): number | undefined {
  const bad = v.search(/[^A-Za-z0-9+/=]/)
  if (bad >= 0) return bad
  const pad = v.indexOf('=')
  if (pad >= 0 && !/^={1,2}$/.test(v.slice(pad))) return pad
  return v.length % 4 === 0 ? undefined : v.length - (v.length % 4)
}

function checkQuantity(ctx: Ctx, at: At, v: unknown) {
  if (typeof v === 'number') return
  if (typeof v !== 'string') return decodeTypeError(ctx, at, v, 'string')
  const m = QUANTITY_RE.exec(v.trim())
  if (!m || v.trim() === '') return void ctx.out.push({ at: 'decode', message: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" })
  if (!QUANTITY_SUFFIX.test(m[2] ?? '')) ctx.out.push({ at: 'decode', message: "unable to parse quantity's suffix" })
}

const isIntOrString = (s: Schema, ref?: string) => ref === INT_OR_STRING || s['x-kubernetes-int-or-string'] === true || s.format === 'int-or-string'

/** Check a value against a schema (recursive). */
function check(ctx: Ctx, raw: Schema, v: unknown, at: At): void {
  const { s, ref } = resolve(ctx, raw)
  if (v === null || v === undefined) {
    // Go decodes null as the zero value; a structural schema accepts it only where nullable
    if (ctx.custom && v === null && s.nullable !== true && s.type !== undefined) crTypeError(ctx, at, v, String(s.type))
    return
  }
  if (ref === QUANTITY) return checkQuantity(ctx, at, v)
  if (isIntOrString(s, ref)) {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return
    return ctx.custom ? crTypeError(ctx, at, v, 'integer,string') : decodeTypeError(ctx, at, v, 'int32')
  }
  if (ctx.custom) checkCustomKeywords(ctx, s, v, at)
  switch (s.type) {
    case 'object':
      return checkObject(ctx, s, ref, v, at)
    case 'array':
      if (!Array.isArray(v)) return ctx.custom ? crTypeError(ctx, at, v, 'array') : decodeTypeError(ctx, at, v, goType(ctx, raw))
      if (isObj(s.items)) v.forEach((x, i) => check(ctx, s.items as Schema, x, child(at, i)))
      return
    case 'string':
      if (typeof v !== 'string') return ctx.custom ? crTypeError(ctx, at, v, 'string') : decodeTypeError(ctx, at, v, goType(ctx, raw))
      if (s.format === 'byte' && !ctx.custom) {
        const bad = base64ErrorAt(v)
        if (bad !== undefined) ctx.out.push({ at: 'decode', message: `illegal base64 data at input byte ${bad}` })
      }
      return
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return ctx.custom ? crTypeError(ctx, at, v, 'integer') : decodeTypeError(ctx, at, v, goType(ctx, raw))
      // Go's decoder refuses a number its int32 cannot hold
      if (!ctx.custom && s.format !== 'int64' && (v > 2147483647 || v < -2147483648)) decodeTypeError(ctx, at, v, 'int32')
      return
    case 'number':
      if (typeof v !== 'number') return ctx.custom ? crTypeError(ctx, at, v, 'number') : decodeTypeError(ctx, at, v, 'float64')
      return
    case 'boolean':
      if (typeof v !== 'boolean') return ctx.custom ? crTypeError(ctx, at, v, 'boolean') : decodeTypeError(ctx, at, v, 'bool')
      return
  }
  // no type: any JSON (apiextensions' JSON, RawExtension-like values)
}

function checkObject(ctx: Ctx, s: Schema, ref: string | undefined, v: unknown, at: At) {
  if (!isObj(v)) return ctx.custom ? crTypeError(ctx, at, v, 'object') : decodeTypeError(ctx, at, v, goType(ctx, ref ? { $ref: `#/components/schemas/${ref}` } : s))
  const props = isObj(s.properties) ? (s.properties as Record<string, Schema>) : undefined
  const additional = s.additionalProperties
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true
  const embedded = ctx.custom && s['x-kubernetes-embedded-resource'] === true
  const struct = ref ? ref.slice(ref.lastIndexOf('.') + 1) : at.goStruct
  if (embedded) {
    // an embedded object (a template holding a whole object): apiVersion, kind and metadata are implied
    for (const k of ['apiVersion', 'kind'] as const) {
      if (typeof v[k] !== 'string' || v[k] === '') ctx.out.push({ at: 'field', path: fieldPath(child(at, k)), type: 'Required value', detail: 'must not be empty' })
    }
    if (v.metadata !== undefined) checkMetadata(ctx, v.metadata, child(at, 'metadata'))
  }
  for (const r of Array.isArray(s.required) ? (s.required as string[]) : []) {
    if (v[r] === undefined || v[r] === null) ctx.out.push({ at: 'field', path: fieldPath(child(at, r)), type: 'Required value' })
  }
  for (const [k, x] of Object.entries(v)) {
    if (props && k in props) {
      check(ctx, props[k] as Schema, x, child(at, k, { goField: true, goStruct: struct }))
    } else if (isObj(additional)) {
      check(ctx, additional, x, child(at, k, { map: true, goField: !ctx.custom }))
    } else if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) {
      // checked above
    } else if (props || (ctx.custom && !preserve && additional !== true)) {
      // a struct (or a structural schema that does not preserve unknown fields) has no such field
      if (!preserve) ctx.out.push({ at: 'unknown', path: fieldPath(child(at, k)) })
    }
    // else: a free-form object (RawExtension, FieldsV1, preserve-unknown-fields)
  }
}

/** A custom resource's (or embedded object's) metadata: the built-in ObjectMeta. */
function checkMetadata(ctx: Ctx, v: unknown, at: At) {
  const doc = docOf('', 'v1')
  if (!doc) return
  const inner: Ctx = { doc, custom: false, out: [] }
  check(inner, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }, v, { ...at, goFields: ['metadata'], goStruct: 'ObjectMeta' })
  ctx.out.push(...inner.out)
}

/** The value keywords of a structural schema (go-openapi's messages, as the API server prints them). */
function checkCustomKeywords(ctx: Ctx, s: Schema, v: unknown, at: At) {
  const p = fieldPath(at)
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    ctx.out.push({ at: 'field', path: p, type: 'Unsupported value', value: v, detail: `supported values: ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` })
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && (s.exclusiveMinimum === true ? v <= s.minimum : v < s.minimum)) {
      ctx.out.push({ at: 'field', path: p, type: 'Invalid value', value: v, detail: `${p} in body should be greater than ${s.exclusiveMinimum === true ? '' : 'or equal to '}${s.minimum}` })
    }
    if (typeof s.maximum === 'number' && (s.exclusiveMaximum === true ? v >= s.maximum : v > s.maximum)) {
      ctx.out.push({ at: 'field', path: p, type: 'Invalid value', value: v, detail: `${p} in body should be less than ${s.exclusiveMaximum === true ? '' : 'or equal to '}${s.maximum}` })
    }
  }
  if (typeof v === 'string' && typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) {
    ctx.out.push({ at: 'field', path: p, type: 'Invalid value', value: v, detail: `${p} in body should match '${s.pattern}'` })
  }
}

const ROOT: At = { parts: [], mapKey: [], goFields: [], goStruct: '' }

/** A built-in object against its kind's schema; undefined when the documents lack the kind. */
export function checkBuiltin(group: string, version: string, kind: string, obj: Obj): Problem[] | undefined {
  const k = kindSchema(group, version, kind)
  if (!k) return undefined
  const ctx: Ctx = { doc: k.doc, custom: false, out: [] }
  check(ctx, k.doc.schemas[k.name] as Schema, obj, { ...ROOT, goStruct: kind })
  return ctx.out
}

/** A custom resource against its CRD version's openAPIV3Schema (apiVersion, kind and metadata implied). */
export function checkCustom(schema: Schema | undefined, obj: Obj): Problem[] {
  const ctx: Ctx = { doc: undefined, custom: true, out: [] }
  const rest: Obj = { ...obj }
  delete rest.apiVersion
  delete rest.kind
  if (rest.metadata !== undefined) checkMetadata(ctx, rest.metadata, child(ROOT, 'metadata'))
  delete rest.metadata
  // no schema (a v1beta1-era CRD): everything is preserved
  check(ctx, { type: 'object', ...(schema ?? { 'x-kubernetes-preserve-unknown-fields': true }), properties: { ...(isObj(schema?.properties) ? schema.properties : {}) } }, rest, ROOT)
  return ctx.out
}
