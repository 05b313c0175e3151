// The SHAP demo's timeline: what the HPA and the ray-worker pods looked like at each sample, and
// what that says (scaled up? back at minReplicas?). Pure: kubectl's JSON and the job's exit file
// in; samples, verdicts, figures, CSV, SVG text and PNG bytes out. The effects are in shap-demo.mts.
import { Resvg } from '@resvg/resvg-js'

// ---- reading what kubectl and the job say ----

export type HpaState = {
  /** current average CPU utilisation, % of the pods' requests; null until the HPA has a metric */
  cpu: number | null
  desired: number | null
  current: number | null
  min: number
  max: number
  /** the target utilisation, % */
  target: number | null
}

type HpaJson = {
  spec?: { minReplicas?: number; maxReplicas?: number; metrics?: { resource?: { name?: string; target?: { averageUtilization?: number } } }[] }
  status?: { currentReplicas?: number; desiredReplicas?: number; currentMetrics?: { resource?: { name?: string; current?: { averageUtilization?: number } } }[] }
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null)

/** `kubectl get hpa NAME -o json`. */
export function parseHpa(json: string): HpaState {
  const hpa = JSON.parse(json) as HpaJson
  const cpuOf = <T extends { resource?: { name?: string } }>(list: T[] | undefined) => list?.find((m) => m.resource?.name === 'cpu')
  return {
    cpu: num(cpuOf(hpa.status?.currentMetrics)?.resource?.current?.averageUtilization),
    desired: num(hpa.status?.desiredReplicas),
    current: num(hpa.status?.currentReplicas),
    min: num(hpa.spec?.minReplicas) ?? 1, // the API's default
    max: num(hpa.spec?.maxReplicas) ?? 1,
    target: num(cpuOf(hpa.spec?.metrics)?.resource?.target?.averageUtilization),
  }
}

export type PodCounts = { running: number; pending: number; terminating: number; other: number }

/** `kubectl get pods -l component=ray-worker -o json`: pods by phase; pods being deleted apart. */
export function parseWorkerPods(json: string): PodCounts {
  const list = JSON.parse(json) as { items?: { metadata?: { deletionTimestamp?: string }; status?: { phase?: string } }[] }
  const counts: PodCounts = { running: 0, pending: 0, terminating: 0, other: 0 }
  for (const pod of list.items ?? []) {
    if (pod.metadata?.deletionTimestamp) counts.terminating++
    else if (pod.status?.phase === 'Running') counts.running++
    else if (pod.status?.phase === 'Pending') counts.pending++
    else counts.other++
  }
  return counts
}

/** The job's exit file, `<epoch seconds> <exit code>`, written when it ends; null while it runs. */
export function parseJobEnd(text: string): { at: number; exitCode: number } | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s+(\d+)\s*$/.exec(text)
  return m ? { at: Number(m[1]), exitCode: Number(m[2]) } : null
}

// ---- samples and verdicts ----

export type Sample = {
  /** seconds since the job started (the control plane's clock) */
  t: number
  cpu: number | null
  desired: number | null
  current: number | null
  pods: PodCounts
  jobRunning: boolean
}

export type Settings = { min: number; max: number; target: number | null; scaleUpTimeout: number; scaleDownTimeout: number; jobTimeout: number }

export type Figures = {
  peakReplicas: number
  peakCpu: number | null
  /** seconds from the job's start to the first sample with CPU at the target (the workers loaded) */
  loadAfter: number | null
  /** seconds from the job's start to the first sample above minReplicas */
  scaleUpAfter: number | null
  /** seconds the job ran */
  jobSeconds: number | null
  /** seconds from the job's end to the first sample back at minReplicas */
  backDownAfter: number | null
}

export type Verdict =
  | { done: false; waitingFor: string; figures: Figures }
  | { done: true; pass: true; figures: Figures }
  | { done: true; pass: false; reason: 'no-scale-up' | 'no-scale-down' | 'job-timeout' | 'job-failed'; message: string; figures: Figures }

/**
 * Worker replicas that exist at a sample: the pods not being deleted (Running, Pending, …). The
 * HPA's status.currentReplicas is only refreshed at its syncs, so it lags the pods; it is the
 * fallback when the pods could not be read.
 */
export const workerCount = (s: Sample): number | null => {
  const n = s.pods.running + s.pods.pending + s.pods.other
  return n > 0 || s.current === null ? n : s.current
}
// Scaled up: the HPA decided on more (desired) or more workers exist. Back at min: the HPA wants
// minReplicas and the extra workers are gone (or terminating).
const scaledUp = (s: Sample, min: number) => (s.desired ?? 0) > min || (workerCount(s) ?? 0) > min
export const atMin = (s: Sample, min: number) => (workerCount(s) ?? Infinity) <= min && (s.desired ?? min) <= min
const maxOf = (xs: (number | null)[]) => xs.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.max(m, x)), null)

/** The figures so far: peak, when the workers were loaded and first scaled up, when they were back at min. */
export function figuresOf(samples: Sample[], jobEnd: number | null, min: number, target: number | null = null): Figures {
  const up = samples.find((s) => scaledUp(s, min))
  const loaded = samples.find((s) => s.cpu !== null && s.cpu >= (target ?? 50))
  const back = up && jobEnd !== null ? samples.find((s) => s.t >= jobEnd && s.t >= up.t && atMin(s, min)) : undefined
  return {
    peakReplicas: maxOf(samples.map(workerCount)) ?? 0,
    peakCpu: maxOf(samples.map((s) => s.cpu)),
    loadAfter: loaded ? loaded.t : null,
    scaleUpAfter: up ? up.t : null,
    jobSeconds: jobEnd,
    backDownAfter: back && jobEnd !== null ? back.t - jobEnd : null,
  }
}

/** kube-controller-manager's --horizontal-pod-autoscaler-sync-period (default; kubeadm keeps it). */
export const HPA_SYNC_SECONDS = 15

/** How long sampling goes on after the return to minReplicas: two HPA syncs or ~10 % of the run. */
export const tailSeconds = (backAt: number) => Math.max(2 * HPA_SYNC_SECONDS, 0.1 * backAt)

/**
 * Where the demo stands after the latest sample: still waiting (and for what), passed, or failed
 * saying why. jobEnd: seconds from the job's start to its end, null while it runs; jobExitCode:
 * how it ended (a job that failed before any scale-up is reported at once, not after the timeout).
 */
export function judge(samples: Sample[], jobEnd: number | null, s: Settings, jobExitCode = 0): Verdict {
  const figures = figuresOf(samples, jobEnd, s.min, s.target)
  const last = samples.at(-1)
  const now = last?.t ?? 0
  const fail = (reason: 'no-scale-up' | 'no-scale-down' | 'job-timeout' | 'job-failed', message: string): Verdict => ({ done: true, pass: false, reason, message, figures })
  if (figures.scaleUpAfter === null && jobEnd !== null && jobExitCode !== 0) {
    return fail('job-failed', `the job failed (exit ${jobExitCode}) after ${Math.round(jobEnd)}s, before the workers scaled up`)
  }
  if (figures.scaleUpAfter === null) {
    if (now < s.scaleUpTimeout) return { done: false, waitingFor: 'the first scale-up', figures }
    const cpu = figures.peakCpu === null ? 'no CPU metric was ever reported' : `CPU peaked at ${figures.peakCpu}% of requests${s.target === null ? '' : ` (target ${s.target}%)`}`
    return fail('no-scale-up', `the workers never scaled up: still at minReplicas (${s.min}) ${s.scaleUpTimeout}s after the job started; ${cpu}`)
  }
  if (jobEnd === null) {
    if (now < s.jobTimeout) return { done: false, waitingFor: 'the job to end', figures }
    return fail('job-timeout', `the job did not end within ${s.jobTimeout}s (demo.job_timeout); it is left running`)
  }
  if (figures.backDownAfter !== null) {
    // a tail after the return, so the chart shows the workers staying at minReplicas
    const backAt = jobEnd + figures.backDownAfter
    if (now >= backAt + tailSeconds(backAt)) return { done: true, pass: true, figures }
    return { done: false, waitingFor: `a tail of ${Math.round(tailSeconds(backAt))}s at minReplicas (${s.min})`, figures }
  }
  if (now - jobEnd < s.scaleDownTimeout) return { done: false, waitingFor: `the return to minReplicas (${s.min})`, figures }
  const where = last ? `still ${workerCount(last) ?? '?'} worker pods (desired ${last.desired ?? '?'}, CPU ${last.cpu ?? '?'}%)` : 'no sample'
  return fail('no-scale-down', `the workers never came back down to minReplicas (${s.min}) within ${s.scaleDownTimeout}s after the job ended: ${where}`)
}

// ---- output ----

const pad = (x: number | null, width: number, unit = '') => (x === null ? '-' : `${Math.round(x)}${unit}`).padStart(width)

/** One live line per sample. */
export function formatSample(s: Sample): string {
  const pods = [['Running', s.pods.running], ['Pending', s.pods.pending], ['Terminating', s.pods.terminating], ['other', s.pods.other]]
    .filter(([, n]) => n)
    .map(([k, n]) => `${k}=${n}`)
    .join(' ')
  return `t=${pad(s.t, 4, 's')}  cpu ${pad(s.cpu, 4, '%')}  replicas ${pad(s.current, 2)} (desired ${pad(s.desired, 2)})  workers ${pods || 'none'}  job ${s.jobRunning ? 'running' : 'ended'}`
}

const secs = (x: number | null) => (x === null ? 'never' : `${Math.round(x)} s`)

/** The figures as lines for the end of the run; lastT: the last sample's time (a job still running). */
export function summaryLines(f: Figures, s: Pick<Settings, 'min' | 'max' | 'target'>, lastT: number): string[] {
  return [
    `peak replicas: ${f.peakReplicas} (maxReplicas ${s.max}); peak CPU ${f.peakCpu === null ? '-' : `${f.peakCpu}%`}`,
    `job start → workers' CPU at the target (${s.target ?? 50}%): ${secs(f.loadAfter)}`,
    `job start → first scale-up: ${secs(f.scaleUpAfter)}`,
    f.jobSeconds === null ? `job: still running after ${secs(lastT)}` : `job ran: ${secs(f.jobSeconds)}`,
    f.jobSeconds === null ? `job end → back at minReplicas (${s.min}): -` : `job end → back at minReplicas (${s.min}): ${secs(f.backDownAfter)}`,
  ]
}

/** What the job's exit code says (app/shap_job.py's codes). */
export function jobExitMeaning(code: number): string {
  return ['the results match', 'the results do not match', 'bad input', 'an infrastructure error'][code] ?? 'an unexpected exit'
}

export const CSV_HEADER = 't_seconds,cpu_percent,desired_replicas,current_replicas,pods_running,pods_pending,pods_terminating,pods_other,job_running'

/** The timeline as CSV (one row per sample; empty cells where the HPA had no value yet). */
export function timelineCsv(samples: Sample[]): string {
  const cell = (x: number | null) => (x === null ? '' : String(x))
  const rows = samples.map((s) => [s.t.toFixed(1), cell(s.cpu), cell(s.desired), cell(s.current), s.pods.running, s.pods.pending, s.pods.terminating, s.pods.other, s.jobRunning ? 1 : 0].join(','))
  return [CSV_HEADER, ...rows].join('\n') + '\n'
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Points of a series as polyline runs, split where the value is missing. */
function runs(samples: Sample[], value: (s: Sample) => number | null, x: (t: number) => number, y: (v: number) => number, step: boolean): string[] {
  const out: string[] = []
  let run: string[] = []
  let prevY: number | null = null
  for (const s of samples) {
    const v = value(s)
    if (v === null) {
      if (run.length) out.push(run.join(' '))
      run = []
      prevY = null
      continue
    }
    const px = x(s.t).toFixed(1)
    const py = y(v).toFixed(1)
    if (step && prevY !== null) run.push(`${px},${prevY.toFixed(1)}`) // replicas change in steps
    run.push(`${px},${py}`)
    prevY = y(v)
  }
  if (run.length) out.push(run.join(' '))
  return out
}

const CHART = { W: 900, H: 470, L: 60, R: 60, T: 88, B: 60 }
const FONT = { size: 11, charWidth: 6.6 } // DejaVu Sans at 11 px: a generous average advance

export type Label = { x: number; y: number; width: number; text: string; anchor: 'start' | 'end' }

/**
 * Where the event labels go: beside their line, in the first row (from the top of the plot) where
 * they overlap no label already placed; near the right edge they sit left of their line.
 */
export function placeLabels(events: { x: number; text: string }[], right: number, top: number, rowHeight = 14): Label[] {
  const placed: (Label & { left: number; row: number })[] = []
  for (const e of [...events].sort((a, b) => a.x - b.x)) {
    const width = e.text.length * FONT.charWidth
    const anchor = e.x + 4 + width > right ? 'end' : 'start'
    const left = anchor === 'start' ? e.x + 4 : e.x - 4 - width
    let row = 0
    while (placed.some((p) => p.row === row && left < p.left + p.width + 6 && p.left < left + width + 6)) row++
    placed.push({ x: anchor === 'start' ? e.x + 4 : e.x - 4, y: top + 12 + row * rowHeight, width, text: e.text, anchor, left, row })
  }
  return placed.map(({ x, y, width, text, anchor }) => ({ x, y, width, text, anchor }))
}

/** The CPU axis' top: a multiple of 25 % above the peak, moved so the target line is on no replicas gridline. */
function cpuAxisTop(peak: number, target: number | null, rMax: number, plotHeight: number): number {
  let top = Math.max(100, Math.ceil((Math.max(peak, target ?? 0) * 1.15) / 25) * 25)
  const onGrid = (t: number) => target !== null && Array.from({ length: rMax + 1 }, (_, r) => r).some((r) => Math.abs((target / t - r / rMax) * plotHeight) < 4)
  while (onGrid(top)) top += 25
  return top
}

/** The SVG chart: worker pods and desired replicas (left axis), CPU % (right axis) against seconds since the job started. */
export function timelineSvg(samples: Sample[], jobEnd: number | null, f: Figures, s: Pick<Settings, 'min' | 'max' | 'target'>, title: string): string {
  const { W, H, L, R, T, B } = CHART
  const tMax = Math.max(10, ...samples.map((x) => x.t), jobEnd ?? 0)
  const rMax = Math.max(s.max, f.peakReplicas, 1) + 1
  const cMax = cpuAxisTop(f.peakCpu ?? 0, s.target, rMax, H - T - B)
  const x = (t: number) => L + (t / tMax) * (W - L - R)
  const yR = (r: number) => H - B - (r / rMax) * (H - T - B)
  const yC = (c: number) => H - B - (c / cMax) * (H - T - B)
  const parts: string[] = []
  const line = (x1: number, y1: number, x2: number, y2: number, attrs: string) => parts.push(`<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" ${attrs}/>`)
  const text = (tx: number, ty: number, body: string, attrs = '') => parts.push(`<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}"${attrs ? ` ${attrs}` : ''}>${xml(body)}</text>`)
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`)
  text(W / 2, 22, title, 'text-anchor="middle" font-size="15"')
  // axes, ticks and grid
  line(L, H - B, W - R, H - B, 'stroke="black"')
  line(L, T, L, H - B, 'stroke="#1f77b4"')
  line(W - R, T, W - R, H - B, 'stroke="#d62728"')
  const tStep = [10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600].find((st) => tMax / st <= 12) ?? 7200
  for (let t = 0; t <= tMax; t += tStep) {
    line(x(t), H - B, x(t), H - B + 5, 'stroke="black"')
    text(x(t), H - B + 20, String(t), 'text-anchor="middle" font-size="11"')
  }
  text((L + W - R) / 2, H - 15, 'seconds since the job started', 'text-anchor="middle" font-size="12"')
  for (let r = 0; r <= rMax; r++) {
    line(L - 5, yR(r), L, yR(r), 'stroke="#1f77b4"')
    line(L, yR(r), W - R, yR(r), 'stroke="#eeeeee"')
    text(L - 8, yR(r) + 4, String(r), 'text-anchor="end" font-size="11" fill="#1f77b4"')
  }
  text(18, (T + H - B) / 2, 'replicas', `text-anchor="middle" font-size="12" fill="#1f77b4" transform="rotate(-90 18 ${((T + H - B) / 2).toFixed(1)})"`)
  for (let c = 0; c <= cMax; c += 25) {
    line(W - R, yC(c), W - R + 5, yC(c), 'stroke="#d62728"')
    if (c % 50 === 0 || cMax <= 150) text(W - R + 8, yC(c) + 4, `${c}%`, 'font-size="11" fill="#d62728"')
  }
  const cpuLabelY = ((T + H - B) / 2).toFixed(1)
  text(W - 14, (T + H - B) / 2, 'CPU % of requests', `text-anchor="middle" font-size="12" fill="#d62728" transform="rotate(90 ${W - 14} ${cpuLabelY})"`)
  // the bounds and the target, each in the legend
  const styles = {
    pods: 'stroke="#1f77b4" stroke-width="2.5"',
    desired: 'stroke="#ff7f0e" stroke-width="1.5" stroke-dasharray="5,3"',
    cpu: 'stroke="#d62728" stroke-width="1.5"',
    target: 'stroke="#d62728" stroke-width="1" stroke-dasharray="1,3"',
    min: 'stroke="#1f77b4" stroke-width="1" stroke-dasharray="1,3"',
    max: 'stroke="#1f77b4" stroke-width="1" stroke-dasharray="8,3,1,3"',
  }
  line(L, yR(s.min), W - R, yR(s.min), styles.min)
  line(L, yR(s.max), W - R, yR(s.max), styles.max)
  if (s.target !== null) line(L, yC(s.target), W - R, yC(s.target), styles.target)
  // the events: a dashed line each, labels placed so they never overlap
  const events = [
    { t: f.scaleUpAfter, text: `first scale-up (${secs(f.scaleUpAfter)})`, color: '#2ca02c' },
    { t: jobEnd, text: `job end (${secs(jobEnd)})`, color: '#555555' },
    { t: jobEnd !== null && f.backDownAfter !== null ? jobEnd + f.backDownAfter : null, text: `back at min (+${secs(f.backDownAfter)})`, color: '#9467bd' },
  ].filter((e): e is { t: number; text: string; color: string } => e.t !== null)
  for (const e of events) line(x(e.t), T, x(e.t), H - B, `stroke="${e.color}" stroke-dasharray="6,4"`)
  const labels = placeLabels(events.map((e) => ({ x: x(e.t), text: e.text })), W - R, T)
  for (const l of labels) {
    const color = events.find((e) => e.text === l.text)!.color
    parts.push(`<rect x="${(l.anchor === 'start' ? l.x - 2 : l.x - l.width - 2).toFixed(1)}" y="${(l.y - 10).toFixed(1)}" width="${(l.width + 4).toFixed(1)}" height="13" fill="white" fill-opacity="0.85"/>`)
    text(l.x, l.y, l.text, `font-size="${FONT.size}" fill="${color}"${l.anchor === 'end' ? ' text-anchor="end"' : ''}`)
  }
  // the series
  for (const pts of runs(samples, (v) => v.cpu, x, yC, false)) parts.push(`<polyline points="${pts}" fill="none" ${styles.cpu}/>`)
  for (const pts of runs(samples, workerCount, x, yR, true)) parts.push(`<polyline points="${pts}" fill="none" ${styles.pods}/>`)
  for (const pts of runs(samples, (v) => v.desired, x, yR, true)) parts.push(`<polyline points="${pts}" fill="none" ${styles.desired}/>`) // on top: it often equals the pods
  // the legend: every line drawn, in two rows above the plot
  const legend: [string, string][] = [
    ['worker pods', styles.pods],
    ['desired replicas (HPA)', styles.desired],
    ['CPU % of requests', styles.cpu],
    [`target CPU (${s.target === null ? '?' : `${s.target}%`})`, styles.target],
    [`minReplicas (${s.min})`, styles.min],
    [`maxReplicas (${s.max})`, styles.max],
  ]
  legend.forEach(([label, attrs], i) => {
    const lx = L + 10 + (i % 3) * 250
    const ly = 44 + Math.floor(i / 3) * 18
    line(lx, ly - 4, lx + 28, ly - 4, attrs)
    text(lx + 34, ly, label, 'font-size="12"')
  })
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">`,
    `<title>${xml(title)}</title>`,
    ...parts.map((p) => `  ${p}`),
    '</svg>',
    '',
  ].join('\n')
}

/** The chart as PNG (resvg: the SVG renderer of the resvg project, with the system's fonts). */
export function timelinePng(svg: string): Buffer {
  return Buffer.from(new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng())
}
