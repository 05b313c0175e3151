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

test.run()
