// The vocabulary of a playbook: playbook(), task(), ok(), skip(). Pure: types and identities.
// A playbook module default-exports its playbook; passing `import.meta` lets the same file also
// run on its own (`npx zx playbooks/10-x.mts --check`) without running when site.mts imports it.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context } from './context.ts'
import type { Host, Vars } from './inventory.ts'
import { VarsTable, type VarsSpec } from './vars-spec.ts'
import { inventoryOf } from './inventory.ts'

export { withDefaults } from './vars-spec.ts'

export type Ok = { kind: 'ok'; reason: string }
export type Changed = { kind: 'changed'; reason: string }
export type Skip = { kind: 'skip'; reason: string }
export type TaskRun<V = Vars> = (ctx: Context<V>) => Promise<Ok | Changed | Skip | void> | Ok | Changed | Skip | void

export type TaskOptions<V = Vars> = {
  tags?: string[]
  /** run only where this is true; otherwise the host is `skipped` */
  when?: (ctx: Pick<Context<V>, 'host' | 'vars' | 'registered' | 'check'>) => boolean | Promise<boolean>
  /** run again after a failure, up to this many more times */
  retries?: number
  /** after a run that did not throw, retry while this says false (needs `retries`) */
  until?: (ctx: Pick<Context<V>, 'host' | 'vars' | 'registered' | 'check'>) => boolean | Promise<boolean>
  /** milliseconds between attempts (default 1000) */
  delay?: number
  /** the whole task (all its commands) must end within this many milliseconds (default: var task_timeout s, else 900 s) */
  timeout?: number
  /** run on the first selected host only; what it registers is shared with every host */
  once?: boolean
}
export type Task<V = Vars> = TaskOptions<V> & { name: string; run: TaskRun<V> }

/**
 * A playbook. `V` is the type of its tasks' `ctx.vars`: what its `specs` make of the inventory's
 * vars (e.g. `playbook<ClusterVars>({ ...CLUSTER, … })`).
 */
export type PlaybookDef<V = Vars> = {
  name: string
  /** host pattern: names, groups, globs, a:b, !x, &x */
  hosts: string
  tasks: Task<V>[]
  tags?: string[]
  /** stop every host at the first failure (Ansible's any_errors_fatal) */
  anyErrorsFatal?: boolean
  /** run every command with sudo unless a command says otherwise (Ansible's play-level become) */
  become?: boolean
  /** the vars families it uses (defaults, check, derive): checked once per host per run, before anything connects */
  specs?: readonly VarsSpec[]
  /** defaults of its own, besides its specs', below everything in the inventory (Ansible's role defaults) */
  vars?: Vars
  /** vars of its own computed from the merged vars, for keys the inventory leaves unset */
  derive?: (vars: Vars, host: Host) => Vars
  /** a destructive playbook: asked once on a terminal before it runs; elsewhere it needs --force */
  confirm?: string
}
// any: a run holds playbooks of every vars type
export type Playbook = PlaybookDef<any> & {
  /** the file's base name (`10-packages`), used by --start-at and in output */
  id: string
}

export const ok = (reason: string): Ok => ({ kind: 'ok', reason })
export const skip = (reason: string): Skip => ({ kind: 'skip', reason })
/** A change made outside `$` (e.g. a file written on this machine). */
export const changed = (reason: string): Changed => ({ kind: 'changed', reason })

export function task<V = Vars>(name: string, run: TaskRun<V>): Task<V>
export function task<V = Vars>(name: string, opts: TaskOptions<V>, run: TaskRun<V>): Task<V>
export function task<V = Vars>(name: string, opts: TaskOptions<V> | TaskRun<V>, run?: TaskRun<V>): Task<V> {
  if (typeof opts === 'function') return { name, run: opts }
  if (!run) throw new TypeError(`task '${name}' has no function`)
  return { name, ...opts, run }
}

export function playbook<V = Vars>(def: PlaybookDef<V>, meta?: ImportMeta): Playbook {
  const id = meta ? path.basename(fileURLToPath(meta.url)).replace(/\.[mc]?[jt]s$/, '') : slug(def.name)
  const pb = { ...def, id }
  if (meta) autorun(meta, [pb])
  return pb
}

/**
 * A host's vars as a playbook sees them: its specs' and its own defaults, the inventory's, then what
 * they derive; bad vars throw one InventoryError listing all of them. One look: a run keeps a VarsTable.
 */
export function playbookVars(pb: Pick<PlaybookDef, 'specs' | 'vars' | 'derive'>, host: Host): Vars {
  return new VarsTable([pb], inventoryOf(host) ?? { hosts: [host], groups: new Map() }).varsFor(pb, host)
}

/** The ordered list of playbooks (site.mts), runnable on its own like each playbook. */
export function site(playbooks: Playbook[], meta?: ImportMeta): Playbook[] {
  if (meta) autorun(meta, playbooks)
  return playbooks
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')

/** The argv index of the script `meta` belongs to, when that script is what the user ran (node x.mts, zx x.mts). */
function entryIndex(meta: ImportMeta, argv = process.argv): number {
  const file = fileURLToPath(meta.url)
  return argv.findIndex((a, i) => i > 0 && !a.startsWith('-') && path.resolve(a) === file)
}

/** Set by `bin/zxplay`, which imports playbooks itself: then they must not start on their own. */
export const runtime = { cli: false }

function autorun(meta: ImportMeta, playbooks: Playbook[]): void {
  const at = entryIndex(meta)
  if (at < 0 || runtime.cli) return
  // After the module (and site.mts's imports) finished loading.
  setImmediate(async () => {
    const { runFromScript } = await import('./cli.ts')
    await runFromScript(playbooks, process.argv.slice(at + 1))
  })
}

