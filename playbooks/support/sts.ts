// STS AssumeRole through the AWS SDK: the session credentials for the Ray pods, or one AwsError
// saying what went wrong and what to do.
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
import { ROLE_ARN_FORM, awsPath, type AwsVars } from './vars/aws.ts'
import type { SessionCredentials } from './session-token.ts'

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
    const local = /^https?:\/\/(127\.|localhost[:/]|\[::1\])/.test(c.endpoint) ? ' (a local endpoint: is it running? for the lab, npm run lab:up -- --aws)' : ''
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

