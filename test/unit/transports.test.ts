// The task command's cases over a channel per command (test/unit/_transports.ts; the persistent
// shell's run in transports-persistent.test.ts), and which transport a host gets.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseFlags } from '../../lib/cli/args.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { HostSession } from '../../lib/transport/session.ts'
import { inlineTest, textInput } from '../../lib/transport/shell-server.ts'
import { transportSuite } from './_transports.ts'

transportSuite(false)

// Which transport a host gets: the flag's "no" wins, then the host's var, then the flag, then the default (on).
const choice = suite('choosing the transport')
choice('--persistent-shell, --no-persistent-shell and zxplay_persistent_shell', () => {
  assert.is(parseFlags(['--persistent-shell']).flags.persistentShell, true)
  assert.is(parseFlags(['--no-persistent-shell']).flags.persistentShell, false)
  assert.is(parseFlags([]).flags.persistentShell, undefined)
  const inv = parseInventory('all: {hosts: {yes1: {connection: local, zxplay_persistent_shell: true}, no1: {connection: local, zxplay_persistent_shell: no}, unset1: {connection: local}}}', '/tmp/inv.yaml')
  const pick = (name: string, flag?: boolean) => new HostSession(inv.hosts.find((h) => h.name === name)!, { connectTimeoutMs: 1000, persistentShell: flag }).persistentShell()
  assert.equal(['yes1', 'no1', 'unset1'].map((n) => pick(n)), [true, false, true])
  assert.equal(['yes1', 'no1', 'unset1'].map((n) => pick(n, true)), [true, false, true])
  assert.equal(['yes1', 'no1', 'unset1'].map((n) => pick(n, false)), [false, false, false])
  assert.throws(() => parseInventory('all: {hosts: {h: {zxplay_persistent_shell: maybe}}}', '/tmp/inv.yaml'), /zxplay_persistent_shell.*expected true or false, got 'maybe'/)
})

// The persistent shell runs these itself, without a fork (facts in, decision out): a lone `test`/`[`
// of plain words that reads nothing of the server; anything else gets its subshell.
choice('which commands the persistent shell runs without a fork', () => {
  const inline = ['test -d /etc', 'test ! -e /x', '[ -f /etc/hostname ]', 'test -e /a -a -s /b', 'test a = b', 'test -d /var/lib/kubelet/pki', 'test 1 -eq 1', '[ ]', 'test', 'test -f a,b@c:d%e+f']
  const forked = ['test -d $HOME', "test -d '/etc'", "test -d $'/e t'", 'test -d /etc && echo', 'test -d /etc; true', 'test -d /et*', 'test -d ~', 'test -d /etc >/dev/null', 'test -d  /etc', 'test -v PATH', 'test -o errexit', 'test -t 1', 'test -R r', '[ -d /etc', '[ ( -d /etc ) ]', 'test -d /etc\n', ' test -d /etc', 'tests -d /etc', 'echo hi', 'test -d `x`', 'test -d /é']
  assert.equal(inline.filter((c) => !inlineTest(c)), [])
  assert.equal(forked.filter((c) => inlineTest(c)), [])
})
// ...and reads these inputs in bash (no `head` started): short, no NUL (a bash string cannot hold one)
choice('which inputs the persistent shell reads itself', () => {
  const text = ['x', 'go\n', 'é\r\n\\', 'z'.repeat(8 * 1024)].map((t) => Buffer.from(t))
  const binary = [Buffer.from([0]), Buffer.from('a\0b'), Buffer.from('w'.repeat(8 * 1024 + 1)), Buffer.alloc(1 << 20, 'x')]
  assert.equal(text.filter((b) => !textInput(b)), [])
  assert.equal(binary.filter((b) => textInput(b)), [])
})
choice.run()
