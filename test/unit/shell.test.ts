import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { quote as zxQuote } from 'zx'
import { BECOME_OK, buildCommand, quote, shq, SUDO_PROMPT, sudoNeedsPassword, wrapCommand } from '../../lib/transport/shell.ts'
import { errorOf, tempDir } from './_helpers.ts'

const { dir: tmp, remove } = tempDir('shell')
test.after(remove)
// Files a stray glob would expand to.
for (const f of ['a', 'b', '[a]']) fs.writeFileSync(path.join(tmp, f), '')

const cmd = (pieces: TemplateStringsArray, ...args: unknown[]) => buildCommand(pieces, args)

/** Run `command` with `shell -c` in the temp folder; stdout as bytes. */
function sh(shell: string, command: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(shell, ['-c', command], { cwd: tmp, env })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() }
}

const canary = path.join(tmp, 'canary')
const HOSTILE = [
  "it's",
  '"double" quotes',
  '$(touch canary)',
  '`touch canary`',
  '; touch canary',
  '&& touch canary #',
  '| touch canary',
  '> canary',
  'line one\nline two\n',
  '*',
  '[a] ? *',
  '$HOME ${IFS} $0 $$',
  '!! !$',
  "'\\'' '\\'' $'\\x41'",
  'back\\slash \\n \\',
  'tab\there\rcr\x1b[31mred\x07',
  'form\ffeed\vVertical tab',
  'ü ✓ 日本語 🚀',
  '-n',
  ' leading and trailing ',
  '',
  'x'.repeat(10_000),
]

/** The hostile value reaches printf as exactly one argument, byte for byte, and runs nothing. */
const arrives = (shell: string, wrap: (c: string) => string) => () => {
  for (const v of HOSTILE) {
    const r = sh(shell, wrap(cmd`printf '%s\0' ${v}`))
    assert.is(r.stderr, '', JSON.stringify(v))
    assert.is(r.status, 0, JSON.stringify(v))
    assert.equal(r.stdout, Buffer.from(`${v}\0`), JSON.stringify(v))
    assert.not.ok(fs.existsSync(canary), `canary created by ${JSON.stringify(v)}`)
  }
}

test('hostile values arrive as one argument under bash -c', arrives('bash', (c) => c))
test('…and through wrapCommand, under a POSIX sh (dash)', arrives('sh', (c) => wrapCommand(c)))

/** values → the arguments printf received */
const args = (values: unknown[], expected: string[]) => () => {
  const r = sh('bash', buildCommand(Object.assign(['printf "%s\\0" ', ...values.map(() => ' ')], { raw: [] }), values))
  assert.equal(r.stdout.toString().split('\0').slice(0, -1), expected)
}

test('an array: one argument per item', args([['a b', "c'd", '$(x)']], ['a b', "c'd", '$(x)']))
test('an empty array: no argument', args([[], 'x'], ['x']))
test('numbers and booleans', args([42, -1.5, true], ['42', '-1.5', 'true']))
test('ProcessOutput-like: stdout without its last newline', args([{ stdout: 'v1.30\n' }], ['v1.30']))
test('ProcessOutput-like: only one newline is dropped', args([{ stdout: 'a\n\n' }], ['a\n']))
test('ProcessOutput-like: the lines before the last newline stay', args([{ stdout: 'one\ntwo\n' }], ['one\ntwo']))

// quoting as zx does it
const _ = (value: unknown, expected: string) => () => assert.is(cmd`echo ${value}`, `echo ${expected}`)
test('plain words stay bare', _('web-1.example.com:/srv/a=b@x', 'web-1.example.com:/srv/a=b@x'))
test('empty string', _('', "$''"))
test('spaces', _('a b', "$'a b'"))
test('quote and newline', _("it's\n", "$'it\\'s\\n'"))
test('array items', _(['a', 'b c'], "a $'b c'"))
test('number', _(6443, '6443'))
test('no interpolation', () => assert.is(cmd`ls -la`, 'ls -la'))
test("quote is zx's own quote, character for character (the judge: zx)", () => {
  for (const v of [...HOSTILE, 'a\0b', '\0', 'a,b', 'a+b', '~', '%', 'ä', 'a\\b', '/srv/a_b-1.2@x:y=z']) assert.is(quote(v), zxQuote(v), JSON.stringify(v))
})
test('a value with a NUL character is refused (bash would end the value there)', () =>
  assert.is(errorOf(() => cmd`echo ${'a\0b'}`).message, 'cannot put a value with a NUL character into a command ("a\\u0000b"…): the shell would cut it there'))

test('null and undefined are refused', () => {
  assert.instance(
    errorOf(() => cmd`rm -rf /srv/${null}`),
    TypeError
  )
  assert.is(errorOf(() => cmd`rm -rf /srv/${undefined}`).message, 'cannot interpolate undefined into a command')
  assert.is(errorOf(() => cmd`rm ${['a', null]}`).message, 'cannot interpolate null into a command')
})

test('shq: POSIX single quotes', () => {
  assert.is(shq("it's"), "'it'\\''s'")
  for (const v of HOSTILE) assert.equal(sh('sh', `printf '%s' ${shq(v)}`).stdout, Buffer.from(v))
})

// ---- wrapCommand ----

test('no become: bash -c with strict mode', () => assert.is(wrapCommand('id -u'), "bash -c 'set -euo pipefail\nid -u'"))
test('become without a password: sudo -n', () =>
  assert.is(wrapCommand('id -u', { user: 'root', withPassword: false }), "sudo -n -H -u 'root' -- bash -c 'set -euo pipefail\nid -u'"))
test('become with a password: sudo -S, our prompt, the BECOME_OK marker', () =>
  assert.is(
    wrapCommand('id -u', { user: 'root', withPassword: true }),
    `sudo -S -p '${SUDO_PROMPT}' -H -u 'root' -- bash -c 'printf '\\''%s\\n'\\'' ${BECOME_OK} >&2\nset -euo pipefail\nid -u'`
  ))

/** script → [exit code, stdout] of the wrapped script under sh */
const strict = (script: string, status: number, stdout: string) => () => {
  const r = sh('sh', wrapCommand(script))
  assert.equal([r.status, r.stdout.toString()], [status, stdout], r.stderr)
}
test('set -e: a failing command stops the script', strict('echo a; false; echo b', 1, 'a\n'))
test('set -o pipefail: a failing pipeline stage fails it', strict('false | cat; echo after', 1, ''))
test('pipefail keeps the failing stage’s code', strict('(exit 3) | cat', 3, ''))
test('set -u: an unset variable fails', strict('echo "${ZXPLAY_UNSET_VAR}"; echo after', 1, ''))
test('bash features work even when the outer shell is dash', strict("echo $'a\\tb' ${BASH_VERSION:+bash}", 0, 'a\tb bash\n'))

// A fake sudo on PATH records its argv and runs the command after `--`, so the become
// wrappers run for real through sh (dash) without root.
const fakeSudoDir = path.join(tmp, 'bin')
fs.mkdirSync(fakeSudoDir)
fs.writeFileSync(
  path.join(fakeSudoDir, 'sudo'),
  `#!/bin/sh\nprintf '%s\\0' "$@" > "$SUDO_ARGV"\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n`,
  { mode: 0o755 }
)
const sudoEnv = { ...process.env, PATH: `${fakeSudoDir}:${process.env.PATH}`, SUDO_ARGV: path.join(tmp, 'sudo-argv') }
const sudoArgv = () => fs.readFileSync(sudoEnv.SUDO_ARGV).toString().split('\0').slice(0, -1)

test('become: the user and the script reach sudo intact', () => {
  const user = "o'dd $(touch canary) user"
  const r = sh('sh', wrapCommand(cmd`printf '%s' ${HOSTILE.join('|')}`, { user, withPassword: false }), sudoEnv)
  assert.equal(r.stdout, Buffer.from(HOSTILE.join('|')))
  const [n, H, u, who, dashes, bash, c] = sudoArgv()
  assert.equal([n, H, u, who, dashes, bash, c], ['-n', '-H', '-u', user, '--', 'bash', '-c'])
  assert.not.ok(fs.existsSync(canary))
})

test('become with a password: the prompt reaches sudo, BECOME_OK goes to stderr first', () => {
  const r = sh('sh', wrapCommand('echo out; echo err >&2', { user: 'root', withPassword: true }), sudoEnv)
  assert.equal([r.status, r.stdout.toString(), r.stderr], [0, 'out\n', `${BECOME_OK}\nerr\n`])
  assert.equal(sudoArgv().slice(0, 7), ['-S', '-p', SUDO_PROMPT, '-H', '-u', 'root', '--'])
})

// ---- sudoNeedsPassword ----

const needs = (stderr: string, expected: boolean) => () => assert.is(sudoNeedsPassword(stderr), expected)
test('sudo -n: password required', needs('sudo: a password is required\n', true))
test('sudo: terminal required', needs('sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n', true))
test('after other output', needs('warning: x\nsudo: a password is required\n', true))
test('wrong password', needs('Sorry, try again.\nsudo: 1 incorrect password attempt\n', false))
test('not in sudoers', needs('deploy is not in the sudoers file.\n', false))
test('the command’s own stderr', needs('a password is required\n', false))
test('empty', needs('', false))



test('the template text reaches the shell as written (raw), backslashes included', () => {
  assert.is(buildCommand((((s: TemplateStringsArray) => s) as (s: TemplateStringsArray) => TemplateStringsArray)`grep -E '^\S+\s+swap\s' /etc/fstab`, []), "grep -E '^\\S+\\s+swap\\s' /etc/fstab")
})
test.run()
