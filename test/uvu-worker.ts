// One worker of test/uvu-strict.ts: runs the test files its parent sends, one file at a time, with
// uvu's own suite runner (so its output looks as uvu's does), and after each file writes one line
// that starts with DONE and holds the file's counts. Files that one worker runs share its process,
// as every file shared uvu's one process before.
import { pathToFileURL } from 'node:url'

export const DONE = '\u0000uvu-strict:'
/** `ms`: wall time; `cpuMs`: the worker's own CPU time (user + system) for the file, its child processes' not included. */
export type FileResult = { name: string; total: number; passed: number; skipped: number; failed: boolean; ms: number; cpuMs: number }
type Runner = () => Promise<[string | true, number, number, number]>
type Uvu = { UVU_DEFER?: number; UVU_INDEX?: number; UVU_QUEUE: (string | Runner)[][] }

const uvu = globalThis as unknown as Uvu
const bold = (s: string) => (process.env.NO_COLOR ? s : `\x1b[1m\x1b[4m${s}\x1b[24m\x1b[22m`)

/** A file's suites, run as uvu's exec runs them; its counts. */
async function runFile(name: string, file: string): Promise<FileResult> {
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  uvu.UVU_QUEUE = [[name]]
  uvu.UVU_INDEX = 0
  process.stdout.write(bold(name) + '\n')
  const result: FileResult = { name, total: 0, passed: 0, skipped: 0, failed: false, ms: 0, cpuMs: 0 }
  try {
    await import(pathToFileURL(file).href)
    for (const group of uvu.UVU_QUEUE) {
      for (const run of group.slice(1) as Runner[]) {
        const [errors, ran, skipped, total] = await run()
        result.total += total
        result.passed += ran
        result.skipped += skipped
        if (errors !== true) {
          process.stdout.write('\n' + errors + '\n')
          result.failed = true
        }
      }
    }
  } catch (e) {
    process.stdout.write(`\n  ${name} threw before its tests ran: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    result.failed = true
  }
  result.ms = Math.round(performance.now() - t0)
  const cpu = process.cpuUsage(cpu0)
  result.cpuMs = Math.round((cpu.user + cpu.system) / 1000)
  return result
}

if (process.send) {
  // several workers: what a test prints to stderr stays with its file's output
  if (process.env.UVU_STRICT_GROUP) process.stderr.write = process.stdout.write.bind(process.stdout) as typeof process.stderr.write
  uvu.UVU_DEFER = 1 // test.run() queues its suite instead of running it at once
  await import('uvu')
  process.on('message', (m: { name: string; file: string }) => {
    void runFile(m.name, m.file).then((r) => process.stdout.write(`\n${DONE}${JSON.stringify(r)}\n`))
  })
  // the parent has no more files: end, even if a test left a timer or a socket behind (uvu's single
  // process would have hung on it)
  process.on('disconnect', () => process.exit())
}
