// Which playbooks, hosts and tasks a run covers, decided before anything connects. Pure.
import { UsageError } from '../base/errors.ts'
import type { Host, Inventory } from '../inventory/inventory.ts'
import { selectHosts, selectHostsByList } from '../inventory/patterns.ts'
import type { Playbook, Task } from './playbook.ts'

/** `limit`: a --limit pattern, or its patterns once a @file in it was read (limitPatterns) */
export type Selection = { tags: string[]; skipTags: string[]; limit?: string | string[]; startAt?: string }
export type PlannedPlaybook = { playbook: Playbook; hosts: Host[]; tasks: Task[] }

/** A task's tags: its own and its playbook's. */
export const tagsOf = (pb: Playbook, t: Task) => [...(pb.tags ?? []), ...(t.tags ?? [])]

/** --list-tags' TASK TAGS, as ansible-playbook's: the playbook's tags and those of the tasks that would run. */
export const listedTags = ({ playbook: pb, tasks }: PlannedPlaybook) => [...new Set([...(pb.tags ?? []), ...tasks.flatMap((t) => tagsOf(pb, t))])].sort()

// Words --tags and --skip-tags understand besides the playbooks' own tags.
const SPECIAL_TAGS = ['all', 'always', 'never', 'tagged', 'untagged']

/**
 * Ansible's Taggable.evaluate_tags: no --tags means `all`, which runs everything but `never`;
 * `always` runs whatever --tags says unless --skip-tags names it; a task without tags is `untagged`.
 */
export function wanted(taskTags: string[], sel: Pick<Selection, 'tags' | 'skipTags'>): boolean {
  const only = sel.tags.length ? sel.tags : ['all']
  const untagged = taskTags.length === 0
  const tags = untagged ? ['untagged'] : taskTags
  const has = (list: string[]) => tags.some((t) => list.includes(t))
  const run =
    tags.includes('always') ||
    (only.includes('all') && !tags.includes('never')) ||
    has(only) ||
    (only.includes('tagged') && !untagged && !tags.includes('never'))
  if (!run) return false
  const skip = sel.skipTags
  if (skip.includes('all')) return tags.includes('always') && !skip.includes('always')
  return !has(skip) && !(skip.includes('tagged') && !untagged)
}

export function plan(playbooks: Playbook[], inv: Inventory, sel: Selection): PlannedPlaybook[] {
  const known = new Set(playbooks.flatMap((pb) => pb.tasks.flatMap((t) => tagsOf(pb, t))))
  for (const t of [...sel.tags, ...sel.skipTags]) {
    if (!known.has(t) && !SPECIAL_TAGS.includes(t)) {
      throw new UsageError(`unknown tag '${t}': the selected playbooks have ${known.size ? [...known].sort().join(', ') : 'no tags'} (and ${SPECIAL_TAGS.join(', ')})`)
    }
  }
  // An empty --limit (say, from an unset shell variable) is an error, never "all hosts".
  const limited = sel.limit === undefined ? undefined : typeof sel.limit === 'string' ? selectHosts(inv, sel.limit) : selectHostsByList(inv, sel.limit, sel.limit.join(','))
  const limit = limited && new Set(limited.map((h) => h.name))

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
