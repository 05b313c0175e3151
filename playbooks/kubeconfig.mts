// The cluster's admin kubeconfig, fetched to artifacts/kubeconfig (0600) on this machine.
import fs from 'node:fs'
import path from 'node:path'
import { writePrivate } from '../lib/base/files.ts'
import { changed, ok, playbook, task } from '../lib/index.ts'
import { ADMIN_CONF, CONTROL_PLANE, CLUSTER, type ClusterVars } from './support/kube.ts'

const DEST = path.resolve('artifacts/kubeconfig')

export default playbook<ClusterVars>(
  {
    name: 'Kubeconfig on this machine',
    hosts: CONTROL_PLANE,
    ...CLUSTER,
    tasks: [
      task('artifacts/kubeconfig holds the admin kubeconfig', async (ctx) => {
        // the kubeconfig holds the admin's client key: its text never reaches the log
        const conf = (await ctx.probe({ secretOutput: true })`cat ${ADMIN_CONF}`).stdout
        const current = fs.existsSync(DEST) ? fs.readFileSync(DEST, 'utf8') : undefined
        const how = `export KUBECONFIG=${path.relative(process.cwd(), DEST)}; kubectl get nodes`
        if (current === conf) return ok(how)
        // under --check: reported as the change it would be, as ensure's operations do
        if (ctx.check) return changed(`would write ${DEST} (0600); use it with: ${how}`)
        ctx.log(`writing ${DEST} (0600); use it with: ${how}`)
        fs.mkdirSync(path.dirname(DEST), { recursive: true })
        writePrivate(DEST, conf)
        return changed(how)
      }),
    ],
  },
  import.meta
)
