// The workers' HorizontalPodAutoscaler (autoscaling/v2): min/max replicas and the CPU target
// from the inventory, and a 15 s scale-down window on the HPA itself. It needs the metrics API
// (metrics-server) and CPU requests on the workers, so both are checked before it is applied.
import { ok, playbook, skip, task, type Context } from '../lib/index.ts'
import { ADMIN_CONF, CONTROL_PLANE, applyManifest } from './_kube.ts'
import { RAY, itemsOf, rayVars, type DeploymentObj } from './_ray.ts'

const METRICS_API = 'v1beta1.metrics.k8s.io'

type Item = { kind: string; metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }
/** What the three tasks check, from one kubectl read: the APIService, the workers' Deployment, the HPA. */
type Inputs = { ok: boolean; error: string; api?: Item; worker?: DeploymentObj; seen: Set<string> }

/** Read once per run and host (the first task reads; a later one reads itself under --start-at). */
async function inputs(ctx: Context): Promise<Inputs> {
  if (ctx.registered.autoscalerInputs) return ctx.registered.autoscalerInputs as Inputs
  const { ray, hpa } = rayVars(ctx)
  const out = await ctx.probe({ nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} get apiservice.apiregistration.k8s.io/${METRICS_API} deployment.apps/ray-worker horizontalpodautoscaler.autoscaling/${hpa.name} -n ${ray.namespace} -o json --ignore-not-found`
  const items = out.ok ? itemsOf<Item>(out.stdout) : []
  const found: Inputs = {
    ok: out.ok,
    error: `kubectl failed (exit ${out.exitCode}): ${out.stderr.trim().split('\n').slice(-3).join(' / ')}`,
    api: items.find((i) => i.kind === 'APIService'),
    worker: items.find((i) => i.kind === 'Deployment') as unknown as DeploymentObj | undefined,
    seen: new Set(items.map((i) => `${i.kind}/${i.metadata.name}`)),
  }
  ctx.register('autoscalerInputs', found)
  return found
}

export default playbook(
  {
    name: 'Ray autoscaler',
    hosts: CONTROL_PLANE,
    ...RAY,
    tasks: [
      task('the metrics API is available', async (ctx) => {
        const { ok: read, error, api } = await inputs(ctx)
        if (!read && !ctx.check) throw new Error(error)
        if (api?.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True')) return ok(`${METRICS_API} is Available`)
        if (ctx.check) return skip(`${METRICS_API} is not Available yet (under --check, 70-metrics-server may not have run)`)
        throw new Error(`the HPA reads pod CPU from the metrics API, and ${METRICS_API} is ${api ? 'not Available' : 'not registered'}: run playbooks/70-metrics-server.mts first`)
      }),
      task('ray-worker requests CPU', async (ctx) => {
        const { namespace } = rayVars(ctx).ray
        const { ok: read, error, worker } = await inputs(ctx)
        if (!read && !ctx.check) throw new Error(error)
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
        if ((await applyManifest(ctx, 'ray-autoscaler', manifest, { seen: (await inputs(ctx)).seen })) === 'unchanged') return ok('unchanged')
      }),
    ],
  },
  import.meta
)
