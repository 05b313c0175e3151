// Flannel from the control plane: our rendering of the pinned release (or a URL / local file
// given in flannel_manifest), with net-conf.json's Network set to the pod subnet; then wait for
// the DaemonSet and for every node to be Ready.
import fs from 'node:fs/promises'
import { ok, playbook, task } from '../lib/index.ts'
import { ADMIN_CONF, CONTROL_PLANE, applyManifest, cluster, CLUSTER, waitFor, waitForNodesReady } from './_kube.ts'

/** Flannel's release manifest says 10.244.0.0/16; ours must say the cluster's pod subnet. */
const withNetwork = (manifest: string, podSubnet: string) => manifest.replace(/("Network":\s*)"[^"]*"/, `$1${JSON.stringify(podSubnet)}`)

export default playbook(
  {
    name: 'Flannel pod network',
    hosts: CONTROL_PLANE,
    ...CLUSTER,
    tasks: [
      task('Flannel is applied for the pod subnet', async (ctx) => {
        const { flannel_manifest: source, pod_subnet } = cluster(ctx)
        const manifest = !source
          ? await ctx.render('flannel/kube-flannel.yaml')
          : /^https?:\/\//.test(source)
            ? (await ctx.probe`curl -fsSL --retry 3 ${source}`).stdout
            : await fs.readFile(source, 'utf8')
        const result = await applyManifest(ctx, 'kube-flannel', withNetwork(manifest, pod_subnet))
        if (result === 'unchanged') return ok(`unchanged (Network ${pod_subnet})`)
      }),
      task('the Flannel DaemonSet is ready on every node', async (ctx) => {
        const { wait_timeout } = cluster(ctx)
        return ok(
          await waitFor(ctx, 'kube-flannel-ds', wait_timeout, async () => {
            const out = await ctx.probe({ nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} -n kube-flannel get daemonset kube-flannel-ds -o jsonpath=${'{.status.numberReady}/{.status.desiredNumberScheduled}'}`
            const [ready = '0', want = '0'] = out.toString().split('/')
            return { done: out.ok && want !== '0' && ready === want, progress: out.ok ? `${ready || 0}/${want || 0} pods ready` : 'not there yet' }
          })
        )
      }),
      task('every node is Ready', async (ctx) => ok(await waitForNodesReady(ctx, cluster(ctx).wait_timeout))),
    ],
  },
  import.meta
)
