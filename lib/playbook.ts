// The vocabulary of a playbook: playbook(), task(), ok(), skip(). Pure: types and identities.
// A playbook module default-exports its playbook; passing `import.meta` lets the same file also
// run on its own (`npx zx playbooks/10-x.mts --check`) without running when site.mts imports it.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context } from './context.ts'
import type { Host, Vars } from './inventory.ts'

export type Ok = { kind: 'ok'; reason: string }
export type Changed = { kind: 'changed'; reason: string }
export type Skip = { kind: 'skip'; reason: string }
export type TaskRun = (ctx: Context) => Promise<Ok | Changed | Skip | void> | Ok | Changed | Skip | void

export type TaskOptions = {
  tags?: string[]
  /** run only where this is true; otherwise the host is `skipped` */
  when?: (ctx: Pick<Context, 'host' | 'vars' | 'registered' | 'check'>) => boolean | Promise<boolean>
  /** run again after a failure, up to this many more times */
  retries?: number
  /** after a run that did not throw, retry while this says false (needs `retries`) */
  until?: (ctx: Pick<Context, 'host' | 'vars' | 'registered' | 'check'>) => boolean | Promise<boolean>
  /** milliseconds between attempts (default 1000) */
  delay?: number
  /** the whole task (all its commands) must end within this many milliseconds (default: var task_timeout s, else 900 s) */
  timeout?: number
  /** run on the first selected host only; what it registers is shared with every host */
  once?: boolean
}
export type Task = TaskOptions & { name: string; run: TaskRun }

export type PlaybookDef = {
  name: string
  /** host pattern: names, groups, globs, a:b, !x, &x */
  hosts: string
  tasks: Task[]
  tags?: string[]
  /** stop every host at the first failure (Ansible's any_errors_fatal) */
  anyErrorsFatal?: boolean
  /** run every command with sudo unless a command says otherwise (Ansible's play-level become) */
  become?: boolean
  /** defaults for this playbook's vars, below everything in the inventory (Ansible's role defaults) */
  vars?: Vars
  /** vars computed from the merged vars, for keys the inventory leaves unset (e.g. kubernetes_tag from kubernetes_version) */
  derive?: (vars: Vars, host: Host) => Vars
  /** a destructive playbook: asked once on a terminal before it runs; elsewhere it needs --force */
  confirm?: string
}
export type Playbook = PlaybookDef & {
  /** the file's base name (`10-packages`), used by --start-at and in output */
  id: string
}

export const ok = (reason: string): Ok => ({ kind: 'ok', reason })
export const skip = (reason: string): Skip => ({ kind: 'skip', reason })
/** A change made outside `$` (e.g. a file written on this machine). */
export const changed = (reason: string): Changed => ({ kind: 'changed', reason })

export function task(name: string, run: TaskRun): Task
export function task(name: string, opts: TaskOptions, run: TaskRun): Task
export function task(name: string, opts: TaskOptions | TaskRun, run?: TaskRun): Task {
  if (typeof opts === 'function') return { name, run: opts }
  if (!run) throw new TypeError(`task '${name}' has no function`)
  return { name, ...opts, run }
}

export function playbook(def: PlaybookDef, meta?: ImportMeta): Playbook {
  const id = meta ? path.basename(fileURLToPath(meta.url)).replace(/\.[mc]?[jt]s$/, '') : slug(def.name)
  const pb = { ...def, id }
  if (meta) autorun(meta, [pb])
  return pb
}

/** A host's vars as a playbook sees them: its defaults, the inventory's, then what it derives. */
export function playbookVars(pb: Pick<PlaybookDef, 'vars' | 'derive'>, host: Host): Vars {
  const merged = withDefaults(host.vars, pb.vars ?? {})
  const derived = pb.derive?.(merged, host) ?? {}
  return { ...Object.fromEntries(Object.entries(derived).filter(([k]) => merged[k] === undefined)), ...merged }
}

const isPlainMap = (v: unknown): v is Vars => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * `vars` over `defaults`, key by key inside nested maps: an inventory that sets only
 * `aws.endpoint` keeps the default `aws.region`.
 */
export function withDefaults(vars: Vars, defaults: Vars): Vars {
  const out: Vars = { ...defaults }
  for (const [k, v] of Object.entries(vars)) out[k] = isPlainMap(v) && isPlainMap(defaults[k]) ? withDefaults(v, defaults[k]) : v
  return out
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

