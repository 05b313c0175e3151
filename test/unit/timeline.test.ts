// The demo's timeline on scripted HPA observations: what kubectl's JSON says, the verdicts
// (scaled up and back down, never up, never down), the figures, the CSV and the SVG chart.
import path from 'node:path'
import { load } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { refusal } from '../../lab/standins/_schema.ts'
import {
  CSV_HEADER,
  figuresOf,
  formatSample,
  judge,
  parseHpa,
  parseJobEnd,
  parseWorkerPods,
  summaryLines,
  HPA_SYNC_SECONDS,
  placeLabels,
  tailSeconds,
  timelineCsv,
  timelinePng,
  timelineSvg,
  type Sample,
  type Settings,
} from '../../playbooks/support/timeline.ts'
import { demoDefaults, demoSpec } from '../../playbooks/support/vars/demo.ts'
import { checkFamily } from './_helpers.ts'

const SETTINGS: Settings = { min: 1, max: 3, target: 50, scaleUpTimeout: 60, scaleDownTimeout: 45, jobTimeout: 600 }

/** A sample: t, cpu, desired, current, job running; worker pods Running = current. */
const at = (t: number, cpu: number | null, desired: number | null, current: number | null, jobRunning = true): Sample => ({
  t,
  cpu,
  desired,
  current,
  pods: { running: current ?? 0, pending: Math.max(0, (desired ?? 0) - (current ?? 0)), terminating: 0, other: 0 },
  jobRunning,
})

/** The verdict after each prefix of the samples, as the playbook sees them arrive. */
const verdicts = (samples: Sample[], jobEnd: (t: number) => number | null, s = SETTINGS) =>
  samples.map((_, i) => judge(samples.slice(0, i + 1), jobEnd(samples[i]!.t), s))

// A job of 60 s: CPU rises, the HPA goes 1 → 2 → 3, the job ends, 3 → 1 about 20 s later.
const SCALE_UP_AND_DOWN = [
  at(0, 2, 1, 1),
  at(5, 2, 1, 1),
  at(10, 98, 1, 1),
  at(15, 98, 2, 1),
  at(20, 99, 2, 2),
  at(30, 97, 3, 2),
  at(35, 95, 3, 3),
  at(55, 96, 3, 3),
  at(65, 3, 3, 3, false),
  at(80, 2, 1, 3, false),
  at(85, 1, 1, 1, false),
  at(90, 1, 1, 1, false),
  at(110, 1, 1, 1, false),
  at(115, 1, 1, 1, false),
]
const endAt60 = (t: number) => (t >= 60 ? 60 : null)

test('parseHpa: utilisation, replicas, bounds and target from an autoscaling/v2 HPA', () => {
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    spec: { minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 97, averageValue: '970m' } } }] },
  }
  assert.equal(parseHpa(JSON.stringify(hpa)), { cpu: 97, desired: 3, current: 2, min: 1, max: 3, target: 50 })
})

test('parseHpa: before the first metric the values are unknown, not zero; minReplicas defaults to 1', () => {
  const fresh = { spec: { maxReplicas: 4, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { averageUtilization: 80 } } }] }, status: { currentMetrics: null, desiredReplicas: 1, currentReplicas: 1 } }
  assert.equal(parseHpa(JSON.stringify(fresh)), { cpu: null, desired: 1, current: 1, min: 1, max: 4, target: null })
})

test('parseWorkerPods: counts by phase, pods being deleted apart', () => {
  const pods = {
    items: [
      { metadata: { name: 'a' }, status: { phase: 'Running' } },
      { metadata: { name: 'b' }, status: { phase: 'Running' } },
      { metadata: { name: 'c' }, status: { phase: 'Pending' } },
      { metadata: { name: 'd', deletionTimestamp: '2026-11-25T20:00:00Z' }, status: { phase: 'Running' } },
      { metadata: { name: 'e' }, status: { phase: 'Failed' } },
    ],
  }
  assert.equal(parseWorkerPods(JSON.stringify(pods)), { running: 2, pending: 1, terminating: 1, other: 1 })
  assert.equal(parseWorkerPods('{"items":[]}'), { running: 0, pending: 0, terminating: 0, other: 0 })
})

test('parseJobEnd: "<epoch> <exit code>" once the job ended, null while it runs', () => {
  assert.equal(parseJobEnd('1764100000.250 0\n'), { at: 1764100000.25, exitCode: 0 })
  assert.equal(parseJobEnd('1764100000 1'), { at: 1764100000, exitCode: 1 })
  assert.is(parseJobEnd(''), null)
  assert.is(parseJobEnd('1764100000.2'), null) // still being written
})

test('scale-up seen and back down: waits for each step in turn, then passes with the figures', () => {
  const vs = verdicts(SCALE_UP_AND_DOWN, endAt60)
  const waiting = vs.map((v) => (v.done ? (v.pass ? 'pass' : 'fail') : v.waitingFor))
  assert.equal(waiting, [
    'the first scale-up',
    'the first scale-up',
    'the first scale-up',
    'the job to end', // desired 2 at t=15: the HPA has decided, the pod follows
    'the job to end',
    'the job to end',
    'the job to end',
    'the job to end',
    'the return to minReplicas (1)',
    'the return to minReplicas (1)', // desired is back at 1 but 3 replicas still run
    'a tail of 30s at minReplicas (1)', // back at 85 s: two HPA syncs more, so the chart shows it staying there
    'a tail of 30s at minReplicas (1)',
    'a tail of 30s at minReplicas (1)',
    'pass',
  ])
  const last = vs.at(-1)!
  assert.equal(last.figures, { peakReplicas: 3, peakCpu: 99, loadAfter: 10, scaleUpAfter: 15, jobSeconds: 60, backDownAfter: 25 })
})

test('no scale-up: waits until the timeout, then fails saying it never scaled up, with the CPU it saw', () => {
  const flat = [0, 10, 20, 30, 40, 50, 60].map((t) => at(t, t < 30 ? 0 : 3, 1, 1, t < 30))
  const vs = verdicts(flat, (t) => (t >= 30 ? 30 : null))
  assert.ok(vs.slice(0, -1).every((v) => !v.done))
  const last = vs.at(-1)!
  assert.ok(last.done && !last.pass)
  if (last.done && !last.pass) {
    assert.is(last.reason, 'no-scale-up')
    assert.is(last.message, 'the workers never scaled up: still at minReplicas (1) 60s after the job started; CPU peaked at 3% of requests (target 50%)')
  }
  const noMetric = judge([at(0, null, 1, 1), at(61, null, 1, 1)], null, SETTINGS)
  assert.ok(noMetric.done && !noMetric.pass && noMetric.message.endsWith('no CPU metric was ever reported'))
})

test('no scale-down: scaled up, the job ended, still above minReplicas after the timeout: fails saying so', () => {
  const stuck = [at(0, 90, 1, 1), at(10, 95, 3, 2), at(20, 99, 3, 3), at(30, 90, 3, 3, false), at(60, 90, 3, 3, false), at(75, 88, 3, 3, false)]
  const vs = verdicts(stuck, (t) => (t >= 30 ? 30 : null))
  assert.is(vs[4]!.done, false)
  const last = vs.at(-1)!
  assert.ok(last.done && !last.pass)
  if (last.done && !last.pass) {
    assert.is(last.reason, 'no-scale-down')
    assert.is(last.message, 'the workers never came back down to minReplicas (1) within 45s after the job ended: still 3 worker pods (desired 3, CPU 88%)')
  }
  assert.equal(last.figures, { peakReplicas: 3, peakCpu: 99, loadAfter: 0, scaleUpAfter: 10, jobSeconds: 30, backDownAfter: null })
})

test("the workers' load: the first sample with CPU at the target, so a job that loads them late shows it", () => {
  const early = [at(0, 2, 1, 1), at(5, 2, 1, 1), at(10, 97, 1, 1), at(15, 98, 2, 1)]
  const late = [at(0, 2, 1, 1), at(15, 26, 1, 1), at(30, 30, 1, 1), at(45, 97, 1, 1), at(60, 98, 2, 1)] // one busy core of four: under the target
  assert.is(figuresOf(early, null, 1, 50).loadAfter, 10)
  assert.is(figuresOf(late, null, 1, 50).loadAfter, 45)
  assert.is(figuresOf(late, null, 1, 25).loadAfter, 15)
  assert.is(figuresOf([at(0, null, 1, 1)], null, 1, 50).loadAfter, null)
})

test('a dip to minReplicas while the job runs is not the return: only samples after its end count', () => {
  const dip = [at(0, 90, 2, 1), at(10, 20, 1, 1), at(20, 90, 2, 2), at(30, 5, 2, 2, false), at(40, 5, 1, 1, false)]
  const f = figuresOf(dip, 30, 1)
  assert.is(f.scaleUpAfter, 0)
  assert.is(f.backDownAfter, 10)
  assert.equal(judge(dip.slice(0, 4), 30, SETTINGS).done, false)
})

test("the pods count, not the HPA's status.currentReplicas, which lags until its next sync", () => {
  const pods = (running: number, pending = 0, terminating = 0) => ({ running, pending, terminating, other: 0 })
  const lagging: Sample[] = [
    { t: 0, cpu: 0, desired: 1, current: 1, pods: pods(1), jobRunning: true },
    { t: 20, cpu: 100, desired: 3, current: 1, pods: pods(2, 1), jobRunning: true }, // status still says 1
    { t: 40, cpu: 0, desired: 1, current: 3, pods: pods(1, 0, 2), jobRunning: false }, // status says 3: the pods are back at 1
  ]
  const f = figuresOf(lagging, 30, 1)
  assert.is(f.peakReplicas, 3)
  assert.is(f.backDownAfter, 10)
  // no pods listed (kubectl failed at that sample): the HPA's count is what is known
  assert.is(figuresOf([{ t: 0, cpu: 90, desired: 2, current: 2, pods: pods(0), jobRunning: true }], null, 1).peakReplicas, 2)
})

test('a job that fails before any scale-up is reported at once; after a scale-up the scale-down is still watched', () => {
  const early = judge([at(0, 1, 1, 1), at(4, 1, 1, 1, false)], 3.6, SETTINGS, 1)
  assert.ok(early.done && !early.pass && early.reason === 'job-failed')
  if (early.done && !early.pass) assert.is(early.message, 'the job failed (exit 1) after 4s, before the workers scaled up')
  const late = judge([at(0, 90, 2, 1), at(10, 90, 3, 3, false)], 8, SETTINGS, 1)
  assert.equal([late.done, !late.done && late.waitingFor], [false, 'the return to minReplicas (1)'])
})

test('a job that never ends fails on the job timeout once the workers scaled up', () => {
  const v = judge([at(0, 90, 2, 1), at(601, 90, 3, 3)], null, SETTINGS)
  assert.ok(v.done && !v.pass && v.reason === 'job-timeout' && /did not end within 600s/.test(v.message))
})

test('formatSample and summaryLines: what the playbook prints', () => {
  assert.is(formatSample(at(15, 98, 2, 1)), 't= 15s  cpu  98%  replicas  1 (desired  2)  workers Running=1 Pending=1  job running')
  assert.is(formatSample(at(0, null, null, null, false)), 't=  0s  cpu    -  replicas  - (desired  -)  workers none  job ended')
  const f = figuresOf(SCALE_UP_AND_DOWN, 60, 1)
  assert.equal(summaryLines(f, SETTINGS, 115), ['peak replicas: 3 (maxReplicas 3); peak CPU 99%', "job start → workers' CPU at the target (50%): 10 s", 'job start → first scale-up: 15 s', 'job ran: 60 s', 'job end → back at minReplicas (1): 25 s'])
  assert.equal(summaryLines(figuresOf([at(0, 1, 1, 1), at(60, 1, 1, 1)], null, 1), SETTINGS, 60).slice(1), ["job start → workers' CPU at the target (50%): never", 'job start → first scale-up: never', 'job: still running after 60 s', 'job end → back at minReplicas (1): -'])
  assert.equal(summaryLines(figuresOf([at(0, 1, 1, 1), at(60, 1, 1, 1, false)], 50, 1), SETTINGS, 60).slice(1), ["job start → workers' CPU at the target (50%): never", 'job start → first scale-up: never', 'job ran: 50 s', 'job end → back at minReplicas (1): never'])
})

test('timelineCsv: a header and one row per sample, empty cells where the HPA had no value', () => {
  const csv = timelineCsv([at(0, null, 1, 1), at(5.04, 98, 2, 1), at(10, 3, 1, 1, false)])
  assert.equal(csv.split('\n'), [CSV_HEADER, '0.0,,1,1,1,0,0,0,1', '5.0,98,2,1,1,1,0,0,1', '10.0,3,1,1,1,0,0,0,0', ''])
  assert.is(CSV_HEADER.split(',').length, '0.0,,1,1,1,0,0,0,1'.split(',').length)
})

/** A small XML well-formedness check: balanced tags, quoted unique attributes, escaped text. */
function wellFormed(doc: string): string | null {
  const stack: string[] = []
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<\?xml[^?]*\?>|([^<]+)|(<)/g
  let m: RegExpExecArray | null
  let roots = 0
  while ((m = re.exec(doc))) {
    const [, close, name, attrs, selfClose, text, stray] = m
    if (stray) return `stray '<' at ${m.index}`
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) return `unescaped & in ${JSON.stringify(text.slice(0, 40))}`
      if (!stack.length && text.trim()) return `text outside the root: ${JSON.stringify(text.slice(0, 40))}`
      continue
    }
    if (!name) continue // the XML declaration
    const attrNames = [...(attrs ?? '').matchAll(/([\w:-]+)=/g)].map((a) => a[1])
    if (new Set(attrNames).size !== attrNames.length) return `duplicate attribute in <${name}>`
    if (close) {
      if (stack.pop() !== name) return `</${name}> closes the wrong element`
    } else if (!selfClose) {
      if (!stack.length) roots++
      stack.push(name)
    } else if (!stack.length) roots++
  }
  if (stack.length) return `unclosed <${stack.at(-1)}>`
  return roots === 1 ? null : `${roots} root elements`
}

test('the well-formedness check itself rejects broken XML', () => {
  assert.is(wellFormed('<svg><g></svg>'), '</svg> closes the wrong element')
  assert.is(wellFormed('<svg><text>a & b</text></svg>'), 'unescaped & in "a & b"')
  assert.is(wellFormed('<svg><line x="1" x="2"/></svg>'), 'duplicate attribute in <line>')
  assert.is(wellFormed('<svg><text>1 < 2</text></svg>'), "stray '<' at 13")
  assert.is(wellFormed('<?xml version="1.0"?>\n<svg><g/></svg>\n'), null)
})

test('timelineSvg: well-formed, both series drawn, markers for the events, titles escaped', () => {
  const f = figuresOf(SCALE_UP_AND_DOWN, 60, 1)
  const svg = timelineSvg(SCALE_UP_AND_DOWN, 60, f, SETTINGS, 'ray/shap-autoscaler <1 → 3 → 1> & back')
  assert.is(wellFormed(svg), null)
  assert.ok(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'))
  assert.match(svg, /<title>ray\/shap-autoscaler &lt;1 → 3 → 1&gt; &amp; back<\/title>/)
  const polylines = [...svg.matchAll(/<polyline points="([^"]+)"[^>]*stroke="(#[0-9a-f]+)"/g)]
  assert.is(polylines.length, 3) // CPU, desired, current
  for (const [, points] of polylines) for (const p of points!.split(' ')) assert.match(p, /^\d+(\.\d)?,\d+(\.\d)?$/)
  for (const label of ['first scale-up (15 s)', 'job end (60 s)', 'back at min (+25 s)', 'worker pods', 'desired replicas (HPA)', 'CPU % of requests', 'target CPU (50%)', 'minReplicas (1)', 'maxReplicas (3)']) assert.ok(svg.includes(`>${label}</text>`), label)
  assert.not.match(svg, /NaN|undefined|Infinity/)
})

test('timelineSvg: a missing CPU value splits the line; no events, no markers; still well-formed', () => {
  const samples = [at(0, 10, 1, 1), at(5, null, 1, 1), at(10, 20, 1, 1), at(15, 30, 1, 1)]
  const svg = timelineSvg(samples, null, figuresOf(samples, null, 1), SETTINGS, 'no scale-up')
  assert.is(wellFormed(svg), null)
  assert.is([...svg.matchAll(/<polyline [^>]*stroke="#d62728"/g)].length, 2) // two CPU runs around the gap
  assert.not.ok(svg.includes('>first scale-up'))
  assert.not.ok(svg.includes('>job end'))
  assert.is(wellFormed(timelineSvg([], null, figuresOf([], null, 1), SETTINGS, 'empty')), null)
})

/** A run as the playbook samples it: every 5 s, scale-up after 15 s, the job ends at jobS, back at min backS later. */
function run(jobS: number, backS: number): { samples: Sample[]; verdict: ReturnType<typeof judge> } {
  const samples: Sample[] = []
  for (let t = 0; ; t += 5) {
    const running = t < jobS
    const desired = running ? (t < 15 ? 1 : t < 30 ? 2 : 3) : t < jobS + backS - 5 ? 3 : 1
    const current = running ? (t < 20 ? 1 : t < 35 ? 2 : 3) : t < jobS + backS ? 3 : 1
    samples.push(at(t, t < 5 ? 2 : running ? 99 : 1, desired, current, running))
    const verdict = judge(samples, t >= jobS ? jobS : null, { ...SETTINGS, jobTimeout: 7200 })
    if (verdict.done) return { samples, verdict }
  }
}

type Box = { x: number; y: number; w: number; text: string }
/** The event labels as drawn: where each starts, its baseline and its width (from placeLabels' measure). */
function eventLabels(svg: string): Box[] {
  return [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="11" fill="#(?:2ca02c|555555|9467bd)"( text-anchor="end")?>([^<]+)<\/text>/g)].map((m) => {
    const w = m[4]!.length * 6.6
    return { x: Number(m[1]) - (m[3] ? w : 0), y: Number(m[2]), w, text: m[4]! }
  })
}
const overlap = (a: Box, b: Box) => a.y === b.y && a.x < b.x + b.w && b.x < a.x + a.w

test('the tail: after the return to minReplicas sampling goes on two HPA syncs, or ~10 % of a long run', () => {
  const short = run(60, 15)
  assert.ok(short.verdict.done && short.verdict.pass)
  assert.is(short.samples.at(-1)!.t, 75 + 30)
  const long = run(3600, 20)
  assert.ok(long.verdict.done && long.verdict.pass)
  assert.is(long.samples.at(-1)!.t, 3620 + 365) // 10 % of 3620 s, on the next sample
  assert.is(tailSeconds(100), 2 * HPA_SYNC_SECONDS)
})

test('timelineSvg: event labels never overlap, whether the return is quick or the run short', () => {
  for (const [jobS, backS] of [[900, 20], [3600, 5], [60, 15], [30, 5], [20, 5]] as const) {
    const { samples, verdict } = run(jobS, backS)
    const labels = eventLabels(timelineSvg(samples, jobS, verdict.figures, SETTINGS, 'run'))
    assert.is(labels.length, 3, `${jobS}/${backS}`)
    for (const a of labels) for (const b of labels) if (a !== b) assert.not.ok(overlap(a, b), `${jobS}/${backS}: ${a.text} over ${b.text}`)
    for (const l of labels) assert.ok(l.x >= 60 && l.x + l.w <= 840, `${l.text} inside the plot (${l.x}..${l.x + l.w})`)
  }
  // a label never overlaps one placed before it, however the events fall
  for (let seed = 1; seed < 200; seed++) {
    const xs = [(seed * 37) % 780, (seed * 53) % 780, (seed * 91) % 780].map((v) => 60 + v)
    const placed = placeLabels(xs.map((x, i) => ({ x, text: ['first scale-up (15 s)', 'job end (900 s)', 'back at min (+20 s)'][i]! })), 840, 88)
    const boxes = placed.map((l) => ({ x: l.anchor === 'start' ? l.x : l.x - l.width, y: l.y, w: l.width, text: l.text }))
    for (const a of boxes) for (const b of boxes) if (a !== b) assert.not.ok(overlap(a, b), `seed ${seed}`)
  }
})

test('timelineSvg: every line is in the legend, min and max replicas are marked, the target is on no gridline', () => {
  const { samples, verdict } = run(60, 15)
  const svg = timelineSvg(samples, 60, verdict.figures, SETTINGS, 'run')
  const styleOf = (attrs: string) => /stroke="[^"]+"(?: stroke-width="[^"]+")?(?: stroke-dasharray="[^"]+")?/.exec(attrs)?.[0] ?? ''
  const legendStyles = [...svg.matchAll(/<line x1="[\d.]+" y1="(?:40|58)\.0" x2="[\d.]+" y2="(?:40|58)\.0" ([^/]+)\/>/g)].map((m) => styleOf(m[1]!))
  assert.is(legendStyles.length, 6)
  const drawn = [...svg.matchAll(/<polyline [^>]*?(stroke="[^/]+)\/>/g), ...svg.matchAll(/<line x1="60\.0" y1="([\d.]+)" x2="840\.0" y2="\1" (stroke="#(?:1f77b4|d62728)"[^/]*)\/>/g)].map((m) => styleOf(m.at(-1)!))
  for (const style of new Set(drawn)) assert.ok(legendStyles.includes(style), `${style} is not in the legend`)
  // minReplicas and maxReplicas lines at their heights; the target line apart from the gridlines
  const at = (style: string) => [...svg.matchAll(/<line x1="60\.0" y1="([\d.]+)" x2="840\.0" y2="\1" ([^/]+)\/>/g)].filter((m) => m[2]!.trim() === style).map((m) => Number(m[1]))
  const grid = at('stroke="#eeeeee"')
  assert.is(grid.length, 5) // replicas 0..4
  const [min] = at('stroke="#1f77b4" stroke-width="1" stroke-dasharray="1,3"')
  const [max] = at('stroke="#1f77b4" stroke-width="1" stroke-dasharray="8,3,1,3"')
  assert.is(min, grid[1]) // replicas 1
  assert.is(max, grid[3]) // replicas 3
  const [target] = at('stroke="#d62728" stroke-width="1" stroke-dasharray="1,3"')
  for (const g of grid) assert.ok(Math.abs(target! - g) >= 4, `the target line (y ${target}) on a gridline (y ${g})`)
})

test('timelinePng: a PNG of the chart at twice its size, its text drawn', () => {
  const { samples, verdict } = run(60, 15)
  const svg = timelineSvg(samples, 60, verdict.figures, SETTINGS, 'run')
  const png = timelinePng(svg)
  assert.equal([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  assert.equal([png.readUInt32BE(16), png.readUInt32BE(20)], [1800, 940]) // IHDR: width, height
  const withoutText = timelinePng(svg.replace(/<text [^>]*>[^<]*<\/text>/g, ''))
  assert.ok(png.length > withoutText.length + 20_000, `text adds ${png.length - withoutText.length} bytes: are fonts installed?`)
})

test('the demo vars: a table source given, the rest defaults, passes; a bad value names its key and what was expected', () => {
  // the real table, read in place (an absolute data_file does not depend on the inventory's folder)
  const withTable = { ...demoDefaults, data_file: path.resolve(import.meta.dirname, '../../../shared/data/winequality-red.csv') }
  assert.equal(checkFamily(demoSpec, { demo: withTable }).demo, withTable)
  const bad = (demo: Record<string, unknown>) => {
    try {
      checkFamily(demoSpec, { inventory_file: '/x/inventory.yaml', demo: { ...withTable, ...demo } })
    } catch (e) {
      assert.instance(e, InventoryError)
      return (e as Error).message
    }
    return 'accepted'
  }
  assert.is(bad({ sample_seconds: 0 }), '/x/inventory.yaml: demo.sample_seconds: expected a whole number of at least 1, got 0')
  assert.is(bad({ scale_up_timeout: '60' }), '/x/inventory.yaml: demo.scale_up_timeout: expected a whole number of at least 1, got "60"')
  assert.match(bad({ s3_bucket: 'Not_A_Bucket' }), /demo\.s3_bucket: expected an S3 bucket name/)
  assert.match(bad({ artifacts_dir: '' }), /demo\.artifacts_dir: expected a folder on this machine/)
  assert.match(bad({ pip_runtime_env: 'no' }), /demo\.pip_runtime_env: expected true \(Ray installs the pinned packages from PyPI\) or false .*got "no"/)
  assert.is(bad({ s3_bucket: 'shap-data', data_file: '' }), 'accepted')
  assert.match(bad({ data_file: '' }), /demo\.data_file: expected the wine table: a local CSV .*or set demo\.s3_bucket/)
  assert.match(bad({ s3_bucket: 'shap-data' }), /demo\.data_file: expected '' when demo\.s3_bucket is set/)
})


test("the demo's ConfigMap: the app's modules, pins and table (no tests), round-trip exact, small enough for kubectl apply", async () => {
  const { appConfigMap, appFiles, jobArgs } = await import('../../playbooks/support/demo.ts')
  assert.equal(Object.keys(appFiles()).sort(), ['distributed_shap.py', 'kernel_shap.py', 'requirements.txt', 'shap_job.py', 'wine_data.py', 'wine_model.py'], 'no table unless one is given')
  const files = appFiles('fixed acidity;quality\n7.4;5\n')
  assert.equal(Object.keys(files).sort(), ['distributed_shap.py', 'kernel_shap.py', 'requirements.txt', 'shap_job.py', 'wine_data.py', 'wine_model.py', 'winequality-red.csv'])
  const cm = load(appConfigMap('ray', files)) as { kind: string; metadata: { name: string; namespace: string }; data: Record<string, string> }
  assert.is(refusal(cm as never), undefined)
  assert.equal([cm.kind, cm.metadata.name, cm.metadata.namespace], ['ConfigMap', 'ray-app', 'ray'])
  for (const [name, text] of Object.entries(files)) assert.ok(cm.data[name] === text, `${name} changed on the way`)
  // kubectl apply keeps a copy in the last-applied annotation; annotations are limited to 256 KiB
  const bytes = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0)
  assert.ok(bytes < 200 * 1024, `${bytes} bytes`)
  assert.equal(jobArgs({ ...demoDefaults, num_rows: 8, s3_bucket: 'shap-data' }), ['python', '/app/shap_job.py', '--num_rows', '8', '--background', '400', '--num_chunks', '12', '--s3_bucket', 'shap-data', '--s3_key', 'winequality-red.csv'])
  assert.equal(jobArgs(demoDefaults).slice(-2), ['--data', '/app/winequality-red.csv'])
  // the switch for an image with the packages baked in: the job's runtime env gets no pip
  assert.equal(jobArgs({ ...demoDefaults, pip_runtime_env: false }).slice(-4), ['--data', '/app/winequality-red.csv', '--pip_runtime_env', 'off'])
})

test.run()
