// AWS Signature Version 4, the server side: parse the Authorization header, rebuild the canonical
// request from what arrived on the wire, and recompute the signature with the caller's secret key.
// Written from the SigV4 spec (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
// independently of the SDK's signer, so that the lab's STS endpoint checks the SDK's real requests.
// Pure: no I/O.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const ALGORITHM = 'AWS4-HMAC-SHA256'

/** A request as it arrived: method, the raw request target (path?query), raw header pairs, body. */
export type WireRequest = {
  method: string
  target: string
  /** name/value pairs in arrival order (Node's req.rawHeaders, paired) */
  headers: readonly (readonly [string, string])[]
  body: Buffer
}

export type Authorization = {
  accessKeyId: string
  /** YYYYMMDD from the credential scope */
  date: string
  region: string
  service: string
  terminator: string
  signedHeaders: string[]
  signature: string
}

/** Parse `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseAuthorization(value: string): Authorization | { problem: string } {
  const space = value.indexOf(' ')
  const algorithm = space < 0 ? value : value.slice(0, space)
  if (algorithm !== ALGORITHM) return { problem: `Unsupported AWS 'algorithm': '${algorithm}'.` }
  const fields = new Map<string, string>()
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !fields.get(k))
  if (missing.length) return { problem: missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' ') }
  const scope = (fields.get('Credential') as string).split('/')
  if (scope.length !== 5 || scope.some((s) => s === '')) {
    return { problem: `Authorization header has a malformed 'Credential' parameter: expected AccessKeyId/YYYYMMDD/region/service/aws4_request.` }
  }
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string]
  const signature = fields.get('Signature') as string
  if (!/^[0-9a-f]{64}$/.test(signature)) return { problem: `Authorization header has a malformed 'Signature' parameter: expected 64 lowercase hex digits.` }
  const signedHeaders = (fields.get('SignedHeaders') as string).split(';')
  return { accessKeyId, date, region, service, terminator, signedHeaders, signature }
}

/** RFC 3986 percent-encoding, as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'))
  } catch {
    return s
  }
}

/**
 * The canonical URI: the path normalised (empty and `.` segments dropped, `..` applied), then
 * each segment URI-encoded again (every service but S3 encodes the already-encoded path twice).
 */
export function canonicalUri(rawPath: string): string {
  const segments: string[] = []
  for (const seg of rawPath.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') segments.pop()
    else segments.push(uriEncode(seg))
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : ''
  return `/${segments.join('/')}${trailing}`
}

/** The canonical query string: every parameter decoded, re-encoded, sorted by name then value. */
export function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return ''
  return rawQuery
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const eq = kv.indexOf('=')
      const k = eq < 0 ? kv : kv.slice(0, eq)
      const v = eq < 0 ? '' : kv.slice(eq + 1)
      return [uriEncode(decode(k)), uriEncode(decode(v))] as const
    })
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/** Values of one header, in arrival order, trimmed with inner runs of spaces collapsed, joined by commas. */
export function canonicalHeaderValue(headers: WireRequest['headers'], name: string): string | undefined {
  const values = headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.trim().replace(/\s+/g, ' '))
  return values.length ? values.join(',') : undefined
}

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

/** The canonical request (spec, task 1) for the headers the client says it signed. */
export function canonicalRequest(req: WireRequest, signedHeaders: readonly string[]): string {
  const q = req.target.indexOf('?')
  const rawPath = q < 0 ? req.target : req.target.slice(0, q)
  const rawQuery = q < 0 ? '' : req.target.slice(q + 1)
  const headerLines = signedHeaders.map((h) => `${h}:${canonicalHeaderValue(req.headers, h) ?? ''}\n`).join('')
  return [req.method.toUpperCase(), canonicalUri(rawPath), canonicalQuery(rawQuery), headerLines, signedHeaders.join(';'), sha256Hex(req.body)].join('\n')
}

export const credentialScope = (a: Pick<Authorization, 'date' | 'region' | 'service' | 'terminator'>) =>
  `${a.date}/${a.region}/${a.service}/${a.terminator}`

/** The string to sign (spec, task 2). */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n')
}

/** The signing key (spec, task 3): HMAC chain over date, region, service, terminator. */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string, terminator = 'aws4_request'): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), terminator)
}

/** The signature (spec, task 4), lowercase hex. */
export function signature(secretAccessKey: string, amzDate: string, auth: Omit<Authorization, 'accessKeyId' | 'signature'>, req: WireRequest): string {
  const canonical = canonicalRequest(req, auth.signedHeaders)
  const key = signingKey(secretAccessKey, auth.date, auth.region, auth.service, auth.terminator)
  return createHmac('sha256', key).update(stringToSign(amzDate, credentialScope(auth), canonical)).digest('hex')
}

/** Constant-time comparison of the signature the client sent with the one recomputed here. */
export function signatureMatches(secretAccessKey: string, amzDate: string, auth: Authorization, req: WireRequest): boolean {
  const expected = Buffer.from(signature(secretAccessKey, amzDate, auth, req), 'hex')
  const got = Buffer.from(auth.signature, 'hex')
  return got.length === expected.length && timingSafeEqual(got, expected)
}

/** `20150830T123600Z` → epoch ms, or undefined when it is not ISO 8601 basic format. */
export function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (!m) return undefined
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[]
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, se!)
  return Number.isNaN(ms) ? undefined : ms
}

/** epoch ms → `20150830T123600Z` */
export const formatAmzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
