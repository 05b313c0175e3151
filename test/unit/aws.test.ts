// playbooks/support/{vars/aws,aws-role,sts,session-token}.ts: the aws: vars, the role to assume, STS AssumeRole through the real SDK against
// the lab's STS endpoint (in-process), every failure as one clear AwsError without secrets, and
// the forms the credentials are handed on in.
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { noRoleReason, resolveRoleArn } from '../../playbooks/support/aws-role.ts'
import { envListText, needsRefresh, sessionSecret, type SessionCredentials } from '../../playbooks/support/session-token.ts'
import { AwsError, assumeRole } from '../../playbooks/support/sts.ts'
import { awsDefaults, awsSpec, type AwsVars } from '../../playbooks/support/vars/aws.ts'
import { newAccessKeyId, newSecretAccessKey, newSessionToken, startSts, type StsServer } from '../../lab/sts/sts.ts'
import { LAB_ROLE_ARN as ROLE } from '../../lab/sts/sts-lab.ts'
import { checkFamily, errorOf, tempDir } from './_helpers.ts'

const INV = '/srv/site/inventory.yaml'
const user = { accessKeyId: newAccessKeyId('AKIA'), secretAccessKey: newSecretAccessKey(), arn: 'arn:aws:iam::000000000000:user/zxlab' }
const expired = { accessKeyId: newAccessKeyId('ASIA'), secretAccessKey: newSecretAccessKey(), sessionToken: newSessionToken(), arn: 'arn:aws:sts::000000000000:assumed-role/zxplay-lab/old', expired: true }
const unknown = { accessKeyId: newAccessKeyId('AKIA'), secretAccessKey: newSecretAccessKey() }
const wrongSecret = { accessKeyId: user.accessKeyId, secretAccessKey: newSecretAccessKey() }
/** Every secret the tests hand out: none may appear in an error message. */
const SECRETS = [user.secretAccessKey, expired.secretAccessKey, expired.sessionToken, unknown.secretAccessKey, wrongSecret.secretAccessKey]
const KEY_IDS = [user.accessKeyId, expired.accessKeyId, unknown.accessKeyId]

let sts: StsServer
let skewedSts: StsServer // its clock runs 20 minutes ahead
let dir: string
let removeDir: () => void
let credentialsFile: string

// This machine's own AWS settings stay out of the tests (restored after).
const AWS_ENV = ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_STS', 'AWS_EC2_METADATA_DISABLED']
const savedEnv = Object.fromEntries(AWS_ENV.map((k) => [k, process.env[k]]))

/** Put these environment variables back as they were (undefined: not set). */
function restoreEnv(saved: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
}

test.before(async () => {
  ;({ dir, remove: removeDir } = tempDir('aws'))
  for (const k of AWS_ENV) delete process.env[k]
  process.env.AWS_CONFIG_FILE = path.join(dir, 'no-config')
  process.env.AWS_EC2_METADATA_DISABLED = 'true' // no instance-metadata lookups from the tests
  sts = await startSts({ users: [user, expired], roles: [{ arn: ROLE }] })
  skewedSts = await startSts({ users: [user], roles: [{ arn: ROLE }], now: () => Date.now() + 20 * 60_000 })
  credentialsFile = path.join(dir, 'credentials')
  const section = (name: string, k: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    `[${name}]\naws_access_key_id = ${k.accessKeyId}\naws_secret_access_key = ${k.secretAccessKey}\n${k.sessionToken ? `aws_session_token = ${k.sessionToken}\n` : ''}\n`
  fs.writeFileSync(credentialsFile, section('zxlab', user) + section('expired', expired) + section('unknown', unknown) + section('wrong-secret', wrongSecret), { mode: 0o600 })
})
test.after(async () => {
  await sts.close()
  await skewedSts.close()
  removeDir()
  restoreEnv(savedEnv)
})

const vars = (o: Partial<AwsVars> = {}): AwsVars => ({ ...awsDefaults, endpoint: sts.url, profile: 'zxlab', credentials_file: credentialsFile, role_arn: ROLE, ...o })

async function awsError(p: Promise<unknown>): Promise<AwsError> {
  try {
    await p
  } catch (e) {
    if (e instanceof AwsError) return e
    throw e
  }
  throw new Error('expected an AwsError')
}

function assertNoSecrets(message: string) {
  for (const s of SECRETS) assert.not.ok(message.includes(s), `a secret in: ${message}`)
  for (const k of KEY_IDS) assert.not.ok(message.includes(k), `a whole access key id in: ${message}`)
  for (const c of sts.issued) for (const s of [c.secretAccessKey, c.sessionToken, c.accessKeyId]) assert.not.ok(message.includes(s), `an issued value in: ${message}`)
}

/** With these environment variables set for the duration of `run`, then as they were. */
async function withEnv<T>(env: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    return await run()
  } finally {
    restoreEnv(saved)
  }
}

// ---------------------------------------------------------------------------
// the aws vars spec's check, as a run makes it
const checkAws = (aws: unknown) => checkFamily(awsSpec, { aws }, INV).aws as AwsVars

test('the defaults pass', () => {
  assert.equal(checkAws({ ...awsDefaults }), awsDefaults)
  assert.equal(checkAws({ region: 'eu-west-1' }).duration_seconds, 3600, 'missing keys take the defaults')
})

test('each bad value: an InventoryError naming the inventory file, the key and what was expected', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ duration_seconds: 899 }, 'aws.duration_seconds', /expected an integer from 900 to 43200 .*got 899$/],
    [{ duration_seconds: 43201 }, 'aws.duration_seconds', /got 43201$/],
    [{ duration_seconds: '3600' }, 'aws.duration_seconds', /expected an integer .*got "3600"$/],
    [{ duration_seconds: 3600.5 }, 'aws.duration_seconds', /got 3600.5$/],
    [{ refresh_margin_seconds: -1 }, 'aws.refresh_margin_seconds', /expected an integer from 0 to less than aws.duration_seconds \(3600\), got -1$/],
    [{ refresh_margin_seconds: 900, duration_seconds: 900 }, 'aws.refresh_margin_seconds', /less than aws.duration_seconds \(900\), got 900$/],
    [{ session_name: 'has space' }, 'aws.session_name', /2 to 64 characters of letters, digits and \+ = , \. @ _ - .*got "has space"$/],
    [{ session_name: 'x' }, 'aws.session_name', /got "x"$/],
    [{ session_name: 'x'.repeat(65) }, 'aws.session_name', /got "x{65}"$/],
    [{ region: '' }, 'aws.region', /expected an AWS region like us-east-1, got ""$/],
    [{ endpoint: 'localhost:4566' }, 'aws.endpoint', /expected an http:\/\/ or https:\/\/ URL .*got "localhost:4566"$/],
    [{ endpoint: 'ftp://127.0.0.1/' }, 'aws.endpoint', /got "ftp:\/\/127.0.0.1\/"$/],
    // credentials come back in the answer: plain http only to this machine, or when asked for
    [{ endpoint: 'http://sts.example.com' }, 'aws.endpoint', /expected an https:\/\/ URL \(STS answers with credentials\); plain http:\/\/ only to this machine \(127\.0\.0\.1, ::1, localhost\) or with aws\.allow_http_endpoint: true, got "http:\/\/sts\.example\.com"$/],
    [{ endpoint: 'http://10.77.0.1:4566' }, 'aws.endpoint', /got "http:\/\/10\.77\.0\.1:4566"$/],
    [{ endpoint: 'http://127.0.0.1.evil.example' }, 'aws.endpoint', /got "http:\/\/127\.0\.0\.1\.evil\.example"$/],
    [{ allow_http_endpoint: 'yes' }, 'aws.allow_http_endpoint', /expected true or false, got "yes"$/],
    [{ role_arn: 'arn:aws:iam::123:role/x' }, 'aws.role_arn', /expected an IAM role ARN, arn:aws:iam::<12 digits>:role\/<name>/],
    [{ profile: 7 }, 'aws.profile', /expected a string, got 7$/],
    [{ durations_seconds: 3600 }, 'aws.durations_seconds', /unknown key \(did you mean aws.duration_seconds\?\)/],
  ]
  for (const [given, key, message] of cases) {
    const e = errorOf(() => checkAws({ ...awsDefaults, ...given }))
    assert.instance(e, InventoryError, key)
    assert.equal([(e as InventoryError).file, (e as InventoryError).path], [INV, key], JSON.stringify(given))
    assert.match(e.message, message, JSON.stringify(given))
    assert.ok(e.message.startsWith(`${INV}: ${key}: `), e.message)
  }
  assert.match(errorOf(() => checkAws('us-east-1')).message, /^\/srv\/site\/inventory.yaml: aws: expected a map of AWS settings, got "us-east-1"$/)
})

test('accepted edges: 900 and 43200 seconds, margin 0, a session name of 64, an https endpoint', () => {
  for (const given of [{ duration_seconds: 900, refresh_margin_seconds: 0 }, { duration_seconds: 43200, refresh_margin_seconds: 43199 }, { session_name: 'a'.repeat(64) }, { session_name: 'Aa0_+=,.@-' }, { endpoint: 'https://sts.eu-west-1.amazonaws.com' }, { endpoint: 'http://127.0.0.1:4566' }, { endpoint: 'http://[::1]:4566' }, { endpoint: 'http://localhost:4566' }, { endpoint: 'http://10.77.0.1:4566', allow_http_endpoint: true }]) {
    checkAws({ ...awsDefaults, ...given })
  }
})

// ---------------------------------------------------------------------------
// resolveRoleArn

test('role: aws.role_arn when set (the iamroles file is not read), else line 1 of aws.iamroles_file, relative to the inventory', () => {
  assert.is(resolveRoleArn({ role_arn: ROLE, iamroles_file: 'does-not-exist.txt' }, dir), ROLE)
  fs.writeFileSync(path.join(dir, 'iamroles.txt'), `  arn:aws:iam::123456789012:role/demo/ray  \r\narn:aws:iam::123456789012:role/second\n`)
  assert.is(resolveRoleArn({ role_arn: '', iamroles_file: 'iamroles.txt' }, dir), 'arn:aws:iam::123456789012:role/demo/ray')
  fs.mkdirSync(path.join(dir, 'conf'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'conf', 'roles'), 'arn:aws-cn:iam::123456789012:role/cn\n')
  assert.is(resolveRoleArn({ role_arn: '', iamroles_file: 'conf/roles' }, dir), 'arn:aws-cn:iam::123456789012:role/cn')
})

test('role: a missing iamroles file, an empty or malformed first line, a malformed role_arn → errors naming file, line or key', () => {
  const missing = errorOf(() => resolveRoleArn({ role_arn: '', iamroles_file: 'nope.txt' }, dir, INV))
  assert.instance(missing, InventoryError)
  assert.is(missing.message, `${INV}: aws.iamroles_file: cannot read ${path.join(dir, 'nope.txt')} (no such file): put the role ARN on its first line, or set aws.role_arn`)
  fs.writeFileSync(path.join(dir, 'empty.txt'), '\narn:aws:iam::123456789012:role/second\n')
  const empty = errorOf(() => resolveRoleArn({ role_arn: '', iamroles_file: 'empty.txt' }, dir, INV))
  assert.match(empty.message, new RegExp(`^${path.join(dir, 'empty.txt')}: line 1: expected the role ARN to assume, arn:aws:iam::<12 digits>:role/<name>.*the line is empty`))
  fs.writeFileSync(path.join(dir, 'bad.txt'), 'arn:aws:iam::12345:user/bob\n')
  const bad = errorOf(() => resolveRoleArn({ role_arn: '', iamroles_file: 'bad.txt' }, dir, INV))
  assert.is(
    bad.message,
    `${path.join(dir, 'bad.txt')}: line 1: expected an IAM role ARN, arn:aws:iam::<12 digits>:role/<name> (or role/<path>/<name>), got "arn:aws:iam::12345:user/bob" (this file is aws.iamroles_file)`
  )
  const key = errorOf(() => resolveRoleArn({ role_arn: 'zxplay-lab', iamroles_file: 'iamroles.txt' }, dir, INV))
  assert.equal([(key as InventoryError).file, (key as InventoryError).path], [INV, 'aws.role_arn'])
})

test('no role configured: only aws.role_arn empty and the default iamroles.txt absent; anything else the user named must resolve', () => {
  const sub = fs.mkdtempSync(path.join(dir, 'norole-'))
  const file = path.join(sub, 'iamroles.txt')
  assert.is(noRoleReason({ role_arn: '', iamroles_file: 'iamroles.txt' }, sub), `no AWS role configured: aws.role_arn is empty and ${file} does not exist, so the Ray pods get no AWS credentials; to add them, put the role ARN on the first line of ${file} or set aws.role_arn`)
  assert.is(noRoleReason({ role_arn: ROLE, iamroles_file: 'iamroles.txt' }, sub), undefined)
  assert.is(noRoleReason({ role_arn: '', iamroles_file: 'roles/mine.txt' }, sub), undefined, 'a file the user named: resolveRoleArn says it is missing')
  fs.writeFileSync(file, '')
  assert.is(noRoleReason({ role_arn: '', iamroles_file: 'iamroles.txt' }, sub), undefined, 'there (even empty): resolveRoleArn reads it')
})

// ---------------------------------------------------------------------------
// assumeRole

test('assumeRole: the session credentials STS issued, for the role, session name and duration asked', async () => {
  const n = sts.issued.length
  const c = await assumeRole(vars({ session_name: 'ray-cluster', duration_seconds: 900 }), ROLE)
  const rec = sts.issued[n]!
  assert.equal(c, { accessKeyId: rec.accessKeyId, secretAccessKey: rec.secretAccessKey, sessionToken: rec.sessionToken, expiration: new Date(rec.expiration) })
  assert.equal([rec.roleArn, rec.roleSessionName, rec.durationSeconds, rec.caller], [ROLE, 'ray-cluster', 900, user.arn])
  assert.is(sts.calls.at(-1)!.accessKeyId, user.accessKeyId, 'signed with the profile\'s key')
})

test('assumeRole: a relative credentials_file is found from the inventory directory', async () => {
  const c = await assumeRole(vars({ credentials_file: 'credentials' }), ROLE, { inventoryDir: dir })
  assert.match(c.accessKeyId, /^ASIA/)
})

test('stale session variables in the environment do not override aws.profile (and process.env is left as it was)', async () => {
  const env = { AWS_ACCESS_KEY_ID: expired.accessKeyId, AWS_SECRET_ACCESS_KEY: expired.secretAccessKey, AWS_SESSION_TOKEN: expired.sessionToken }
  const logged: string[] = []
  await withEnv(env, async () => {
    const before = { ...process.env }
    const c = await assumeRole(vars(), ROLE, { log: (l) => logged.push(l) })
    assert.match(c.accessKeyId, /^ASIA/)
    assert.is(sts.calls.at(-1)!.accessKeyId, user.accessKeyId)
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _a, ...after } = process.env
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _b, ...was } = before
    assert.equal(after, was)
  })
  assert.equal(logged, ["AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN in the environment ignored: aws.profile 'zxlab' is used"])
  // Without a profile the SDK's default chain applies, environment first: those stale keys are used, and refused.
  const e = await withEnv(env, () => awsError(assumeRole(vars({ profile: '', credentials_file: '' }), ROLE)))
  assert.equal([e.kind, e.code], ['expired-token', 'ExpiredToken'])
})

test('no credentials: the profile and file looked at, and what to do', async () => {
  let e = await awsError(assumeRole(vars({ profile: 'nobody' }), ROLE))
  assert.equal([e.kind, e.code], ['no-credentials', 'CredentialsProviderError'])
  assert.match(e.message, new RegExp(`^no AWS credentials to call STS with: looked at profile 'nobody' \\(aws.profile\\) in ${credentialsFile}; ${credentialsFile} has no usable \\[nobody\\] entry`))
  assert.match(e.message, /Add the keys under \[nobody\] in that file \(aws configure --profile nobody\), or set aws.profile \/ aws.credentials_file/)
  const gone = path.join(dir, 'no-such-credentials')
  e = await awsError(assumeRole(vars({ credentials_file: gone }), ROLE))
  assert.equal(e.kind, 'no-credentials')
  assert.match(e.message, new RegExp(`${gone} does not exist`))
})

test('a misspelt profile fails, rather than quietly using keys from elsewhere in the chain (here: a container credentials URL)', async () => {
  const other = { AccessKeyId: user.accessKeyId, SecretAccessKey: user.secretAccessKey, Token: '', Expiration: new Date(Date.now() + 3600_000).toISOString() }
  const server = http.createServer((_req, res) => res.end(JSON.stringify(other)))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const uri = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/creds`
  try {
    const n = sts.calls.length
    const e = await withEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri }, () => awsError(assumeRole(vars({ profile: 'zxlba' }), ROLE)))
    assert.equal(e.kind, 'no-credentials')
    assert.match(e.message, /looked at profile 'zxlba' \(aws.profile\).*\(the keys came from CREDENTIALS_HTTP, not from the profile\)/)
    assert.is(sts.calls.length, n, 'STS was not called')
    // the same URL is a fine source when no profile was chosen
    assert.ok(await withEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri }, () => assumeRole(vars({ profile: '', credentials_file: path.join(dir, 'none') }), ROLE)))
  } finally {
    server.close()
  }
})

test('each STS refusal: one AwsError of its kind, saying what to do, without any secret', async () => {
  const cases: [string, () => Promise<unknown>, AwsError['kind'], string, RegExp][] = [
    ['unknown role', () => assumeRole(vars(), 'arn:aws:iam::000000000000:role/other'), 'access-denied', 'AccessDenied',
      /^STS refused to let profile 'zxlab' in .*, access key AKIA…\w{4} assume arn:aws:iam::000000000000:role\/other \(AccessDenied: User: arn:aws:iam::000000000000:user\/zxlab is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role\/other\)\. Check aws.role_arn/],
    ['expired keys', () => assumeRole(vars({ profile: 'expired' }), ROLE), 'expired-token', 'ExpiredToken', /^the credentials used to call STS \(profile 'expired' in .*\) are expired \(ExpiredToken\)\. Renew them/],
    ['unknown key', () => assumeRole(vars({ profile: 'unknown' }), ROLE), 'invalid-key', 'InvalidClientTokenId', /^STS does not know the access key of profile 'unknown' .*\(InvalidClientTokenId: .*\)\. Fix aws_access_key_id/],
    ['wrong secret', () => assumeRole(vars({ profile: 'wrong-secret' }), ROLE), 'bad-signature', 'SignatureDoesNotMatch', /the secret key of profile 'wrong-secret' .* is not the one that belongs to its access key\. Fix aws_secret_access_key/],
    ['duration over the role maximum', () => assumeRole(vars({ duration_seconds: 7200 }), ROLE), 'invalid-request', 'ValidationError',
      /^STS rejected AssumeRole of arn:aws:iam::000000000000:role\/zxplay-lab \(ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role\.\)\. Lower aws.duration_seconds/],
    ['session name', () => assumeRole(vars({ session_name: 'a b' }), ROLE), 'invalid-request', 'ValidationError', /Fix aws.session_name/],
  ]
  for (const [what, call, kind, code, message] of cases) {
    const e = await awsError(call())
    assert.equal([e.kind, e.code], [kind, code], what)
    assert.match(e.message, message, what)
    assertNoSecrets(e.message)
  }
})

test('throttling and server faults: retried, then one error', async () => {
  sts.failNext('Throttling', 1)
  assert.ok(await assumeRole(vars(), ROLE), 'one throttled attempt is retried')
  sts.failNext('Throttling', 3)
  let e = await awsError(assumeRole(vars(), ROLE))
  assert.equal([e.kind, e.code], ['throttled', 'Throttling'])
  assert.is(e.message, `STS at ${sts.url} throttled AssumeRole (Throttling: Rate exceeded) after 3 attempt(s). Wait a minute and run again`)
  sts.failNext('InternalFailure', 3)
  e = await awsError(assumeRole(vars(), ROLE))
  assert.equal([e.kind, e.code], ['failed', 'InternalFailure'])
  assert.match(e.message, /failed \(InternalFailure, HTTP 500: The request processing has failed/)
})

test("clock skew: the SDK corrects its clock from STS's answer; with no retry left, the error says to fix the clock", async () => {
  assert.ok(await assumeRole(vars({ endpoint: skewedSts.url }), ROLE))
  const e = await awsError(assumeRole(vars({ endpoint: skewedSts.url }), ROLE, { maxAttempts: 1 }))
  assert.equal([e.kind, e.code], ['clock-skew', 'SignatureDoesNotMatch'])
  assert.match(e.message, /^STS rejected the request's time \(Signature expired: .*\): this machine's clock is off by more than 15 minutes/)
})

test('unreachable: a closed port fails at once with ECONNREFUSED, naming the URL', async () => {
  const port = await closedPort()
  const t0 = Date.now()
  const e = await awsError(assumeRole(vars({ endpoint: `http://127.0.0.1:${port}` }), ROLE))
  assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`)
  assert.equal([e.kind, e.code], ['unreachable', 'ECONNREFUSED'])
  assert.is(e.message, `cannot reach STS at http://127.0.0.1:${port} (ECONNREFUSED, 3 attempt(s)). Check aws.endpoint and aws.region, the network and any proxy (a local endpoint: is it running? for the lab, npm run lab:up -- --aws)`)
})

test('unreachable: an endpoint that accepts but never answers fails within the time limit', async () => {
  const sockets: net.Socket[] = []
  const silent = net.createServer((s) => void sockets.push(s))
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`
  try {
    const t0 = Date.now()
    const e = await awsError(assumeRole(vars({ endpoint: url }), ROLE, { timeoutMs: 1500 }))
    const ms = Date.now() - t0
    assert.ok(ms >= 1400 && ms < 3000, `${ms} ms`)
    assert.equal(e.kind, 'unreachable')
    assert.match(e.message, new RegExp(`^cannot reach STS at ${url} \\(no answer within 1.5 s`))
  } finally {
    for (const s of sockets) s.destroy()
    silent.close()
  }
})

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------------------
// envListText, sessionSecret, needsRefresh

const creds: SessionCredentials = {
  accessKeyId: 'ASIAEXAMPLEEXAMPLE01',
  secretAccessKey: 'ab/cd+ef=gh',
  sessionToken: 'IQoJb3Jp+Z2lu/X2Vj==',
  expiration: new Date('2026-11-25T21:00:00Z'),
}

test('envListText: KEY=value lines for docker --env-file, values literal (no quotes)', () => {
  assert.is(envListText(creds), 'AWS_ACCESS_KEY_ID_SESS=ASIAEXAMPLEEXAMPLE01\nAWS_SECRET_ACCESS_KEY_SESS=ab/cd+ef=gh\nAWS_SESSION_TOKEN=IQoJb3Jp+Z2lu/X2Vj==\n')
  const e = errorOf(() => envListText({ ...creds, sessionToken: 'line\nbreak-secret' }))
  assert.match(e.message, /^AWS_SESSION_TOKEN: /)
  assert.not.ok(e.message.includes('break-secret'))
})

test('sessionSecret: the v1 Opaque Secret session-token with the three keys and the expiry annotation', () => {
  assert.equal(sessionSecret(creds, 'ray'), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'session-token', namespace: 'ray', annotations: { 'zxplay.io/expires-at': '2026-11-25T21:00:00.000Z' } },
    type: 'Opaque',
    stringData: { AWS_ACCESS_KEY_ID_SESS: 'ASIAEXAMPLEEXAMPLE01', AWS_SECRET_ACCESS_KEY_SESS: 'ab/cd+ef=gh', AWS_SESSION_TOKEN: 'IQoJb3Jp+Z2lu/X2Vj==' },
  })
})

test('needsRefresh: due when unknown, unreadable, past, or no more than the margin left', () => {
  const now = new Date('2026-11-25T20:00:00Z')
  const at = (s: number) => new Date(now.getTime() + s * 1000).toISOString()
  assert.ok(needsRefresh(undefined, 600, now))
  assert.ok(needsRefresh('soon', 600, now))
  assert.ok(needsRefresh(at(-1), 0, now))
  assert.ok(needsRefresh(at(600), 600, now), 'exactly the margin left')
  assert.not.ok(needsRefresh(at(601), 600, now))
  assert.not.ok(needsRefresh(at(0.001), 0, now.getTime()), 'margin 0: valid until the last millisecond')
  assert.ok(needsRefresh(at(0), 0, now))
})

test.run()
