// A `once` task runs on the first host; what it registers reaches every host, and nothing else
// does: each host keeps what it registered itself. Run through the real run loop on local hosts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ok, task } from '../../lib/engine/playbook.ts'
import { localHosts, runLocal } from './_helpers.ts'

test("a once task shares what it registered, and not the first host's own earlier values", async () => {
  const seen: Record<string, unknown> = {}
  const tasks = [
    // as 50-join: each worker says whether it has joined (only w1 has)
    task('whether joined', async (ctx) => {
      ctx.register('joined', ctx.host.name === 'w1')
      return ok('')
    }),
    task('token', { once: true }, async (ctx) => {
      ctx.register('token', 'abc')
      return ok('')
    }),
    task('look', async (ctx) => {
      seen[ctx.host.name] = { joined: ctx.registered.joined, token: ctx.registered.token }
      return ok('')
    }),
  ]
  await runLocal(localHosts('w1', 'w2'), [tasks])
  assert.equal(seen, { w1: { joined: true, token: 'abc' }, w2: { joined: false, token: 'abc' } })
})

test.run()
