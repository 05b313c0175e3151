// Tear a node back to before kubeadm: kubeadm reset, CNI config and state, iptables rules,
// Flannel's links, and a containerd restart so it forgets the old network. Not in site.mts.
// Asks for confirmation on a terminal; without one it needs --force.
import { ok, playbook, skip, task } from '../lib/index.ts'
import { MANIFEST_DIR, CLUSTER, type ClusterVars } from './support/kube.ts'
import { CNI_DIR, SUBNET_ENV, backupDir } from './support/cni.ts'

export default playbook<ClusterVars>(
  {
    name: 'Reset: Kubernetes is removed from the hosts',
    hosts: 'all',
    ...CLUSTER,
    confirm: 'This runs kubeadm reset and removes CNI state and iptables rules on these hosts. Continue?',
    tasks: [
      task('kubeadm state is reset', { timeout: 600_000 }, async (ctx) => {
        const left = (await ctx.probe`ls -d /etc/kubernetes/*.conf /etc/kubernetes/manifests/* /etc/kubernetes/pki /var/lib/kubelet/config.yaml /var/lib/etcd/* ${MANIFEST_DIR} 2>/dev/null || true`).lines()
        ctx.register('wasReset', left.length > 0)
        if (!left.length) return ok('nothing of kubeadm left')
        await ctx.$`if dpkg-query -W kubeadm >/dev/null 2>&1; then kubeadm reset -f; fi; rm -rf ${MANIFEST_DIR}`
      }),
      task('CNI configuration and state are cleared', async (ctx) => {
        const files = (await ctx.probe`find ${CNI_DIR} -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null; [ -e /var/lib/cni ] && echo /var/lib/cni; [ -e ${SUBNET_ENV} ] && echo ${SUBNET_ENV}; true`).lines()
        if (!files.length) return ok('no CNI state')
        const dest = backupDir()
        for (const f of files) ctx.log(`${ctx.check ? 'would clear' : 'clearing'} ${f.startsWith('/') ? f : `${CNI_DIR}/${f} (kept in ${dest}/)`}`)
        await ctx.$`if [ -n "$(ls -A ${CNI_DIR} 2>/dev/null)" ]; then mkdir -p -m 0700 ${dest} && mv ${CNI_DIR}/* ${dest}/; fi; rm -rf /var/lib/cni ${SUBNET_ENV}`
      }),
      task('iptables rules of the cluster are flushed', async (ctx) => {
        if (!(await ctx.test`command -v iptables`)) return skip('iptables is not installed')
        const rules = await ctx.probe`iptables-save 2>/dev/null | grep -cE 'KUBE|FLANNEL|CNI' || true`
        if (rules.toString() === '0') return ok('no cluster rules')
        await ctx.$`iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X`
      }),
      task("Flannel's links are removed", async (ctx) => {
        const links = (await ctx.probe`for l in cni0 flannel.1; do ip link show $l >/dev/null 2>&1 && echo $l; done; true`).lines()
        if (!links.length) return ok('no cni0 or flannel.1')
        await ctx.$`for l in ${links}; do ip link delete $l; done`
      }),
      task('containerd forgets the old network', async (ctx) => {
        if (!ctx.registered.wasReset) return ok('nothing was reset')
        if (!(await ctx.test`systemctl is-active --quiet containerd`)) return skip('containerd is not running')
        await ctx.$`systemctl restart containerd`
      }),
    ],
  },
  import.meta
)
