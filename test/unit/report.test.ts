// The terminal (lib/output/report.ts): what a user reads during and after a run — one line per
// task per host, `-v`'s commands and output, --check's "would run", notes, diffs, the failure block,
// the interruption, the recap — and --json's one object. zxplay's own format, so the expected text is
// written here; the recap rows are also judged by ansible-playbook's (test/compat/outcomes-ansible).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Counts, Event, Failure, Status } from '../../lib/output/events.ts'
import { colorWanted, reporter, type ReportOptions } from '../../lib/output/report.ts'

/** The lines a reporter prints for these events. */
function shown(events: Event[], o: Partial<ReportOptions> = {}): string[] {
  const lines: string[] = []
  const sink = reporter({ json: false, verbose: false, color: false, ...o, out: (s) => lines.push(...s.split('\n')) })
  for (const e of events) sink(e)
  return lines
}

const counts = (c: Partial<Counts> = {}): Counts => ({ ok: 0, changed: 0, skipped: 0, failed: 0, unreachable: 0, ...c })
const playbook = (hosts: string[]): Event => ({ kind: 'playbook', id: '10-runtime', name: 'containerd', pattern: 'all', hosts })
const result = (host: string, status: Status, extra: { reason?: string; failure?: Failure } = {}): Event => ({
  kind: 'result',
  playbook: '10-runtime',
  task: 'install',
  host,
  status,
  ms: 12,
  ...extra,
})

test('the playbook header names its hosts, or says there are none', () => {
  assert.equal(shown([playbook(['web1', 'db1'])]), ['', '==> 10-runtime: containerd [all: web1, db1]'])
  assert.equal(shown([playbook([])]), ['', '==> 10-runtime: containerd [all: no hosts]'])
})

test('a task line: host in a column as wide as the longest host (at least 8), status in 11, the reason, the time', () => {
  assert.equal(shown([playbook(['web1']), result('web1', 'ok')]).at(-1), 'web1      ok          install 12ms')
  const wide = 'control-plane-1.example.com'
  const lines = shown([playbook(['web1', wide]), result('web1', 'skipped', { reason: 'not a worker' }), result(wide, 'changed')])
  assert.equal(lines.slice(-2), [`web1${' '.repeat(wide.length - 4)}  skipped     install (not a worker) 12ms`, `${wide}  changed     install 12ms`])
  // a later playbook with shorter names keeps the column (no jagged output within a run)
  assert.is(shown([playbook([wide]), playbook(['a']), result('a', 'ok')]).at(-1), `a${' '.repeat(wide.length - 1)}  ok          install 12ms`)
})

test('colour: each status its own, the recap row by its worst; none when colour is off', () => {
  const painted = shown([playbook(['w']), ...(['ok', 'changed', 'skipped', 'failed', 'unreachable'] as const).map((s) => result('w', s))], { color: true })
  const codes = painted.slice(2).map((l) => /\x1b\[(\d+)m(\w+)/.exec(l)?.slice(1))
  assert.equal(codes, [['32', 'ok'], ['33', 'changed'], ['36', 'skipped'], ['31', 'failed'], ['35', 'unreachable']])
  const recap = shown([{ kind: 'recap', ms: 1000, hosts: { a: counts({ ok: 1 }), b: counts({ changed: 1 }), c: counts({ failed: 1 }), d: counts({ unreachable: 1 }) } }], { color: true })
  assert.equal(recap.slice(2).map((l) => /^\x1b\[(\d+)m(\w)/.exec(l)?.slice(1)), [['32', 'a'], ['33', 'b'], ['31', 'c'], ['31', 'd']])
  // a column is painted only when it counts something
  assert.match(recap[2]!, ' changed=0    unreachable=0 ')
  assert.match(recap[3]!, '\x1b[33mchanged=1   \x1b[39m')
  const plain = shown([playbook(['w']), result('w', 'failed', { failure: { message: 'boom' } }), { kind: 'recap', ms: 1, hosts: { w: counts({ failed: 1 }) } }])
  assert.not.ok(plain.some((l) => l.includes('\x1b')), plain.join('\n'))
})

test('without a sink of its own, the lines go to standard output, each with its line end', () => {
  const written: string[] = []
  const write = process.stdout.write
  process.stdout.write = ((s: string) => (written.push(s), true)) as typeof write
  try {
    reporter({ json: false, verbose: false, color: false })({ kind: 'note', host: 'web1', task: 't', text: 'hello' })
  } finally {
    process.stdout.write = write
  }
  assert.equal(written, ['web1      · hello\n'])
})

test('colorWanted: a terminal, unless NO_COLOR is set', () => {
  assert.ok(colorWanted({ isTTY: true }, {}))
  assert.not.ok(colorWanted({ isTTY: true }, { NO_COLOR: '1' }))
  assert.not.ok(colorWanted({ isTTY: false }, {}))
  assert.not.ok(colorWanted({}, {}))
})

test('-v: each command run ($, its first line only) and its output line by line (| stdout, ! stderr); without -v neither', () => {
  const events: Event[] = [
    playbook(['web1']),
    { kind: 'cmd', host: 'web1', task: 'install', cmd: 'apt-get install -y containerd\necho done', planned: false, probe: false },
    { kind: 'output', host: 'web1', stream: 'stdout', text: 'Reading package lists...\nDone\n' },
    { kind: 'output', host: 'web1', stream: 'stderr', text: 'W: a warning' },
  ]
  assert.equal(shown(events, { verbose: true }).slice(2), ['web1      $ apt-get install -y containerd …', 'web1      | Reading package lists...', 'web1      | Done', 'web1      ! W: a warning'])
  assert.equal(shown(events).slice(2), [])
  // a one-line command is shown whole; a command that ran is not listed again as one that would run
  const ran: Event[] = [playbook(['web1']), { kind: 'cmd', host: 'web1', task: 'install', cmd: 'true', planned: false, probe: false }, result('web1', 'ok')]
  assert.equal(shown(ran, { verbose: true }).slice(2), ['web1      $ true', 'web1      ok          install 12ms'])
})

test('--check: the commands a task would run follow its line (multi-line ones indented), once, not as `$` lines', () => {
  const events: Event[] = [
    playbook(['web1']),
    { kind: 'cmd', host: 'web1', task: 'install', cmd: 'apt-get install -y containerd', planned: true, probe: false },
    { kind: 'cmd', host: 'web1', task: 'install', cmd: 'cat > /etc/x <<EOF\nline\nEOF', planned: true, probe: false },
    result('web1', 'changed'),
    result('web1', 'changed'),
  ]
  const lines = shown(events, { verbose: true }).slice(2)
  assert.equal(lines, [
    'web1      changed     install 12ms',
    '          would run: apt-get install -y containerd',
    '          would run: cat > /etc/x <<EOF',
    '                     line',
    '                     EOF',
    'web1      changed     install 12ms',
  ])
})

test('the commands planned for one host are not shown under another host\'s line', () => {
  const events: Event[] = [playbook(['a', 'b']), { kind: 'cmd', host: 'a', task: 'install', cmd: 'touch /x', planned: true, probe: false }, result('b', 'changed'), result('a', 'changed')]
  assert.equal(shown(events).slice(2), ['b         changed     install 12ms', 'a         changed     install 12ms', '          would run: touch /x'])
})

test('notes and diffs: under the host, the diff indented past the host column', () => {
  const events: Event[] = [
    playbook(['web1']),
    { kind: 'note', host: 'web1', task: 'lock', text: 'took over the lock' },
    { kind: 'diff', host: 'web1', task: 'config', file: '/etc/x', diff: '--- before\n+++ after\n-a\n+b\n c\n' },
  ]
  assert.equal(shown(events).slice(2), ['web1      · took over the lock', '          --- before', '          +++ after', '          -a', '          +b', '           c'])
  const painted = shown(events, { color: true }).slice(3)
  assert.is(painted[4], '           c') // context lines stay plain
  assert.equal(painted.slice(0, 4), ['          \x1b[31m--- before\x1b[39m', '          \x1b[32m+++ after\x1b[39m', '          \x1b[31m-a\x1b[39m', '          \x1b[32m+b\x1b[39m'])
})

test('a failure: host › playbook › task, the message, the command, its exit code and the last 20 lines of stderr', () => {
  const stderr = Array.from({ length: 25 }, (_, i) => `err ${i + 1}`).join('\n') + '\n\n'
  const lines = shown([playbook(['web1']), result('web1', 'failed', { failure: { message: 'apt-get failed', cmd: 'apt-get update\napt-get install x', exitCode: 100, stderr } })])
  assert.equal(lines.slice(2), [
    'web1      failed      install 12ms',
    '✗ web1 › 10-runtime › install',
    '  apt-get failed',
    '  $ apt-get update',
    '    apt-get install x',
    '  exit code: 100',
    '  stderr (last lines):',
    ...Array.from({ length: 20 }, (_, i) => `    err ${i + 6}`),
  ])
})

test('a failure without a command, killed (no exit code), or with blank stderr says only what it has', () => {
  const block = (failure: Failure) => shown([playbook(['w']), result('w', 'failed', { failure })]).slice(3)
  assert.equal(block({ message: 'timed out' }), ['✗ w › 10-runtime › install', '  timed out'])
  assert.equal(block({ message: 'lost', cmd: 'sleep 9', exitCode: null, stderr: ' \n\n' }), ['✗ w › 10-runtime › install', '  lost', '  $ sleep 9', '  exit code: none (killed or lost)'])
  assert.equal(block({ message: 'x', exitCode: 0 }), ['✗ w › 10-runtime › install', '  x', '  exit code: 0'])
})

test('an interruption names the task that did not complete', () => {
  assert.equal(shown([{ kind: 'interrupted', playbook: '10-runtime', task: 'install' }]), ['', 'interrupted at 10-runtime › install: it did not complete, and nothing after it ran'])
})

test("the recap: Ansible's rows (ok counts the changed too), hosts by name, the run's time", () => {
  const lines = shown([{ kind: 'recap', ms: 61_234, hosts: { web2: counts({ ok: 3, changed: 2, skipped: 1 }), db1: counts({ failed: 1, unreachable: 0, ok: 12345 }) } }])
  assert.equal(lines, [
    '',
    'RECAP (61.23s)',
    'db1                        : ok=12345 changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0   ',
    'web2                       : ok=5    changed=2    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   ',
  ])
})

test('--json: nothing until the recap, then one object with the hosts and every task result', () => {
  const events: Event[] = [
    playbook(['web1']),
    { kind: 'cmd', host: 'web1', task: 'install', cmd: 'true', planned: false, probe: false },
    { kind: 'note', host: 'web1', task: 'lock', text: 'n' },
    result('web1', 'changed', { reason: 'r' }),
    { kind: 'interrupted', playbook: '10-runtime', task: 'install' },
  ]
  assert.equal(shown(events, { json: true, verbose: true }), [])
  const lines = shown([...events, { kind: 'recap', ms: 5, hosts: { web1: counts({ changed: 1 }) } }], { json: true })
  assert.is(lines.length, 1)
  assert.equal(JSON.parse(lines[0]!), { hosts: { web1: counts({ changed: 1 }) }, tasks: [{ playbook: '10-runtime', task: 'install', host: 'web1', status: 'changed', ms: 12 }] })
})

test.run()
