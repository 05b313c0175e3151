import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defaultFlags, parseFlags, type Flags } from '../../lib/args.ts'
import { UsageError } from '../../lib/errors.ts'
import { errorOf } from './_helpers.ts'

/** argv → the flags that differ from the defaults */
const _ = (argv: string, expected: Partial<Flags>) => () => assert.equal(parseFlags(argv.split(' ')).flags, { ...defaultFlags(), ...expected })

test('-i', _('-i hosts.yaml', { inventory: ['hosts.yaml'] }))
test('--inventory', _('--inventory hosts.yaml', { inventory: ['hosts.yaml'] }))
test('several -i, in order (a folder, a host list)', _('-i a.ini -i inv/ --inventory=h1,h2,', { inventory: ['a.ini', 'inv/', 'h1,h2,'] }))
test('zxplay inventory flags', _('--list --graph --host h1', { list: true, graph: true, host: 'h1' }))
test('--vault-password-file', _('--vault-password-file pw.txt', { vaultPasswordFile: 'pw.txt' }))
test('--ask-vault-pass', _('--ask-vault-pass', { askVaultPass: true }))
test('-l', _('-l web:!web2', { limit: 'web:!web2' }))
test('--limit', _('--limit web', { limit: 'web' }))
test('-t', _('-t a,b', { tags: ['a', 'b'] }))
test('--tags', _('--tags a', { tags: ['a'] }))
test('--skip-tags', _('--skip-tags slow', { skipTags: ['slow'] }))
test('--start-at', _('--start-at 20-k3s', { startAt: '20-k3s' }))
test('--start-at-task', _('--start-at-task k3s', { startAt: 'k3s' }))
test('-C', _('-C', { check: true }))
test('--check', _('--check', { check: true }))
test('-D', _('-D', { diff: true }))
test('--diff', _('--diff', { diff: true }))
test('-e', _('-e a=1', { extraVars: ['a=1'] }))
test('--extra-vars', _('--extra-vars @v.yaml', { extraVars: ['@v.yaml'] }))
test('-v', _('-v', { verbose: 1 }))
test('--verbose', _('--verbose', { verbose: 1 }))
test('--json', _('--json', { json: true }))
test('-f', _('-f 5', { forks: 5 }))
test('--forks', _('--forks 1', { forks: 1 }))
test('--list-hosts', _('--list-hosts', { listHosts: true }))
test('--list-tasks', _('--list-tasks', { listTasks: true }))
test('-K', _('-K', { askBecomePass: true }))
test('--ask-become-pass', _('--ask-become-pass', { askBecomePass: true }))
test('-b', _('-b', { become: true }))
test('--become', _('--become', { become: true }))
test('-T', _('-T 30', { timeout: 30 }))
test('--timeout', _('--timeout 3', { timeout: 3 }))
test('--log-dir', _('--log-dir /var/log/zx', { logDir: '/var/log/zx' }))
test('-h', _('-h', { help: true }))
test('--help', _('--help', { help: true }))

test('--flag=value', _('--limit=web --forks=3 --tags=a,b -e x=1', { limit: 'web', forks: 3, tags: ['a', 'b'], extraVars: ['x=1'] }))
test('--flag=value keeps later =', _('--extra-vars=a=b=c', { extraVars: ['a=b=c'] }))
test('--flag= is an empty value', _('--start-at=', { startAt: '' }))
test('a value that starts with - after =', _('--log-dir=-x', { logDir: '-x' }))
test('-vvv', _('-vvv', { verbose: 3 }))
test('-v counts add up', _('-v -vv --verbose', { verbose: 4 }))
test('-e repeats', _('-e a=1 --extra-vars b=2 -e a=3', { extraVars: ['a=1', 'b=2', 'a=3'] }))
test('--tags: commas and repeats', _('--tags a,b -t c --tags d', { tags: ['a', 'b', 'c', 'd'] }))
test('--tags: spaces and empty items dropped', () => assert.equal(parseFlags(['--tags', ' a,,b , ']).flags.tags, ['a', 'b']))
test('a later string flag wins', _('-l a -l b', { limit: 'b' }))
test('a negative number is a value, not a flag', () => assert.is(parseFlags(['-l', '-1']).flags.limit, '-1'))

/** argv → rest */
const rest = (argv: string[], expected: string[]) => () => assert.equal(parseFlags(argv).rest, expected)

test('positionals', rest(['run', 'site', '--check', 'x'], ['run', 'site', 'x']))
test('- is a positional', rest(['-', '-C'], ['-']))
test('everything after -- is rest', rest(['sh', 'all', '-C', '--', 'ls', '-la', '--check'], ['sh', 'all', 'ls', '-la', '--check']))
test('-- also ends flag parsing for values', () => assert.is(parseFlags(['--', '-C']).flags.check, false))

/** argv → the UsageError's message */
const fails = (argv: string[], message: string) => () => {
  const e = errorOf(() => parseFlags(argv))
  assert.instance(e, UsageError)
  assert.is(e.message, message)
}

test('unknown long flag', fails(['--chekc'], "unknown flag '--chekc' (zxplay --help lists them)"))
test('unknown short flag', fails(['-x'], "unknown flag '-x' (zxplay --help lists them)"))
test('unknown flag with a value', fails(['--nope=1'], "unknown flag '--nope' (zxplay --help lists them)"))
test('short flags do not combine', fails(['-Cv'], "unknown flag '-Cv' (zxplay --help lists them)"))
test('short flags take no =', fails(['-l=web'], "unknown flag '-l=web' (zxplay --help lists them)"))
test('missing value at the end', fails(['--limit'], "flag '--limit' needs a value"))
test('missing value, short', fails(['-e'], "flag '-e' needs a value"))
test('a flag where a value belongs', fails(['--log-dir', '--check'], "flag '--log-dir' needs a value, got the flag '--check' (for a value that starts with '-', write --log-dir=--check)"))
test('a short flag where a value belongs', fails(['-l', '-C'], "flag '-l' needs a value, got the flag '-C' (for a value that starts with '-', write --limit=-C)"))
test('--forks 0', fails(['--forks', '0'], "flag '--forks' needs a whole number ≥ 1, got '0'"))
test('--forks abc', fails(['--forks', 'abc'], "flag '--forks' needs a whole number ≥ 1, got 'abc'"))
test('--forks 1.5', fails(['-f', '1.5'], "flag '-f' needs a whole number ≥ 1, got '1.5'"))
test('--forks -1', fails(['-f', '-1'], "flag '-f' needs a whole number ≥ 1, got '-1'"))
test('--forks 1e3', fails(['-f', '1e3'], "flag '-f' needs a whole number ≥ 1, got '1e3'"))
test('--forks 0x10', fails(['-f', '0x10'], "flag '-f' needs a whole number ≥ 1, got '0x10'"))
test('--timeout empty', fails(['--timeout='], "flag '--timeout' needs a whole number ≥ 1, got ''"))
test('--check=yes', fails(['--check=yes'], "flag '--check' takes no value"))
test('--verbose=2', fails(['--verbose=2'], "flag '--verbose' takes no value"))
test('--help=x', fails(['--help=x'], "flag '--help' takes no value"))

test.run()
