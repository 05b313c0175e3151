// The demonstration the setup exists for (not part of site.mts; run it after site):
//   npx zx playbooks/shap-demo.mts            (or: npx zxplay run shap-demo)
// Ships app/ as ConfigMap ray-app (mounted at /app in the Ray head), starts the wine-quality
// KernelSHAP job in the head pod in the background, samples the HPA and the ray-worker pods every
// demo.sample_seconds while it runs, and checks that the workers scale up and come back down to
// minReplicas. Timeline: printed live, and saved as CSV, SVG and PNG under demo.artifacts_dir here.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { changed, ok, playbook, raw, skip, task, type Context, type Host, type Vars } from '../lib/index.ts'
import { quote } from '../lib/transport/shell.ts'
import { CONTROL_PLANE, KUBECTL, applyManifest, lastLine, waitFor } from './support/kube.ts'
import { RAY } from './support/ray.ts'
import { demoSpec, type DemoRunVars } from './support/vars/demo.ts'
import {
  atMin,
  formatSample,
  judge,
  parseHpa,
  parseJobEnd,
  parseWorkerPods,
  summaryLines,
  timelineCsv,
  timelinePng,
  timelineSvg,
  jobExitMeaning,
  type HpaState,
  type PodCounts,
  type Sample,
  type Settings,
  workerCount,
} from './support/timeline.ts'
import { CONFIGMAP, JOB_DIR, appConfigMap, appFiles, jobArgs } from './support/demo.ts'

/** The app as this run ships it: with demo.data_file's table unless the job reads S3. */
function shippedFiles(ctx: Context<DemoRunVars>): Record<string, string> {
  const { data_file } = ctx.vars.demo
  return appFiles(data_file ? fs.readFileSync(path.resolve(ctx.vars.inventory_dir, data_file), 'utf8') : undefined)
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

async function readHpa(ctx: Context<DemoRunVars>, namespace: string, name: string): Promise<HpaState> {
  const out = await ctx.probe({ nothrow: true })`${KUBECTL} get hpa ${name} -n ${namespace} -o json`
  if (!out.ok) throw new Error(`HPA ${namespace}/${name}: ${lastLine(out.stderr)} (run playbooks/90-autoscaler.mts first)`)
  return parseHpa(out.stdout)
}

type Snapshot = { now: number; hpa: HpaState | null; pods: PodCounts | null; end: { at: number; exitCode: number } | null; problems: string[] }

/** One look, in one round trip: the control plane's clock, the HPA, the worker pods, the job's exit file. */
async function snapshot(ctx: Context<DemoRunVars>, namespace: string, hpa: string): Promise<Snapshot> {
  const kubectl = `${KUBECTL.map(quote).join(' ')} -n ${quote(namespace)}`
  const script = [
    'date +%s.%N',
    'echo @@hpa',
    `${kubectl} get hpa ${quote(hpa)} -o json || true`,
    'echo @@pods',
    `${kubectl} get pods -l component=ray-worker -o json || true`,
    'echo @@exit',
    `cat ${JOB_DIR}/exit 2>/dev/null || true`,
  ].join('\n')
  const out = await ctx.probe({ nothrow: true })(raw(script))
  const [clock = '', hpaJson = '', podsJson = '', exit = ''] = out.stdout.split(/^@@\w+\n/m)
  const problems: string[] = []
  const parsed = <T,>(what: string, text: string, parse: (s: string) => T): T | null => {
    try {
      return parse(text)
    } catch {
      problems.push(`${what}: ${text.trim() ? 'unreadable answer' : 'no answer'}`)
      return null
    }
  }
  if (!out.ok || !Number.isFinite(Number(clock.trim()))) throw new Error(`sampling failed (exit ${out.exitCode}): ${lastLine(out.stderr)}`)
  return { now: Number(clock.trim()), hpa: parsed('hpa', hpaJson, parseHpa), pods: parsed('pods', podsJson, parseWorkerPods), end: parseJobEnd(exit), problems: out.stderr.trim() ? [...problems, lastLine(out.stderr)] : problems }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The job's own last line: kubectl exec adds "command terminated with exit code N" after it. */
const jobLastLine = (output: string) => lastLine(output.replace(/^command terminated with exit code \d+\s*$/gm, '')) || 'no output'

/** The job's last lines, logged under the task (without Ray's colours); returns them. */
async function showJobOutput(ctx: Context<DemoRunVars>): Promise<string> {
  const output = (await ctx.probe`tail -n 40 ${JOB_DIR}/job.log`).stdout.replace(/\x1b\[[0-9;]*m/g, '')
  for (const line of output.split('\n').filter(Boolean)) ctx.log(`job: ${line}`)
  return output
}

/** Sample until the verdict is in, logging a line per sample; the samples, the job's end and the verdict. */
async function watch(ctx: Context<DemoRunVars>, settings: Settings, started: number, everyS: number) {
  const { ray, hpa } = ctx.vars
  const samples: Sample[] = []
  let end: { at: number; exitCode: number } | null = null
  for (;;) {
    const t0 = Date.now()
    const snap = await snapshot(ctx, ray.namespace, hpa.name)
    if (snap.end && !end) {
      end = snap.end
      ctx.log(`the job ended after ${Math.round(end.at - started)}s with exit code ${end.exitCode}`)
    }
    const sample: Sample = {
      t: Math.max(0, snap.now - started),
      cpu: snap.hpa?.cpu ?? null,
      desired: snap.hpa?.desired ?? null,
      current: snap.hpa?.current ?? null,
      pods: snap.pods ?? { running: 0, pending: 0, terminating: 0, other: 0 },
      jobRunning: !snap.end,
    }
    samples.push(sample)
    ctx.log(formatSample(sample) + (snap.problems.length ? `  (${snap.problems.join('; ')})` : ''))
    const jobEnd = end ? end.at - started : null
    const verdict = judge(samples, jobEnd, settings, end?.exitCode)
    if (verdict.done) return { samples, jobEnd, verdict }
    await sleep(Math.max(0, everyS * 1000 - (Date.now() - t0)))
  }
}

/** what the tasks register: the HPA before the job, and when the job started (seconds since the epoch) */
type Registered = { hpa: HpaState; started: number }

export default playbook<DemoRunVars, Registered>(
  {
    name: 'SHAP demo: the Ray job and the HPA',
    hosts: CONTROL_PLANE,
    ...RAY,
    specs: [...RAY.specs, demoSpec],
    tasks: [
      task(`the app is shipped as ConfigMap ${CONFIGMAP}`, async (ctx) => {
        const manifest = appConfigMap(ctx.vars.ray.namespace, shippedFiles(ctx))
        await applyManifest(ctx, CONFIGMAP, manifest)
      }),

      task('the head pod has the shipped files at /app', async (ctx) => {
        if (ctx.check) return skip('nothing shipped under --check')
        const { namespace } = ctx.vars.ray
        const head = await ctx.probe({ nothrow: true })`${KUBECTL} get deployment ray-head -n ${namespace} -o name`
        if (!head.ok) throw new Error(`Deployment ${namespace}/ray-head: ${lastLine(head.stderr)} (run playbooks/85-ray.mts first)`)
        const files = shippedFiles(ctx)
        const names = Object.keys(files)
        // the kubelet refreshes ConfigMap volumes on its own schedule (up to a minute or so)
        return ok(
          await waitFor(ctx, '/app in ray-head', ctx.vars.wait_timeout, async () => {
            const out = await ctx.probe({ nothrow: true })`${KUBECTL} exec -n ${namespace} deploy/ray-head -c ray-head -- sha256sum ${names.map((n) => `/app/${n}`)}`
            const got = new Map(out.stdout.split('\n').filter(Boolean).map((l) => { const [hash = '', file = ''] = l.split(/\s+/); return [path.basename(file), hash] }))
            const differ = names.filter((n) => got.get(n) !== sha256(files[n]!))
            if (!out.ok && !got.size) return { done: false, progress: `exec failed (exit ${out.exitCode}): ${lastLine(out.stderr)}` }
            return { done: !differ.length, progress: differ.length ? `${names.length - differ.length}/${names.length} files equal (waiting for ${differ.join(', ')})` : `${names.length}/${names.length} files equal (sha256)` }
          })
        )
      }),

      task('the workers are at minReplicas before the job', async (ctx) => {
        if (ctx.check) return skip('not looked at under --check')
        const { ray, hpa } = ctx.vars
        const d = ctx.vars.demo
        const state = await readHpa(ctx, ray.namespace, hpa.name)
        let workers: number | null = null
        try {
          await waitFor(ctx, `HPA ${hpa.name}`, d.scale_down_timeout, async () => {
            const snap = await snapshot(ctx, ray.namespace, hpa.name)
            const now: Sample = { t: 0, cpu: null, desired: snap.hpa?.desired ?? null, current: snap.hpa?.current ?? null, pods: snap.pods ?? { running: 0, pending: 0, terminating: 0, other: 0 }, jobRunning: false }
            workers = workerCount(now)
            return { done: atMin(now, state.min), progress: `${workers ?? '?'} worker pods, desired ${now.desired ?? '?'} (minReplicas ${state.min})` }
          }, d.sample_seconds * 1000)
        } catch {
          throw new Error(`the workers are at ${workers ?? '?'} pods, above minReplicas (${state.min}), and did not come down within ${d.scale_down_timeout}s (demo.scale_down_timeout): is another job running?`)
        }
        ctx.register('hpa', state)
        return ok(`${workers} worker pod(s); minReplicas ${state.min}, maxReplicas ${state.max}, target ${state.target ?? '?'}% CPU`)
      }),

      task('the SHAP job is started in the head pod', async (ctx) => {
        const { namespace } = ctx.vars.ray
        const running = await ctx.test`[ -e ${JOB_DIR}/pid ] && [ ! -e ${JOB_DIR}/exit ] && kill -0 "$(cat ${JOB_DIR}/pid)" 2>/dev/null`
        if (running) throw new Error(`a SHAP job started earlier is still running (pid in ${JOB_DIR}/pid, output in ${JOB_DIR}/job.log): wait for it to end, or stop it`)
        const job = [...KUBECTL, 'exec', '-n', namespace, 'deploy/ray-head', '-c', 'ray-head', '--', ...jobArgs(ctx.vars.demo)]
        // In the background, in its own session, so it outlives this command; the exit file is
        // written last (through a rename), with the time the job ended.
        const inner = `${job.map(quote).join(' ')} > job.log 2>&1; rc=$?; echo "$(date +%s.%N) $rc" > exit.tmp && mv exit.tmp exit`
        ctx.log(`$ ${job.join(' ')}`)
        await ctx.$`mkdir -p ${JOB_DIR} && cd ${JOB_DIR} && rm -f pid started exit exit.tmp job.log && date +%s.%N > started && { setsid bash -c ${inner} > /dev/null 2>&1 < /dev/null & echo $! > pid; }`
        if (ctx.check) return
        ctx.register('started', Number((await ctx.probe`cat ${JOB_DIR}/started`).stdout.trim()))
      }),

      task('the HPA scales the workers up and back down', { timeout: 24 * 3600_000 /* bounded by the demo.* timeouts */ }, async (ctx) => {
        if (ctx.check) return skip('no job under --check')
        const { ray, hpa } = ctx.vars
        const d = ctx.vars.demo
        const { hpa: before, started } = ctx.registered
        // --tags or --start-at-task can leave out the tasks that register these
        if (!before || started === undefined) throw new Error('the HPA and the job start are not known: run the whole playbook (its tasks "the workers are at minReplicas before the job" and "the SHAP job is started in the head pod" come first)')
        const settings: Settings = { min: before.min, max: before.max, target: before.target, scaleUpTimeout: d.scale_up_timeout, scaleDownTimeout: d.scale_down_timeout, jobTimeout: d.job_timeout }
        const { samples, jobEnd, verdict } = await watch(ctx, settings, started, d.sample_seconds)
        const dir = path.resolve(d.artifacts_dir)
        fs.mkdirSync(dir, { recursive: true })
        const csv = path.join(dir, 'shap-demo-timeline.csv')
        const svg = path.join(dir, 'shap-demo-timeline.svg')
        const png = path.join(dir, 'shap-demo-timeline.png')
        const chart = timelineSvg(samples, jobEnd, verdict.figures, settings, `${ray.namespace}/${hpa.name}: ray-worker replicas and CPU during the SHAP job`)
        fs.writeFileSync(csv, timelineCsv(samples))
        fs.writeFileSync(svg, chart)
        fs.writeFileSync(png, timelinePng(chart))
        for (const line of summaryLines(verdict.figures, settings, samples.at(-1)?.t ?? 0)) ctx.log(line)
        ctx.log(`timeline: ${[csv, svg, png].map((f) => path.relative(process.cwd(), f) || f).join(', ')}`)
        if (!verdict.pass && verdict.reason === 'job-failed') {
          const output = await showJobOutput(ctx)
          throw new Error(`${verdict.message}: ${jobLastLine(output)} (all of it: ${JOB_DIR}/job.log on ${ctx.host.name})`)
        }
        if (!verdict.pass) throw new Error(verdict.message)
        const f = verdict.figures
        return changed(`${settings.min} → ${f.peakReplicas} → ${settings.min} replicas; scale-up ${Math.round(f.scaleUpAfter ?? 0)}s after the start, back ${Math.round(f.backDownAfter ?? 0)}s after the end`)
      }),

      task('the job printed Results match!', async (ctx) => {
        if (ctx.check) return skip('no job under --check')
        const end = parseJobEnd((await ctx.probe`cat ${JOB_DIR}/exit`).stdout)
        const output = await showJobOutput(ctx)
        if (!end || end.exitCode !== 0) throw new Error(`the SHAP job failed (exit ${end?.exitCode ?? '?'}${end ? `: ${jobExitMeaning(end.exitCode)}` : ''}): ${jobLastLine(output)} (all of it: ${JOB_DIR}/job.log on ${ctx.host.name})`)
        if (!/^Results match!$/m.test(output)) throw new Error(`the SHAP job ended without 'Results match!' (output: ${JOB_DIR}/job.log on ${ctx.host.name})`)
        return ok('Results match!')
      }),
    ],
  },
  import.meta
)
