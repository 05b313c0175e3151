// The Ray cluster: Service ray-head first (pods created after it get its env vars), then the
// head and worker Deployments, and a wait for both rollouts. The workers' manifest has no
// replicas, so a rerun keeps whatever the HorizontalPodAutoscaler scaled them to.
import { ok, playbook, task } from '../lib/index.ts'
import { CONTROL_PLANE, applyManifest } from './_kube.ts'
import { DEPLOYMENTS, RAY, SECRET_NAME, rayVars, readRayState, waitForRollouts } from './_ray.ts'

export default playbook(
  {
    name: 'Ray cluster',
    hosts: CONTROL_PLANE,
    ...RAY,
    tasks: [
      task('Service and Deployments are applied', async (ctx) => {
        const { namespace } = rayVars(ctx).ray
        const state = await readRayState(ctx)
        const expiresAt = state.secret.expiresAt
        if (!expiresAt && !ctx.check) {
          throw new Error(`Secret ${namespace}/${SECRET_NAME} is missing or incomplete: run playbooks/80-aws-credentials.mts first (the Ray pods read their AWS credentials from it)`)
        }
        // The credentials' expiry on the pod template: renewed credentials roll the pods.
        const manifest = await ctx.render('ray/ray-cluster.yaml', { session_token_expires_at: expiresAt ?? 'pending' })
        if ((await applyManifest(ctx, 'ray-cluster', manifest, { seen: state.seen })) === 'unchanged') return ok('unchanged')
      }),
      task('head and workers are rolled out', async (ctx) => {
        // the first look is the read above, unless something was applied since
        return ok(await waitForRollouts(ctx, DEPLOYMENTS))
      }),
    ],
  },
  import.meta
)
