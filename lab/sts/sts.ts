// A local STS-compatible endpoint for the lab and the tests: AssumeRole (and GetCallerIdentity) in
// the AWS Query protocol (form-encoded POST, Version=2011-06-15, XML answers shaped like AWS's), on
// 127.0.0.1. It is strict where STS is: every request must be SigV4-signed for service `sts`
// within 15 minutes of its clock, by an access key it issued, and the signature is recomputed with
// that key's secret (./sts-sigv4.ts); errors carry STS's codes, HTTP statuses and wording, so that
// @aws-sdk/client-sts raises the same named exceptions as against AWS.
//
// In-process: `const sts = await startSts({ users, roles })` → { url, close, issued, calls, … }.
// Detached (the lab, ./sts-lab.ts, runs it bundled; by hand: `node --import tsx lab/sts/sts.ts
// --config FILE --port-file FILE [--state-file FILE] [--port N]`): reads users and roles from the
// JSON config (StsConfig), writes the port it listens on to --port-file once it accepts
// connections, and after every request rewrites --state-file (0600) with what it answered and
// every credential it issued. SIGTERM stops it.
import { randomBytes, randomUUID, createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { canonicalHeaderValue, parseAmzDate, parseAuthorization, signatureMatches, formatAmzDate, type WireRequest } from './sts-sigv4.ts'
import { assumeRoleResponse, errorResponse, getCallerIdentityResponse, type IssuedCredentials } from './sts-xml.ts'

export const STS_VERSION = '2011-06-15'
export const MAX_SKEW_MS = 15 * 60_000
export const DEFAULT_ROLE_MAX_SECONDS = 3600
const CHAINING_MAX_SECONDS = 3600
const MAX_BODY = 64 * 1024

/** A key pair the endpoint knows from the start: an IAM user's long-term key, or a session the lab made. */
export type StsUser = {
  accessKeyId: string
  secretAccessKey: string
  /** arn:aws:iam::<account>:user/<name> (or an assumed-role ARN for a session key) */
  arn: string
  /** set for session credentials: the request must carry it as X-Amz-Security-Token */
  sessionToken?: string
  /** the endpoint answers ExpiredToken for this key */
  expired?: boolean
}

export type StsRole = {
  arn: string
  /** the role's MaxSessionDuration, 3600..43200 (IAM's default 3600) */
  maxSessionDuration?: number
}

export type StsOptions = {
  users?: readonly StsUser[]
  roles?: readonly StsRole[]
  /** default 0: a free port */
  port?: number
  /** the endpoint's clock (epoch ms), for expiry and the signature's time window */
  now?: () => number
  /** rewritten (0600) after every request */
  stateFile?: string
}

/** A credential this endpoint issued. Secret values included: tests compare them with what reached the cluster. */
export type IssuedRecord = IssuedCredentials & { roleArn: string; roleSessionName: string; durationSeconds: number; caller: string; issuedAt: number }

/** Every request, answered or refused. */
export type CallRecord = { action: string; status: number; code: string; accessKeyId?: string; roleArn?: string; at: number }

export type StsState = { url: string; requests: number; calls: CallRecord[]; issued: IssuedRecord[] }

export type StsServer = {
  url: string
  port: number
  /** live lists, in order */
  issued: IssuedRecord[]
  calls: CallRecord[]
  /** answer the next `times` authenticated requests with this error (e.g. Throttling) instead */
  failNext: (code: 'Throttling' | 'InternalFailure' | 'ServiceUnavailable', times?: number) => void
  /** add a role, or change its maximum session duration */
  addRole: (role: StsRole) => void
  close: () => Promise<void>
}

// ---------------------------------------------------------------------------
// Values shaped like AWS's

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const randomBase32 = (n: number) => Array.from(randomBytes(n), (b) => BASE32[b % 32]).join('')

/** AKIA… (a user's long-term key) or ASIA… (a session's), 20 characters. */
export const newAccessKeyId = (prefix: 'AKIA' | 'ASIA') => prefix + randomBase32(16)
/** 40 characters of base64, '+' and '/' included, as AWS's secret keys. */
export const newSecretAccessKey = () => randomBytes(30).toString('base64')
/** A long opaque base64 token, as STS's session tokens. */
export const newSessionToken = () => 'IQoJb3JpZ2luX2VjE' + randomBytes(420).toString('base64')

export const ROLE_ARN_RE = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/((?:[\x21-\x7e]+\/)?)([\w+=,.@-]{1,64})$/
const SESSION_NAME_RE = /^[\w+=,.@-]*$/

/** AROA + 17 characters, stable for a role (as IAM's role ids are). */
const roleId = (arn: string) =>
  'AROA' + Array.from(createHash('sha256').update(arn).digest().subarray(0, 17), (b) => BASE32[b % 32]).join('')

// ---------------------------------------------------------------------------
// Errors

class StsFault {
  status: number
  code: string
  message: string
  constructor(status: number, code: string, message: string) {
    this.status = status
    this.code = code
    this.message = message
  }
}
const fault = (status: number, code: string, message: string) => new StsFault(status, code, message)
const invalidToken = () => fault(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
const badSignature = () =>
  fault(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.')
const validation = (problems: string[]) =>
  fault(400, 'ValidationError', `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`)

// ---------------------------------------------------------------------------
// The endpoint

type Caller = { accessKeyId: string; arn: string; session: boolean }
type KnownKey = { secretAccessKey: string; arn: string; sessionToken?: string; expired?: boolean; expiration?: number }

export async function startSts(opts: StsOptions = {}): Promise<StsServer> {
  const now = opts.now ?? Date.now
  const keys = new Map<string, KnownKey>()
  for (const u of opts.users ?? []) keys.set(u.accessKeyId, { ...u })
  const roles = new Map<string, StsRole>()
  for (const r of opts.roles ?? []) roles.set(r.arn, r)
  const issued: IssuedRecord[] = []
  const calls: CallRecord[] = []
  let inject: { code: string; times: number } | undefined
  let url = ''

  const writeState = () => {
    if (!opts.stateFile) return
    const state: StsState = { url, requests: calls.length, calls, issued }
    const tmp = `${opts.stateFile}.tmp`
    fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 })
    fs.renameSync(tmp, opts.stateFile)
  }

  /** Who signed this request: SigV4 checked in STS's order (scope, key, token, expiry, time, signature). */
  function authenticate(req: WireRequest, params: URLSearchParams): Caller {
    const header = canonicalHeaderValue(req.headers, 'authorization')
    if (header === undefined) {
      if (params.has('X-Amz-Algorithm')) throw fault(400, 'IncompleteSignature', 'Presigned (query string) requests are not supported by this endpoint; sign the Authorization header.')
      throw fault(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
    }
    const auth = parseAuthorization(header)
    if ('problem' in auth) throw fault(400, 'IncompleteSignature', `${auth.problem} Authorization=${header.split(' ')[0]}`)
    const amzDate = canonicalHeaderValue(req.headers, 'x-amz-date')
    if (amzDate === undefined) throw fault(400, 'IncompleteSignature', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    const signedAt = parseAmzDate(amzDate)
    if (signedAt === undefined) throw fault(400, 'IncompleteSignature', `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`)
    if (auth.terminator !== 'aws4_request') throw fault(403, 'SignatureDoesNotMatch', `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator}'.`)
    if (auth.service !== 'sts') throw fault(403, 'SignatureDoesNotMatch', "Credential should be scoped to correct service: 'sts'.")
    if (!/^[a-z]{2,}(-[a-z]+)+-\d+$/.test(auth.region)) throw fault(403, 'SignatureDoesNotMatch', 'Credential should be scoped to a valid region.')
    if (auth.date !== amzDate.slice(0, 8)) {
      throw fault(403, 'SignatureDoesNotMatch', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`)
    }
    if (!auth.signedHeaders.includes('host')) throw fault(403, 'SignatureDoesNotMatch', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")

    const key = keys.get(auth.accessKeyId)
    if (!key) throw invalidToken()
    const token = canonicalHeaderValue(req.headers, 'x-amz-security-token')
    if (key.sessionToken !== token) throw invalidToken()
    if (key.expired || (key.expiration !== undefined && key.expiration <= now())) {
      throw fault(400, 'ExpiredToken', 'The security token included in the request is expired')
    }
    const t = now()
    if (signedAt < t - MAX_SKEW_MS) {
      throw fault(403, 'SignatureDoesNotMatch', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(t - MAX_SKEW_MS)} (${formatAmzDate(t)} - 15 min.)`)
    }
    if (signedAt > t + MAX_SKEW_MS) {
      throw fault(403, 'SignatureDoesNotMatch', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(t + MAX_SKEW_MS)} (${formatAmzDate(t)} + 15 min.)`)
    }
    if (!signatureMatches(key.secretAccessKey, amzDate, auth, req)) throw badSignature()
    return { accessKeyId: auth.accessKeyId, arn: key.arn, session: key.sessionToken !== undefined }
  }

  function assumeRole(caller: Caller, params: URLSearchParams, requestId: string): string {
    const roleArn = params.get('RoleArn')
    const sessionName = params.get('RoleSessionName')
    const durationText = params.get('DurationSeconds')
    const problems: string[] = []
    if (roleArn === null) problems.push("Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
    else if (roleArn.length < 20) problems.push(`Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`)
    else if (roleArn.length > 2048) problems.push(`Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048`)
    if (sessionName === null) problems.push("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
    else {
      if (!SESSION_NAME_RE.test(sessionName)) problems.push(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`)
      if (sessionName.length < 2) problems.push(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2`)
      if (sessionName.length > 64) problems.push(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`)
    }
    let duration = DEFAULT_ROLE_MAX_SECONDS
    if (durationText !== null) {
      if (!/^-?\d+$/.test(durationText)) problems.push(`Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must be a valid integer`)
      else {
        duration = Number(durationText)
        if (duration < 900) problems.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`)
        if (duration > 43200) problems.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`)
      }
    }
    if (problems.length) throw validation(problems)
    const arn = roleArn as string
    const m = ROLE_ARN_RE.exec(arn)
    if (!m) throw fault(400, 'ValidationError', 'Request ARN is invalid')
    const role = roles.get(arn)
    if (!role) throw fault(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`)
    if (caller.session && duration > CHAINING_MAX_SECONDS) {
      throw fault(400, 'ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.')
    }
    if (duration > (role.maxSessionDuration ?? DEFAULT_ROLE_MAX_SECONDS)) {
      throw fault(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.')
    }

    const t = now()
    const creds: IssuedCredentials = {
      accessKeyId: newAccessKeyId('ASIA'),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: newSessionToken(),
      // STS reports whole seconds
      expiration: Math.floor(t / 1000) * 1000 + duration * 1000,
    }
    const [, partition, account, , roleName] = m as unknown as [string, string, string, string, string]
    const user = {
      assumedRoleId: `${roleId(arn)}:${sessionName}`,
      arn: `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`,
    }
    keys.set(creds.accessKeyId, { secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken, arn: user.arn, expiration: creds.expiration })
    issued.push({ ...creds, roleArn: arn, roleSessionName: sessionName as string, durationSeconds: duration, caller: caller.arn, issuedAt: t })
    return assumeRoleResponse(creds, user, requestId)
  }

  function callerIdentity(caller: Caller, requestId: string): string {
    const account = /^arn:[^:]+:[^:]+::(\d{12}):/.exec(caller.arn)?.[1] ?? ''
    const assumed = /:assumed-role\/([^/]+)\/(.+)$/.exec(caller.arn)
    const userId = assumed ? `${roleId(`arn:aws:iam::${account}:role/${assumed[1]}`)}:${assumed[2]}` : caller.accessKeyId
    return getCallerIdentityResponse({ arn: caller.arn, userId, account }, requestId)
  }

  /** One request: authenticate, then the action; every refusal is an StsFault. */
  function answer(req: WireRequest): { status: number; body: string; requestId: string; record: Omit<CallRecord, 'at'> } {
    const requestId = randomUUID()
    const q = req.target.indexOf('?')
    const params = new URLSearchParams(q < 0 ? '' : req.target.slice(q + 1))
    const contentType = canonicalHeaderValue(req.headers, 'content-type') ?? ''
    if (req.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v)
    }
    const action = params.get('Action') ?? ''
    let accessKeyId: string | undefined
    try {
      if (req.method !== 'POST' && req.method !== 'GET') throw fault(405, 'InvalidAction', `Method ${req.method} is not allowed; use POST.`)
      const caller = authenticate(req, params)
      accessKeyId = caller.accessKeyId
      if (inject && inject.times > 0) {
        inject.times--
        const code = inject.code
        if (code === 'Throttling') throw fault(400, 'Throttling', 'Rate exceeded')
        if (code === 'ServiceUnavailable') throw fault(503, 'ServiceUnavailable', 'Service is unavailable. Please try again later.')
        throw fault(500, 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.')
      }
      const version = params.get('Version')
      if (!action) throw fault(400, 'MissingAction', 'Missing Action')
      if (version !== STS_VERSION || (action !== 'AssumeRole' && action !== 'GetCallerIdentity')) {
        throw fault(400, 'InvalidAction', `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`)
      }
      const body = action === 'AssumeRole' ? assumeRole(caller, params, requestId) : callerIdentity(caller, requestId)
      return { status: 200, body, requestId, record: { action, status: 200, code: 'OK', accessKeyId, roleArn: params.get('RoleArn') ?? undefined } }
    } catch (e) {
      let f = e
      if (!(f instanceof StsFault)) {
        process.stderr.write(`sts: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`) // a bug here: answered as STS would
        f = fault(500, 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.')
      }
      const { status, code, message } = f as StsFault
      const body = errorResponse(status >= 500 ? 'Receiver' : 'Sender', code, message, requestId)
      return { status, body, requestId, record: { action, status, code, accessKeyId, roleArn: params.get('RoleArn') ?? undefined } }
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY) chunks.push(c)
    })
    req.on('end', () => {
      const headers: [string, string][] = []
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string])
      const wire: WireRequest = { method: req.method ?? 'GET', target: req.url ?? '/', headers, body: Buffer.concat(chunks) }
      const tooLarge = () => {
        const requestId = randomUUID()
        return { status: 413, requestId, body: errorResponse('Sender', 'RequestEntityTooLarge', 'Request body too large', requestId), record: { action: '', status: 413, code: 'RequestEntityTooLarge' } }
      }
      const { status, body, requestId, record } = size > MAX_BODY ? tooLarge() : answer(wire)
      calls.push({ ...record, at: now() })
      try {
        writeState()
      } catch (e) {
        process.stderr.write(`sts: cannot write the state file: ${(e as Error).message}\n`)
      }
      res.writeHead(status, {
        'Content-Type': 'text/xml',
        'Content-Length': Buffer.byteLength(body),
        'x-amzn-RequestId': requestId,
        // the SDK corrects its clock from this header (on a skew error): it must be this endpoint's clock
        Date: new Date(now()).toUTCString(),
      })
      res.end(body)
    })
  })
  server.keepAliveTimeout = 5000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  url = `http://127.0.0.1:${port}`
  writeState()
  return {
    url,
    port,
    issued,
    calls,
    failNext: (code, times = 1) => {
      inject = { code, times }
    },
    addRole: (role) => void roles.set(role.arn, role),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** The state a detached endpoint wrote (for tests: what it issued, how many requests it answered). */
export function readStsState(file: string): StsState {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as StsState
}

// ---------------------------------------------------------------------------
// Detached mode

/** The JSON --config file: the keys and roles the endpoint knows. */
export type StsConfig = { users: StsUser[]; roles: StsRole[] }

export const STS_SCRIPT = fileURLToPath(import.meta.url)

function parseArgs(argv: string[]): { config: string; portFile: string; stateFile?: string; port: number } {
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (!['--config', '--port-file', '--state-file', '--port'].includes(a) || argv[i + 1] === undefined) {
      throw new Error(`usage: sts.ts --config FILE --port-file FILE [--state-file FILE] [--port N] (bad argument: ${a})`)
    }
    out[a.slice(2)] = argv[++i] as string
  }
  if (!out.config || !out['port-file']) throw new Error('sts: --config and --port-file are required')
  return { config: out.config, portFile: out['port-file'], stateFile: out['state-file'], port: Number(out.port ?? 0) }
}

async function main(argv: string[]) {
  const args = parseArgs(argv)
  const config = JSON.parse(fs.readFileSync(args.config, 'utf8')) as StsConfig
  const sts = await startSts({ users: config.users, roles: config.roles, port: args.port, stateFile: args.stateFile })
  const tmp = `${args.portFile}.tmp`
  fs.writeFileSync(tmp, `${sts.port}\n`, { mode: 0o644 })
  fs.renameSync(tmp, args.portFile) // readers never see a partial file
  const stop = () => void sts.close().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

if (process.argv[1] && path.resolve(process.argv[1]) === STS_SCRIPT) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`sts: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  })
}
