// Tag selection judged by ansible-core: the same playbooks written for both, and for every
// --tags/--skip-tags choice, `ansible-playbook --list-tasks` and `--list-tags` against zxplay's plan.
import fs from 'node:fs'
import path from 'node:path'
import { dump } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { listedTags, plan } from '../../lib/engine/plan.ts'
import { playbook, task } from '../../lib/engine/playbook.ts'
import { ansibleListings } from './_ansible.ts'
import { tempDir } from '../unit/_helpers.ts'

// [play name, play tags, [task name, task tags][]]
const SPEC: [string, string[], [string, string[]][]][] = [
  ['prepare', ['prep'], [['facts', ['always']], ['packages', ['pkg']], ['swap', []], ['debug dump', ['never', 'debug']]]],
  ['plain', [], [['untagged one', []], ['only never', ['never']], ['always and never', ['always', 'never']], ['web', ['web', 'pkg']]]],
  ['deploy', ['deploy'], [['ship', []], ['verify', ['always']]]],
]

const SELECTIONS: { tags: string[]; skipTags: string[] }[] = [
  [[], []], [['pkg'], []], [['debug'], []], [['never'], []], [['all'], []], [['tagged'], []], [['untagged'], []],
  [['always'], []], [['deploy'], []], [['untagged', 'debug'], []], [[], ['always']], [[], ['all']], [[], ['tagged']],
  [[], ['untagged']], [[], ['pkg']], [['all'], ['web']], [['tagged'], ['always']], [['pkg'], ['prep']], [['all', 'never'], []],
].map(([tags, skipTags]) => ({ tags: tags!, skipTags: skipTags! }))

const { dir, remove } = tempDir('tags')
test.after(remove)

const yaml = SPEC.map(([name, tags, tasks]) => ({
  name,
  hosts: 'all',
  gather_facts: false,
  ...(tags.length ? { tags } : {}),
  tasks: tasks.map(([t, tt]) => ({ name: t, ...(tt.length ? { tags: tt } : {}), debug: { msg: t } })),
}))
fs.writeFileSync(path.join(dir, 'site.yml'), dump(yaml))
const playbooks = SPEC.map(([name, tags, tasks]) => playbook({ name, hosts: 'all', tags, tasks: tasks.map(([t, tt]) => task(t, { tags: tt }, () => {})) }))
const inv = parseInventory('all: {hosts: {localhost: {connection: local}}}', 'inventory.yaml')

const flagsOf = (s: { tags: string[]; skipTags: string[] }) => [...(s.tags.length ? ['--tags', s.tags.join(',')] : []), ...(s.skipTags.length ? ['--skip-tags', s.skipTags.join(',')] : [])]
const runs = ansibleListings(
  'playbook',
  SELECTIONS.flatMap((s) => [['-i', 'localhost,', 'site.yml', '--list-tasks', ...flagsOf(s)], ['-i', 'localhost,', 'site.yml', '--list-tags', ...flagsOf(s)]]),
  dir
)

/** Ansible's listing → per play: the task names (--list-tasks) or its TASK TAGS (--list-tags). */
function perPlay(out: string, pick: 'tasks' | 'tags'): string[][] {
  const plays: string[][] = []
  for (const line of out.split('\n')) {
    if (/^ {2}play #\d+/.test(line)) plays.push([])
    else if (pick === 'tags' && /^ {6}TASK TAGS: \[/.test(line)) plays.at(-1)!.push(...line.replace(/^ *TASK TAGS: \[|\]$/g, '').split(', ').filter(Boolean))
    else if (pick === 'tasks' && /^ {6}\S/.test(line)) plays.at(-1)!.push(line.trim().replace(/\tTAGS: .*$/, ''))
  }
  return plays
}

SELECTIONS.forEach((sel, i) => {
  test(`${flagsOf(sel).join(' ') || 'no tag flags'}: the tasks and tags ansible-playbook lists`, () => {
    const [tasks, tags] = [runs[2 * i]!, runs[2 * i + 1]!]
    assert.is(tasks.rc, 0, tasks.out)
    const mine = plan(playbooks, inv, sel)
    assert.equal(mine.map((p) => p.tasks.map((t) => t.name)), perPlay(tasks.out, 'tasks'))
    assert.equal(mine.map(listedTags), perPlay(tags.out, 'tags'))
  })
})

test.run()
