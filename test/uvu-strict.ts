// uvu's test files, failing when a test did not pass: `node test/uvu-strict.ts [--jobs N] [--shuffle]
// [--times] DIR PATTERN [SEED]`. uvu 0.5 exits 0 when a suite's before hook throws (the suite's tests
// count as neither passed nor failed), so a lab that never came up would pass CI: a file fails here
// unless every test it ran passed (uvu's total leaves skipped tests out), and a file that runs no test
// fails.
//   --jobs N   N worker processes (uvu-worker.ts) take the files one at a time; each file's output is
//              printed whole when it ends. Default 1: one process, output as it comes (the lab suites
//              share one lab and must run one file at a time).
//   --shuffle  the files in a seeded random order (the seed is printed; give it again as SEED to repeat
//              the order; with --jobs 1 which file runs after which is then the same too), to show
//              that no file depends on another having run first in the same process.
//   --times    a table of the files' wall times, slowest first, with the CPU time each took in its
//              worker (its child processes' not counted: the CLI run as a process, ssh-keygen …).
// Without --shuffle the files run slowest first, by their times in the last run. Flags may also come
// after DIR and PATTERN (`npm run test:unit -- --times`).
import { fork, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'uvu/parse'
import { DONE, type FileResult } from './uvu-worker.ts'

const argv = process.argv.slice(2)
const args: string[] = []
const opts = { jobs: 1, shuffle: false, times: false }
while (argv.length) {
  const flag = argv.shift()!
  if (!flag.startsWith('--')) args.push(flag)
  else if (flag === '--shuffle') opts.shuffle = true
  else if (flag === '--times') opts.times = true
  else if (flag === '--jobs') {
    const n = argv.shift()
    opts.jobs = n === 'auto' ? os.availableParallelism() + 2 : Number(n)
    if (!(Number.isInteger(opts.jobs) && opts.jobs > 0)) fail(`--jobs takes a count of processes or 'auto', got ${n}`)
  } else fail(`unknown flag ${flag}`)
}
if (args.length > 3) fail(`takes DIR PATTERN [SEED], got ${args.join(' ')}`)
const [dir = 'test/unit', pattern = '\\.test\\.ts$', seedArg] = args

function fail(message: string): never {
  console.error(`uvu-strict: ${message}`)
  process.exit(1)
}

/** mulberry32: small, seeded, good enough to order a few dozen files. */
function random(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const { suites } = await parse(dir, pattern)
if (!suites.length) fail(`no test files in ${dir} match ${pattern}`)
if (opts.shuffle) {
  const seed = seedArg ? Number(seedArg) : Math.floor(Math.random() * 2 ** 31)
  const next = random(seed)
  for (let i = suites.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[suites[i], suites[j]] = [suites[j]!, suites[i]!]
  }
  console.log(`uvu-strict: seed ${seed}: ${suites.map((s) => s.name).join(' ')}`)
}

// The slowest files first (their times from the last run, kept in node_modules/.cache), so that no
// long file starts last while the other processes sit idle. A shuffled order is kept as it is.
const TIMES = path.resolve('node_modules/.cache/uvu-strict-times.json')
const lastTimes = readTimes()
if (!opts.shuffle) suites.sort((a, b) => (lastTimes[b.file] ?? Infinity) - (lastTimes[a.file] ?? Infinity))

const t0 = performance.now()
const queue = [...suites]
const results: FileResult[] = []
const jobs = Math.min(opts.jobs, suites.length)
const WORKER = fileURLToPath(new URL('./uvu-worker.ts', import.meta.url))

/** A worker that takes files from the queue until it is empty; resolves when it has exited. */
function worker(): Promise<void> {
  return new Promise((resolve) => {
    // uvu's CLI sets FORCE_COLOR; tests that start the CLI take it out again, as before
    const env = { ...process.env, ...(process.env.NO_COLOR ? {} : { FORCE_COLOR: '1' }), ...(jobs > 1 ? { UVU_STRICT_GROUP: '1' } : {}) }
    const child: ChildProcess = fork(WORKER, [], { stdio: ['inherit', 'pipe', 'inherit', 'ipc'], env })
    let current: { name: string; file: string } | undefined
    let buffered = ''
    const next = () => {
      current = queue.shift()
      if (current) child.send(current)
      else child.disconnect()
    }
    child.stdout!.on('data', (b: Buffer) => {
      buffered += b.toString('utf8')
      for (let at = buffered.indexOf(DONE); at >= 0; at = buffered.indexOf(DONE)) {
        const end = buffered.indexOf('\n', at)
        if (end < 0) break
        const result = JSON.parse(buffered.slice(at + DONE.length, end)) as FileResult
        const text = buffered.slice(0, at)
        buffered = buffered.slice(end + 1)
        process.stdout.write(text)
        report(result)
        next()
      }
      // one process: as it comes, all but what may be the start of DONE's line
      if (jobs === 1) {
        const keep = buffered.includes('\u0000') ? buffered.indexOf('\u0000') : buffered.length
        process.stdout.write(buffered.slice(0, keep))
        buffered = buffered.slice(keep)
      }
    })
    // its end: exited and its output read ('close' does not come after a disconnect() on Node 20)
    let ending = 2
    let status = ''
    const ended = () => --ending === 0 && finish()
    child.stdout!.on('close', ended)
    child.on('exit', (code, signal) => {
      status = signal ?? `exit ${code}`
      ended()
    })
    const finish = () => {
      process.stdout.write(buffered)
      if (current) {
        report({ name: current.name, total: 0, passed: 0, skipped: 0, failed: true, ms: 0, cpuMs: 0 })
        console.error(`uvu-strict: ${current.name}: its process ended (${status}) before the file finished`)
        // the rest of the queue goes on in a new process
        if (queue.length) return void worker().then(resolve)
      }
      resolve()
    }
    next()
  })
}

function report(r: FileResult): void {
  results.push(r)
  if (!r.failed && r.total === 0) console.error(`uvu-strict: ${r.name} ran no test (no test.run()?)`)
  else if (r.passed !== r.total) console.error(`uvu-strict: ${r.name}: ${r.total - r.passed} of ${r.total} tests did not pass${r.failed ? '' : ' (a before hook that threw?)'}`)
}

await Promise.all(Array.from({ length: jobs }, worker))
saveTimes()

function readTimes(): Record<string, number> {
  try {
    return JSON.parse(fs.readFileSync(TIMES, 'utf8')) as Record<string, number>
  } catch {
    return {}
  }
}

function saveTimes(): void {
  const times = { ...readTimes() }
  for (const r of results) times[suites.find((s) => s.name === r.name)!.file] = r.ms
  fs.mkdirSync(path.dirname(TIMES), { recursive: true })
  fs.writeFileSync(`${TIMES}.${process.pid}`, JSON.stringify(times, null, 1))
  fs.renameSync(`${TIMES}.${process.pid}`, TIMES)
}

const sum = (key: 'total' | 'passed' | 'skipped') => results.reduce((n, r) => n + r[key], 0)
const bad = results.filter((r) => r.failed || r.total === 0 || r.passed !== r.total)
console.log(`\n  Total:     ${sum('total')}\n  Passed:    ${sum('passed')}\n  Skipped:   ${sum('skipped')}\n  Duration:  ${(performance.now() - t0).toFixed(2)}ms (${results.length} files, ${jobs} process${jobs > 1 ? 'es' : ''})\n`)
if (opts.times) {
  console.log('     wall      CPU  file')
  for (const r of [...results].sort((a, b) => b.ms - a.ms)) console.log(`  ${(r.ms / 1000).toFixed(2).padStart(7)} s ${(r.cpuMs / 1000).toFixed(2).padStart(6)} s  ${r.name}`)
}
if (bad.length) console.error(`uvu-strict: ${bad.length} of ${results.length} files failed: ${bad.map((r) => r.name).join(' ')}`)
process.exit(bad.length || results.length < suites.length ? 1 : 0)
