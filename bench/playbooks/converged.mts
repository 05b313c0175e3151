// Workload 2: a realistic converged run. 30 tasks, in a repeating cycle of four kinds:
//   guard     a command behind a guard that says there is nothing to do (Ansible: command creates=)
//   upload    a file whose content is already there (Ansible: copy)
//   template  a template already rendered (Ansible: template)
//   facts     a fact read (Ansible: setup once, then the gathered facts)
// After the warm-up run everything is in place: every task is `ok`, none `changed`.
// Ansible's side is generated from the same list (bench/ansible.ts), so both do the same work.
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ok, playbook, task, type Task } from '../../lib/index.ts'

export const TASKS = 30
export const KINDS = ['guard', 'upload', 'template', 'facts'] as const
export type Kind = (typeof KINDS)[number]
export const kindOf = (i: number): Kind => KINDS[i % KINDS.length]!

export const PAYLOAD = fileURLToPath(new URL('../files/payload.txt', import.meta.url))
export const TEMPLATE = fileURLToPath(new URL('../templates/app.conf.j2', import.meta.url))

/** Where task i writes, under the workload's directory (the first guard creates that directory). */
export function targetOf(dir: string, i: number): string {
  const kind = kindOf(i)
  if (kind === 'guard') return i === 0 ? dir : `${dir}/marker-${i}`
  if (kind === 'upload') return `${dir}/payload-${i}.txt`
  if (kind === 'template') return `${dir}/app-${i}.conf`
  return ''
}

function benchTask(i: number): Task {
  const kind = kindOf(i)
  return task(`${kind} ${i + 1}`, async ({ $, test, upload, render, facts, vars }) => {
    const target = targetOf(String(vars.bench_dir), i)
    switch (kind) {
      case 'guard':
        if (await test`[ -e ${target} ]`) return ok('already there')
        await (i === 0 ? $`mkdir -p ${target}` : $`touch ${target}`)
        return
      case 'upload':
        await upload(target, fs.readFileSync(PAYLOAD), { mode: '0644' })
        return
      case 'template':
        await upload(target, await render(TEMPLATE, { slot: i }), { mode: '0644' })
        return
      case 'facts': {
        const f = await facts()
        return ok(`${f.hostname}, ${f.distro} ${f.distroVersion}`)
      }
    }
  })
}

export default playbook(
  {
    name: `bench: ${TASKS} converged tasks`,
    hosts: 'all',
    tasks: Array.from({ length: TASKS }, (_, i) => benchTask(i)),
  },
  import.meta
)
