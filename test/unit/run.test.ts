// The run loop's recap (what `RECAP` prints and the exit code is decided from) and what --check
// must never do: `$` and upload change nothing. Through the real run loop on local hosts.
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { zeroCounts, type Event } from '../../lib/output/events.ts'
import { changed, ok, skip, task } from '../../lib/engine/playbook.ts'
import { localHosts, runLocalRecap, tempDir } from './_helpers.ts'

const { dir: tmp, remove } = tempDir('run')
test.after(remove)

test('recap: each status counted as itself (skipped is not ok); a failed host is out for the rest', async () => {
  const tasks = [
    task('ok', () => ok('')),
    task('changed', () => changed('')),
    task('skip', () => skip('nothing to do')),
    task('when false', { when: () => false }, () => changed('')),
    task('nothing said', () => {}),
    task('fails on h2', (ctx) => {
      if (ctx.host.name === 'h2') throw new Error('boom')
      return ok('')
    }),
    task('after', () => ok('')),
  ]
  const { recap } = await runLocalRecap(localHosts('h1', 'h2'), [tasks], { recapHosts: ['h1', 'h2', 'h3'] })
  assert.equal(recap.hosts, {
    h1: { ok: 4, changed: 1, skipped: 2, failed: 0, unreachable: 0 },
    h2: { ok: 2, changed: 1, skipped: 2, failed: 1, unreachable: 0 },
    h3: zeroCounts(),
  })
  assert.is(recap.interrupted, false)
})

const planned = (events: Event[]) => events.flatMap((e) => (e.kind === 'cmd' && e.planned ? [e.cmd] : []))

test('--check: `$` is listed, not run, and counts as changed; a probe still runs', async () => {
  const file = path.join(tmp, 'touched')
  const tasks = [
    task('touch', async (ctx) => {
      await ctx.$`touch ${file}`
      assert.is((await ctx.probe`echo probed`).stdout, 'probed\n')
    }),
  ]
  const { events, recap } = await runLocalRecap(localHosts('h1'), [tasks], { check: true })
  assert.not.ok(fs.existsSync(file))
  assert.equal(planned(events), [`touch ${file}`])
  assert.is(recap.hosts.h1?.changed, 1)
})

test('--check: upload leaves the file as it was (and creates none), and counts as changed', async () => {
  const [old, absent] = [path.join(tmp, 'old.conf'), path.join(tmp, 'absent.conf')]
  fs.writeFileSync(old, 'a=1\n')
  fs.chmodSync(old, 0o644)
  const said: boolean[] = []
  const tasks = [
    task('upload', async (ctx) => {
      said.push(await ctx.upload(old, 'a=2\n'))
      said.push(await ctx.upload(absent, 'b=1\n'))
    }),
  ]
  const { events, recap } = await runLocalRecap(localHosts('h1'), [tasks], { check: true })
  assert.is(fs.readFileSync(old, 'utf8'), 'a=1\n')
  assert.not.ok(fs.existsSync(absent))
  assert.equal(fs.readdirSync(tmp).filter((f) => f.startsWith('.zxplay.')), [])
  assert.equal(said, [true, true])
  assert.equal(planned(events), [`upload ${old} (mode 644)`, `upload ${absent} (mode 644)`])
  assert.is(recap.hosts.h1?.changed, 1)
})

test.run()
