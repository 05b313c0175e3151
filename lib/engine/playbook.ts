// The vocabulary of a playbook: playbook(), task(), ok(), skip(). Pure: types and identities.
// A playbook module default-exports its playbook; what lets a file that passes `import.meta` also
// run on its own is autorun.ts (playbooks import both through index.ts).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context, Registered } from './context.ts'
import type { Host, Vars } from '../inventory/inventory.ts'
import type { Changed, Ok, Skip } from './result.ts'
import type { VarsSpec } from '../inventory/vars-spec.ts'

export { changed, ok, skip, type Changed, type Ok, type Skip } from './result.ts'
export { playbookVars, withDefaults } from './play-vars.ts'

export type TaskRun<V = Vars, R extends Registered = Registered> = (ctx: Context<V, R>) => Promise<Ok | Changed | Skip | void> | Ok | Changed | Skip | void

export type TaskOptions<V = Vars, R extends Registered = Registered> = {
  tags?: string[]
  /** run only where this is true; otherwise the host is `skipped` */
  when?: (ctx: Pick<Context<V, R>, 'host' | 'vars' | 'registered' | 'check'>) => boolean | Promise<boolean>
  /** run again after a failure, up to this many more times */
  retries?: number
  /** after a run that did not throw, retry while this says false (needs `retries`) */
  until?: (ctx: Pick<Context<V, R>, 'host' | 'vars' | 'registered' | 'check'>) => boolean | Promise<boolean>
  /** milliseconds between attempts (default 1000) */
  delay?: number
  /** the whole task (all its commands) must end within this many milliseconds (default: var task_timeout s, else 900 s) */
  timeout?: number
  /** run on the first selected host only; what it registers is shared with every host */
  once?: boolean
}
export type Task<V = Vars, R extends Registered = Registered> = TaskOptions<V, R> & { name: string; run: TaskRun<V, R> }

/**
 * A playbook. `V` is the type of its tasks' `ctx.vars`: what its `specs` make of the inventory's
 * vars (e.g. `playbook<ClusterVars>({ ...CLUSTER, … })`).
 */
export type PlaybookDef<V = Vars, R extends Registered = Registered> = {
  name: string
  /** host pattern: names, groups, globs, a:b, !x, &x */
  hosts: string
  tasks: Task<V, R>[]
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
// any: a run holds playbooks of every vars and registry type
export type Playbook = PlaybookDef<any, any> & {
  /** the file's base name (`10-packages`), used by --start-at and in output */
  id: string
}

export function task<V = Vars, R extends Registered = Registered>(name: string, run: TaskRun<V, R>): Task<V, R>
export function task<V = Vars, R extends Registered = Registered>(name: string, opts: TaskOptions<V, R>, run: TaskRun<V, R>): Task<V, R>
export function task<V = Vars, R extends Registered = Registered>(name: string, opts: TaskOptions<V, R> | TaskRun<V, R>, run?: TaskRun<V, R>): Task<V, R> {
  if (typeof opts === 'function') return { name, run: opts }
  if (!run) throw new TypeError(`task '${name}' has no function`)
  return { name, ...opts, run }
}

export function playbook<V = Vars, R extends Registered = Registered>(def: PlaybookDef<V, R>, meta?: ImportMeta): Playbook {
  const id = meta ? path.basename(fileURLToPath(meta.url)).replace(/\.[mc]?[jt]s$/, '') : slug(def.name)
  return { ...def, id }
}

/** Set by `bin/zxplay`, which imports playbooks itself: then they must not start on their own (autorun.ts). */
export const runtime = { cli: false }

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
