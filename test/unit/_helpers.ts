// Shared by the unit tests. Not a test file itself (uvu runs only *.test.ts).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Event } from '../../lib/output/events.ts'
import { parseInventory, type Host, type Vars } from '../../lib/inventory/inventory.ts'
import { throwProblems, withDefaults, type VarsSpec } from '../../lib/inventory/vars-spec.ts'
import type { Playbook, Task } from '../../lib/engine/playbook.ts'
import { runPlan, type Recap, type RunOptions } from '../../lib/engine/run.ts'
import { Secrets } from '../../lib/output/secrets.ts'
import { HostSession, type SessionOptions } from '../../lib/transport/session.ts'

/** The error `run` throws; fails the test when it throws nothing. */
export function errorOf(run: () => unknown): Error {
  try {
    run()
  } catch (e) {
    if (e instanceof Error) return e
    throw new Error(`expected an Error, got ${String(e)}`)
  }
  throw new Error('expected an error')
}

/**
 * One family's check as a run makes it (its defaults merged under `vars`, on a host of `file`), its
 * problems thrown as one InventoryError the way the CLI shows them; the merged vars when there are none.
 */
export function checkFamily(spec: VarsSpec, vars: Vars, file = String(vars.inventory_file ?? 'the inventory')): Vars {
  const inventory = parseInventory('all: {hosts: {h: {}}}', file)
  const merged = withDefaults(vars, spec.defaults)
  throwProblems(file, spec.check?.(merged, inventory.hosts[0]!, inventory) ?? [])
  return merged
}

/** A fresh temporary folder, and how to remove it. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zxplay-${prefix}-`))
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** Hosts with `connection: local` (this machine under other names), each with its session. */
export function localHosts(...names: string[]): { hosts: Host[]; sessions: Map<string, HostSession> } {
  return localHostsWith({}, ...names)
}

/** localHosts, with session options (the persistent shell on or off). */
export function localHostsWith(opts: Partial<SessionOptions>, ...names: string[]): { hosts: Host[]; sessions: Map<string, HostSession> } {
  const yaml = `all: {hosts: {${names.map((n) => `${n}: {connection: local}`).join(', ')}}}`
  const hosts = parseInventory(yaml, '/tmp/inv.yaml').hosts
  return { hosts, sessions: new Map(hosts.map((h) => [h.name, new HostSession(h, { connectTimeoutMs: 5000, ...opts })])) }
}

/**
 * Playbooks (each a task list, on every host) through the real run loop, then the sessions
 * closed; the events it emitted.
 */
export async function runLocal(on: ReturnType<typeof localHosts>, playbooks: Task[][], opts: Partial<RunOptions> = {}): Promise<Event[]> {
  return (await runLocalRecap(on, playbooks, opts)).events
}

/** runLocal, with the recap the run loop returned too. */
export async function runLocalRecap(on: ReturnType<typeof localHosts>, playbooks: Task[][], opts: Partial<RunOptions> = {}): Promise<{ events: Event[]; recap: Recap }> {
  const events: Event[] = []
  const planned = playbooks.map((tasks, i) => ({ playbook: { id: `p${i}`, name: `p${i}`, hosts: 'all', tasks } as Playbook, hosts: on.hosts, tasks }))
  try {
    const recap = await runPlan(planned, on.sessions, { check: false, diff: false, verbose: false, forks: 5, taskTimeoutMs: 10_000, templatesDir: '/tmp', secrets: new Secrets(), emit: (e) => events.push(e), ...opts })
    return { events, recap }
  } finally {
    for (const s of on.sessions.values()) await s.close()
  }
}

/** Alive, and not a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** Processes on this machine whose command line contains `text`. */
export function processesWith(text: string): string[] {
  return fs.readdirSync('/proc').flatMap((e) => {
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ')
      return /^\d+$/.test(e) && cmd.includes(text) ? [cmd] : []
    } catch {
      return []
    }
  })
}

/**
 * lib modules bundled into one plain .mjs for a child process to import with plain `node` (loading tsx
 * costs a child about a second of CPU). In a folder of its own that any user can read (a child may run
 * as nobody, and a mutation sandbox is mkdtemp's 0700), beside a link to the real node_modules so that
 * the bundle's package imports resolve; the file, and how to remove it.
 */
export async function bundleForChild(name: string, modules: string[]): Promise<{ file: string; url: string; remove: () => void }> {
  const { build } = await import('esbuild')
  const repo = path.resolve(import.meta.dirname, '../..')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zxplay-${name}-`))
  fs.chmodSync(dir, 0o755)
  fs.symlinkSync(fs.realpathSync(path.join(repo, 'node_modules')), path.join(dir, 'node_modules'))
  const file = path.join(dir, 'bundle.mjs')
  const contents = modules.map((m) => `export * from ${JSON.stringify(path.join(repo, m))}`).join('\n')
  await build({ stdin: { contents, resolveDir: repo, loader: 'ts' }, outfile: file, bundle: true, packages: 'external', platform: 'node', format: 'esm', logLevel: 'error' })
  fs.chmodSync(file, 0o644)
  return { file, url: pathToFileURL(file).href, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}
