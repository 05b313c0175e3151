// `playbook()` and `site()` as playbook files call them (through index.ts): with `import.meta`, the
// file also runs on its own (`npx zx playbooks/10-x.mts --check`), but not when site.mts or
// `bin/zxplay` imports it. Kept out of playbook.ts, the engine's vocabulary, because it loads the CLI.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Vars } from '../inventory/inventory.ts'
import type { Registered } from '../engine/context.ts'
import { playbook as define, runtime, type Playbook, type PlaybookDef } from '../engine/playbook.ts'

/** `V`: the type of its tasks' `ctx.vars` (what its vars specs make of the inventory's vars); `R`: what they register. */
export function playbook<V = Vars, R extends Registered = Registered>(def: PlaybookDef<V, R>, meta?: ImportMeta): Playbook {
  const pb = define(def, meta)
  if (meta) autorun(meta, [pb])
  return pb
}

/** The ordered list of playbooks (site.mts), runnable on its own like each playbook. */
export function site(playbooks: Playbook[], meta?: ImportMeta): Playbook[] {
  if (meta) autorun(meta, playbooks)
  return playbooks
}

/** The argv index of the script `meta` belongs to, when that script is what the user ran (node x.mts, zx x.mts). */
function entryIndex(meta: ImportMeta, argv = process.argv): number {
  const file = fileURLToPath(meta.url)
  return argv.findIndex((a, i) => i > 0 && !a.startsWith('-') && path.resolve(a) === file)
}

function autorun(meta: ImportMeta, playbooks: Playbook[]): void {
  const at = entryIndex(meta)
  if (at < 0 || runtime.cli) return
  // After the module (and site.mts's imports) finished loading.
  setImmediate(async () => {
    const { runFromScript } = await import('./cli.ts')
    await runFromScript(playbooks, process.argv.slice(at + 1))
  })
}
