// The lab's STS endpoint (lab/sts/sts.ts) answers the real @aws-sdk/client-sts as STS does: its
// XML parses, its errors become the SDK's named exceptions, and its SigV4 check refuses any
// request that was not signed, or was changed after signing, with the caller's secret key.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { newAccessKeyId, newSecretAccessKey, newSessionToken, startSts, type StsServer } from '../sts.ts'
import { isAlive } from '../../proc.ts'
import { labAwsFiles, labAwsInfo, labStsState, LAB_ACCOUNT as ACCOUNT, LAB_EXPIRED_PROFILE, LAB_LONG_ROLE_ARN as LONG_ROLE, LAB_PROFILE, LAB_ROLE_ARN as ROLE, LAB_USER_ARN as USER_ARN, startLabSts, stopLabSts } from '../sts-lab.ts'
import { parseAuthorization, signature } from '../sts-sigv4.ts'
import { tempDir } from '../../../test/unit/_helpers.ts'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const PATH_ROLE = `arn:aws:iam::${ACCOUNT}:role/team/ray/app`
const user = { accessKeyId: newAccessKeyId('AKIA'), secretAccessKey: newSecretAccessKey(), arn: USER_ARN }
const stale = {
  accessKeyId: newAccessKeyId('ASIA'),
  secretAccessKey: newSecretAccessKey(),
  sessionToken: newSessionToken(),
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/zxplay-lab/old`,
  expired: true,
}

/** The endpoint's clock runs `skew` ms ahead of this process's. */
let skew = 0
let sts: StsServer

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
const client = (keys: Keys, o: { maxAttempts?: number; systemClockOffset?: number } = {}) =>
  new STSClient({ region: 'us-east-1', endpoint: sts.url, credentials: keys, maxAttempts: o.maxAttempts ?? 1, systemClockOffset: o.systemClockOffset ?? 0 })
const assume = (keys: Keys, input: Partial<{ RoleArn: string; RoleSessionName: string; DurationSeconds: number }> = {}, o = {}) =>
  client(keys, o).send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'zxplay', ...input }))

/** The SDK's exception for a call that must fail. */
async function sdkError(p: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number; attempts?: number }; $fault: string }> {
  try {
    await p
  } catch (e) {
    return e as never
  }
  throw new Error('expected the call to fail')
}

test.before(async () => {
  sts = await startSts({
    users: [user, stale],
    roles: [{ arn: ROLE }, { arn: LONG_ROLE, maxSessionDuration: 43200 }, { arn: PATH_ROLE }],
    now: () => Date.now() + skew,
  })
})
test.after(() => sts.close())
test.before.each(() => {
  skew = 0
})

// ---------------------------------------------------------------------------
// Success

test('AssumeRole: the SDK parses the answer; the values are the ones the endpoint issued', async () => {
  const before = sts.issued.length
  const t0 = Date.now()
  const out = await assume(user)
  const t1 = Date.now()
  const c = out.Credentials!
  assert.match(c.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/)
  assert.is(c.SecretAccessKey!.length, 40)
  assert.ok(c.SessionToken!.length > 100)
  assert.instance(c.Expiration, Date)
  // issued somewhere between t0 and t1 (seconds apart on a busy machine), for the default 3600 s
  const at = c.Expiration!.getTime()
  assert.ok(at > t0 + 3598_000 && at <= t1 + 3600_000, `expires ${at - t0} ms after the call started, ${at - t1} ms after it ended, default 3600 s`)
  assert.is(out.AssumedRoleUser!.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/zxplay-lab/zxplay`)
  assert.match(out.AssumedRoleUser!.AssumedRoleId!, /^AROA[A-Z2-7]{17}:zxplay$/)
  assert.match(out.$metadata.requestId!, /^[0-9a-f-]{36}$/)
  assert.is(sts.issued.length, before + 1)
  const rec = sts.issued.at(-1)!
  assert.equal(
    [rec.accessKeyId, rec.secretAccessKey, rec.sessionToken, rec.expiration, rec.roleArn, rec.roleSessionName, rec.durationSeconds, rec.caller],
    [c.AccessKeyId, c.SecretAccessKey, c.SessionToken, c.Expiration!.getTime(), ROLE, 'zxplay', 3600, USER_ARN]
  )
})

test('the issued session credentials work as a caller (GetCallerIdentity), and chaining is limited to 1 hour', async () => {
  const c = (await assume(user)).Credentials!
  const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }
  const who = await client(session).send(new GetCallerIdentityCommand({}))
  assert.equal([who.Arn, who.Account], [`arn:aws:sts::${ACCOUNT}:assumed-role/zxplay-lab/zxplay`, ACCOUNT])
  const e = await sdkError(assume(session, { RoleArn: LONG_ROLE, DurationSeconds: 7200 }))
  assert.equal([e.name, e.message], ['ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.'])
  // without its token the session key is not valid
  const e2 = await sdkError(client({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey }).send(new GetCallerIdentityCommand({})))
  assert.is(e2.name, 'InvalidClientTokenId')
})

test('durations: 900 up to the role maximum; a role may allow 12 hours', async () => {
  assert.ok((await assume(user, { DurationSeconds: 900 })).Credentials)
  assert.ok((await assume(user, { RoleArn: LONG_ROLE, DurationSeconds: 43200 })).Credentials)
  const cases: [number, string, string][] = [
    [899, ROLE, "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"],
    [43201, LONG_ROLE, "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"],
    [3601, ROLE, 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.'],
  ]
  for (const [d, role, message] of cases) {
    const e = await sdkError(assume(user, { RoleArn: role, DurationSeconds: d }))
    assert.equal([e.name, e.$metadata.httpStatusCode, e.message], ['ValidationError', 400, message], String(d))
  }
})

test('a role with a path: the assumed-role ARN has only its name', async () => {
  const out = await assume(user, { RoleArn: PATH_ROLE, RoleSessionName: 'a.b@c' })
  assert.is(out.AssumedRoleUser!.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/app/a.b@c`)
})

// ---------------------------------------------------------------------------
// Errors, as the SDK raises them

test('role ARN: malformed → ValidationError; unknown role → AccessDenied naming the user and the role', async () => {
  let e = await sdkError(assume(user, { RoleArn: 'arn:aws:iam::123:role/zxplay-lab' }))
  assert.equal([e.name, e.$metadata.httpStatusCode, e.message], ['ValidationError', 400, 'Request ARN is invalid'])
  e = await sdkError(assume(user, { RoleArn: 'zxplay-lab' }))
  assert.is(e.message, "1 validation error detected: Value 'zxplay-lab' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20")
  e = await sdkError(assume(user, { RoleArn: `arn:aws:iam::${ACCOUNT}:role/nobody` }))
  assert.equal(
    [e.name, e.$metadata.httpStatusCode, e.$fault, e.message],
    ['AccessDenied', 403, 'client', `User: ${USER_ARN} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${ACCOUNT}:role/nobody`]
  )
})

test('RoleSessionName: [\\w+=,.@-], 2 to 64 characters', async () => {
  let e = await sdkError(assume(user, { RoleSessionName: 'has space' }))
  assert.is(e.message, "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
  e = await sdkError(assume(user, { RoleSessionName: 'x' }))
  assert.match(e.message, /Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2$/)
  e = await sdkError(assume(user, { RoleSessionName: 'x'.repeat(65) }))
  assert.match(e.message, /Member must have length less than or equal to 64$/)
  e = await sdkError(assume(user, { RoleSessionName: 'a/', DurationSeconds: 1 }))
  assert.match(e.message, /^2 validation errors detected: .*roleSessionName.*; .*durationSeconds/)
  assert.ok((await assume(user, { RoleSessionName: 'Aa0_+=,.@-' })).Credentials)
})

test('keys: unknown → InvalidClientTokenId; wrong secret → SignatureDoesNotMatch; expired → ExpiredToken', async () => {
  let e = await sdkError(assume({ accessKeyId: newAccessKeyId('AKIA'), secretAccessKey: user.secretAccessKey }))
  assert.equal([e.name, e.$metadata.httpStatusCode, e.message], ['InvalidClientTokenId', 403, 'The security token included in the request is invalid.'])
  e = await sdkError(assume({ accessKeyId: user.accessKeyId, secretAccessKey: newSecretAccessKey() }))
  assert.equal([e.name, e.$metadata.httpStatusCode], ['SignatureDoesNotMatch', 403])
  assert.match(e.message, /^The request signature we calculated does not match the signature you provided/)
  e = await sdkError(assume(stale))
  assert.equal([e.name, e.$metadata.httpStatusCode, e.message], ['ExpiredToken', 400, 'The security token included in the request is expired'])
})

test('a session the endpoint issued is refused with ExpiredToken once its time is over', async () => {
  const c = (await assume(user, { DurationSeconds: 900 })).Credentials!
  const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }
  assert.ok(await client(session).send(new GetCallerIdentityCommand({})))
  skew = 901_000 // 15 min 1 s later, on both clocks
  const e = await sdkError(client(session, { systemClockOffset: skew }).send(new GetCallerIdentityCommand({})))
  assert.is(e.name, 'ExpiredToken')
  // the long-term key is still fine then
  assert.ok(await client(user, { systemClockOffset: skew }).send(new GetCallerIdentityCommand({})))
})

test('throttling and server faults: the SDK sees Throttling / InternalFailure and retries them', async () => {
  sts.failNext('Throttling', 1)
  const n = sts.calls.length
  const out = await assume(user, {}, { maxAttempts: 2 })
  assert.equal(sts.calls.slice(n).map((c) => c.code), ['Throttling', 'OK'])
  assert.is(out.$metadata.attempts, 2)
  sts.failNext('Throttling', 1)
  let e = await sdkError(assume(user))
  assert.equal([e.name, e.$metadata.httpStatusCode, e.message], ['Throttling', 400, 'Rate exceeded'])
  sts.failNext('InternalFailure', 1)
  e = await sdkError(assume(user))
  assert.equal([e.name, e.$metadata.httpStatusCode, e.$fault], ['InternalFailure', 500, 'server'])
})

test('protocol: another Version or Action → InvalidAction', async () => {
  const rewrite = (from: RegExp, to: string) => {
    const c = client(user)
    // before signing, so the signature is valid and only the parameters are wrong
    c.middlewareStack.add((next) => async (args) => {
      const req = args.request as { body: string; headers: Record<string, string> }
      req.body = req.body.replace(from, to)
      req.headers['content-length'] = String(Buffer.byteLength(req.body))
      return next(args)
    }, { step: 'build', name: 'rewrite' })
    return c.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'zxplay' }))
  }
  let e = await sdkError(rewrite(/Version=2011-06-15/, 'Version=2010-05-08'))
  assert.equal([e.name, e.message], ['InvalidAction', 'Could not find operation AssumeRole for version 2010-05-08'])
  e = await sdkError(rewrite(/Action=AssumeRole/, 'Action=GetSessionTokn'))
  assert.equal([e.name, e.message], ['InvalidAction', 'Could not find operation GetSessionTokn for version 2011-06-15'])
})

// ---------------------------------------------------------------------------
// SigV4, with raw requests: what the SDK signed, replayed as is or changed

type Raw = { headers: Record<string, string>; body: string }

/** Let the SDK sign (and send) one AssumeRole, and keep the request exactly as it went out. */
async function signedBySdk(o: { systemClockOffset?: number } = {}): Promise<Raw> {
  let captured: Raw | undefined
  const c = client(user, o)
  type Next = (args: { request: unknown }) => Promise<unknown>
  const capture = (next: Next) => async (args: { request: unknown }) => {
    const req = args.request as { headers: Record<string, string>; body: string }
    captured = { headers: { ...req.headers }, body: String(req.body) }
    return next(args)
  }
  // after signing: exactly what goes on the wire
  c.middlewareStack.addRelativeTo(capture as never, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'capture' })
  await c.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'zxplay' })).catch(() => {})
  if (!captured) throw new Error('nothing captured')
  return captured
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')

function post(raw: Raw): Promise<{ status: number; code: string; message: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...raw.headers, 'content-length': String(Buffer.byteLength(raw.body)) }
    const req = http.request(`${sts.url}/`, { method: 'POST', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d) => (text += d))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? 'OK', message: unescape(/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '') })
      )
    })
    req.on('error', reject)
    req.end(raw.body)
  })
}

test('a signed request replayed unchanged is accepted; any change to what was signed is refused', async () => {
  const raw = await signedBySdk()
  assert.equal(await post(raw), { status: 200, code: 'OK', message: '' })
  const changed = (f: (r: Raw) => void) => {
    const r = structuredClone(raw)
    f(r)
    return post(r)
  }
  for (const [what, change] of [
    ['body', (r: Raw) => (r.body = r.body.replace('RoleSessionName=zxplay', 'RoleSessionName=zxplaz'))],
    ['a signed header', (r: Raw) => (r.headers['amz-sdk-request'] = 'attempt=2; max=1')],
    ['the date', (r: Raw) => (r.headers['x-amz-date'] = r.headers['x-amz-date']!.replace(/\d(?=Z$)/, (d) => String((Number(d) + 1) % 10)))],
    ['the signature', (r: Raw) => (r.headers.authorization = r.headers.authorization!.replace(/[0-9a-f](?=[0-9a-f]{8}$)/, (d) => (d === '0' ? '1' : '0')))],
  ] as const) {
    const res = await changed(change)
    assert.equal([res.status, res.code], [403, 'SignatureDoesNotMatch'], what)
  }
  // a header that was not signed may change (SigV4 covers only SignedHeaders)
  assert.is((await changed((r) => (r.headers['x-unsigned'] = 'anything'))).status, 200)
})

test('unsigned, or signed for the wrong service, region form or without host: refused', async () => {
  const raw = await signedBySdk()
  const without = { ...raw, headers: Object.fromEntries(Object.entries(raw.headers).filter(([k]) => k !== 'authorization')) }
  assert.equal(await post(without), { status: 403, code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token' })
  const auth = (f: (a: string) => string) => post({ ...raw, headers: { ...raw.headers, authorization: f(raw.headers.authorization!) } })
  let res = await auth((a) => a.replace('/sts/aws4_request', '/s3/aws4_request'))
  assert.equal([res.status, res.code, res.message], [403, 'SignatureDoesNotMatch', "Credential should be scoped to correct service: 'sts'."])
  res = await auth((a) => a.replace('/us-east-1/', '/nowhere/'))
  assert.equal([res.code, res.message], ['SignatureDoesNotMatch', 'Credential should be scoped to a valid region.'])
  res = await auth((a) => a.replace(/SignedHeaders=[^,]*/, (s) => s.replace('host;', '')))
  assert.equal([res.code, res.message], ['SignatureDoesNotMatch', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."])
  res = await auth((a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1'))
  assert.equal([res.status, res.code], [400, 'IncompleteSignature'])
  res = await auth((a) => a.replace(/, Signature=.*/, ''))
  assert.equal([res.status, res.code, res.message.startsWith("Authorization header requires 'Signature' parameter.")], [400, 'IncompleteSignature', true])
})

test('clock skew: more than 15 minutes either way is refused; the SDK corrects its clock from the Date header', async () => {
  const late = await sdkError(assume(user, {}, { systemClockOffset: -20 * 60_000 }))
  assert.is(late.name, 'SignatureDoesNotMatch')
  assert.match(late.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/)
  const early = await sdkError(assume(user, {}, { systemClockOffset: 20 * 60_000 }))
  assert.match(early.message, /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/)
  assert.ok((await assume(user, {}, { systemClockOffset: -14 * 60_000 })).Credentials, 'within 15 minutes')
  // a raw replay of a request signed 20 minutes ago
  const old = await signedBySdk({ systemClockOffset: -20 * 60_000 })
  assert.equal((await post(old)).code, 'SignatureDoesNotMatch')
  // The endpoint's clock is 20 minutes ahead: the first attempt fails, the SDK takes the
  // endpoint's Date header as the right time, and its retry is accepted.
  skew = 20 * 60_000
  const n = sts.calls.length
  const out = await assume(user, {}, { maxAttempts: 2 })
  assert.ok(out.Credentials)
  assert.equal(sts.calls.slice(n).map((c) => c.code), ['SignatureDoesNotMatch', 'OK'])
})

test("the verifier agrees with AWS's published SigV4 test vectors (get-vanilla, get-vanilla-query-order-key-case)", () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
  const auth = parseAuthorization('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=' + '0'.repeat(64))
  if ('problem' in auth) throw new Error(auth.problem)
  const req = (target: string) => ({ method: 'GET', target, headers: [['Host', 'example.amazonaws.com'], ['X-Amz-Date', '20150830T123600Z']] as const, body: Buffer.alloc(0) })
  assert.is(signature(secret, '20150830T123600Z', auth, req('/')), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')
  assert.is(signature(secret, '20150830T123600Z', auth, req('/?Param2=value2&Param1=value1')), 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500')
})

// ---------------------------------------------------------------------------
// Detached, as the lab runs it

test('the lab endpoint: detached, its files 0600, profiles zxlab and zxlab-expired, state on disk, stopped even with a stale pid file', async () => {
  const { dir, remove } = tempDir('sts-lab')
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' })
  try {
    const aws = await startLabSts(dir)
    const f = labAwsFiles(dir)
    for (const file of [f.credentials, f.config, f.state]) assert.is(fs.statSync(file).mode & 0o777, 0o600, file)
    assert.equal(labAwsInfo(dir), aws)
    const text = fs.readFileSync(f.credentials, 'utf8')
    const profile = (name: string) => {
      const section = text.split(`[${name}]\n`)[1]!.split('\n\n')[0]!
      const get = (k: string) => new RegExp(`^${k} = (.*)$`, 'm').exec(section)?.[1]
      return { accessKeyId: get('aws_access_key_id')!, secretAccessKey: get('aws_secret_access_key')!, sessionToken: get('aws_session_token') }
    }
    const c = new STSClient({ region: aws.region, endpoint: aws.endpoint, credentials: profile(LAB_PROFILE), maxAttempts: 1 })
    const out = await c.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'zxplay' }))
    const expired = new STSClient({ region: aws.region, endpoint: aws.endpoint, credentials: profile(LAB_EXPIRED_PROFILE), maxAttempts: 1 })
    assert.is((await sdkError(expired.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'zxplay' })))).name, 'ExpiredToken')
    const state = labStsState(dir)
    assert.equal([state.requests, state.issued.length, state.issued[0]!.sessionToken, state.calls.map((x) => x.code)], [2, 1, out.Credentials!.SessionToken, ['OK', 'ExpiredToken']])

    // a later labDown finds it even when the pid file points at another process
    fs.writeFileSync(f.pid, `${sleeper.pid}\n`)
    await stopLabSts(dir)
    assert.not.ok(isAlive(aws.pid), 'endpoint stopped')
    assert.ok(isAlive(sleeper.pid!), 'the unrelated process is left alone')
    assert.is(labAwsInfo(dir), undefined)
  } finally {
    sleeper.kill()
    await stopLabSts(dir)
    remove()
  }
})

test.run()
