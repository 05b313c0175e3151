// Small helpers shared by the kubeadm and kubectl stand-ins: YAML as Kubernetes reads it, values,
// durations, CIDRs. (Process I/O and files are in _io.ts.)
import { randomBytes } from 'node:crypto'
import { dump, loadAll, Schema, timestampTag, YAML11_SCHEMA } from 'js-yaml'
import { clock } from './_clock.ts'

// ---------------------------------------------------------------------------
// YAML as sigs.k8s.io/yaml reads it (YAML 1.1 scalars: yes/no/on/off are
// booleans, 0777 is octal), but timestamps stay strings.

const K8S_YAML = new Schema(YAML11_SCHEMA.tags.filter((t) => t !== timestampTag))

export function loadYamlDocs(text: string): unknown[] {
  return loadAll(text, { schema: K8S_YAML })
}

export function toYaml(value: unknown): string {
  return dump(value, { schema: K8S_YAML, noRefs: true, lineWidth: -1 })
}

// ---------------------------------------------------------------------------
// Values

export type Obj = Record<string, unknown>

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

export const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T))

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined)
    const kb = Object.keys(b).filter((k) => b[k] !== undefined)
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]))
  }
  return false
}

/** obj.a.b.c, or undefined. */
export function dig(obj: unknown, ...keys: (string | number)[]): unknown {
  let cur = obj
  for (const k of keys) {
    if (cur === null || cur === undefined) return undefined
    cur = (cur as Record<string | number, unknown>)[k]
  }
  return cur
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
export const objOr = (v: unknown): Obj => (isObj(v) ? v : {})

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789' // the alphabet of k8s generated name suffixes
export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n)
  return Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join('')
}

export function randomToken(n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
  const bytes = randomBytes(n)
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('')
}

// ---------------------------------------------------------------------------
// Go durations ("1m30s", "15s", "24h0m0s") and kubectl's human durations

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Milliseconds, or undefined when not a Go duration. */
export function parseDuration(s: string): number | undefined {
  if (s === '0') return 0
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s)
  if (!m) return undefined
  let total = 0
  for (const part of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] as string] as number)
  }
  return m[1] === '-' ? -total : total
}

/** Go's time.Duration String(): 24h0m0s, 1m30s, 500ms. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  const totalS = ms / 1000
  const h = Math.floor(totalS / 3600)
  const m = Math.floor((totalS - h * 3600) / 60)
  const s = +(totalS - h * 3600 - m * 60).toFixed(3)
  if (h) return `${h}h${m}m${s}s`
  if (m) return `${m}m${s}s`
  return `${s}s`
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration, as kubectl prints AGE. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 60 * 2) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) {
    const s = seconds % 60
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`
  }
  if (minutes < 60 * 3) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 8) {
    const m = minutes % 60
    return m === 0 ? `${hours}h` : `${hours}h${m}m`
  }
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) {
    const h = hours % 24
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`
  }
  return `${Math.floor(hours / 24 / 365)}y`
}

export const nowIso = () => new Date(Math.floor(clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z')

// ---------------------------------------------------------------------------
// IPv4 and CIDRs

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return undefined
  const parts = m.slice(1).map(Number)
  if (parts.some((n) => n > 255) || m.slice(1).some((x) => x.length > 1 && x.startsWith('0'))) return undefined
  return (((parts[0] as number) << 24) | ((parts[1] as number) << 16) | ((parts[2] as number) << 8) | (parts[3] as number)) >>> 0
}

export const formatIPv4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')

export type Cidr = { base: number; bits: number; text: string }

/** Go's net.ParseCIDR for IPv4 (the base is masked; text is the canonical form). */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s.trim())
  if (!m) return undefined
  const ip = parseIPv4(m[1] as string)
  const bits = Number(m[2])
  if (ip === undefined || bits > 32) return undefined
  const base = (bits === 0 ? 0 : (ip & (~0 << (32 - bits)))) >>> 0
  return { base, bits, text: `${formatIPv4(base)}/${bits}` }
}

export function cidrContains(c: Cidr, ip: number): boolean {
  if (c.bits === 0) return true
  const mask = (~0 << (32 - c.bits)) >>> 0
  return ((ip & mask) >>> 0) === c.base
}

export const cidrsOverlap = (a: Cidr, b: Cidr) => cidrContains(a, b.base) || cidrContains(b, a.base)

/** The i-th subnet of size /bits inside c, or undefined when out of range. */
export function subnet(c: Cidr, bits: number, i: number): string | undefined {
  if (bits < c.bits || bits > 32) return undefined
  const count = 2 ** (bits - c.bits)
  if (i >= count) return undefined
  return `${formatIPv4((c.base + i * 2 ** (32 - bits)) >>> 0)}/${bits}`
}
