// The exit code of `zxplay` (lib/cli/exit-code.ts): a run's from its recap (as ansible-playbook's),
// and an error's (5 for bad input, 1 otherwise), with the line shown for it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { EXIT, errorExit, exitCode } from '../../lib/cli/exit-code.ts'
import { InventoryError, PatternError, TemplateError, UsageError } from '../../lib/base/errors.ts'
import type { Counts } from '../../lib/output/events.ts'
import { HostLockError } from '../../lib/transport/host-lock.ts'
import { LockError } from '../../lib/transport/lock.ts'

const counts = (c: Partial<Counts> = {}): Counts => ({ ok: 0, changed: 0, skipped: 0, failed: 0, unreachable: 0, ...c })

test("the codes are ansible-playbook's", () => {
  assert.equal(EXIT, { ok: 0, error: 1, failed: 2, unreachable: 4, input: 5, interrupted: 99 })
})

test('exitCode: 0 when every host ran, whatever changed or was skipped', () => {
  assert.is(exitCode({ a: counts({ ok: 3, changed: 2, skipped: 1 }), b: counts({ ok: 1 }) }, false), 0)
  assert.is(exitCode({}, false), 0)
})
test('exitCode: 2 when a host failed', () => assert.is(exitCode({ a: counts({ ok: 1 }), b: counts({ failed: 1 }) }, false), 2))
test('exitCode: 4 when a host was unreachable, even if another failed', () => {
  assert.is(exitCode({ a: counts({ unreachable: 1 }) }, false), 4)
  assert.is(exitCode({ a: counts({ failed: 2 }), b: counts({ ok: 1, unreachable: 1 }) }, false), 4)
  assert.is(exitCode({ a: counts({ unreachable: 1 }), b: counts({ failed: 1 }) }, false), 4)
})
test('exitCode: 99 when interrupted, whatever the hosts did', () => {
  assert.is(exitCode({ a: counts({ ok: 1 }) }, true), 99)
  assert.is(exitCode({ a: counts({ unreachable: 1, failed: 1 }) }, true), 99)
  assert.is(exitCode({}, true), 99)
})

const lockHolder = { pid: 4242, machine: 'elsewhere', started: '2026-01-01T00:00:00Z', target: 'web1', token: 't', command: 'zxplay run site', inventory: 'inv.yaml' }
const input: [string, Error][] = [
  ['UsageError', new UsageError('unknown flag --frob')],
  ['InventoryError', new InventoryError('inv.yaml', 'all.hosts.web1.port', 'expected a number')],
  ['PatternError', new PatternError('web*', 'matches no host')],
  ['TemplateError', new TemplateError('t.j2', 3, "'x' is undefined")],
]
for (const [name, err] of input) {
  test(`errorExit: bad input (${name}) exits 5 with its message alone, no stack`, () => {
    assert.equal(errorExit(err), { code: 5, message: err.message })
  })
}
test('errorExit: a lock held by another run exits 1 with its message alone, no stack', () => {
  const lock = new LockError({ host: 'web1', key: 'root@web1:22' }, lockHolder, '/locks/x.lock')
  assert.equal(errorExit(lock), { code: 1, message: lock.message })
  const hostLock = new HostLockError('web1', 'web1 is in use by another zxplay run')
  assert.equal(errorExit(hostLock), { code: 1, message: 'web1 is in use by another zxplay run' })
})
test('errorExit: an unexpected error exits 1 with its stack (a bug to report)', () => {
  const err = new TypeError("Cannot read properties of undefined (reading 'name')")
  const r = errorExit(err)
  assert.is(r.code, 1)
  assert.is(r.message, err.stack)
  assert.match(r.message, /\n\s+at /)
  const bare = new Error('no stack')
  bare.stack = undefined
  assert.equal(errorExit(bare), { code: 1, message: 'no stack' })
})
test('errorExit: a thrown non-error is shown as text', () => {
  assert.equal(errorExit('plain string'), { code: 1, message: 'plain string' })
  assert.equal(errorExit(42), { code: 1, message: '42' })
})

test.run()
