// Ctrl-C (or SIGTERM) ends every session for good: a command in flight is stopped, and a task
// that goes on to its next command gets an error instead of a new connection that would run it.
// Run through the real run loop on a `connection: local` host; the SSH side is in the faults suite.
import fs from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { task, type Task } from '../../lib/engine/playbook.ts'
import { localHosts, processesWith, runLocal } from './_helpers.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Run one task on a local host; `interrupt()` does what the CLI's SIGINT handler does. */
async function run(make: (interrupt: () => Promise<void>) => Task) {
  const on = localHosts('me')
  let interrupted = false
  const interrupt = () => {
    interrupted = true
    return on.sessions.get('me')!.end('the run was interrupted')
  }
  const tasks = [make(interrupt), task('after', async (ctx) => void (await ctx.$`true`))]
  const t0 = performance.now()
  const events = await runLocal(on, [tasks], { taskTimeoutMs: 30_000, interrupted: () => interrupted })
  const results = events.flatMap((e) => (e.kind === 'result' ? [e] : []))
  return { ms: performance.now() - t0, results, stopped: events.some((e) => e.kind === 'interrupted') }
}


test('a command in flight is stopped at once, and nothing after it runs', async () => {
  const file = `/tmp/zxplay-interrupt-${process.pid}-a`
  const marker = `20.${process.pid}`
  const r = await run((interrupt) =>
    task('slow', async (ctx) => {
      // interrupted once the command runs (a fixed delay could come before the session is up on a busy machine)
      void (async () => {
        for (let i = 0; i < 200 && !processesWith(`sleep ${marker}`).length; i++) await sleep(50)
        await interrupt()
      })()
      await ctx.$`sleep ${marker} && touch ${file}`
    })
  )
  // well before the command's 20 s: stopped, not waited for (a busy machine takes seconds to stop it)
  assert.ok(r.ms < 10_000, `took ${Math.round(r.ms)}ms`)
  assert.equal(
    r.results.map((x) => `${x.task}:${x.status}`),
    ['slow:failed']
  )
  assert.match(r.results[0]!.failure?.message ?? '', /^interrupted while this task ran/)
  assert.ok(r.stopped)
  await sleep(200)
  assert.equal(processesWith(`sleep ${marker}`), [], 'the command still runs')
  assert.not.ok(fs.existsSync(file))
})

test('a task that goes on after the interrupt gets an error, not a new connection', async () => {
  const file = `/tmp/zxplay-interrupt-${process.pid}-b`
  const r = await run((interrupt) =>
    task('two commands', async (ctx) => {
      await ctx.$`true`
      await interrupt()
      await ctx.$`touch ${file}`
    })
  )
  assert.not.ok(fs.existsSync(file), 'the command after the interrupt ran')
  assert.equal(
    r.results.map((x) => `${x.task}:${x.status}`),
    ['two commands:unreachable']
  )
  assert.match(r.results[0]!.failure?.message ?? '', /the run was interrupted/)
})

test.run()
