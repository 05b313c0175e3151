// npm run mutate [-- lib/MODULE.ts …] [--concurrency N]: StrykerJS mutation testing of the engine
// modules in targets.ts (all of them, or those named), one Stryker run per module so each mutant
// runs only that module's unit test files. Stryker's command runner runs uvu with
// the active mutant in the environment; the TypeScript checker drops mutants
// that do not compile. Sandboxes and HTML reports go to .mutate/ (git-ignored). Prints Stryker's
// clear-text report per module, then one line per module; exits 1 when a run failed.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Stryker } from '@stryker-mutator/core'
import { freshJudgeCache, targets } from './targets.ts'

type Result = { status: string; fileName: string }
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const OUT = path.join(ROOT, '.mutate')

const args = process.argv.slice(2)
const at = args.indexOf('--concurrency')
const concurrency = at >= 0 ? Number(args.splice(at, 2)[1]) : 1
// A target may be part of a module, as Stryker's `file:firstLine-lastLine` (shell.ts's quoting).
const asked = args.map((a) => {
  const [file = '', range] = a.split(/:(?=\d+-\d+$)/)
  return path.relative(ROOT, path.resolve(file)) + (range ? `:${range}` : '')
})
// a range of a listed module (`lib/x.ts:20-60`) is judged by that module's tests
const testsOf = (m: string) => targets[m] ?? targets[m.replace(/:\d+-\d+$/, '')]
for (const m of asked) if (!testsOf(m)) throw new Error(`${m} is not in test/mutate/targets.ts (known: ${Object.keys(targets).join(', ')})`)
const modules = asked.length ? asked : Object.keys(targets)

/** Stryker's score: killed or timed out, of the mutants that compiled and ran; each count apart. */
export function score(results: Result[]) {
  const n = (...s: string[]) => results.filter((r) => s.includes(r.status)).length
  const [killed, timedOut, survived, noCoverage] = [n('Killed'), n('Timeout'), n('Survived'), n('NoCoverage')]
  const caught = killed + timedOut
  const all = caught + survived + noCoverage
  return { killed, timedOut, survived, noCoverage, ignored: n('CompileError', 'Ignored'), pct: all ? (100 * caught) / all : NaN }
}

// Tests find ../shared (the real data) next to the project: give the sandboxes the same neighbour.
const tmp = path.join(OUT, 'tmp')
fs.mkdirSync(tmp, { recursive: true })
const shared = path.join(tmp, 'shared')
if (!fs.existsSync(shared)) fs.symlinkSync(path.resolve(ROOT, '../shared'), shared)

// Ansible's answers to the compat tests' questions, asked once per run rather than once per mutant
// (test/compat/_ansible.ts): only lib/ changes between mutants.
freshJudgeCache(path.join(OUT, 'judge-cache'))

const lines: string[] = []
let failed = false
for (const mod of modules) {
  const tests = testsOf(mod)!.map((t) => t.replace(/[.+]/g, '\\$&')).join('|')
  const name = path.basename(mod.replace(/:(\d+)-(\d+)$/, '-$1-$2'), '.ts').replace(/\.ts(?=-)/, '')
  const started = Date.now()
  try {
    const results: Result[] = await new Stryker({
      mutate: [mod],
      testRunner: 'command',
      // uvu itself, not test/uvu-strict.ts: one Node start (with tsx) per mutant rather than two, a
      // third of a run's time on this machine. uvu exits 0 when a before hook throws, so such a
      // mutant counts as survived (never as killed): the score can only be understated.
      commandRunner: { command: `node node_modules/uvu/bin.js test '^(${tests})\\.test\\.ts$'` },
      checkers: ['typescript'],
      // lib/ alone (test/mutate/tsconfig.json): whether a mutant compiles is a question about lib/, and
      // checking every test, playbook and stand-in that imports the module took most of a run's time
      tsconfigFile: 'test/mutate/tsconfig.json',
      typescriptChecker: { prioritizePerformanceOverAccuracy: true },
      coverageAnalysis: 'off',
      concurrency,
      tempDirName: path.relative(ROOT, tmp),
      cleanTempDir: true,
      ignorePatterns: ['/.lab', '/.lab-real', '/.lab-cache', '/logs', '/artifacts', '/.mutate', '/app', '/bench', '/lab/hosts'],
      reporters: ['clear-text', 'html', 'progress-append-only'],
      htmlReporter: { fileName: path.relative(ROOT, path.join(OUT, 'reports', `${name}.html`)) },
      clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
      // generous: on a busy 2-CPU machine a test run's time varies by tens of seconds, and a mutant
      // timed out counts as killed
      timeoutFactor: 3,
      timeoutMS: 60_000,
      logLevel: 'warn' as never,
    }).runMutationTest()
    const s = score(results)
    const min = ((Date.now() - started) / 60000).toFixed(1)
    lines.push(
      `${mod.padEnd(30)} ${s.pct.toFixed(1).padStart(5)} %  killed ${s.killed}, timed out ${s.timedOut}, survived ${s.survived}, no coverage ${s.noCoverage}, not compiling ${s.ignored}  (${min} min; tests: ${testsOf(mod)!.join(', ')})`
    )
  } catch (e) {
    failed = true
    lines.push(`${mod.padEnd(26)} failed: ${(e as Error).message}`)
  }
}
console.log(`\nmutation scores (${new Date().toISOString().slice(0, 10)}, concurrency ${concurrency}):\n${lines.join('\n')}`)
process.exit(failed ? 1 : 0)
