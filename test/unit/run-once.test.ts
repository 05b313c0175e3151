// A `once` task runs on the first host; what it registers reaches every host, and nothing else
// does: each host keeps what it registered itself. Run through the real run loop on local hosts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseInventory } from '../../lib/inventory.ts'
import { ok, task, type Playbook } from '../../lib/playbook.ts'
import { runPlan } from '../../lib/run.ts'
import { Secrets } from '../../lib/secrets.ts'
import { HostSession } from '../../lib/session.ts'

test("a once task shares what it registered, and not the first host's own earlier values", async () => {
  const hosts = parseInventory('all: {hosts: {w1: {connection: local}, w2: {connection: local}}}', '/tmp/inv.yaml').hosts
  const sessions = new Map(hosts.map((h) => [h.name, new HostSession(h, { connectTimeoutMs: 5000 })]))
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
  const pb = { id: 'p', name: 'p', hosts: 'all', tasks } as Playbook
  await runPlan([{ playbook: pb, hosts, tasks }], sessions, { check: false, diff: false, verbose: false, forks: 5, taskTimeoutMs: 10_000, templatesDir: '/tmp', secrets: new Secrets(), emit: () => {} })
  for (const s of sessions.values()) await s.close()
  assert.equal(seen, { w1: { joined: true, token: 'abc' }, w2: { joined: false, token: 'abc' } })
})

test.run()
