// metrics-server with --metric-resolution from the inventory (15s) and --kubelet-insecure-tls
// (kubeadm's kubelet serving certificates are self-signed); wait until the metrics API answers
// for every node.
import { ok, playbook, task } from '../lib/index.ts'
import { KUBECTL, CLUSTER, CONTROL_PLANE, applyManifest, lastLine, nodeReadiness, waitFor, type ClusterVars } from './support/kube.ts'

export default playbook<ClusterVars>(
  {
    name: 'metrics-server',
    hosts: CONTROL_PLANE,
    ...CLUSTER,
    tasks: [
      task('metrics-server is applied', async (ctx) => {
        const manifest = await ctx.render('metrics-server/components.yaml')
        await applyManifest(ctx, 'metrics-server', manifest)
      }),
      task('the metrics API answers for every node', async (ctx) =>
        ok(
          await waitFor(ctx, 'metrics API', ctx.vars.wait_timeout, async () => {
            // Two independent reads: side by side
            const [nodes, top] = await Promise.all([nodeReadiness(ctx), ctx.probe({ nothrow: true })`${KUBECTL} top nodes --no-headers`])
            const measured = top.ok ? top.lines().filter(Boolean).length : 0
            return { done: measured > 0 && measured === nodes.length, progress: top.ok ? `${measured}/${nodes.length} nodes measured` : (lastLine(top.stderr) || 'no answer') }
          })
        )
      ),
    ],
  },
  import.meta
)
