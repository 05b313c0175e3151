// The SHAP demo end to end on a 1-host real-host lab (a Debian 12 machine under systemd-nspawn,
// lab/hosts/; the API server, kubectl and Ray the stand-ins), after site.mts: the app shipped as ConfigMap ray-app,
// the job started in the head pod, the HPA watched. Three scripted scenarios through the stand-in's
// Ray job (/etc/zxplay-standin/ray-job.json on the control plane): the workers scale up and come
// back down (pass, figures, artifacts, the workers loaded within one HPA sync of the start); a job
// whose load reaches the workers late; they never scale up; they never come back down.
import fs from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CSV_HEADER, HPA_SYNC_SECONDS } from '../../../playbooks/support/timeline.ts'
import { runCli, tmpDir } from '../../../test/e2e/helpers.ts'
import { labDown, labUp, onRealHost, realHostPath as hostPath, type RealLab } from '../lab.ts'

let lab: RealLab
let logDir: string
let table: string
const inv = () => ['-i', lab.inventory, '--log-dir', logDir, '-e', `demo.data_file=${table}`]

/** The wine table to ship: the shared copy when this machine has one, else a small one of the same columns (the lab's job is simulated). */
function wineTable(dir: string): string {
  const shared = path.resolve('../shared/data/winequality-red.csv')
  if (fs.existsSync(shared)) return shared
  const columns = ['fixed acidity', 'volatile acidity', 'citric acid', 'residual sugar', 'chlorides', 'free sulfur dioxide', 'total sulfur dioxide', 'density', 'pH', 'sulphates', 'alcohol', 'quality']
  const rows = Array.from({ length: 40 }, (_, r) => columns.map((_, c) => (c === 11 ? 5 + (r % 3) : (r * 0.1 + c).toFixed(2))).join(';'))
  const file = path.join(dir, 'winequality-red.csv')
  fs.writeFileSync(file, [columns.join(';'), ...rows, ''].join('\n'))
  return file
}
const failures = (r: { stdout: string; stderr: string }) => `${r.stdout.slice(-6000)}\n${r.stderr.slice(-2000)}`

async function kubectl(args: string): Promise<string> {
  const r = await onRealHost(lab, 'node1', `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`)
  if (r.code !== 0) throw new Error(`kubectl ${args}: ${r.stderr}`)
  return r.stdout
}

/** What the stand-in's Ray job does next: how long it runs, the workers' CPU during and after it. */
function scenario(s: { jobSeconds: number; workerMillicores: number | 'limit'; afterMillicores: number; workerLoadAfterSeconds?: number }) {
  const file = hostPath(lab, 'node1', '/etc/zxplay-standin/ray-job.json')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(s))
}

const SAMPLE_SECONDS = 2
/**
 * Seconds from the job's start to the first sample with the workers' CPU at the target: the HPA's
 * metric is refreshed at its syncs, so a load from the start shows within one sync and a sample.
 */
function loadedAfter(rows: Row[]): number {
  return rows.find((x) => (x.cpu ?? 0) >= 50)?.t ?? Infinity
}
const LOADED_WITHIN = HPA_SYNC_SECONDS + SAMPLE_SECONDS + 2 // + the exec's start after the start stamp

/** Short sampling and timeouts, artifacts in a folder of the test's own. */
function fast(artifacts: string, timeouts: { up?: number; down?: number } = {}): string[] {
  return ['-e', `demo.sample_seconds=${SAMPLE_SECONDS}`, '-e', `demo.scale_up_timeout=${timeouts.up ?? 60}`, '-e', `demo.scale_down_timeout=${timeouts.down ?? 60}`, '-e', `demo.artifacts_dir=${artifacts}`]
}

type Row = { t: number; cpu: number | null; desired: number | null; current: number | null; workers: number; jobRunning: boolean }
function readCsv(file: string): Row[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n')
  assert.is(header, CSV_HEADER)
  return lines.map((l) => {
    const c = l.split(',')
    const n = (i: number) => (c[i] === '' ? null : Number(c[i]))
    return { t: Number(c[0]), cpu: n(1), desired: n(2), current: n(3), workers: Number(c[4]) + Number(c[5]) + Number(c[7]), jobRunning: c[8] === '1' }
  })
}

const demo = suite('demo on the real-host lab: the SHAP job and the HPA (1 Debian 12 host)')
demo.before(async () => {
  lab = await labUp({ hosts: 1, log: (s) => console.log(s) })
  logDir = tmpDir()
  table = wineTable(logDir)
  const r = await runCli(['run', 'site', ...inv()], { timeoutMs: 900_000 })
  console.log(`  site ${(r.ms / 1000).toFixed(1)} s`)
  assert.is(r.code, 0, failures(r))
})
demo.after(async () => {
  await labDown()
})

demo('bad demo vars are refused naming the key; no job starts', async () => {
  const r = await runCli(['run', 'shap-demo', ...inv(), '-e', 'demo.sample_seconds=0'])
  assert.is(r.code, 5, failures(r))
  assert.match(r.stderr, /inventory\.yaml: demo\.sample_seconds: expected a whole number of at least 1, got 0/)
  assert.not.ok(fs.existsSync(hostPath(lab, 'node1', '/var/lib/zxplay/shap-demo/pid')), 'a job was started')
})

demo('scale-up seen and back down: passes, prints the timeline and the figures, writes the CSV, the SVG and the PNG', async () => {
  scenario({ jobSeconds: 30, workerMillicores: 'limit', afterMillicores: 0 })
  const artifacts = tmpDir()
  const r = await runCli(['run', 'shap-demo', ...inv(), ...fast(artifacts)], { timeoutMs: 240_000 })
  assert.is(r.code, 0, failures(r))
  // the app as shipped, and the job's command line in the head pod
  const cm = JSON.parse(await kubectl('get configmap ray-app -n ray -o json'))
  assert.equal(Object.keys(cm.data).sort(), ['distributed_shap.py', 'kernel_shap.py', 'requirements.txt', 'shap_job.py', 'wine_data.py', 'wine_model.py', 'winequality-red.csv'])
  assert.is(cm.data['shap_job.py'], fs.readFileSync('app/shap_job.py', 'utf8'))
  assert.is(cm.data['winequality-red.csv'], fs.readFileSync(table, 'utf8'))
  assert.match(r.stdout, /node1\s+ok\s+the head pod has the shipped files at \/app \(7\/7 files equal \(sha256\)\)/)
  assert.match(r.stdout, /\$ kubectl --kubeconfig \/etc\/kubernetes\/admin.conf exec -n ray deploy\/ray-head -c ray-head -- python \/app\/shap_job.py --num_rows 320 --background 400 --num_chunks 12 --data \/app\/winequality-red.csv/)
  // a live line per sample, then the figures
  const live = r.stdout.match(/· t=\s*\d+s\s+cpu\s+(\d+%|-)\s+replicas/g) ?? []
  assert.ok(live.length >= 10, `${live.length} timeline lines`)
  assert.match(r.stdout, /peak replicas: 3 \(maxReplicas 3\)/)
  const up = Number(/job start → first scale-up: (\d+) s/.exec(r.stdout)?.[1])
  const down = Number(/job end → back at minReplicas \(1\): (\d+) s/.exec(r.stdout)?.[1])
  assert.ok(up > 0 && up <= 60, `first scale-up after ${up} s`)
  // the 15 s stabilization window runs from the HPA's last high recommendation, up to a sync before the end
  assert.ok(down >= 0 && down <= 45, `back at minReplicas ${down} s after the end`)
  // the workers are loaded from the job's start (the app's one Ray graph; here the stand-in's job)
  const loaded = Number(/job start → workers' CPU at the target \(50%\): (\d+) s/.exec(r.stdout)?.[1])
  assert.ok(loaded <= LOADED_WITHIN, `the workers' CPU reached the target ${loaded} s after the start (within one HPA sync: ${LOADED_WITHIN} s)`)
  assert.match(r.stdout, /ok\s+the job printed Results match!/)
  // the artifacts say the same
  const rows = readCsv(path.join(artifacts, 'shap-demo-timeline.csv'))
  assert.is(Math.max(...rows.map((x) => x.workers)), 3)
  assert.ok(rows.some((x) => x.desired === 3))
  assert.is(rows.at(-1)!.workers, 1)
  assert.is(rows.at(-1)!.desired, 1)
  assert.ok(rows[0]!.jobRunning && !rows.at(-1)!.jobRunning)
  const end = rows.find((x) => !x.jobRunning)!.t
  assert.ok(end >= 28 && end <= 40, `the job ran ${end} s (scenario: 30 s)`)
  assert.ok(rows.some((x) => x.jobRunning && (x.cpu ?? 0) >= 50), 'CPU above the target while the job ran')
  assert.ok(loadedAfter(rows) <= LOADED_WITHIN, `CSV: CPU at the target ${loadedAfter(rows)} s after the start`)
  // sampling goes on past the return to minReplicas: two HPA syncs at least
  const back = rows.findIndex((x, i) => i > 0 && !x.jobRunning && x.workers === 1 && (x.desired ?? 1) === 1 && rows.slice(i).every((y) => y.workers === 1))
  // the CSV's seconds are decimals (77.1 - 47.1 is 29.999999999999993): compared to a tenth
  const tail = Math.round((rows.at(-1)!.t - rows[back]!.t) * 10) / 10
  assert.ok(tail >= 2 * HPA_SYNC_SECONDS, `a tail of ${tail} s after the return`)
  const svg = fs.readFileSync(path.join(artifacts, 'shap-demo-timeline.svg'), 'utf8')
  assert.ok(svg.startsWith('<?xml') && svg.trimEnd().endsWith('</svg>'))
  assert.is((svg.match(/<polyline /g) ?? []).length >= 3, true)
  const png = fs.readFileSync(path.join(artifacts, 'shap-demo-timeline.png'))
  assert.equal([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]) // "PNG"
  assert.match(r.stdout, /timeline: \S+shap-demo-timeline\.csv, \S+shap-demo-timeline\.svg, \S+shap-demo-timeline\.png/)
})

demo("a job whose load reaches the workers late: the workers' CPU is at the target only after it, which the first test would refuse", async () => {
  // the load lasts 35 s: longer than the metrics pipeline's lag (metrics-server's 15 s resolution,
  // then an HPA sync) even on a busy machine, where a 10 s load was never seen at all
  scenario({ jobSeconds: 65, workerMillicores: 'limit', afterMillicores: 0, workerLoadAfterSeconds: 30 })
  const artifacts = tmpDir()
  const r = await runCli(['run', 'shap-demo', ...inv(), ...fast(artifacts, { up: 120 })], { timeoutMs: 300_000 })
  assert.is(r.code, 0, failures(r))
  const rows = readCsv(path.join(artifacts, 'shap-demo-timeline.csv'))
  assert.ok(loadedAfter(rows) >= 30 && loadedAfter(rows) > LOADED_WITHIN, `CPU at the target ${loadedAfter(rows)} s after the start`)
  assert.ok(rows.filter((x) => x.t < 30).every((x) => (x.cpu ?? 0) < 50), 'idle workers before the load')
  const loaded = Number(/job start → workers' CPU at the target \(50%\): (\d+) s/.exec(r.stdout)?.[1])
  assert.ok(loaded > LOADED_WITHIN, `${loaded} s`)
})

demo('no scale-up: fails saying the workers never scaled up; a second run while that job still runs is refused', async () => {
  scenario({ jobSeconds: 40, workerMillicores: 0, afterMillicores: 0 })
  const artifacts = tmpDir()
  const r = await runCli(['run', 'shap-demo', ...inv(), ...fast(artifacts, { up: 20 })], { timeoutMs: 180_000 })
  assert.is(r.code, 2, failures(r))
  assert.match(r.stdout, /ok\s+the app is shipped as ConfigMap ray-app \(unchanged\)/)
  assert.match(r.stdout, /the workers never scaled up: still at minReplicas \(1\) 20s after the job started; CPU peaked at \d+% of requests \(target 50%\)/)
  assert.match(r.stdout, /job start → first scale-up: never/)
  assert.match(r.stdout, /job: still running after \d+ s/)
  const rows = readCsv(path.join(artifacts, 'shap-demo-timeline.csv'))
  assert.ok(rows.every((x) => x.workers <= 1 && (x.desired ?? 1) <= 1))
  assert.ok(rows.at(-1)!.t >= 20 && rows.at(-1)!.jobRunning)
  // the job goes on (40 s): a second job is not started next to it
  const again = await runCli(['run', 'shap-demo', ...inv(), ...fast(tmpDir())])
  assert.is(again.code, 2, failures(again))
  assert.match(again.stdout, /a SHAP job started earlier is still running \(pid in \/var\/lib\/zxplay\/shap-demo\/pid/)
  const exit = hostPath(lab, 'node1', '/var/lib/zxplay/shap-demo/exit')
  for (let i = 0; i < 60 && !fs.existsSync(exit); i++) await new Promise((res) => setTimeout(res, 1000))
  assert.match(fs.readFileSync(exit, 'utf8'), /^\d+\.\d+ 0\n$/)
})

demo('a job that fails at once is reported at once with its last line, not after the scale-up timeout', async () => {
  const file = hostPath(lab, 'node1', '/etc/zxplay-standin/ray-job.json')
  fs.writeFileSync(file, '{"jobSeconds": 0}') // the stand-in's python refuses it and exits 1
  const artifacts = tmpDir()
  const r = await runCli(['run', 'shap-demo', ...inv(), ...fast(artifacts, { up: 120 })], { timeoutMs: 60_000 })
  assert.is(r.code, 2, failures(r))
  assert.match(r.stdout, /the job failed \(exit 1\) after \d+s, before the workers scaled up: zxlab: \/etc\/zxplay-standin\/ray-job.json: jobSeconds must be a number of seconds > 0 \(all of it: \/var\/lib\/zxplay\/shap-demo\/job.log on node1\)/, failures(r))
  assert.ok(r.ms < 30_000, `took ${r.ms} ms`)
  assert.ok(fs.existsSync(path.join(artifacts, 'shap-demo-timeline.csv')))
})

demo('no scale-down: fails saying the workers never came back down', async () => {
  scenario({ jobSeconds: 20, workerMillicores: 'limit', afterMillicores: 1000 })
  const artifacts = tmpDir()
  const r = await runCli(['run', 'shap-demo', ...inv(), ...fast(artifacts, { down: 30 })], { timeoutMs: 240_000 })
  assert.is(r.code, 2, failures(r))
  assert.match(r.stdout, /the workers never came back down to minReplicas \(1\) within 30s after the job ended: still 3 worker pods \(desired 3, CPU \d+%\)/)
  assert.match(r.stdout, /job end → back at minReplicas \(1\): never/)
  const rows = readCsv(path.join(artifacts, 'shap-demo-timeline.csv'))
  const end = rows.find((x) => !x.jobRunning)!.t
  assert.ok(rows.at(-1)!.t - end >= 30)
  assert.is(rows.at(-1)!.workers, 3)
})

demo('workers still above minReplicas from an earlier load: no job is started, saying why', async () => {
  const pid = fs.readFileSync(hostPath(lab, 'node1', '/var/lib/zxplay/shap-demo/pid'), 'utf8')
  const r = await runCli(['run', 'shap-demo', ...inv(), ...fast(tmpDir(), { down: 6 })])
  assert.is(r.code, 2, failures(r))
  assert.match(r.stdout, /the workers are at 3 pods, above minReplicas \(1\), and did not come down within 6s \(demo.scale_down_timeout\)/)
  assert.is(fs.readFileSync(hostPath(lab, 'node1', '/var/lib/zxplay/shap-demo/pid'), 'utf8'), pid)
})

demo('--check lists the job it would start and starts none', async () => {
  const pid = hostPath(lab, 'node1', '/var/lib/zxplay/shap-demo/pid')
  const before = fs.readFileSync(pid, 'utf8')
  const r = await runCli(['run', 'shap-demo', ...inv(), '--check'])
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, /ok\s+the app is shipped as ConfigMap ray-app \(unchanged\)/)
  assert.match(r.stdout, /changed\s+the SHAP job is started in the head pod[\s\S]*would run: mkdir -p \/var\/lib\/zxplay\/shap-demo/)
  assert.match(r.stdout, /skipped\s+the HPA scales the workers up and back down \(no job under --check\)/)
  assert.is(fs.readFileSync(pid, 'utf8'), before)
})

demo.run()
