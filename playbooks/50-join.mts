// Workers join: one join token is made on the control plane for the workers that need it; it is
// a secret, sent on stdin to the join command, which keeps it in a 0600 JoinConfiguration (never in
// a command line) only while kubeadm runs. Joined workers are ok.
import { ok, playbook, raw, skip, task } from '../lib/index.ts'
import { BOOTSTRAP_TOKEN, CLUSTER, MANIFEST_DIR, WORKERS, controlPlaneName, joinsAsWorker, waitForNodesReady, type ClusterVars } from './support/kube.ts'
import { joinConfig, joinScript, parseJoinCommand } from './support/join.ts'

const KUBELET_CONF = '/etc/kubernetes/kubelet.conf'
const JOIN_CONFIG = `${MANIFEST_DIR}/join-config.yaml`

export default playbook<ClusterVars, { joined: boolean; join: ReturnType<typeof parseJoinCommand> }>(
  {
    name: 'Workers join the cluster',
    hosts: WORKERS,
    ...CLUSTER,
    tasks: [
      task('whether the worker has joined is known', async (ctx) => {
        const joined = await ctx.test`[ -f ${KUBELET_CONF} ]`
        ctx.register('joined', joined)
        return ok(joined ? 'joined' : 'not joined yet')
      }),
      task('a join token is made on the control plane', { once: true }, async (ctx) => {
        const waiting = Object.entries(ctx.hostvars).filter(([, h]) => joinsAsWorker(h) && h.registered.joined === false)
        if (!waiting.length) return ok('every worker has joined')
        const cp = ctx.on(controlPlaneName(ctx))
        ctx.secret(BOOTSTRAP_TOKEN)
        const out = await cp.$({ secretOutput: true })`kubeadm token create --print-join-command --ttl 30m`
        if (ctx.check) return
        const join = parseJoinCommand(out.toString())
        ctx.secret(join.token)
        ctx.register('join', join)
        ctx.log(`token made for ${waiting.map(([n]) => n).join(', ')} (valid 30 minutes)`)
      }),
      task('the worker is joined', { timeout: 600_000 }, async (ctx) => {
        if (ctx.registered.joined) return ok('already joined')
        const join = ctx.registered.join
        if (!join) {
          if (ctx.check) return // --check: the token task only planned its command
          throw new Error('no join command was made')
        }
        const config = joinConfig(join, { nodeName: String(ctx.vars.node_name), criSocket: ctx.vars.cri_socket })
        await ctx.ensure.directory(MANIFEST_DIR, { mode: '0700' })
        await ctx.$({ input: config })(raw(joinScript(JOIN_CONFIG)))
      }),
      task('the joined workers are Ready', { once: true }, async (ctx) => {
        // Workers that had joined before this run were waited for then (and 40-flannel waits for
        // every node): only a run that joins one has something to wait for.
        const workers = Object.values(ctx.hostvars).filter(joinsAsWorker)
        if (workers.length && workers.every((h) => h.registered.joined === true)) return skip('no worker joined in this run')
        const cp = ctx.on(controlPlaneName(ctx))
        return ok(await waitForNodesReady(cp, ctx.vars.wait_timeout))
      }),
    ],
  },
  import.meta
)
