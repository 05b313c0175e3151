import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { wrapCommand } from '../../lib/transport/shell.ts'
import { normalizeMode, parseUploadAnswer, sha256, uploadScript, type UploadAnswer, type UploadSpec } from '../../lib/transport/upload.ts'
import { errorOf, tempDir } from './_helpers.ts'

const { dir: tmp, remove } = tempDir('upload')
test.after(remove)

/** Run the upload script as the engine does (bash, strict mode) with `content` on stdin. */
function upload(dest: string, content: string | Buffer, opts: Partial<UploadSpec> = {}, input?: Buffer) {
  const spec: UploadSpec = { dest, content: Buffer.from(content), mode: '644', dryRun: false, wantOld: false, ...opts }
  const r = spawnSync('bash', ['-c', `set -euo pipefail\n${uploadScript(spec)}`], { input: input ?? (opts.dryRun ? '' : spec.content) })
  const stdout = r.stdout.toString()
  return { status: r.status, stderr: r.stderr.toString(), answer: r.status === 0 ? parseUploadAnswer(stdout) : undefined }
}

/**
 * The same, with the content as a file on stdin, as the persistent shell gives a command its input;
 * `PATH` first: a folder whose sha256sum records that it ran (and then runs the real one).
 */
function uploadFromFile(dest: string, content: string | Buffer, opts: Partial<UploadSpec> = {}) {
  const spec: UploadSpec = { dest, content: Buffer.from(content), mode: '644', dryRun: false, wantOld: false, ...opts }
  const input = path.join(tmp, `.input-${Math.random().toString(36).slice(2)}`)
  fs.writeFileSync(input, spec.content)
  const spy = path.join(tmp, '.spy')
  fs.mkdirSync(spy, { recursive: true })
  fs.writeFileSync(path.join(spy, 'sha256sum'), `#!/bin/sh\necho ran >> ${spy}/ran\nexec /usr/bin/sha256sum "$@"\n`, { mode: 0o755 })
  fs.rmSync(path.join(spy, 'ran'), { force: true })
  const fd = fs.openSync(input, 'r')
  try {
    const r = spawnSync('bash', ['-c', `set -euo pipefail\n${uploadScript(spec)}`], { stdio: [fd, 'pipe', 'pipe'], env: { ...process.env, PATH: `${spy}:${process.env.PATH}` } })
    const stdout = r.stdout.toString()
    return { status: r.status, stderr: r.stderr.toString(), answer: r.status === 0 ? parseUploadAnswer(stdout) : undefined, hashed: fs.existsSync(path.join(spy, 'ran')) }
  } finally {
    fs.closeSync(fd)
    fs.rmSync(input)
  }
}

const at = (name: string) => path.join(tmp, name)
const leftovers = (dir = tmp) => fs.readdirSync(dir).filter((f) => f.startsWith('.zxplay.'))
const modeOf = (file: string) => (fs.statSync(file).mode & 0o7777).toString(8)
const answer = (state: UploadAnswer['state'], existed: boolean, old?: string | Buffer): UploadAnswer => ({
  state,
  existed,
  old: old === undefined ? undefined : Buffer.from(old),
})

test('a new file: written with its mode', () => {
  const r = upload(at('new.conf'), 'a=1\n', { mode: '600' })
  assert.equal(r.answer, answer('differs', false))
  assert.is(fs.readFileSync(at('new.conf'), 'utf8'), 'a=1\n')
  assert.is(modeOf(at('new.conf')), '600')
  assert.equal(leftovers(), [])
})

test('same content and mode: same, the file is not touched', () => {
  upload(at('same.conf'), 'a=1\n')
  const before = fs.statSync(at('same.conf'))
  const r = upload(at('same.conf'), 'a=1\n')
  const after = fs.statSync(at('same.conf'))
  assert.equal(r.answer, answer('same', true))
  assert.equal([after.ino, after.mtimeMs, after.ctimeMs], [before.ino, before.mtimeMs, before.ctimeMs])
})

test('content drift: differs, replaced by rename (a new inode), no temp file left', () => {
  upload(at('drift.conf'), 'a=1\n')
  const before = fs.statSync(at('drift.conf'))
  const r = upload(at('drift.conf'), 'a=2\n')
  assert.equal(r.answer, answer('differs', true))
  assert.is(fs.readFileSync(at('drift.conf'), 'utf8'), 'a=2\n')
  assert.is.not(fs.statSync(at('drift.conf')).ino, before.ino)
  assert.equal(leftovers(), [])
  assert.equal(upload(at('drift.conf'), 'a=2\n').answer, answer('same', true))
})

test('mode drift: differs, mode fixed', () => {
  upload(at('mode.sh'), 'echo\n', { mode: '755' })
  fs.chmodSync(at('mode.sh'), 0o700)
  assert.equal(upload(at('mode.sh'), 'echo\n', { mode: '755' }).answer, answer('differs', true))
  assert.is(modeOf(at('mode.sh')), '755')
  assert.equal(upload(at('mode.sh'), 'echo\n', { mode: '755' }).answer, answer('same', true))
})

// The unit tests run as root (chown needs it); elsewhere these two are skipped by name.
const asRoot = process.getuid?.() === 0 ? test : test.skip
asRoot('owner drift (right content and mode, wrong owner): differs, owner fixed', () => {
  upload(at('owned.conf'), 'a=1\n', { owner: 'daemon' })
  fs.chownSync(at('owned.conf'), 0, 0)
  assert.equal(upload(at('owned.conf'), 'a=1\n', { owner: 'daemon' }).answer, answer('differs', true))
  assert.is(fs.statSync(at('owned.conf')).uid, 1)
  assert.equal(upload(at('owned.conf'), 'a=1\n', { owner: 'daemon' }).answer, answer('same', true))
})

asRoot('group drift: differs, group fixed', () => {
  upload(at('grouped.conf'), 'a=1\n', { owner: 'root', group: 'daemon' })
  fs.chownSync(at('grouped.conf'), 0, 0)
  assert.equal(upload(at('grouped.conf'), 'a=1\n', { owner: 'root', group: 'daemon' }).answer, answer('differs', true))
  assert.equal([fs.statSync(at('grouped.conf')).uid, fs.statSync(at('grouped.conf')).gid], [0, 1])
  assert.equal(upload(at('grouped.conf'), 'a=1\n', { owner: 'root', group: 'daemon' }).answer, answer('same', true))
})

asRoot('group only: set, the owner left as it is', () => {
  upload(at('group-only.conf'), 'a=1\n', { group: 'daemon' })
  assert.equal([fs.statSync(at('group-only.conf')).uid, fs.statSync(at('group-only.conf')).gid], [0, 1])
  assert.equal(upload(at('group-only.conf'), 'a=1\n', { group: 'daemon' }).answer, answer('same', true))
})

test('setuid and unusual modes', () => {
  assert.equal(upload(at('suid'), 'x', { mode: '4755' }).answer, answer('differs', false))
  assert.is(modeOf(at('suid')), '4755')
  assert.equal(upload(at('suid'), 'x', { mode: '4755' }).answer, answer('same', true))
  upload(at('none'), 'x', { mode: normalizeMode('0000') })
  assert.is(modeOf(at('none')), '0')
  assert.equal(upload(at('none'), 'x', { mode: '0' }).answer, answer('same', true))
  upload(at('low'), 'x', { mode: normalizeMode('0040') })
  assert.equal(upload(at('low'), 'x', { mode: '040' }).answer, answer('same', true))
})

test('uploadScript refuses a mode that is not octal', () => {
  for (const mode of ['644; reboot', '', '0o644', '1234567']) {
    const e = errorOf(() => uploadScript({ dest: '/x', content: Buffer.from(''), mode, dryRun: true, wantOld: false }))
    assert.instance(e, TypeError)
    assert.is(e.message, `mode '${mode}' is not an octal file mode like '0644'`)
  }
})

test('an unnormalized mode still compares equal', () => {
  upload(at('zero.conf'), 'x', { mode: '0640' })
  assert.is(modeOf(at('zero.conf')), '640')
  assert.equal(upload(at('zero.conf'), 'x', { mode: '0640' }).answer, answer('same', true))
  assert.equal(upload(at('zero.conf'), 'x', { mode: '00640' }).answer, answer('same', true))
})

test('empty content', () => {
  assert.equal(upload(at('empty'), '').answer, answer('differs', false))
  assert.is(fs.readFileSync(at('empty'), 'utf8'), '')
  assert.equal(upload(at('empty'), '').answer, answer('same', true))
  assert.equal(upload(at('empty'), 'now some').answer, answer('differs', true))
})

test('binary content, byte for byte', () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  upload(at('bin'), bytes)
  assert.equal(fs.readFileSync(at('bin')), bytes)
  assert.equal(upload(at('bin'), bytes).answer, answer('same', true))
})

test('dirMode: a missing folder is made with that mode in the same script; without it, a missing folder fails', () => {
  const r = upload(at('made/here/x.conf'), 'a=1\n', { dirMode: '700' })
  assert.equal([r.status, r.answer], [0, answer('differs', false)])
  assert.is(fs.readFileSync(at('made/here/x.conf'), 'utf8'), 'a=1\n')
  assert.is(modeOf(at('made/here')), '700')
  assert.is(upload(at('missing/x.conf'), 'a=1\n').status, 1)
  assert.not.ok(fs.existsSync(at('missing')))
  assert.equal(upload(at('dry-dir/x.conf'), 'a', { dirMode: '755', dryRun: true }).answer, answer('differs', false))
  assert.not.ok(fs.existsSync(at('dry-dir')), 'nothing made under --check')
  assert.match(errorOf(() => uploadScript({ dest: '/x', content: Buffer.from(''), mode: '644', dirMode: '755; reboot', dryRun: false, wantOld: false })).message, /not an octal folder mode/)
})

test("validate (Ansible's): the new content is checked at its temporary name, with its final mode, before it replaces the file", () => {
  const file = at('checked.conf')
  upload(file, 'good=1\n')
  const seen = at('validate-seen')
  const check = `cp %s ${seen}; stat -c %a %s >> ${seen}; grep -q '^good=' %s`
  assert.equal(upload(file, 'good=2\n', { mode: '600', validate: check }).answer, answer('differs', true))
  assert.is(fs.readFileSync(file, 'utf8'), 'good=2\n')
  assert.is(fs.readFileSync(seen, 'utf8'), 'good=2\n600\n', 'it saw the new content and mode')

  const before = fs.statSync(file)
  const bad = upload(file, 'broken\n', { validate: check })
  assert.is(bad.status, 1)
  assert.match(bad.stderr, `${file} was left as it was: the new content failed its check`)
  assert.match(bad.stderr, "grep -q '^good=' %s")
  assert.is(fs.readFileSync(file, 'utf8'), 'good=2\n')
  assert.is(fs.statSync(file).ino, before.ino, 'the old file is untouched')
  assert.equal(leftovers(), [], 'the rejected temporary file is removed')
})

test('validate: its output is in the error; it runs once, only when the file is written (not when same, not under dryRun); %s is required', () => {
  const file = at('once.conf')
  const runs = at('validate-runs')
  const check = `echo run >> ${runs}; echo 'line 3: bad $(value)' >&2; false %s`
  const bad = upload(file, 'x\n', { validate: check })
  assert.is(bad.status, 1)
  assert.match(bad.stderr, 'line 3: bad $(value)')
  assert.is(fs.readFileSync(runs, 'utf8'), 'run\n', 'the error message does not run the check again')
  assert.not.ok(fs.existsSync(file))
  upload(file, 'x\n')
  assert.equal(upload(file, 'x\n', { validate: check }).answer, answer('same', true))
  assert.equal(upload(file, 'y\n', { validate: check, dryRun: true }).answer, answer('differs', true))
  assert.is(fs.readFileSync(runs, 'utf8'), 'run\n')
  assert.match(errorOf(() => uploadScript({ dest: '/x', content: Buffer.from(''), mode: '644', validate: 'visudo -c', dryRun: false, wantOld: false })).message, "validate command 'visudo -c' has no %s")
})

test('dryRun: answers, never writes', () => {
  assert.equal(upload(at('dry'), 'x', { dryRun: true }).answer, answer('differs', false))
  assert.not.ok(fs.existsSync(at('dry')))
  fs.writeFileSync(at('dry'), 'old')
  assert.equal(upload(at('dry'), 'new', { dryRun: true, wantOld: true }).answer, answer('differs', true, 'old'))
  assert.is(fs.readFileSync(at('dry'), 'utf8'), 'old')
  assert.equal(leftovers(), [])
})

test('wantOld: the old content, text, binary or empty', () => {
  fs.writeFileSync(at('old.txt'), 'line 1\nline 2\n')
  assert.equal(upload(at('old.txt'), 'new', { wantOld: true }).answer, answer('differs', true, 'line 1\nline 2\n'))
  const bytes = Buffer.from([0, 10, 255, 13, 10])
  fs.writeFileSync(at('old.bin'), bytes)
  assert.equal(upload(at('old.bin'), 'new', { wantOld: true }).answer, answer('differs', true, bytes))
  fs.writeFileSync(at('old.empty'), '')
  assert.equal(upload(at('old.empty'), 'new', { wantOld: true }).answer, answer('differs', true, ''))
  assert.equal(upload(at('old.none'), 'new', { wantOld: true }).answer, answer('differs', false))
  assert.equal(upload(at('old.none'), 'new', { wantOld: true }).answer, answer('same', true))
  assert.is(fs.readFileSync(at('old.txt'), 'utf8'), 'new')
})

test('missing parent folder: fails, nothing left behind', () => {
  const r = upload(at('no/such/dir/file'), 'x')
  assert.is.not(r.status, 0)
  assert.not.ok(fs.existsSync(at('no')))
  assert.equal(leftovers(), [])
})

test('a folder at dest: fails, writes nothing into it', () => {
  fs.mkdirSync(at('adir'))
  const r = upload(at('adir'), 'x')
  assert.is.not(r.status, 0)
  assert.ok(r.stderr.includes('is a directory'), r.stderr)
  assert.equal(fs.readdirSync(at('adir')), [])
  assert.equal(leftovers(), [])
})

test('dest names with spaces, quotes, $() and newlines', () => {
  const names = ['with space', "it's", '"dq"', '$(touch canary)', '`touch canary`', 'new\nline', 'ü ✓', '-rf']
  for (const name of names) {
    assert.equal(upload(at(name), name).answer, answer('differs', false), name)
    assert.is(fs.readFileSync(at(name), 'utf8'), name)
    assert.equal(upload(at(name), name).answer, answer('same', true), name)
  }
  assert.not.ok(fs.existsSync('canary') || fs.existsSync(at('canary')))
  assert.equal(leftovers(), [])
})

test('a failed write keeps the old file and leaves no temp file', () => {
  fs.writeFileSync(at('keep'), 'old')
  // an owner that does not exist: chown fails after the temp file was written
  const r = upload(at('keep'), 'new', { owner: 'zxplay-no-such-user' })
  assert.is.not(r.status, 0)
  assert.is(fs.readFileSync(at('keep'), 'utf8'), 'old')
  assert.equal(leftovers(), [])
})

test('content cut short (the connection dropped): the old file stays, no temp file', () => {
  fs.writeFileSync(at('cut'), 'old')
  const content = Buffer.alloc(300_000, 'n')
  const r = upload(at('cut'), content, {}, content.subarray(0, 200_000))
  assert.is(r.status, 1)
  assert.match(r.stderr, `the content arrived incomplete (200000 of 300000 bytes): ${at('cut')} was left as it was`)
  assert.is(fs.readFileSync(at('cut'), 'utf8'), 'old')
  assert.equal(leftovers(), [])
  // the same length with other bytes: refused too
  assert.is(upload(at('cut'), 'abc', {}, Buffer.from('abd')).status, 1)
  assert.is(fs.readFileSync(at('cut'), 'utf8'), 'old')
})

test('TERM to the command while the content arrives (Ctrl-C): no temp file left', async () => {
  fs.writeFileSync(at('term'), 'old')
  const script = uploadScript({ dest: at('term'), content: Buffer.alloc(1000, 't'), mode: '644', dryRun: false, wantOld: false })
  // as the transports start it: its own process group, the time limit's trap in place
  const p = spawn('bash', ['-c', wrapCommand(script, undefined, 60_000)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  p.stdin.write(Buffer.alloc(500, 't'))
  for (let i = 0; i < 200 && !leftovers().length; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(leftovers().length, 1, 'the temp file was not created')
  await new Promise((r) => setTimeout(r, 200)) // cat is reading by now
  process.kill(-p.pid!, 'SIGTERM')
  const code = await new Promise((r) => p.on('exit', (c, sig) => r(c ?? sig)))
  assert.is(code, 143)
  assert.equal(leftovers(), [])
  assert.is(fs.readFileSync(at('term'), 'utf8'), 'old')
})

test('a destination that is not an absolute path is refused (-t<dir> would be an option)', () => {
  for (const dest of ['-t/tmp', 'relative/file', '', '~/x']) {
    const e = errorOf(() => uploadScript({ dest, content: Buffer.from('x'), mode: '644', dryRun: false, wantOld: false }))
    assert.instance(e, TypeError)
    assert.is(e.message, `upload destination '${dest}' is not an absolute path (expected one starting with /)`)
  }
})

test('a symlink at dest: its target is neither read (--diff) nor written; the link is replaced', () => {
  fs.writeFileSync(at('target'), 'private')
  fs.symlinkSync(at('target'), at('link'))
  const r = upload(at('link'), 'new', { wantOld: true })
  assert.equal(r.answer, answer('differs', true))
  assert.is(fs.readFileSync(at('target'), 'utf8'), 'private')
  assert.not.ok(fs.lstatSync(at('link')).isSymbolicLink())
  assert.is(fs.readFileSync(at('link'), 'utf8'), 'new')
  // a link to a file with the same content is still replaced by a file
  fs.rmSync(at('link'))
  fs.symlinkSync(at('target'), at('link'))
  assert.equal(upload(at('link'), 'private').answer, answer('differs', true))
  assert.not.ok(fs.lstatSync(at('link')).isSymbolicLink())
})

test('a symlink to a folder at dest: the link is replaced by the file, the folder untouched', () => {
  fs.mkdirSync(at('linked-dir'))
  fs.symlinkSync(at('linked-dir'), at('dirlink'))
  assert.equal(upload(at('dirlink'), 'x').answer, answer('differs', true))
  assert.is(fs.readFileSync(at('dirlink'), 'utf8'), 'x')
  assert.not.ok(fs.lstatSync(at('dirlink')).isSymbolicLink())
  assert.equal(fs.readdirSync(at('linked-dir')), [])
})

// ---- normalizeMode: input → mode ----

const mode = (input: string | number | undefined, expected: string) => () => assert.is(normalizeMode(input), expected)
test('mode 0644', mode('0644', '644'))
test('mode 644', mode('644', '644'))
test('mode 0o600', mode(0o600, '600'))
test('mode 4755', mode('4755', '4755'))
test('mode 04755', mode('04755', '4755'))
test('mode 0000', mode('0000', '0'))
test('mode default', mode(undefined, '644'))
test('mode fallback', () => assert.is(normalizeMode(undefined, '0755'), '755'))

const badMode = (input: string | number) => () => {
  const e = errorOf(() => normalizeMode(input))
  assert.instance(e, TypeError)
  assert.is(e.message, `mode '${input}' is not an octal file mode like '0644'`)
}
test('mode rw', badMode('rw'))
test('mode u+x', badMode('u+x'))
test('mode 8 in it', badMode('0688'))
test('mode too short', badMode('64'))
test('mode too long', badMode('104755'))
test('mode past 0o7777', badMode(0o10000))
test('mode with spaces', badMode(' 644'))
test('mode with a shell command', badMode('644; reboot'))

test('content as a file on stdin: a converged upload is compared by bash, byte for byte, with no sha256sum', () => {
  const text = 'a=1\r\nü\xff\\ $x `y`\n\n\n'
  const r1 = uploadFromFile(at('infile.conf'), text)
  assert.equal(r1.answer, answer('differs', false))
  const before = fs.statSync(at('infile.conf'))
  const r2 = uploadFromFile(at('infile.conf'), text)
  assert.equal(r2.answer, answer('same', true))
  assert.not.ok(r2.hashed, 'no sha256sum started')
  assert.is(fs.statSync(at('infile.conf')).mtimeMs, before.mtimeMs)
  // the file's copy of the input is still read from its start when the content is written
  assert.equal(uploadFromFile(at('infile.conf'), 'a=2\n').answer, answer('differs', true))
  assert.is(fs.readFileSync(at('infile.conf'), 'utf8'), 'a=2\n')
  assert.equal(uploadFromFile(at('infile.conf'), 'a=2\n', { mode: '600' }).answer, answer('differs', true), 'the mode is still compared')
  assert.equal(uploadFromFile(at('infile.conf'), '', {}).answer, answer('differs', true))
  assert.equal(uploadFromFile(at('infile.conf'), '').answer, answer('same', true))
})

test('content as a file on stdin: a file that only starts like it, or holds a NUL after it, differs', () => {
  for (const [onHost, label] of [
    ['a=1\n\0tail', 'a NUL and more after the content'],
    ['a=1\n\0', 'a NUL right after it'],
    ['a=1\nmore', 'more after it'],
    ['a=1', 'a byte short'],
    ['\0a=1\n', 'a NUL before it'],
  ] as const) {
    fs.writeFileSync(at('nul.conf'), onHost, { mode: 0o644 })
    fs.chmodSync(at('nul.conf'), 0o644)
    const r = uploadFromFile(at('nul.conf'), 'a=1\n')
    assert.equal(r.answer, answer('differs', true), label)
    assert.is(fs.readFileSync(at('nul.conf'), 'utf8'), 'a=1\n', label)
  }
})

test('content bash cannot hold (a NUL, or past 64 KiB) and a pipe on stdin: compared by sha256sum, as before', () => {
  const binary = Buffer.from([1, 0, 2, 0, 3])
  uploadFromFile(at('bin.dat'), binary)
  const b = uploadFromFile(at('bin.dat'), binary)
  assert.equal(b.answer, answer('same', true))
  assert.ok(b.hashed)
  const big = 'x'.repeat(64 * 1024 + 1)
  uploadFromFile(at('big.txt'), big)
  const g = uploadFromFile(at('big.txt'), big)
  assert.equal(g.answer, answer('same', true))
  assert.ok(g.hashed)
  // a pipe cannot be read twice: the content is hashed
  uploadFromFile(at('piped.conf'), 'p=1\n')
  assert.equal(upload(at('piped.conf'), 'p=1\n').answer, answer('same', true))
  assert.equal(upload(at('piped.conf'), 'p=2\n').answer, answer('differs', true))
})

test('an unreadable file is an error, not an empty one (as sha256sum fails on it)', () => {
  if (process.getuid?.() === 0) {
    // root reads any file: run the script as nobody on a file only its owner may read
    fs.writeFileSync(at('secret.conf'), '', { mode: 0o600 })
    const input = at('.in-empty')
    fs.writeFileSync(input, '')
    const script = uploadScript({ dest: at('secret.conf'), content: Buffer.from(''), mode: '600', dryRun: true, wantOld: false })
    fs.chmodSync(tmp, 0o755)
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', '-c', `set -euo pipefail\n${script}`], { stdio: [fs.openSync(input, 'r'), 'pipe', 'pipe'] })
    assert.is.not(r.status, 0, r.stdout.toString())
    assert.match(r.stderr.toString(), 'Permission denied')
  }
})

test('parseUploadAnswer: rejects anything else', () => {
  assert.is(errorOf(() => parseUploadAnswer('bash: stat: not found\n')).message, 'unexpected answer from the upload script: bash: stat: not found')
})

test('sha256', () => assert.is(sha256(Buffer.from('')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'))

test.run()
