// The run loop's recap (what `RECAP` prints and the exit code is decided from) and what --check
// must never do: `$` and upload change nothing. Through the real run loop on local hosts.
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CommandError, UnreachableError } from '../../lib/base/errors.ts'
import { zeroCounts, type Event } from '../../lib/output/events.ts'
import { changed, ok, skip, task, type Playbook, type Task } from '../../lib/engine/playbook.ts'
import { runPlan } from '../../lib/engine/run.ts'
import { Secrets } from '../../lib/output/secrets.ts'
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

const results = (events: Event[]) => events.flatMap((e) => (e.kind === 'result' ? [`${e.task} ${e.host} ${e.status}${e.reason ? ` (${e.reason})` : ''}${e.failure ? `: ${e.failure.message}` : ''}`] : []))
const notes = (events: Event[]) => events.flatMap((e) => (e.kind === 'note' ? [`${e.host}: ${e.text}`] : []))

test('retries: a failing task runs again after `delay`, each failure said in a note, until it passes or the attempts are spent', async () => {
  const tries: Record<string, number> = {}
  const at: number[] = []
  const tasks = [
    task('flaky', { retries: 2, delay: 40 }, (ctx) => {
      if (ctx.host.name === 'h1') at.push(performance.now())
      const n = (tries[ctx.host.name] = (tries[ctx.host.name] ?? 0) + 1)
      if (ctx.host.name === 'h2' || n < 3) throw new Error(`boom ${n}`)
      return ok('')
    }),
  ]
  const { events, recap } = await runLocalRecap(localHosts('h1', 'h2'), [tasks])
  assert.equal(tries, { h1: 3, h2: 3 })
  assert.equal(results(events), ['flaky h1 ok', 'flaky h2 failed: boom 3'])
  assert.equal(notes(events).filter((n) => n.startsWith('h2')), ['h2: attempt 1/3 failed: boom 1; retrying', 'h2: attempt 2/3 failed: boom 2; retrying'])
  assert.equal([recap.hosts.h1?.ok, recap.hosts.h2?.failed], [1, 1])
  assert.ok(at[1]! - at[0]! >= 35 && at[2]! - at[1]! >= 35, `attempts ${at.map((t) => Math.round(t - at[0]!)).join(', ')} ms apart: not the delay`)
})

test('until: a run that did not throw is tried again while the condition is false; then it fails saying so', async () => {
  let runs = 0
  const tasks = [task('wait for it', { retries: 1, delay: 1, until: () => false }, () => void runs++)]
  const { events } = await runLocalRecap(localHosts('h1'), [tasks])
  assert.is(runs, 2)
  assert.equal(results(events), ['wait for it h1 failed: condition not met after attempt 2/2'])
  let ready = 0
  const { events: later } = await runLocalRecap(localHosts('h1'), [[task('wait for it', { retries: 3, delay: 1, until: () => ++ready >= 2 }, () => {})]])
  assert.equal(results(later), ['wait for it h1 ok'])
})

test('an unreachable host is not retried, and is out for the rest of the run', async () => {
  let runs = 0
  const tasks = [
    task('reach', { retries: 3, delay: 1 }, (ctx) => {
      runs++
      if (ctx.host.name === 'gone') throw new UnreachableError('gone', 'no route to host')
    }),
    task('next', () => ok('')),
  ]
  const { events, recap } = await runLocalRecap(localHosts('here', 'gone'), [tasks, tasks.slice(1)])
  assert.is(runs, 2)
  assert.equal(results(events), ['reach here ok', 'reach gone unreachable: no route to host', 'next here ok', 'next here ok'])
  assert.equal(recap.hosts.gone, { ...zeroCounts(), unreachable: 1 })
})

test('when every host is out, the playbook stops: no task after it is started', async () => {
  const tasks = [task('fail', () => Promise.reject(new Error('x'))), task('never', () => ok(''))]
  const { events } = await runLocalRecap(localHosts('h1', 'h2'), [tasks])
  assert.equal(events.flatMap((e) => (e.kind === 'task' ? [e.task] : [])), ['fail'])
})

/** Playbooks with their own settings (any_errors_fatal) through the real run loop. */
async function runPlaybooks(names: string[], playbooks: Partial<Playbook>[], forks = 5, opts: { interrupted?: () => boolean; seen?: (e: Event) => void } = {}) {
  const on = localHosts(...names)
  const events: Event[] = []
  const planned = playbooks.map((p, i) => ({ playbook: { id: `p${i}`, name: `p${i}`, hosts: 'all', tasks: [], ...p } as Playbook, hosts: on.hosts, tasks: (p.tasks ?? []) as Task[] }))
  const emit = (e: Event) => (events.push(e), opts.seen?.(e))
  try {
    const recap = await runPlan(planned, on.sessions, { check: false, diff: false, verbose: false, forks, taskTimeoutMs: 10_000, templatesDir: '/tmp', secrets: new Secrets(), emit, interrupted: opts.interrupted })
    return { events, recap }
  } finally {
    for (const s of on.sessions.values()) await s.close()
  }
}

test("any_errors_fatal: one host's failure stops every host, and the playbooks after it; without it the others go on", async () => {
  const tasks = [task('first', (ctx) => (ctx.host.name === 'h2' ? Promise.reject(new Error('boom')) : ok(''))), task('second', () => ok(''))]
  const fatal = await runPlaybooks(['h1', 'h2'], [{ tasks, anyErrorsFatal: true }, { tasks: [task('later', () => ok(''))] }])
  assert.equal(results(fatal.events), ['first h1 ok', 'first h2 failed: boom'])
  assert.equal(fatal.events.filter((e) => e.kind === 'playbook').length, 1)
  const tolerant = await runPlaybooks(['h1', 'h2'], [{ tasks }, { tasks: [task('later', () => ok(''))] }])
  assert.equal(results(tolerant.events), ['first h1 ok', 'first h2 failed: boom', 'second h1 ok', 'later h1 ok'])
})

test('--forks: at most that many hosts run a task at once; results come in host order, whoever ends first', async () => {
  let running = 0
  let peak = 0
  const slow = task('slow', async (ctx) => {
    peak = Math.max(peak, ++running)
    await new Promise((r) => setTimeout(r, ctx.host.name === 'h1' ? 60 : 10))
    running--
  })
  const { events } = await runPlaybooks(['h1', 'h2', 'h3', 'h4', 'h5'], [{ tasks: [slow] }], 2)
  assert.is(peak, 2)
  assert.equal(results(events), ['slow h1 ok', 'slow h2 ok', 'slow h3 ok', 'slow h4 ok', 'slow h5 ok'])
  peak = 0
  await runPlaybooks(['h1', 'h2', 'h3', 'h4', 'h5'], [{ tasks: [slow] }], 5)
  assert.is(peak, 5)
})

test("the events of a task: its name before any host's result; each result's reason as the task gave it", async () => {
  const tasks = [task('a', () => ok('already so')), task('b', () => changed('written')), task('c', () => skip('not here')), task('d', { when: () => false }, () => {})]
  const { events } = await runLocalRecap(localHosts('h1'), [tasks])
  assert.equal(
    events.filter((e) => e.kind !== 'cmd' && e.kind !== 'cmd-end').map((e) => (e.kind === 'result' ? results([e])[0] : e.kind === 'task' ? `task ${e.task}` : e.kind)),
    ['playbook', 'task a', 'a h1 ok (already so)', 'task b', 'b h1 changed (written)', 'task c', 'c h1 skipped (not here)', 'task d', 'd h1 skipped (condition is false)']
  )
})

test('Ctrl-C between tasks: the next task is not started, the interruption names it, no later playbook runs', async () => {
  let interrupted = false
  // Ctrl-C right after the first task's result is shown
  const seen = (e: Event) => void (e.kind === 'result' && (interrupted = true))
  const tasks = [task('first', () => ok('')), task('second', () => ok(''))]
  const { events, recap } = await runPlaybooks(['h1'], [{ tasks }, { tasks: [task('later', () => ok(''))] }], 5, { interrupted: () => interrupted, seen })
  assert.equal(results(events), ['first h1 ok'])
  assert.equal(events.flatMap((e) => (e.kind === 'interrupted' ? [e.task] : [])), ['second'])
  assert.equal(events.filter((e) => e.kind === 'playbook').length, 1)
  assert.ok(recap.interrupted)
})

test("Ctrl-C during a task: its failures are the interruption's, it is named as the one cut, and nothing after it starts", async () => {
  let interrupted = false
  const tasks = [
    task('cut', () => {
      interrupted = true
      throw new Error('connection closed')
    }),
    task('after', () => ok('')),
  ]
  const { events } = await runLocalRecap(localHosts('h1'), [tasks], { interrupted: () => interrupted })
  assert.equal(results(events), ['cut h1 failed: interrupted while this task ran: connection closed'])
  assert.equal(events.flatMap((e) => (e.kind === 'interrupted' ? [e.task] : [])), ['cut'])
  assert.equal(events.flatMap((e) => (e.kind === 'task' ? [e.task] : [])), ['cut'])
})

test('once: runs on the first host only; a value it sets anew reaches every host, one it left as it was does not', async () => {
  const ran: string[] = []
  const seen: Record<string, unknown> = {}
  const tasks = [
    task('own', (ctx) => ctx.register('v', ctx.host.name)),
    task('shared', { once: true }, (ctx) => {
      ran.push(ctx.host.name)
      ctx.register('v', 'shared')
    }),
    task('look', (ctx) => void (seen[ctx.host.name] = ctx.registered.v)),
  ]
  await runLocalRecap(localHosts('h1', 'h2', 'h3'), [tasks])
  assert.equal(ran, ['h1'])
  assert.equal(seen, { h1: 'shared', h2: 'shared', h3: 'shared' })
})

test('any_errors_fatal: an unreachable host stops the others too; a playbook without failures runs to its end', async () => {
  const reach = task('reach', (ctx) => (ctx.host.name === 'gone' ? Promise.reject(new UnreachableError('gone', 'no route')) : ok('')))
  const fatal = await runPlaybooks(['here', 'gone'], [{ tasks: [reach, task('next', () => ok(''))], anyErrorsFatal: true }])
  assert.equal(results(fatal.events), ['reach here ok', 'reach gone unreachable: no route'])
  const fine = await runPlaybooks(['h1', 'h2'], [{ tasks: [task('a', () => ok('')), task('b', () => ok(''))], anyErrorsFatal: true }, { tasks: [task('c', () => ok(''))] }])
  assert.equal(results(fine.events), ['a h1 ok', 'a h2 ok', 'b h1 ok', 'b h2 ok', 'c h1 ok', 'c h2 ok'])
})

test("the recap lists the hosts that ran (and recapHosts'); its time and each task's are the run's own", async () => {
  const t0 = performance.now()
  const { events, recap } = await runLocalRecap(localHosts('h1', 'h2'), [[task('nap', () => new Promise<void>((r) => setTimeout(r, 30)))]])
  const wall = performance.now() - t0
  assert.equal(Object.keys(recap.hosts).sort(), ['h1', 'h2'])
  assert.ok(recap.ms >= 25 && recap.ms <= wall + 1, `recap ${recap.ms} ms of ${wall} ms`)
  for (const e of events) if (e.kind === 'result') assert.ok(e.ms >= 25 && e.ms <= recap.ms, `${e.host}: ${e.ms} ms`)
})

test('a task that says changed counts as a change on its host (remembered reads are then read again)', async () => {
  const on = localHosts('h1')
  const s = on.sessions.get('h1')!
  await runLocalRecap(on, [[task('a', () => ok('')), task('b', () => changed('x')), task('c', () => changed('y'))]])
  assert.is(s.mutations, 2)
})

test("ok with what ensure found already so: the reasons, joined with '; '", async () => {
  const file = path.join(tmp, 'same.conf')
  fs.writeFileSync(file, 'a=1\n')
  fs.chmodSync(file, 0o644)
  const { events } = await runLocalRecap(localHosts('h1'), [[task('ensure', async (ctx) => {
    await ctx.ensure.file(file, 'a=1\n', { mode: '0644' })
    await ctx.ensure.file(file, 'a=1\n', { mode: '0644' })
  })]])
  const r = events.find((e) => e.kind === 'result')
  assert.is(r?.kind === 'result' && r.status, 'ok')
  const reason = r?.kind === 'result' ? r.reason ?? '' : ''
  assert.is(reason.split('; ').length, 2, reason)
  assert.is(reason.split('; ')[0], reason.split('; ')[1])
})

test('a command that failed: its command, exit code and stderr (stdout when stderr is empty) in the failure', async () => {
  const fail = (stderr: string) => task('cmd', () => Promise.reject(new CommandError({ host: 'h1', cmd: 'make it', exitCode: 3, stdout: 'said on stdout\n', stderr })))
  const a = await runLocalRecap(localHosts('h1'), [[fail('said on stderr\n')]])
  const b = await runLocalRecap(localHosts('h1'), [[fail('')]])
  const failure = (ev: Event[]) => ev.flatMap((e) => (e.kind === 'result' ? [e.failure] : []))[0]
  assert.equal(failure(a.events), { message: 'command failed with exit code 3', cmd: 'make it', exitCode: 3, stderr: 'said on stderr\n' })
  assert.equal(failure(b.events)?.stderr, 'said on stdout\n')
})

test('retries without a delay wait a second between attempts, as Ansible does', async () => {
  const at: number[] = []
  await runLocalRecap(localHosts('h1'), [[task('flaky', { retries: 1 }, () => {
    at.push(performance.now())
    throw new Error('x')
  })]])
  assert.ok(at[1]! - at[0]! >= 950, `${Math.round(at[1]! - at[0]!)} ms apart`)
})

test.run()
