// The Ray cluster: Service ray-head first (pods created after it get its env vars), then the
// head and worker Deployments, and a wait for both rollouts. The workers' manifest has no
// replicas, so a rerun keeps whatever the HorizontalPodAutoscaler scaled them to. The pods read
// the Secret session-token optionally: with no AWS role configured they start without it.
import { ok, playbook, task } from '../lib/index.ts'
import { CONTROL_PLANE, applyManifest } from './support/kube.ts'
import { DEPLOYMENTS, RAY, noRole, readRayState, waitForRollouts, type RayVars } from './support/ray.ts'
import { SESSION_SECRET } from './support/session-token.ts'

export default playbook<RayVars>(
  {
    name: 'Ray cluster',
    hosts: CONTROL_PLANE,
    ...RAY,
    tasks: [
      task('Service and Deployments are applied', async (ctx) => {
        const v = ctx.vars
        const { namespace } = v.ray
        const state = await readRayState(ctx)
        const expiresAt = state.secret.expiresAt
        if (!expiresAt && !ctx.check && !noRole(v)) {
          throw new Error(`Secret ${namespace}/${SESSION_SECRET} is missing or incomplete: run playbooks/80-aws-credentials.mts first (the Ray pods read their AWS credentials from it)`)
        }
        // The credentials' expiry on the pod template: renewed credentials roll the pods.
        const manifest = await ctx.render('ray/ray-cluster.yaml', expiresAt ? { session_token_expires_at: expiresAt } : {})
        await applyManifest(ctx, 'ray-cluster', manifest, { seen: state.seen })
      }),
      task('head and workers are rolled out', async (ctx) => {
        // the first look is the read above, unless something was applied since
        return ok(await waitForRollouts(ctx, DEPLOYMENTS))
      }),
    ],
  },
  import.meta
)
