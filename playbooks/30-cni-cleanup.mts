// Before the network add-on: CNI configs other CNIs left in /etc/cni/net.d are moved to a dated
// backup folder (they would win the lexical order and wire pods through a dead plugin), and
// Flannel's links are removed when the pod CIDR changed.
import { ok, playbook, task } from '../lib/index.ts'
import { CLUSTER, type ClusterVars } from './support/kube.ts'
import { CNI_DIR, SUBNET_ENV, backupDir, flannelNetwork, staleCniFiles } from './support/cni.ts'

export default playbook<ClusterVars>(
  {
    name: 'Stale CNI configuration is cleared',
    hosts: 'all',
    ...CLUSTER,
    tasks: [
      task('only the chosen network add-on configures CNI', async (ctx) => {
        const files = (await ctx.probe`[ -d ${CNI_DIR} ] && find ${CNI_DIR} -mindepth 1 -maxdepth 1 -printf '%f\n' || true`).lines()
        const subnetEnv = (await ctx.probe`cat ${SUBNET_ENV} 2>/dev/null || true`).stdout
        const stale = staleCniFiles(files, ctx.vars.pod_subnet, subnetEnv)
        if (!stale.length) return ok(files.length ? `kept ${files.join(', ')}` : `${CNI_DIR} is empty`)
        const dest = backupDir()
        for (const f of stale) ctx.log(`${ctx.check ? 'would move' : 'moving'} ${CNI_DIR}/${f} → ${dest}/`)
        await ctx.$`mkdir -p -m 0700 ${dest} && mv ${stale.map((f) => `${CNI_DIR}/${f}`)} ${dest}/`
      }),
      task("Flannel's links go when the pod CIDR changed", async (ctx) => {
        const network = flannelNetwork((await ctx.probe`cat ${SUBNET_ENV} 2>/dev/null || true`).stdout)
        if (network === undefined || network === ctx.vars.pod_subnet) return ok(network ? `flannel network ${network} is current` : 'no flannel state')
        const links = (await ctx.probe`for l in cni0 flannel.1; do ip link show $l >/dev/null 2>&1 && echo $l; done; true`).lines()
        ctx.log(`flannel ran with ${network}, the cluster now uses ${ctx.vars.pod_subnet}: removing ${[...links, SUBNET_ENV].join(', ')}`)
        await ctx.$`for l in ${links}; do ip link delete $l; done; rm -f ${SUBNET_ENV}`
      }),
    ],
  },
  import.meta
)
