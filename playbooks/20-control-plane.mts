// kubeadm init on the first control-plane host with our v1beta4 config (pod CIDR for Flannel,
// the HPA downscale stabilization flag), and a kubeconfig for the SSH user.
import { ok, playbook, task } from '../lib/index.ts'
import { ADMIN_CONF, KUBECTL, BOOTSTRAP_TOKEN, CLUSTER, CONTROL_PLANE, MANIFEST_DIR, type ClusterVars } from './support/kube.ts'
import { clusterConfigOf, configDifferences } from './support/kubeadm.ts'

const CONFIG = `${MANIFEST_DIR}/kubeadm-config.yaml`

export default playbook<ClusterVars>(
  {
    name: 'kubeadm init on the control plane',
    hosts: CONTROL_PLANE,
    ...CLUSTER,
    tasks: [
      task('the kubeadm config is rendered and in place', async (ctx) => {
        // an address given as a DNS name: advertise the host's own source address
        const address = ctx.vars.advertise_address ?? (await ctx.probe`ip -4 route get 1.1.1.1 | awk '{for (i=1;i<NF;i++) if ($i=="src") print $(i+1)}'`).toString()
        const config = await ctx.render('kubeadm/kubeadm-config.yaml', { advertise_address: address })
        ctx.register('kubeadmConfig', config)
        await ctx.ensure.file(CONFIG, config, { mode: '0600', dirMode: '0700' })
      }),
      task('the control plane is initialised with that config', { timeout: 900_000 }, async (ctx) => {
        if (await ctx.test`[ -f ${ADMIN_CONF} ]`) {
          // Never re-initialise silently: a different config needs an explicit reset.
          const running = await ctx.probe`${KUBECTL} -n kube-system get configmap kubeadm-config -o jsonpath=${'{.data.ClusterConfiguration}'}`
          const diff = configDifferences(clusterConfigOf(running.stdout), clusterConfigOf(String(ctx.registered.kubeadmConfig)))
          if (diff.length) throw new Error(`the cluster was initialised with another config:\n  ${diff.join('\n  ')}\nto re-initialise: npx zx playbooks/reset.mts, then run this again`)
          return ok('already initialised with this config')
        }
        // kubeadm init prints its bootstrap token ("[bootstrap-token] Using token: …"): a secret
        ctx.secret(BOOTSTRAP_TOKEN)
        await ctx.$`kubeadm init --config ${CONFIG} --skip-token-print`
      }),
      task('the SSH user has a kubeconfig', async (ctx) => {
        const user = ctx.host.user ?? (await ctx.facts()).user
        const home = (await ctx.probe`getent passwd ${user} | cut -d: -f6`).toString()
        if (!home) throw new Error(`no home directory for ${user}`)
        const dest = `${home}/.kube/config`
        if (await ctx.test`cmp -s ${ADMIN_CONF} ${dest}`) return ok(dest)
        await ctx.$`install -d -o ${user} -m 0700 ${`${home}/.kube`} && install -o ${user} -m 0600 ${ADMIN_CONF} ${dest}`
      }),
    ],
  },
  import.meta
)
