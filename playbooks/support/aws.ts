// AWS session credentials for the Ray pods (issue #4): the `aws:` vars checked, the role to assume,
// STS AssumeRole through the AWS SDK, and the two forms the credentials are handed on in (a
// `docker run --env-file` list and the Kubernetes Secret `session-token`).
//
//   validateAwsVars(aws, inventoryFile) → AwsVars          bad input → InventoryError naming aws.<key>
//   awsVarProblems(aws) → Problem[]                         every problem at once, pure
//   resolveRoleArn(aws, inventoryDir, inventoryFile?) → arn aws.role_arn, else line 1 of aws.iamroles_file
//   noRoleReason(aws, inventoryDir) → why none is set     no role_arn and no iamroles.txt: AWS is left out
//   assumeRole(aws, roleArn, opts?) → SessionCredentials   every failure → one AwsError saying what to do
//   envListText(creds) / sessionSecret(creds, namespace)   pure
//   needsRefresh(expiresAtIso, marginSeconds, now)          pure
//
// Which credentials call STS: the SDK's default chain (defaultProvider), given aws.profile and
// aws.credentials_file when set. With a profile set, the SDK itself skips the environment's
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, so stale session variables left
// in the shell (what the original script `unset` first) cannot override the profile; process.env
// is never changed. We also insist that the keys really came from that profile, so a misspelt
// profile fails instead of quietly falling through to an instance role.
//
// The SDK warns once per process, on Node 20, that SDK releases after January 2027 will need Node
// 22: not actionable here (package-lock pins the SDK), so assumeRole turns it off through the
// SDK's own switch unless the user set it (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InventoryError } from '../../lib/errors.ts'
import { showJson } from '../../lib/yaml.ts'
import { closestNames } from '../../lib/suggest.ts'
import { throwProblems, type Problem } from './problems.ts'

/** The `aws:` block's defaults (clusterDefaults.aws). Files are relative to the inventory's directory. */
export const awsDefaults = {
  role_arn: '', // empty: the first line of iamroles_file
  iamroles_file: 'iamroles.txt',
  session_name: 'zxplay',
  duration_seconds: 3600, // STS allows 900 up to the role's maximum (at most 43200)
  refresh_margin_seconds: 600, // assume the role again when less than this is left
  region: 'us-east-1',
  profile: '', // empty: the SDK's default chain (env, ~/.aws, SSO, instance role…)
  credentials_file: '', // empty: ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE)
  endpoint: '', // empty: AWS's regional STS endpoint; else e.g. a local STS-compatible endpoint
  allow_http_endpoint: false, // plain http:// to an endpoint other than this machine (credentials unencrypted)
  env_file: 'env.list', // docker --env-file copy of the session credentials
}

export type AwsVars = typeof awsDefaults

export type SessionCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date }

/** The Secret the Ray pods read (envFrom and /etc/awstoken), its keys, and the annotation saying when the values expire. */
export const SESSION_SECRET = 'session-token'
export const EXPIRES_AT_ANNOTATION = 'zxplay.io/expires-at'

export const ROLE_ARN_FORM = 'arn:aws:iam::<12 digits>:role/<name> (or role/<path>/<name>)'
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\x21-\x7e]+\/)?[\w+=,.@-]{1,64}$/
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/
const STS_MAX_SECONDS = 43200

// ---------------------------------------------------------------------------
// Vars

/**
 * Check the `aws:` block (after the defaults were merged in; missing keys take the defaults) and
 * return it typed. `where` is the inventory file, named in the error with the key, e.g.
 * `inventory.yaml: aws.duration_seconds: expected an integer from 900 to 43200 …, got 60`;
 * every problem of the block is listed, one per line.
 */
export function validateAwsVars(vars: unknown, where: string): AwsVars {
  throwProblems(where, awsVarProblems(vars))
  return { ...awsDefaults, ...(vars as object) } as AwsVars
}

/** Every problem of the `aws:` block, each naming aws.<key>. Pure. */
export function awsVarProblems(vars: unknown): Problem[] {
  const out: Problem[] = []
  const fail = (key: string, message: string) => void out.push({ key: key ? `aws.${key}` : 'aws', message })
  if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) {
    fail('', `expected a map of AWS settings, got ${show(vars)}`)
    return out
  }
  const given = vars as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(key in awsDefaults)) {
      const near = closestNames(key, Object.keys(awsDefaults))
      fail(key, `unknown key${near.length ? ` (did you mean aws.${near[0]}?)` : ''}; known: ${Object.keys(awsDefaults).join(', ')}`)
    }
  }
  const v = { ...awsDefaults, ...given } as Record<string, unknown>
  const strings = ['role_arn', 'iamroles_file', 'session_name', 'region', 'profile', 'credentials_file', 'endpoint', 'env_file'] as const
  for (const key of strings) {
    if (typeof v[key] !== 'string') fail(key, `expected a string, got ${show(v[key])}`)
  }
  // A key that is not a string was reported above; the checks below read it as ''.
  const s = Object.fromEntries(strings.map((k) => [k, typeof v[k] === 'string' ? v[k] : ''])) as Record<(typeof strings)[number], string>
  const duration = v.duration_seconds
  if (!isInt(duration) || duration < 900 || duration > STS_MAX_SECONDS) {
    fail('duration_seconds', `expected an integer from 900 to ${STS_MAX_SECONDS} (seconds; STS's limits, and no more than the role's maximum session duration), got ${show(duration)}`)
  }
  const margin = v.refresh_margin_seconds
  if (!isInt(margin) || margin < 0 || margin >= (duration as number)) {
    fail('refresh_margin_seconds', `expected an integer from 0 to less than aws.duration_seconds (${duration as number}), got ${show(margin)}`)
  }
  if (typeof v.session_name === 'string' && !SESSION_NAME.test(s.session_name)) {
    fail('session_name', `expected 2 to 64 characters of letters, digits and + = , . @ _ - (STS's RoleSessionName), got ${show(s.session_name)}`)
  }
  if (typeof v.region === 'string' && !/^[a-z]{2,}(-[a-z]+)+-\d+$/.test(s.region)) fail('region', `expected an AWS region like us-east-1, got ${show(s.region)}`)
  if (s.role_arn && !ROLE_ARN.test(s.role_arn)) fail('role_arn', `expected an IAM role ARN, ${ROLE_ARN_FORM}, got ${show(s.role_arn)}`)
  if (typeof v.role_arn === 'string' && typeof v.iamroles_file === 'string' && !s.role_arn && !s.iamroles_file) fail('iamroles_file', 'expected a file name when aws.role_arn is empty (the role ARN is read from its first line)')
  if (typeof v.allow_http_endpoint !== 'boolean') fail('allow_http_endpoint', `expected true or false, got ${show(v.allow_http_endpoint)}`)
  if (s.endpoint && !isHttpUrl(s.endpoint)) fail('endpoint', `expected an http:// or https:// URL like http://127.0.0.1:4566, got ${show(s.endpoint)}`)
  else if (s.endpoint && new URL(s.endpoint).protocol === 'http:' && !isLoopback(new URL(s.endpoint).hostname) && v.allow_http_endpoint !== true) {
    fail('endpoint', `expected an https:// URL (STS answers with credentials); plain http:// only to this machine (127.0.0.1, ::1, localhost) or with aws.allow_http_endpoint: true, got ${show(s.endpoint)}`)
  }
  if (typeof v.env_file === 'string' && !s.env_file) fail('env_file', 'expected a file name')
  return out
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x)
const show = showJson

/** This machine: the loopback addresses, by the URL's host name (as WHATWG URL normalises it). */
const isLoopback = (h: string) => h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {
    return false
  }
}

/** A path from the vars: `~/` is the home folder, a relative one is relative to the inventory's directory. */
export function awsPath(file: string, inventoryDir: string): string {
  if (file === '~' || file.startsWith('~/')) return path.join(os.homedir(), file.slice(1))
  return path.resolve(inventoryDir, file)
}

// ---------------------------------------------------------------------------
// The role

/**
 * Why no role is configured, or undefined when one is. None is when aws.role_arn is empty and the
 * default iamroles.txt does not exist: then the AWS step is left out (a dev cluster, Ray without
 * S3). A file named other than the default, or one that exists, is a configured role that
 * resolveRoleArn must read.
 */
export function noRoleReason(vars: Pick<AwsVars, 'role_arn' | 'iamroles_file'>, inventoryDir: string): string | undefined {
  if (vars.role_arn || vars.iamroles_file !== awsDefaults.iamroles_file) return undefined
  const file = awsPath(vars.iamroles_file, inventoryDir)
  try {
    fs.lstatSync(file)
    return undefined
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined // there, but unreadable: resolveRoleArn says why
  }
  return `no AWS role configured: aws.role_arn is empty and ${file} does not exist, so the Ray pods get no AWS credentials; to add them, put the role ARN on the first line of ${file} or set aws.role_arn`
}

/**
 * The role to assume: aws.role_arn when set, else the first line of aws.iamroles_file (relative to
 * the inventory's directory; the original project's iamroles.txt). Reads that file and nothing else.
 * A missing file or a malformed ARN is an InventoryError naming the file and line, or the key.
 */
export function resolveRoleArn(vars: Pick<AwsVars, 'role_arn' | 'iamroles_file'>, inventoryDir: string, where = 'the inventory'): string {
  if (vars.role_arn) {
    if (!ROLE_ARN.test(vars.role_arn)) throw new InventoryError(where, 'aws.role_arn', `expected an IAM role ARN, ${ROLE_ARN_FORM}, got ${show(vars.role_arn)}`)
    return vars.role_arn
  }
  if (!vars.iamroles_file) throw new InventoryError(where, 'aws.iamroles_file', 'expected a file holding the role ARN on its first line, or set aws.role_arn')
  const file = awsPath(vars.iamroles_file, inventoryDir)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code ?? e)
    throw new InventoryError(where, 'aws.iamroles_file', `cannot read ${file} (${why}): put the role ARN on its first line, or set aws.role_arn`)
  }
  const first = (text.split('\n')[0] ?? '').replace(/\r$/, '').trim()
  if (!first) throw new InventoryError(file, 'line 1', `expected the role ARN to assume, ${ROLE_ARN_FORM}; the line is empty (this file is aws.iamroles_file)`)
  if (!ROLE_ARN.test(first)) throw new InventoryError(file, 'line 1', `expected an IAM role ARN, ${ROLE_ARN_FORM}, got ${show(first)} (this file is aws.iamroles_file)`)
  return first
}

// ---------------------------------------------------------------------------
// STS

export type AwsErrorKind =
  | 'no-credentials'
  | 'access-denied'
  | 'expired-token'
  | 'invalid-key'
  | 'bad-signature'
  | 'clock-skew'
  | 'unreachable'
  | 'throttled'
  | 'invalid-request'
  | 'failed'

/** Why STS gave no credentials, and what to do about it. Never holds a secret value. */
export class AwsError extends Error {
  override name = 'AwsError'
  kind: AwsErrorKind
  /** STS's error code (AccessDenied…) or the network error's (ECONNREFUSED…) */
  code: string
  constructor(kind: AwsErrorKind, code: string, message: string) {
    super(message)
    this.kind = kind
    this.code = code
  }
}

export type AssumeRoleOptions = {
  /** where a relative aws.credentials_file is (the inventory's directory); default the working directory */
  inventoryDir?: string
  /** the whole call, credentials lookup and retries included; default 10 000 */
  timeoutMs?: number
  /** STS attempts (retries on throttling, 5xx and network errors, with backoff); default 3 */
  maxAttempts?: number
  /** a note for the user (e.g. that environment credentials are ignored) */
  log?: (line: string) => void
}

/**
 * Assume `roleArn` for aws.duration_seconds as aws.session_name, and return the session's
 * credentials. Bounded: each connection attempt 3 s, each answer 5 s, the whole call opts.timeoutMs.
 */
export async function assumeRole(vars: AwsVars, roleArn: string, opts: AssumeRoleOptions = {}): Promise<SessionCredentials> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  // Loaded only when a role is assumed: a converged run never pays for the SDK.
  const [{ AssumeRoleCommand, STSClient }, { defaultProvider }] = await Promise.all([import('@aws-sdk/client-sts'), import('@aws-sdk/credential-provider-node')])
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const credentialsFile = vars.credentials_file ? awsPath(vars.credentials_file, opts.inventoryDir ?? process.cwd()) : undefined
  const source = credentialSource(vars.profile, credentialsFile)
  // for messages: where the SDK sends the call (it honours AWS_ENDPOINT_URL[_STS] when aws.endpoint is empty)
  const endpoint = vars.endpoint || process.env.AWS_ENDPOINT_URL_STS || process.env.AWS_ENDPOINT_URL || `https://sts.${vars.region}.amazonaws.com`
  const envKeys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'].filter((k) => process.env[k])
  if (vars.profile && envKeys.length) opts.log?.(`${envKeys.join(', ')} in the environment ignored: aws.profile '${vars.profile}' is used`)
  // The resolved keys, so that no error message can ever repeat them.
  const secrets: string[] = []
  const chain = defaultProvider({
    ...(vars.profile ? { profile: vars.profile } : {}),
    ...(credentialsFile ? { filepath: credentialsFile } : {}),
    timeout: 1000, // the instance-metadata link, last in the chain
    maxRetries: 0,
    logger: quietLogger, // its multiple-sources warning is replaced by the log line above
  })
  let callerKey = ''
  const credentials = async () => {
    let c
    try {
      c = await chain()
    } catch (e) {
      throw new AwsError('no-credentials', 'CredentialsProviderError', noCredentialsMessage(source, e))
    }
    secrets.push(c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : []))
    callerKey = c.accessKeyId
    const from = Object.keys((c as { $source?: Record<string, string> }).$source ?? {})
    if (vars.profile && !from.some((f) => f.startsWith('CREDENTIALS_PROFILE') || f === 'CREDENTIALS_PROCESS')) {
      throw new AwsError('no-credentials', 'CredentialsProviderError', noCredentialsMessage(source, new Error(`the keys came from ${from.join(', ') || 'another source'}, not from the profile`)))
    }
    return c
  }

  const client = new STSClient({
    region: vars.region,
    ...(vars.endpoint ? { endpoint: vars.endpoint } : {}),
    credentials,
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 5000, throwOnRequestTimeout: true },
    logger: quietLogger,
  })
  try {
    const out = await client.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: vars.session_name, DurationSeconds: vars.duration_seconds }),
      { abortSignal: AbortSignal.timeout(timeoutMs) }
    )
    const c = out.Credentials
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date)) {
      throw new AwsError('failed', 'IncompleteResponse', `STS at ${endpoint} answered AssumeRole of ${roleArn} without complete credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration)`)
    }
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration }
  } catch (e) {
    const err = e instanceof AwsError ? e : explain(e, { roleArn, endpoint, source, callerKey, timeoutMs })
    err.message = redact(err.message, secrets)
    throw err
  } finally {
    client.destroy()
  }
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} }

type Source = { profile: string; file: string; explicit: boolean }

function credentialSource(profile: string, credentialsFile: string | undefined): Source {
  const file = credentialsFile ?? process.env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(os.homedir(), '.aws', 'credentials')
  return { profile: profile || process.env.AWS_PROFILE || 'default', file, explicit: profile !== '' }
}

const describeSource = (s: Source) => `profile '${s.profile}' in ${s.file}`

function noCredentialsMessage(s: Source, cause: unknown): string {
  const exists = fs.existsSync(s.file)
  const where = exists ? `${s.file} has no usable [${s.profile}] entry (aws_access_key_id and aws_secret_access_key)` : `${s.file} does not exist`
  const looked = s.explicit
    ? `profile '${s.profile}' (aws.profile) in ${s.file}`
    : `the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), profile '${s.profile}' in ${s.file} and ~/.aws/config, and the instance metadata`
  const detail = cause instanceof Error && cause.message ? ` (${cause.message.split('\n')[0]})` : ''
  return (
    `no AWS credentials to call STS with: looked at ${looked}; ${where}${detail}. ` +
    `Add the keys under [${s.profile}] in that file (aws configure --profile ${s.profile}), or set aws.profile / aws.credentials_file to where they are`
  )
}

/** Show an access key id only as AKIA…WXYZ. */
const maskKey = (k: string) => (k.length > 8 ? `${k.slice(0, 4)}…${k.slice(-4)}` : '…')

function redact(message: string, secrets: readonly string[]): string {
  let out = message
  // (a value this short could only be a typo'd key, and hiding it would garble the words around it)
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('***')
  return out.replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, (k) => maskKey(k))
}

type Ctx = { roleArn: string; endpoint: string; source: Source; callerKey: string; timeoutMs: number }

/** One SDK or network error → one AwsError: what happened, and what to do. */
function explain(e: unknown, c: Ctx): AwsError {
  const err = (e ?? {}) as { name?: string; code?: string; message?: string; errno?: string; $metadata?: { attempts?: number; httpStatusCode?: number }; cause?: { code?: string } }
  const code = err.name ?? 'Error'
  const serverMessage = (err.message ?? '').split('\n')[0] ?? ''
  const who = `${describeSource(c.source)}${c.callerKey ? `, access key ${maskKey(c.callerKey)}` : ''}`
  const attempts = err.$metadata?.attempts
  const status = err.$metadata?.httpStatusCode

  switch (code) {
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new AwsError('access-denied', code, `STS refused to let ${who} assume ${c.roleArn} (AccessDenied: ${serverMessage}). Check aws.role_arn (or the first line of aws.iamroles_file), and that the role's trust policy allows this user`)
    case 'ExpiredToken':
    case 'ExpiredTokenException':
    case 'RequestExpired':
      return new AwsError('expired-token', code, `the credentials used to call STS (${who}) are expired (${code}). Renew them (new keys, or a fresh session for that profile) and run again`)
    case 'InvalidClientTokenId':
    case 'UnrecognizedClientException':
      return new AwsError('invalid-key', code, `STS does not know the access key of ${who} (${code}: the key was deleted, mistyped, or belongs to another account or endpoint). Fix aws_access_key_id (and aws_session_token) in that profile`)
    case 'SignatureDoesNotMatch':
    case 'IncompleteSignature':
      if (/Signature (expired|not yet current)/.test(serverMessage)) {
        return new AwsError('clock-skew', code, `STS rejected the request's time (${serverMessage}): this machine's clock is off by more than 15 minutes. Set the clock right (e.g. timedatectl set-ntp true) and run again`)
      }
      return new AwsError('bad-signature', code, `STS says the request's signature does not match (${code}): the secret key of ${who} is not the one that belongs to its access key. Fix aws_secret_access_key in that profile`)
    case 'Throttling':
    case 'ThrottlingException':
    case 'TooManyRequestsException':
    case 'RequestLimitExceeded':
      return new AwsError('throttled', code, `STS at ${c.endpoint} throttled AssumeRole (${code}: ${serverMessage}) after ${attempts ?? 1} attempt(s). Wait a minute and run again`)
    case 'ValidationError':
    case 'MalformedPolicyDocument':
    case 'MalformedPolicyDocumentException':
      return new AwsError('invalid-request', code, `STS rejected AssumeRole of ${c.roleArn} (${code}: ${serverMessage}). ${validationHint(serverMessage)}`)
    case 'RegionDisabledException':
      return new AwsError('failed', code, `STS is not activated in ${c.endpoint}'s region (${code}). Activate it for the account in IAM, or set aws.region to an active region`)
  }
  // Network: refused, reset, DNS, a timeout, or our own time limit.
  const netCode = err.code ?? err.errno ?? err.cause?.code
  if (code === 'AbortError' || code === 'TimeoutError' || (netCode && /^E[A-Z]+$/.test(netCode)) || code === 'RequestTimeout') {
    const what = code === 'AbortError' ? `no answer within ${c.timeoutMs / 1000} s` : (netCode ?? code)
    const local = /^https?:\/\/(127\.|localhost[:/]|\[::1\])/.test(c.endpoint) ? ' (a local endpoint: is it running? for the lab, npm run lab:up)' : ''
    return new AwsError('unreachable', netCode ?? code, `cannot reach STS at ${c.endpoint} (${what}${attempts ? `, ${attempts} attempt(s)` : ''}). Check aws.endpoint and aws.region, the network and any proxy${local}`)
  }
  return new AwsError('failed', code, `STS AssumeRole of ${c.roleArn} at ${c.endpoint} failed (${code}${status ? `, HTTP ${status}` : ''}: ${serverMessage})`)
}

function validationHint(message: string): string {
  if (/DurationSeconds|durationSeconds/.test(message)) return 'Lower aws.duration_seconds to at most the role\'s maximum session duration (1 hour when the caller is itself an assumed role), or raise the role\'s MaxSessionDuration'
  if (/roleSessionName/.test(message)) return 'Fix aws.session_name: 2 to 64 characters of letters, digits and + = , . @ _ -'
  if (/ARN|roleArn/.test(message)) return `Fix the role ARN (aws.role_arn or aws.iamroles_file): ${ROLE_ARN_FORM}`
  return 'Check the aws: settings'
}

// ---------------------------------------------------------------------------
// Handing the credentials on (pure)

/** The `docker run --env-file` form: KEY=value lines, values taken literally (so no quotes). */
export function envListText(creds: SessionCredentials): string {
  return (
    Object.entries(secretValues(creds))
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  )
}

/** The Secret ray pods read: v1 Opaque `session-token`, stringData with the three keys, expiry annotated. */
export function sessionSecret(creds: SessionCredentials, namespace: string) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SESSION_SECRET, namespace, annotations: { [EXPIRES_AT_ANNOTATION]: creds.expiration.toISOString() } },
    type: 'Opaque',
    stringData: secretValues(creds),
  }
}

function secretValues(creds: SessionCredentials) {
  const values = {
    AWS_ACCESS_KEY_ID_SESS: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY_SESS: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken,
  }
  for (const [k, v] of Object.entries(values)) {
    // an env file is line-based and docker takes values literally: a line break would split the value
    if (!v || /[\r\n\0]/.test(v)) throw new Error(`${k}: STS returned an empty value or one with a line break; refusing to write it`)
  }
  return values
}

/**
 * True when credentials expiring at `expiresAtIso` should be renewed now: unknown or unreadable
 * expiry, or no more than `marginSeconds` left (exactly the margin left counts as due).
 */
export function needsRefresh(expiresAtIso: string | undefined, marginSeconds: number, now: Date | number): boolean {
  if (!expiresAtIso) return true
  const expires = Date.parse(expiresAtIso)
  if (Number.isNaN(expires)) return true
  const t = typeof now === 'number' ? now : now.getTime()
  return expires - t <= marginSeconds * 1000
}
