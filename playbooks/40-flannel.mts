// Flannel from the control plane: our rendering of the pinned release (or a URL / local file
// given in flannel_manifest), with net-conf.json's Network set to the pod subnet; then wait for
// the DaemonSet and for every node to be Ready.
import fs from 'node:fs/promises'
import { ok, playbook, task, type Context } from '../lib/index.ts'
import { KUBECTL, CONTROL_PLANE, applyManifest, CLUSTER, nodesReady, readiness, waitFor, waitForNodesReady, type NodeObj, type Progress, type ClusterVars } from './support/kube.ts'

/** Flannel's release manifest says 10.244.0.0/16; ours must say the cluster's pod subnet. */
const withNetwork = (manifest: string, podSubnet: string) => manifest.replace(/("Network":\s*)"[^"]*"/, `$1${JSON.stringify(podSubnet)}`)

/** One kubectl read: Flannel's DaemonSet rollout and every node's Ready condition. */
async function flannelAndNodes(ctx: Context<ClusterVars, Registered>): Promise<{ daemonSet: Progress; nodes: Progress }> {
  const out = await ctx.probe({ nothrow: true })`${KUBECTL} get nodes,daemonsets.apps -n kube-flannel -o json`
  if (!out.ok) return { daemonSet: { done: false, progress: 'not there yet' }, nodes: { done: false, progress: 'not read' } }
  type Item = NodeObj & { status?: { numberReady?: number; desiredNumberScheduled?: number } }
  const items = (JSON.parse(out.stdout) as { items: Item[] }).items
  const ds = items.find((i) => i.kind === 'DaemonSet' && i.metadata.name === 'kube-flannel-ds')
  const ready = ds?.status?.numberReady ?? 0
  const want = ds?.status?.desiredNumberScheduled ?? 0
  const nodes = readiness(items.filter((i) => i.kind === 'Node'))
  return { daemonSet: ds ? { done: want > 0 && ready === want, progress: `${ready}/${want} pods ready` } : { done: false, progress: 'not there yet' }, nodes: nodesReady(nodes) }
}

/** what the tasks register: the nodes as the DaemonSet's task last saw them */
type Registered = { nodesSeen: Progress }

export default playbook<ClusterVars, Registered>(
  {
    name: 'Flannel pod network',
    hosts: CONTROL_PLANE,
    ...CLUSTER,
    tasks: [
      task('Flannel is applied for the pod subnet', async (ctx) => {
        const { flannel_manifest: source, pod_subnet } = ctx.vars
        const manifest = !source
          ? await ctx.render('flannel/kube-flannel.yaml')
          : /^https?:\/\//.test(source)
            ? (await ctx.probe`curl -fsSL --retry 3 ${source}`).stdout
            : await fs.readFile(source, 'utf8')
        if (!(await applyManifest(ctx, 'kube-flannel', withNetwork(manifest, pod_subnet)))) return ok(`unchanged (Network ${pod_subnet})`)
      }),
      task('the Flannel DaemonSet is ready on every node', async (ctx) => {
        const { wait_timeout } = ctx.vars
        return ok(
          await waitFor(ctx, 'kube-flannel-ds', wait_timeout, async () => {
            const look = await flannelAndNodes(ctx)
            // the nodes as seen in the same read: the next task need not ask again when all are Ready
            ctx.register('nodesSeen', look.nodes)
            return look.daemonSet
          })
        )
      }),
      task('every node is Ready', async (ctx) => {
        const seen = ctx.registered.nodesSeen
        return ok(seen?.done ? seen.progress : await waitForNodesReady(ctx, ctx.vars.wait_timeout))
      }),
    ],
  },
  import.meta
)
