// Every host answers over its connection, and we learn what it is.
import { ok, playbook, task } from '../lib/index.ts'

export default playbook(
  {
    name: 'Hosts answer',
    hosts: 'all',
    tasks: [
      task('host answers and reports its facts', async ({ facts }) => {
        const f = await facts()
        return ok(`${f.hostname}: ${f.distro} ${f.distroVersion} ${f.arch}, ${f.cpus} CPUs, ${f.memoryMb} MB`)
      }),
    ],
  },
  import.meta
)
