// The task command's cases over a channel per command (test/unit/_transports.ts; the persistent
// shell's run in transports-persistent.test.ts), and which transport a host gets.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseFlags } from '../../lib/cli/args.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { HostSession } from '../../lib/transport/session.ts'
import { transportSuite } from './_transports.ts'

transportSuite(false)

// Which transport a host gets: the flag's "no" wins, then the host's var, then the flag, then the default (off).
const choice = suite('choosing the transport')
choice('--persistent-shell, --no-persistent-shell and zxplay_persistent_shell', () => {
  assert.is(parseFlags(['--persistent-shell']).flags.persistentShell, true)
  assert.is(parseFlags(['--no-persistent-shell']).flags.persistentShell, false)
  assert.is(parseFlags([]).flags.persistentShell, undefined)
  const inv = parseInventory('all: {hosts: {yes1: {connection: local, zxplay_persistent_shell: true}, no1: {connection: local, zxplay_persistent_shell: no}, unset1: {connection: local}}}', '/tmp/inv.yaml')
  const pick = (name: string, flag?: boolean) => new HostSession(inv.hosts.find((h) => h.name === name)!, { connectTimeoutMs: 1000, persistentShell: flag }).persistentShell()
  assert.equal(['yes1', 'no1', 'unset1'].map((n) => pick(n)), [true, false, false])
  assert.equal(['yes1', 'no1', 'unset1'].map((n) => pick(n, true)), [true, false, true])
  assert.equal(['yes1', 'no1', 'unset1'].map((n) => pick(n, false)), [false, false, false])
  assert.throws(() => parseInventory('all: {hosts: {h: {zxplay_persistent_shell: maybe}}}', '/tmp/inv.yaml'), /zxplay_persistent_shell.*expected true or false, got 'maybe'/)
})
choice.run()
