// Which playbooks, hosts and tasks a run covers, decided before anything connects. Pure.
import { UsageError } from './errors.ts'
import type { Host, Inventory } from './inventory.ts'
import { selectHosts } from './patterns.ts'
import type { Playbook, Task } from './playbook.ts'

export type Selection = { tags: string[]; skipTags: string[]; limit?: string; startAt?: string }
export type PlannedPlaybook = { playbook: Playbook; hosts: Host[]; tasks: Task[] }

/** A task's tags: its own and its playbook's. `always` runs unless skipped by name. */
export const tagsOf = (pb: Playbook, t: Task) => [...(pb.tags ?? []), ...(t.tags ?? [])]

function wanted(tags: string[], sel: Selection): boolean {
  if (sel.skipTags.some((t) => tags.includes(t))) return false
  if (!sel.tags.length || tags.includes('always')) return true
  return sel.tags.some((t) => (t === 'untagged' ? tags.length === 0 : tags.includes(t)))
}

export function plan(playbooks: Playbook[], inv: Inventory, sel: Selection): PlannedPlaybook[] {
  const known = new Set(playbooks.flatMap((pb) => pb.tasks.flatMap((t) => tagsOf(pb, t))))
  for (const t of [...sel.tags, ...sel.skipTags]) {
    if (!known.has(t) && t !== 'always' && t !== 'untagged') {
      throw new UsageError(`unknown tag '${t}': the selected playbooks have ${known.size ? [...known].sort().join(', ') : 'no tags'}`)
    }
  }
  // An empty --limit (say, from an unset shell variable) is an error, never "all hosts".
  const limit = sel.limit !== undefined ? new Set(selectHosts(inv, sel.limit).map((h) => h.name)) : undefined

  // --start-at: a playbook (id or name) or a task name; everything before it is left out.
  let started = !sel.startAt
  const want = sel.startAt?.toLowerCase()
  const out: PlannedPlaybook[] = []
  for (const pb of playbooks) {
    if (!started && (pb.id.toLowerCase() === want || pb.name.toLowerCase() === want)) started = true
    let tasks = pb.tasks
    if (!started) {
      const at = pb.tasks.findIndex((t) => t.name.toLowerCase() === want)
      if (at < 0) continue
      started = true
      tasks = pb.tasks.slice(at)
    }
    // An empty group (no workers in single-host mode) skips the playbook; an unknown name is still an error.
    const hosts = selectHosts(inv, pb.hosts, { allowEmpty: true }).filter((h) => !limit || limit.has(h.name))
    out.push({ playbook: pb, hosts, tasks: tasks.filter((t) => wanted(tagsOf(pb, t), sel)) })
  }
  if (!started) throw new UsageError(`--start-at '${sel.startAt}' names no playbook or task in ${playbooks.map((p) => p.id).join(', ')}`)
  return out
}
