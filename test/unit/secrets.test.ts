import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Event } from '../../lib/output/events.ts'
import { REDACTED, Secrets } from '../../lib/output/secrets.ts'
import fs from 'node:fs'
import { emitter } from '../../lib/output/events.ts'
import { task, type Task } from '../../lib/engine/playbook.ts'
import { errorOf, localHosts, runLocal, tempDir } from './_helpers.ts'

const secrets = (...values: string[]) => {
  const s = new Secrets()
  for (const v of values) s.add(v)
  return s
}
const R = REDACTED

/** secrets → text → redacted text */
const _ = (values: string[], text: string, expected: string) => () => assert.is(secrets(...values).redact(text), expected)

test('a secret', _(['hunter22'], 'password: hunter22', `password: ${R}`))
test('every occurrence', _(['hunter22'], 'hunter22 hunter22\nhunter22', `${R} ${R}\n${R}`))
test('inside a word', _(['hunter22'], 'xhunter22x', `x${R}x`))
test('its base64 form', _(['hunter22'], `echo ${Buffer.from('hunter22').toString('base64')} | base64 -d`, `echo ${R} | base64 -d`))
test('several secrets', _(['hunter22', 's3cr3t-token'], 'u=hunter22 t=s3cr3t-token', `u=${R} t=${R}`))
test('longest first: no tail of a longer secret left', _(['hunter22', 'hunter22-admin'], 'p=hunter22-admin', `p=${R}`))
test('longest first, added in any order', _(['hunter22-admin', 'hunter22'], 'a=hunter22 b=hunter22-admin', `a=${R} b=${R}`))
test('overlapping secrets: hidden as one', _(['abcdef', 'defghi'], 'abcdefghi!', `${R}!`))
test('a secret overlapping itself', _(['aaaa'], 'baaaaab', `b${R}b`))
test('adjacent occurrences: one mask', _(['abcd'], 'abcdabcd', R))
test('regex characters are literal', _(['p@$$.*w0rd'], 'x p@$$.*w0rd y p@$$xxw0rd', `x ${R} y p@$$xxw0rd`))
test('unicode', _(['pässwörd✓'], 'pw: pässwörd✓', `pw: ${R}`))
test('other text untouched', _(['hunter22'], 'hunter2 hunter 22', 'hunter2 hunter 22'))
test('no secrets: unchanged', _([], 'anything', 'anything'))
test('adding twice is harmless', _(['hunter22', 'hunter22'], 'hunter22', R))

test('a secret shorter than 4 characters is refused', () => {
  assert.is(errorOf(() => new Secrets().add('abc')).message, 'a secret must be at least 4 characters long')
  assert.is(errorOf(() => new Secrets().add('')).message, 'a secret must be at least 4 characters long')
  assert.is(secrets('abcd').redact('abcd'), R)
})

test('redactDeep: every string of a nested event, other values kept', () => {
  const s = secrets('hunter22')
  const event: Event = {
    kind: 'result',
    playbook: 'p',
    task: 'set password hunter22',
    host: 'web1',
    status: 'failed',
    ms: 12,
    failure: { message: 'boom', cmd: "echo 'hunter22' | chpasswd", exitCode: 1, stderr: 'bad: hunter22\n' },
  }
  assert.equal(s.redactDeep(event), {
    ...event,
    task: `set password ${R}`,
    failure: { message: 'boom', cmd: `echo '${R}' | chpasswd`, exitCode: 1, stderr: `bad: ${R}\n` },
  })
  assert.is(event.task, 'set password hunter22', 'the original is not changed')
})

test('redactDeep: arrays, null, numbers, booleans', () => {
  const s = secrets('hunter22')
  assert.equal(s.redactDeep({ a: ['x', 'hunter22', 1, null, true, { b: ['hunter22'] }], n: null, u: undefined }), {
    a: ['x', R, 1, null, true, { b: [R] }],
    n: null,
    u: undefined,
  })
  assert.is(s.redactDeep('hunter22'), R)
  assert.is(s.redactDeep(42), 42)
})

test('a pattern hides every match, also in text seen later', () => {
  const s = new Secrets()
  s.addPattern(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/)
  assert.is(s.redact('[bootstrap-token] Using token: j4f4ia.4fxbvbast8gunlbz'), '[bootstrap-token] Using token: ********')
  assert.is(s.redact('a abcdef.0123456789abcdef b ghijkl.0123456789abcdef'), 'a ******** b ********')
  assert.is(s.redact('version v1.36.2, no token here'), 'version v1.36.2, no token here')
})

// ---- the secrets of a run: -v's streamed output, --diff of a secret upload ----

/** A run on this machine through the CLI's emitter (redaction, then the sinks); every event as JSON. */
async function seen(secrets: Secrets, tasks: Task[], opts: { diff?: boolean } = {}): Promise<string> {
  const events: Event[] = []
  await runLocal(localHosts('here'), [tasks], { verbose: true, diff: opts.diff ?? false, secrets, emit: emitter(secrets, [(e) => events.push(e)]) })
  return events.map((e) => JSON.stringify(e)).join('\n')
}

test('-v: a secret split across two output chunks is still hidden', async () => {
  const s = secrets('hunter22-secret-value')
  const text = await seen(s, [task('prints a secret in two writes', async ({ $ }) => void (await $`printf 'pw=hunter22-sec'; sleep 0.3; printf 'ret-value\nnext line\n'`))])
  const shown = text.split('\n').filter((l) => l.includes('"kind":"output"')).map((l) => (JSON.parse(l) as { text: string }).text).join('')
  assert.is(shown, `pw=${R}\nnext line\n`)
})

test('--diff -v of a secret upload: the old content (the rotated-out key) never reaches an event', async () => {
  const { dir, remove } = tempDir('secret-diff')
  try {
    const file = `${dir}/token`
    fs.writeFileSync(file, 'old-token-9f2c41\n', { mode: 0o600 })
    const s = new Secrets()
    const text = await seen(s, [task('rotates the token', async ({ upload }) => void (await upload(file, 'new-token-77ab0e\n', { mode: '0600', secret: true })))], { diff: true })
    assert.is(fs.readFileSync(file, 'utf8'), 'new-token-77ab0e\n')
    for (const form of ['old-token-9f2c41', Buffer.from('old-token-9f2c41\n').toString('base64').slice(0, 12)]) assert.not.match(text, form)
    assert.match(text, `(content of ${file} is secret: diff hidden)`)
  } finally {
    remove()
  }
})

test('the stream holder: chunks shown on line ends, no secret split, the rest at the end', () => {
  const s = secrets('abcdefgh')
  const out: string[] = []
  const h = s.holder((t) => out.push(t))
  for (const c of ['one\ntwo abcd', 'efgh three\nfour abc', 'defgh']) h.push(c)
  h.flush()
  assert.is(out.map((t) => s.redact(t)).join(''), `one\ntwo ${R} three\nfour ${R}`)
  // a long line with no newline is not held forever, and never cut inside a secret
  const long: string[] = []
  const g = s.holder((t) => long.push(t))
  g.push('x'.repeat(70_000) + 'abcd')
  g.push('efgh')
  g.flush()
  assert.ok(long.length >= 2, 'the long line was shown before the end')
  assert.is(long.map((t) => s.redact(t)).join(''), 'x'.repeat(70_000) + R)
})

test('the stream holder: each line is passed on once it ends, keeping back only what may start a secret', () => {
  // the longest secret is the base64 form, 12 characters: the last 11 are kept back
  const s = secrets('abcdefgh')
  const out: string[] = []
  const h = s.holder((t) => out.push(t))
  h.push('one\ntwo\nthree abcd')
  assert.equal(out, ['one\n'])
  h.push('efgh three\nfour abc')
  assert.equal(out, ['one\n', 'two\n'])
  h.push('defgh')
  assert.equal(out, ['one\n', 'two\n', 'three abcdefgh three\n'])
  h.flush()
  h.flush()
  assert.equal(out, ['one\n', 'two\n', 'three abcdefgh three\n', 'four abcdefgh'], 'the rest at the end, once')
})

test('the stream holder: the kept-back tail is exact, a line without its end is held up to 64 KiB', () => {
  // secrets('abcdefgh'): the last 11 characters are kept back (its base64 form is 12 long)
  const pieces = (...chunks: string[]) => {
    const out: string[] = []
    const h = secrets('abcdefgh').holder((t) => out.push(t))
    for (const c of chunks) h.push(c)
    return out.map((t) => (t.length > 20 ? `${t.slice(0, 4)}…${t.length}` : t))
  }
  assert.equal(pieces('ab\n' + 'x'.repeat(11)), ['ab\n'], 'a line end just before the tail: passed on')
  assert.equal(pieces('abc\n' + 'x'.repeat(10)), [], 'a line end inside the tail: held')
  assert.equal(pieces('\n' + 'x'.repeat(10)), [], 'all of it is tail')
  assert.equal(pieces('\nabc'), [], 'shorter than the tail')
  assert.equal(pieces('abcdefghijklmnopqrstuvwxyz'), [], 'no line end: held')
  assert.equal(pieces('x'.repeat(65536 + 11)), [], 'up to 64 KiB without a line end: held')
  assert.equal(pieces('x'.repeat(65536 + 12)), ['xxxx…65537'], 'past 64 KiB: passed on without waiting for the line end')
  assert.equal(pieces('a\n' + 'x'.repeat(70_000)), ['a\n'], 'a long line after a line end: only up to that end')
})

test('the stream holder: a multi-line secret (a private key) is never cut at its line ends', () => {
  const key = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG\n-----END KEY-----'
  const s = secrets(key)
  const out: string[] = []
  const h = s.holder((t) => out.push(t))
  // the text after the key has no line end: the last one before the kept-back tail is inside the key
  h.push(`cat key\n${key}`)
  h.push('z'.repeat(60))
  assert.equal(out, ['cat key\n'])
  h.flush()
  assert.is(out.map((t) => s.redact(t)).join(''), `cat key\n${R}${'z'.repeat(60)}`)
})

test('a pattern that can match nothing hides nothing; a /g pattern works as well', () => {
  const s = new Secrets()
  s.addPattern(/x*/)
  s.addPattern(/tok-[0-9]+/g)
  s.addPattern(/tok-[0-9]+/g)
  assert.is(s.redact('abc tok-123 def'), `abc ${R} def`)
})

test.run()
