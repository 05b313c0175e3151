// ctx.remember: a read shared by later tasks and playbooks on the host until something on it
// changes. Run through the real run loop on a `connection: local` host.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Context } from '../../lib/engine/context.ts'
import { changed, ok, task, type Task } from '../../lib/engine/playbook.ts'
import { localHosts, runLocal } from './_helpers.ts'

async function run(playbooks: Task[][], check = false) {
  const events = await runLocal(localHosts('me'), playbooks, { check })
  return events.flatMap((e) => (e.kind === 'result' ? [`${e.task}:${e.status}`] : []))
}

/** A read that counts how often it really ran. */
function counter() {
  let reads = 0
  const look = (ctx: Context) => ctx.remember('thing', async () => ++reads)
  return { look, reads: () => reads }
}

test('a remembered read is shared by later tasks and playbooks while nothing changes', async () => {
  const c = counter()
  const seen: number[] = []
  const see = (name: string) => task(name, async (ctx) => ok(String(seen.push(await c.look(ctx)))))
  const results = await run([[see('a'), see('b')], [see('c'), task('probe only', async (ctx) => ok((await ctx.probe`echo hi`).stdout))], [see('d')]])
  assert.equal(seen, [1, 1, 1, 1])
  assert.is(c.reads(), 1)
  assert.ok(results.every((r) => r.endsWith(':ok')), results.join(' '))
})

test('a mutation, an upload that changed a file, or a changed() result makes the next look read again', async () => {
  const c = counter()
  const seen: number[] = []
  const see = (name: string) => task(name, async (ctx) => ok(String(seen.push(await c.look(ctx)))))
  const file = `/tmp/zxplay-remember-${process.pid}`
  await run([
    [see('a'), task('mutate', async (ctx) => void (await ctx.$`true`)), see('b'), see('b2')],
    [task('upload', async (ctx) => void (await ctx.upload(file, `x${Date.now()}`, { mode: '0600' }))), see('c')],
    [task('upload again, same content', async (ctx) => void (await ctx.upload(file, 'same', { mode: '0600' }))), see('d'), task('same again', async (ctx) => void (await ctx.upload(file, 'same', { mode: '0600' }))), see('e')],
    [task('changed elsewhere', async () => changed('wrote a file here')), see('f')],
  ])
  await import('node:fs').then((fs) => fs.rmSync(file, { force: true }))
  // a: 1; after the mutation b: 2 and b2 keeps it; after the upload c: 3; the first 'same' upload
  // changed the file (d: 4), the second did not (e: 4); after changed(): 5
  assert.equal(seen, [1, 2, 2, 3, 4, 4, 5])
})

test('under --check a planned mutation counts too', async () => {
  const c = counter()
  const seen: number[] = []
  const see = (name: string) => task(name, async (ctx) => ok(String(seen.push(await c.look(ctx)))))
  await run([[see('a'), task('would mutate', async (ctx) => void (await ctx.$`false`)), see('b')]], true)
  assert.equal(seen, [1, 2])
})

test('a failed read is not remembered', async () => {
  let calls = 0
  const flaky = (ctx: Context) => ctx.remember('flaky', async () => {
    calls++
    if (calls === 1) throw new Error('no answer')
    return calls
  })
  const first = task('first', async (ctx) => ok(await flaky(ctx).then(String, (e: Error) => e.message)))
  const results = await run([[first, task('second', async (ctx) => ok(String(await flaky(ctx))))]])
  assert.is(calls, 2)
  assert.equal(results, ['first:ok', 'second:ok'])
})

test.run()
