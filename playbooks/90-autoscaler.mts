// The workers' HorizontalPodAutoscaler (autoscaling/v2): min/max replicas and the CPU target
// from the inventory, and a 15 s scale-down window on the HPA itself. It needs the metrics API
// (metrics-server) and CPU requests on the workers, so both are checked before it is applied.
import { ok, playbook, skip, task } from '../lib/index.ts'
import { CONTROL_PLANE, applyManifest } from './support/kube.ts'
import { METRICS_API, RAY, readRayState, type RayVars } from './support/ray.ts'

export default playbook<RayVars>(
  {
    name: 'Ray autoscaler',
    hosts: CONTROL_PLANE,
    ...RAY,
    tasks: [
      task('the metrics API is available', async (ctx) => {
        // One read (shared with 80 and 85 when nothing changed since): the APIService, ray-worker, the HPA.
        const api = (await readRayState(ctx)).metricsApi
        if (api?.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True')) return ok(`${METRICS_API} is Available`)
        if (ctx.check) return skip(`${METRICS_API} is not Available yet (under --check, 70-metrics-server may not have run)`)
        throw new Error(`the HPA reads pod CPU from the metrics API, and ${METRICS_API} is ${api ? 'not Available' : 'not registered'}: run playbooks/70-metrics-server.mts first`)
      }),
      task('ray-worker requests CPU', async (ctx) => {
        const { namespace } = ctx.vars.ray
        const worker = (await readRayState(ctx)).deployments.get('ray-worker')
        if (!worker) {
          if (ctx.check) return skip('no Deployment ray-worker yet')
          throw new Error(`Deployment ${namespace}/ray-worker not found: run playbooks/85-ray.mts first`)
        }
        const containers = worker.spec?.template?.spec?.containers ?? []
        const without = containers.filter((c) => !c.resources?.requests?.cpu).map((c) => c.name)
        if (without.length) throw new Error(`Deployment ${namespace}/ray-worker: container ${without.join(', ')} has no CPU request; the HPA measures utilisation against requests (set ray.worker_cpu)`)
        return ok(containers.map((c) => `${c.name}: ${c.resources!.requests!.cpu}`).join(', '))
      }),
      task('HorizontalPodAutoscaler is applied', async (ctx) => {
        const manifest = await ctx.render('ray/autoscaler.yaml')
        await applyManifest(ctx, 'ray-autoscaler', manifest, { seen: (await readRayState(ctx)).seen })
      }),
    ],
  },
  import.meta
)
