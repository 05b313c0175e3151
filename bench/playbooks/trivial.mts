// Workload 1: 100 tasks of a trivial read-only command on every host.
// Ansible's side: bench/ansible/trivial.yaml (`command: test -d /etc`, changed_when: false).
import { playbook, task } from '../../lib/index.ts'

export const TASKS = 100

export default playbook(
  {
    name: `bench: ${TASKS} trivial read-only commands`,
    hosts: 'all',
    tasks: Array.from({ length: TASKS }, (_, i) =>
      task(`trivial ${i + 1}`, async ({ probe }) => {
        await probe`test -d /etc`
      })
    ),
  },
  import.meta
)
