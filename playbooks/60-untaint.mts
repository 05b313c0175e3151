// Single-host dev mode (no workers, or schedule_on_control_plane: true), or a control plane that is
// also in workers (kubespray's kube_node): ordinary pods may run on the control plane. Removes the control-plane taint and the legacy master one; "not found" is ok.
import { ok, playbook, skip, task } from '../lib/index.ts'
import { KUBECTL, CONTROL_PLANE, CLUSTER, controlPlaneTakesPods, groupMembers, type ClusterVars } from './support/kube.ts'

const TAINTS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master']

export default playbook<ClusterVars>(
  {
    name: 'Control plane schedules pods in single-host mode',
    hosts: CONTROL_PLANE,
    ...CLUSTER,
    tasks: [
      task('the control plane takes ordinary pods', async (ctx) => {
        if (!controlPlaneTakesPods(ctx, ctx.host.name, ctx.vars.schedule_on_control_plane)) return skip(`${groupMembers(ctx, 'workers').length} worker(s) and schedule_on_control_plane is off`)
        const out = await ctx.probe({ nothrow: true })`${KUBECTL} get nodes -o jsonpath=${'{range .items[*]}{.metadata.name}{" "}{.spec.taints[*].key}{"\n"}{end}'}`
        // under --check on a host the earlier playbooks have not set up, there is no cluster to ask yet
        if (!out.ok && ctx.check) return skip('no cluster yet (--check)')
        if (!out.ok) throw new Error(`kubectl get nodes failed (exit ${out.exitCode}): ${out.stderr.trim()}`)
        const tainted = out.lines().flatMap((l) => {
          const [node = '', ...keys] = l.split(' ')
          return keys.filter((k) => TAINTS.includes(k)).map((k) => ({ node, key: k }))
        })
        if (!tainted.length) return ok('no control-plane taint')
        for (const { node, key } of tainted) {
          const r = await ctx.$({ nothrow: true })`${KUBECTL} taint nodes ${node} ${`${key}:NoSchedule-`}`
          // already gone (a race, or another effect): what we wanted
          if (!r.ok && !/not found/.test(r.stderr)) throw new Error(`kubectl taint ${node} ${key}- failed: ${r.stderr.trim()}`)
        }
      }),
    ],
  },
  import.meta
)
