// The terminal: a header per playbook, one line per task per host, a block per failure, and
// the recap. With --json, a single JSON object at the end instead.
import { Chalk } from 'chalk'
import type { Counts, Event, Sink, Status } from './events.ts'

export type ReportOptions = { json: boolean; verbose: boolean; color: boolean; out?: (s: string) => void; err?: (s: string) => void }

const STATUS_WIDTH = 11

export function colorWanted(stream: { isTTY?: boolean }, env = process.env): boolean {
  return !env.NO_COLOR && !!stream.isTTY
}

export function reporter(o: ReportOptions): Sink {
  const out = o.out ?? ((s: string) => process.stdout.write(s + '\n'))
  const c = new Chalk({ level: o.color ? 1 : 0 })
  const paint: Record<Status, (s: string) => string> = {
    ok: c.green,
    changed: c.yellow,
    skipped: c.cyan,
    failed: c.red,
    unreachable: c.magenta,
  }
  const tasks: { playbook: string; task: string; host: string; status: Status; ms: number }[] = []
  let width = 8
  const planned = new Map<string, string[]>() // host/task → commands --check would run

  return (e) => {
    if (o.json) {
      if (e.kind === 'result') tasks.push({ playbook: e.playbook, task: e.task, host: e.host, status: e.status, ms: e.ms })
      if (e.kind === 'recap') out(JSON.stringify({ hosts: e.hosts, tasks }))
      return
    }
    switch (e.kind) {
      case 'playbook':
        width = Math.max(width, ...e.hosts.map((h) => h.length))
        out(c.bold(`\n==> ${e.id}: ${e.name} [${e.pattern}: ${e.hosts.join(', ') || 'no hosts'}]`))
        break
      case 'cmd':
        if (e.planned) planned.set(`${e.host}\0${e.task}`, [...(planned.get(`${e.host}\0${e.task}`) ?? []), e.cmd])
        if (o.verbose && !e.planned) out(c.dim(`${e.host.padEnd(width)}  $ ${firstLine(e.cmd)}`))
        break
      case 'output':
        if (o.verbose) for (const l of e.text.replace(/\n$/, '').split('\n')) out(c.dim(`${e.host.padEnd(width)}  ${e.stream === 'stderr' ? '!' : '|'} ${l}`))
        break
      case 'note':
        out(`${e.host.padEnd(width)}  ${c.dim('·')} ${e.text}`)
        break
      case 'diff':
        out(e.diff.replace(/\n$/, '').split('\n').map((l) => `${' '.repeat(width + 2)}${l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l}`).join('\n'))
        break
      case 'result': {
        const reason = e.reason ? c.dim(` (${e.reason})`) : ''
        out(`${e.host.padEnd(width)}  ${paint[e.status](e.status.padEnd(STATUS_WIDTH))} ${e.task}${reason} ${c.dim(`${e.ms}ms`)}`)
        for (const cmd of planned.get(`${e.host}\0${e.task}`) ?? []) out(c.dim(`${' '.repeat(width + 2)}would run: ${cmd.replace(/\n/g, '\n' + ' '.repeat(width + 13))}`))
        planned.delete(`${e.host}\0${e.task}`)
        if (e.failure) out(failureBlock(c, e.host, e.playbook, e.task, e.failure))
        break
      }
      case 'interrupted':
        out(c.red(`\ninterrupted at ${e.playbook} › ${e.task}: it did not complete, and nothing after it ran`))
        break
      case 'recap':
        out(recapTable(c, e.hosts, e.ms))
        break
    }
  }
}

const firstLine = (s: string) => (s.includes('\n') ? `${s.split('\n')[0]} …` : s)

function failureBlock(c: InstanceType<typeof Chalk>, host: string, playbook: string, task: string, f: { message: string; cmd?: string; exitCode?: number | null; stderr?: string }): string {
  const lines = [c.red(`✗ ${host} › ${playbook} › ${task}`), `  ${f.message}`]
  if (f.cmd) lines.push(`  $ ${f.cmd.split('\n').join('\n    ')}`)
  if (f.exitCode !== undefined) lines.push(`  exit code: ${f.exitCode ?? 'none (killed or lost)'}`)
  const tail = (f.stderr ?? '').trimEnd().split('\n').slice(-20)
  if (tail.join('').trim()) lines.push('  stderr (last lines):', ...tail.map((l) => `    ${l}`))
  return lines.join('\n')
}

/**
 * Ansible's recap rows, column for column: hosts by name, `ok` counting the changed too, and
 * `rescued`/`ignored` (always 0: zxplay playbooks have no rescue blocks or ignore_errors).
 */
export function recapTable(c: InstanceType<typeof Chalk>, hosts: Record<string, Counts>, ms: number): string {
  const col = (name: string, n: number, paint: (s: string) => string) => (n ? paint : String)(`${name}=${String(n).padEnd(4)}`)
  const rows = Object.keys(hosts)
    .sort()
    .map((n) => {
      const k = hosts[n]!
      const name = (k.failed || k.unreachable ? c.red : k.changed ? c.yellow : c.green)(n.padEnd(26))
      const cols = [col('ok', k.ok + k.changed, c.green), col('changed', k.changed, c.yellow), col('unreachable', k.unreachable, c.red), col('failed', k.failed, c.red), col('skipped', k.skipped, c.cyan), col('rescued', 0, c.magenta), col('ignored', 0, c.gray)]
      return `${name} : ${cols.join(' ')}`
    })
  return [c.bold(`\nRECAP (${(ms / 1000).toFixed(2)}s)`), ...rows].join('\n')
}
