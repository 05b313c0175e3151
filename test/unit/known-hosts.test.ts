import { execFileSync, spawnSync } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  appendKnownHost,
  fingerprint,
  hostKeyName,
  keyType,
  knownAlgorithms,
  matches,
  parseKnownHosts,
  readKnownHosts,
  verify,
  type KnownHost,
} from '../../lib/transport/known-hosts.ts'
import { tempDir } from './_helpers.ts'

const { dir: tmp, remove } = tempDir('known-hosts')
test.after(remove)

/** A fresh key pair from ssh-keygen: the .pub line's fields and the decoded blob. */
function keygen(type: 'ed25519' | 'ecdsa', name: string) {
  const file = path.join(tmp, name)
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'test key', '-f', file])
  const [keyType = '', b64 = ''] = fs.readFileSync(`${file}.pub`, 'utf8').split(' ')
  return { file, type: keyType, b64, blob: Buffer.from(b64, 'base64') }
}
const ed = keygen('ed25519', 'ed')
const ed2 = keygen('ed25519', 'ed2')
const ec = keygen('ecdsa', 'ec')

/** OpenSSH's hashed host name: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function hashed(name: string): string {
  const salt = randomBytes(20)
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`
}

// ---- parse ----

test('parse: fields apart by several spaces or tabs, as ssh reads them (judged by ssh-keygen -F)', () => {
  const file = path.join(tmp, 'spaced_hosts')
  fs.writeFileSync(file, `web1  \t${ed.type}\t\t${ed.b64}   comment\n`)
  assert.match(execFileSync('ssh-keygen', ['-F', 'web1', '-f', file], { encoding: 'utf8' }), 'found: line 1')
  assert.is(verify(readKnownHosts([file]), ['web1'], ed.blob).status, 'known')
})

test('parse: fields, line numbers, comments and blank lines skipped', () => {
  const text = `# a comment\n\n   \nweb1,10.0.0.1 ${ed.type} ${ed.b64} a comment\n  [db1]:2222\tssh-rsa AAAA\r\n@revoked * ${ed2.type} ${ed2.b64}\n@cert-authority *.lan ${ec.type} ${ec.b64}\nincomplete ssh-rsa\n`
  const e = parseKnownHosts(text, 'kh')
  assert.equal(e, [
    { file: 'kh', line: 4, marker: undefined, patterns: ['web1', '10.0.0.1'], type: ed.type, key: ed.b64 },
    { file: 'kh', line: 5, marker: undefined, patterns: ['[db1]:2222'], type: 'ssh-rsa', key: 'AAAA' },
    { file: 'kh', line: 6, marker: '@revoked', patterns: ['*'], type: ed2.type, key: ed2.b64 },
    { file: 'kh', line: 7, marker: '@cert-authority', patterns: ['*.lan'], type: ec.type, key: ec.b64 },
  ])
})

// ---- matches: patterns → name → hit ----

const entry = (patterns: string): KnownHost => ({ file: 'kh', line: 1, patterns: patterns.split(','), type: 'ssh-ed25519', key: 'AAAA' })
const _ = (patterns: string, name: string, expected: boolean) => () => assert.is(matches(entry(patterns), name), expected)

test('plain', _('web1', 'web1', true))
test('plain, other name', _('web1', 'web2', false))
test('case-insensitive', _('Web1.LAN', 'web1.lan', true))
test('no partial match', _('web1', 'web10', false))
test('a dot is literal', _('10.0.0.1', '10a0a0a1', false))
test('comma list', _('web1,10.0.0.1', '10.0.0.1', true))
test('[host]:port', _('[web1]:2222', '[web1]:2222', true))
test('[host]:port is not port 22', _('[web1]:2222', 'web1', false))
test('port 22 entry is not another port', _('web1', '[web1]:2222', false))
test('* wildcard', _('*.example.com', 'a.b.example.com', true))
test('* wildcard, other domain', _('*.example.com', 'example.org', false))
test('? wildcard', _('10.0.0.?', '10.0.0.7', true))
test('? is one character', _('10.0.0.?', '10.0.0.17', false))
test('wildcard in [host]:port', _('[*.lan]:2222', '[db.lan]:2222', true))
test('negation wins', _('*.example.com,!bad.example.com', 'bad.example.com', false))
test('negation alone matches nothing', _('!bad', 'good', false))
test('hashed', () => assert.ok(matches(entry(hashed('web1.lan')), 'web1.lan')))
test('hashed, other name', () => assert.not.ok(matches(entry(hashed('web1.lan')), 'web2.lan')))
test('hashed [host]:port', () => assert.ok(matches(entry(hashed('[web1]:2222')), '[web1]:2222')))
test('hashed, looked up in any case (OpenSSH hashes lowercase)', () => assert.ok(matches(entry(hashed('web1.lan')), 'Web1.LAN')))
test('hashed negation', () => assert.not.ok(matches(entry(`*.lan,!${hashed('bad.lan')}`), 'bad.lan')))
test('hashed, malformed', _('|1|onlysalt', 'x', false))

// OpenSSH judges: `ssh-keygen -F name` finds the entry or not (exit 0 or 1)
const judged: [string, string][] = [
  ['web1', 'xweb1'],
  ['web1', 'web1x'],
  ['a+b', 'aab'],
  ['a+b', 'a+b'],
  ['(web)', 'web'],
  ['(web)', '(web)'],
  ['w.b', 'wxb'],
  ['web{1}', 'web1'],
  ['web|db', 'web'],
  ['^web$', 'web'],
  ['a\\b', 'a\\b'],
  ['*', 'anything.lan'],
  ['web?', 'web12'],
  ['WEB*.LAN', 'web3.lan'],
  ['*.lan,!bad.lan', 'bad.lan'],
  ['!bad.lan,*.lan', 'good.lan'],
]
for (const [patterns, name] of judged) {
  test(`matches as ssh-keygen -F: ${patterns} for ${name}`, () => {
    const file = path.join(tmp, 'judged_hosts')
    fs.writeFileSync(file, `${patterns} ${ed.type} ${ed.b64}\n`)
    const found = spawnSync('ssh-keygen', ['-F', name, '-f', file], { stdio: 'ignore' }).status === 0
    assert.is(matches(entry(patterns), name), found)
  })
}

test('ssh-keygen -H output matches, incl. a mixed-case name', () => {
  const file = path.join(tmp, 'hashed_hosts')
  fs.writeFileSync(file, `Web1.Lan ${ed.type} ${ed.b64}\n[web1.lan]:2222 ${ed.type} ${ed.b64}\n`)
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' })
  const entries = readKnownHosts([file])
  assert.ok(entries.every((e) => e.patterns[0]?.startsWith('|1|')))
  assert.equal(verify(entries, ['web1.lan'], ed.blob), { status: 'known' })
  assert.equal(verify(entries, ['Web1.Lan'], ed.blob), { status: 'known' })
  assert.equal(verify(entries, ['[web1.lan]:2222'], ed.blob), { status: 'known' })
  assert.equal(verify(entries, ['[web1.lan]:2200'], ed.blob), { status: 'unknown' })
})

test('a hashed entry (ssh-keygen -H, Debian default HashKnownHosts) with another key: changed, never unknown or known', () => {
  const file = path.join(tmp, 'hashed_changed')
  fs.writeFileSync(file, `# kept\nweb1.lan ${ed.type} ${ed.b64}\n`)
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' })
  const entries = readKnownHosts([file])
  for (const blob of [ed2.blob, ec.blob]) {
    const v = verify(entries, ['web1.lan'], blob)
    assert.is(v.status, 'changed')
    assert.equal(v.status === 'changed' && v.known.map((k) => [k.file, k.line]), [[file, 2]])
  }
})

// ---- verify ----

const KH = [
  `web1,10.0.0.1 ${ed.type} ${ed.b64}`,
  `[web2]:2222 ${ec.type} ${ec.b64}`,
  `@cert-authority * ${ed2.type} ${ed2.b64}`,
  `oldbox ${ed2.type} ${ed2.b64}`,
].join('\n')
const entries = parseKnownHosts(KH, 'kh')
const status = (names: string[], blob: Buffer) => verify(entries, names, blob).status

test('known', () => assert.is(status(['web1'], ed.blob), 'known'))
test('known by any of its names', () => assert.is(status(['nope', '10.0.0.1'], ed.blob), 'known'))
test('known with a port', () => assert.is(status(['[web2]:2222'], ec.blob), 'known'))
test('unknown', () => assert.is(status(['web9'], ed.blob), 'unknown'))
test('unknown on another port', () => assert.is(status(['web2'], ec.blob), 'unknown'))
test('a @cert-authority line does not make a key known', () => assert.is(status(['web9'], ed2.blob), 'unknown'))
test('changed: same type, another key', () => {
  const v = verify(entries, ['web1'], ed2.blob)
  assert.is(v.status, 'changed')
  assert.equal(v.status === 'changed' && v.known.map((k) => k.line), [1])
})
test('changed: only keys of another type known (stricter than ssh)', () => {
  const v = verify(entries, ['web1'], ec.blob)
  assert.equal(v.status === 'changed' && v.known.map((k) => k.line), [1])
})
test('revoked, even when also listed as known', () => {
  const revoked = parseKnownHosts(`${KH}\n@revoked * ${ed.type} ${ed.b64}`, 'kh')
  const v = verify(revoked, ['web1'], ed.blob)
  assert.equal(v.status === 'revoked' && v.known.line, 5)
})

test('a @revoked line revokes only its own key', () => {
  const other = parseKnownHosts(`${KH}\n@revoked * ${ec.type} ${ec.b64}`, 'kh')
  assert.equal(verify(other, ['web1'], ed.blob), { status: 'known' })
})
test('unknown when only other hosts have keys', () => assert.equal(verify(entries, ['web3'], ec.blob), { status: 'unknown' }))

test('changed: with keys of several types known, the ones of the presented type are named', () => {
  const kh = parseKnownHosts(`multi ${ec.type} ${ec.b64}\nmulti ${ed.type} ${ed.b64}`, 'kh')
  const v = verify(kh, ['multi'], ed2.blob)
  assert.equal(v.status === 'changed' && v.known.map((k) => k.line), [2])
})
test('a @revoked line for another key of the host makes nothing known or changed', () => {
  const kh = parseKnownHosts(`@revoked web5 ${ed2.type} ${ed2.b64}\n@cert-authority web5 ${ec.type} ${ec.b64}`, 'kh')
  assert.equal(verify(kh, ['web5'], ed.blob), { status: 'unknown' })
})

// ---- knownAlgorithms, hostKeyName ----

test('knownAlgorithms: the types known for the host, rsa expanded', () => {
  const kh = parseKnownHosts(`h ssh-rsa AAAA\nh,x ${ed.type} ${ed.b64}\nh ${ed.type} ${ed2.b64}\n@cert-authority h ${ec.type} ${ec.b64}\n@revoked h ${ec.type} ${ec.b64}\nother ${ec.type} ${ec.b64}`, 'kh')
  assert.equal(knownAlgorithms(kh, ['h']), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519'])
  assert.equal(knownAlgorithms(kh, ['x']), ['ssh-ed25519'])
  assert.equal(knownAlgorithms(kh, ['nobody']), [])
  // a host is known by any of the names it is looked up under (its name, its address): one is enough
  assert.equal(knownAlgorithms(kh, ['nobody', 'x']), ['ssh-ed25519'])
})

test('hostKeyName: bare on port 22', () => assert.is(hostKeyName('web1', 22), 'web1'))
test('hostKeyName: [host]:port otherwise', () => assert.is(hostKeyName('10.0.0.1', 2222), '[10.0.0.1]:2222'))
test('hostKeyName: IPv6', () => assert.is(hostKeyName('fd00::1', 2222), '[fd00::1]:2222'))

// ---- keys ----

test('keyType and fingerprint of a real key agree with ssh-keygen', () => {
  for (const k of [ed, ec]) {
    assert.is(keyType(k.blob), k.type)
    const [, expected] = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${k.file}.pub`], { encoding: 'utf8' }).split(' ')
    assert.is(fingerprint(k.blob), expected)
  }
  assert.is(ec.type, 'ecdsa-sha2-nistp256')
})

// ---- files ----

test('readKnownHosts: several files, missing ones skipped', () => {
  const a = path.join(tmp, 'a_hosts')
  fs.writeFileSync(a, `web1 ${ed.type} ${ed.b64}\n`)
  const got = readKnownHosts([path.join(tmp, 'missing'), a])
  assert.equal(
    got.map((e) => [e.file, e.line, e.patterns]),
    [[a, 1, ['web1']]]
  )
})

test('appendKnownHost: creates the folder and a 0600 file; the entry reads back as known', () => {
  const file = path.join(tmp, 'new-home', '.ssh', 'known_hosts')
  appendKnownHost(file, '[web1]:2222', ed.blob)
  assert.is(fs.statSync(file).mode & 0o777, 0o600)
  assert.is(fs.readFileSync(file, 'utf8'), `[web1]:2222 ${ed.type} ${ed.b64}\n`)
  assert.is(verify(readKnownHosts([file]), ['[web1]:2222'], ed.blob).status, 'known')
})

test('appendKnownHost: after a file that ends with its line end, the entry follows directly (no blank line)', () => {
  const file = path.join(tmp, 'with_newline')
  fs.writeFileSync(file, `web1 ${ed.type} ${ed.b64}\n`)
  appendKnownHost(file, 'web2', ec.blob)
  assert.is(fs.readFileSync(file, 'utf8'), `web1 ${ed.type} ${ed.b64}\nweb2 ${ec.type} ${ec.b64}\n`)
})

test('appendKnownHost: a short last line without newline (its second byte a line end) stays intact', () => {
  const file = path.join(tmp, 'short_last_line')
  fs.writeFileSync(file, `#\nweb1 ${ed.type} ${ed.b64}`)
  appendKnownHost(file, 'web2', ec.blob)
  assert.is(fs.readFileSync(file, 'utf8'), `#\nweb1 ${ed.type} ${ed.b64}\nweb2 ${ec.type} ${ec.b64}\n`)
})

test('appendKnownHost: a last line without newline stays intact', () => {
  const file = path.join(tmp, 'no_newline')
  fs.writeFileSync(file, `web1 ${ed.type} ${ed.b64}`)
  appendKnownHost(file, 'web2', ec.blob)
  const entries = readKnownHosts([file])
  assert.is(verify(entries, ['web1'], ed.blob).status, 'known')
  assert.is(verify(entries, ['web2'], ec.blob).status, 'known')
})

test.run()
