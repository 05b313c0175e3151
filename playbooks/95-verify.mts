// Is the Ray cluster what the playbooks promised? Checked from inside the head pod: the session
// credentials it sees (by hash, never shown) equal the Secret's, `ray status` counts the head and
// every worker, and the HPA reads a current CPU metric. Prints a table; any failure fails the run.
import { createHash } from 'node:crypto'
import { playbook, skip, task, type Context } from '../lib/index.ts'
import { ADMIN_CONF, CONTROL_PLANE, waitFor } from './_kube.ts'
import { DEPLOYMENTS, RAY, SECRET_KEYS, SECRET_NAME, deploymentExpiries, rayVars, readSessionSecret, rolloutStatus } from './_ray.ts'

type Check = { name: string; pass: boolean; detail: string }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** `sha256sum` output: the hashes in order. */
const hashesOf = (out: string) => out.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])

function inHead(ctx: Context, namespace: string) {
  return (...cmd: string[]) => ctx.probe({ nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} exec -n ${namespace} deploy/ray-head -c ray-head -- ${cmd}`
}

async function credentialChecks(ctx: Context, namespace: string): Promise<Check[]> {
  const secret = await readSessionSecret(ctx, namespace)
  if (!secret.values) return [{ name: `Secret ${SECRET_NAME}`, pass: false, detail: 'missing or incomplete (run 80-aws-credentials)' }]
  const wanted = SECRET_KEYS.map((k) => sha256(secret.values![k]))
  const exec = inHead(ctx, namespace)
  const env = await exec('sh', '-c', SECRET_KEYS.map((k) => `printf %s "$${k}" | sha256sum`).join(' && '))
  const files = await exec('sha256sum', ...SECRET_KEYS.map((k) => `/etc/awstoken/${k}`))
  const compare = (name: string, out: Awaited<ReturnType<typeof exec>>): Check => {
    if (!out.ok) return { name, pass: false, detail: `exec failed (exit ${out.exitCode}): ${out.stderr.trim().split('\n').at(-1) ?? ''}` }
    const got = hashesOf(out.stdout)
    const differ = SECRET_KEYS.filter((_, i) => got[i] !== wanted[i])
    return { name, pass: !differ.length, detail: differ.length ? `differ from the Secret: ${differ.join(', ')}` : `equal to the Secret (${SECRET_KEYS.length} values, by SHA-256)` }
  }
  return [compare('head pod env (envFrom)', env), compare('head pod files in /etc/awstoken', files)]
}

async function rayNodesCheck(ctx: Context, namespace: string): Promise<Check> {
  const name = 'ray status: head and every worker'
  const workers = await ctx.probe({ nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} get deployment ray-worker -n ${namespace} -o jsonpath=${'{.spec.replicas} {.status.readyReplicas}'}`
  const [wanted = 0, ready = 0] = workers.stdout.trim().split(' ').map((n) => Number(n) || 0)
  const status = await inHead(ctx, namespace)('ray', 'status')
  if (!status.ok) return { name, pass: false, detail: `ray status failed (exit ${status.exitCode}): ${status.stderr.trim().split('\n').at(-1) ?? ''}` }
  const active = activeNodes(status.stdout)
  const expected = 1 + wanted
  return { name, pass: active === expected && ready === wanted, detail: `${active} active Ray nodes, expected ${expected} (1 head + ${wanted} workers, ${ready} Ready)` }
}

/** Count the nodes under "Active:" in `ray status` output (`  1 node_…` lines). */
export function activeNodes(text: string): number {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => l.trim() === 'Active:')
  if (start < 0) return 0
  let n = 0
  for (const l of lines.slice(start + 1)) {
    const m = /^\s+(\d+)\s+node_[0-9a-f]+/.exec(l)
    if (!m) break
    n += Number(m[1])
  }
  return n
}

async function hpaMetricCheck(ctx: Context, namespace: string, hpa: string, timeoutS: number): Promise<Check> {
  const name = `HPA ${hpa} reads CPU`
  try {
    const detail = await waitFor(ctx, `HPA ${hpa} metric`, timeoutS, async () => {
      const out = await ctx.probe({ nothrow: true })`kubectl --kubeconfig ${ADMIN_CONF} get hpa ${hpa} -n ${namespace} -o json`
      if (!out.ok) return { done: false, progress: out.stderr.trim().split('\n').at(-1) ?? 'not found' }
      const status = (JSON.parse(out.stdout) as { status?: HpaStatus }).status ?? {}
      const cpu = status.currentMetrics?.find((m) => m.resource?.name === 'cpu')?.resource?.current?.averageUtilization
      const active = status.conditions?.find((c) => c.type === 'ScalingActive')
      if (typeof cpu === 'number') return { done: true, progress: `cpu ${cpu}% of requests, ${status.currentReplicas}/${status.desiredReplicas} replicas` }
      return { done: false, progress: active ? `${active.reason}: ${active.message}` : 'no metric yet' }
    })
    return { name, pass: true, detail }
  } catch (e) {
    return { name, pass: false, detail: (e as Error).message }
  }
}

type HpaStatus = {
  currentReplicas?: number
  desiredReplicas?: number
  currentMetrics?: { resource?: { name: string; current?: { averageUtilization?: number } } }[]
  conditions?: { type: string; status: string; reason?: string; message?: string }[]
}

export default playbook(
  {
    name: 'Ray verification',
    hosts: CONTROL_PLANE,
    ...RAY,
    tasks: [
      task('Ray cluster checks', async (ctx) => {
        const v = rayVars(ctx)
        const { namespace } = v.ray
        // Read-only, so it runs under --check too, once there is something to verify.
        if (ctx.check && !(await deploymentExpiries(ctx, namespace)).size) return skip('no Ray Deployments yet')
        const rollouts = await Promise.all(DEPLOYMENTS.map((d) => rolloutStatus(ctx, namespace, d)))
        const checks = [
          { name: 'Ray Deployments rolled out', pass: rollouts.every((r) => r.done), detail: rollouts.map((r) => r.progress).join('; ') },
          ...(await credentialChecks(ctx, namespace)),
          await rayNodesCheck(ctx, namespace),
          await hpaMetricCheck(ctx, namespace, v.hpa.name, Math.min(v.wait_timeout, 120)),
        ]
        const width = Math.max(...checks.map((c) => c.name.length))
        for (const c of checks) ctx.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`)
        const failed = checks.filter((c) => !c.pass)
        if (failed.length) throw new Error(`${failed.length} of ${checks.length} checks failed: ${failed.map((c) => c.name).join('; ')}`)
        return ctx.ok(`${checks.length} checks passed`)
      }),
    ],
  },
  import.meta
)
