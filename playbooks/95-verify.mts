// Is the Ray cluster what the playbooks promised? Checked from inside the head pod: the session
// credentials it sees (by hash, never shown) equal the Secret's, `ray status` counts the head and
// every worker, and the HPA reads a current CPU metric. Prints a table; any failure fails the run.
// With no AWS role configured the credential rows say so ("not configured"), which is no failure.
import { createHash } from 'node:crypto'
import { ok, playbook, skip, task, type Context } from '../lib/index.ts'
import { KUBECTL, CONTROL_PLANE, lastLine, waitFor, type Progress } from './support/kube.ts'
import { DEPLOYMENTS, RAY, noRole, readRayState, rollouts, type HpaObj, type RayState, type RayVars } from './support/ray.ts'
import { SESSION_KEYS, SESSION_SECRET } from './support/session-token.ts'

/** `pass: undefined`: not applicable here (shown, never a failure). */
type Check = { name: string; pass: boolean | undefined; detail: string }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** `sha256sum` output: the hashes in order. */
const hashesOf = (out: string) => out.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])

/** One part of the script run in the head pod: what it printed and how it exited. */
type Part = { ok: boolean; exitCode: number | null; stdout: string; stderr: string }

const MARK = '#zxplay-exit'
const MARK_LINE = new RegExp(`^${MARK} (\\d+)$`)

/**
 * What is checked inside the head pod, in one `kubectl exec` (each exec is a kubectl start and
 * an API round trip): the env values' hashes, the mounted files' hashes, `ray status`. Each part
 * ends with a marker line carrying its exit code.
 */
const HEAD_SCRIPT = [
  SESSION_KEYS.map((k) => `printf %s "$${k}" | sha256sum`).join(' && '),
  `sha256sum ${SESSION_KEYS.map((k) => `/etc/awstoken/${k}`).join(' ')}`,
  'ray status',
].map((part) => `${part}; echo "${MARK} $?"`).join('; ')

/** Split the script's output into its parts; a part without its marker did not run (the exec failed). */
export function headParts(out: { exitCode: number | null; stdout: string; stderr: string }, count: number): Part[] {
  const parts: Part[] = []
  let lines: string[] = []
  for (const line of out.stdout.split('\n')) {
    const m = MARK_LINE.exec(line)
    if (!m) {
      lines.push(line)
      continue
    }
    parts.push({ ok: m[1] === '0', exitCode: Number(m[1]), stdout: lines.join('\n'), stderr: out.stderr })
    lines = []
  }
  while (parts.length < count) parts.push({ ok: false, exitCode: out.exitCode, stdout: '', stderr: out.stderr })
  return parts
}

const CREDENTIAL_ROWS = ['head pod env (envFrom)', 'head pod files in /etc/awstoken']

function credentialChecks(state: RayState, env: Part, files: Part, none: string | undefined): Check[] {
  if (none) return CREDENTIAL_ROWS.map((name) => ({ name, pass: undefined, detail: 'not configured: no AWS role (aws.role_arn, or iamroles.txt beside the inventory)' }))
  const values = state.secret.values
  if (!values) return [{ name: `Secret ${SESSION_SECRET}`, pass: false, detail: 'missing or incomplete (run 80-aws-credentials)' }]
  const wanted = SESSION_KEYS.map((k) => sha256(values[k]))
  const compare = (name: string, part: Part): Check => {
    if (!part.ok) return { name, pass: false, detail: `exec failed (exit ${part.exitCode}): ${lastLine(part.stderr)}` }
    const got = hashesOf(part.stdout)
    const differ = SESSION_KEYS.filter((_, i) => got[i] !== wanted[i])
    return { name, pass: !differ.length, detail: differ.length ? `differ from the Secret: ${differ.join(', ')}` : `equal to the Secret (${SESSION_KEYS.length} values, by SHA-256)` }
  }
  return [compare(CREDENTIAL_ROWS[0]!, env), compare(CREDENTIAL_ROWS[1]!, files)]
}

function rayNodesCheck(state: RayState, status: Part): Check {
  const name = 'ray status: head and every worker'
  const workers = state.deployments.get('ray-worker')
  const wanted = workers?.spec?.replicas ?? 0
  const ready = workers?.status?.readyReplicas ?? 0
  if (!status.ok) return { name, pass: false, detail: `ray status failed (exit ${status.exitCode}): ${lastLine(status.stderr)}` }
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

/** The HPA's CPU reading, or why there is none yet. */
function hpaMetric(hpa: HpaObj | undefined): Progress {
  if (!hpa) return { done: false, progress: 'not found' }
  const status = hpa.status ?? {}
  const cpu = status.currentMetrics?.find((m) => m.resource?.name === 'cpu')?.resource?.current?.averageUtilization
  const active = status.conditions?.find((c) => c.type === 'ScalingActive')
  if (typeof cpu === 'number') return { done: true, progress: `cpu ${cpu}% of requests, ${status.currentReplicas}/${status.desiredReplicas} replicas` }
  return { done: false, progress: active ? `${active.reason}: ${active.message}` : 'no metric yet' }
}

/** Passes at once when the first read already shows a CPU metric; otherwise waits for one. */
async function hpaMetricCheck(ctx: Context<RayVars>, hpa: string, seen: HpaObj | undefined, timeoutS: number): Promise<Check> {
  const name = `HPA ${hpa} reads CPU`
  const first = hpaMetric(seen)
  if (first.done) return { name, pass: true, detail: first.progress }
  try {
    const detail = await waitFor(ctx, `HPA ${hpa} metric`, timeoutS, () =>
      readRayState(ctx, { fresh: true }).then((state) => hpaMetric(state.hpa), (e: Error) => ({ done: false, progress: e.message }))
    )
    return { name, pass: true, detail }
  } catch (e) {
    return { name, pass: false, detail: (e as Error).message }
  }
}

export default playbook<RayVars>(
  {
    name: 'Ray verification',
    hosts: CONTROL_PLANE,
    ...RAY,
    tasks: [
      task('Ray cluster checks', async (ctx) => {
        const v = ctx.vars
        const { namespace } = v.ray
        // Read-only, so it runs under --check too, once there is something to verify.
        // The objects (read afresh: this is the check) and the head pod's view, side by side.
        const [state, exec] = await Promise.all([
          readRayState(ctx, { fresh: true }),
          ctx.probe({ nothrow: true })`${KUBECTL} exec -n ${namespace} deploy/ray-head -c ray-head -- sh -c ${HEAD_SCRIPT}`,
        ])
        if (ctx.check && !state.deployments.size) return skip('no Ray Deployments yet')
        const rolled = rollouts(state, DEPLOYMENTS)
        const [env, files, status] = headParts(exec, 3) as [Part, Part, Part]
        const checks = [
          { name: 'Ray Deployments rolled out', pass: rolled.done, detail: rolled.progress },
          ...credentialChecks(state, env, files, noRole(v)),
          rayNodesCheck(state, status),
          await hpaMetricCheck(ctx, v.hpa.name, state.hpa, Math.min(v.wait_timeout, 120)),
        ]
        const width = Math.max(...checks.map((c) => c.name.length))
        for (const c of checks) ctx.log(`${c.pass === undefined ? 'N/A ' : c.pass ? 'PASS' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`)
        const failed = checks.filter((c) => c.pass === false)
        const ran = checks.filter((c) => c.pass !== undefined).length
        if (failed.length) throw new Error(`${failed.length} of ${ran} checks failed: ${failed.map((c) => c.name).join('; ')}`)
        return ok(`${ran} checks passed${ran < checks.length ? `, ${checks.length - ran} not configured` : ''}`)
      }),
    ],
  },
  import.meta
)
