// npm run mutate:recheck -- lib/MODULE.ts: the survivors of the last `npm run mutate` of a module
// (from its HTML report in .mutate/reports/), each applied to the module in turn and judged by the
// module's test files as they are now. For tests added after a long run: which survivors they
// kill, and the score the run would have had, without rerunning every mutant. The module is put
// back after each mutant (also when interrupted).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freshJudgeCache, targets } from './targets.ts'

type Pos = { line: number; column: number }
type Mutant = { id: string; mutatorName: string; replacement?: string; status: string; location: { start: Pos; end: Pos } }

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const asked = process.argv[2]
if (!asked) throw new Error('usage: npm run mutate:recheck -- lib/MODULE.ts[:first-last]')
const [file = '', range] = asked.split(/:(?=\d+-\d+$)/)
const mod = path.relative(ROOT, path.resolve(file))
const key = mod + (range ? `:${range}` : '')
const tests = targets[key] ?? targets[mod]
if (!tests) throw new Error(`${key} is not in test/mutate/targets.ts`)
const name = path.basename(key.replace(/:(\d+)-(\d+)$/, '-$1-$2'), '.ts').replace(/\.ts(?=-)/, '')
const html = fs.readFileSync(path.join(ROOT, '.mutate', 'reports', `${name}.html`), 'utf8')
const json = /app\.report = (\{.*?\});?\s*(?:\n|<\/script>)/s.exec(html)?.[1]
if (!json) throw new Error(`no report in .mutate/reports/${name}.html`)
// the report is inlined as a script, with each '<' split off as `"+"` (so that no `</script>` ends it early)
const mutants = (JSON.parse(json.replace(/(?<!\\)"\+"/g, '')) as { files: Record<string, { mutants: Mutant[] }> }).files[mod]!.mutants

const source = fs.readFileSync(path.join(ROOT, mod), 'utf8')
const lineStarts = [0]
for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1)
const offset = (p: Pos) => lineStarts[p.line - 1]! + p.column - 1
const restore = () => fs.writeFileSync(path.join(ROOT, mod), source)
process.on('SIGINT', () => (restore(), process.exit(130)))
process.on('exit', restore)

// Ansible's answers, asked once per recheck rather than once per survivor (as in npm run mutate)
freshJudgeCache(path.join(ROOT, '.mutate', 'judge-cache-recheck'))

const pattern = `^(${tests.map((t) => t.replace(/[.+]/g, '\\$&')).join('|')})\\.test\\.ts$`
const count = (...s: string[]) => mutants.filter((m) => s.includes(m.status)).length
const caught = count('Killed', 'Timeout')
const valid = caught + count('Survived', 'NoCoverage')
let nowKilled = 0
const still: string[] = []
try {
  for (const m of mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')) {
    const [a, b] = [offset(m.location.start), offset(m.location.end)]
    fs.writeFileSync(path.join(ROOT, mod), source.slice(0, a) + (m.replacement ?? '') + source.slice(b))
    const r = spawnSync(process.execPath, ['node_modules/uvu/bin.js', 'test', pattern], { cwd: ROOT, stdio: 'ignore', timeout: 300_000, env: { ...process.env, NODE_OPTIONS: '--import=tsx' } }) // tsx also when not run by npm
    // Ctrl-C reaches the test run too; the SIGINT handler would wait for this loop's end
    if (r.signal === 'SIGINT') process.exit(130) // the finally below does not run: the exit handler restores
    const killed = r.status !== 0
    if (killed) nowKilled++
    const where = `${mod}:${m.location.start.line}:${m.location.start.column}`
    const line = `${killed ? 'killed  ' : 'survived'} ${where} ${m.mutatorName}: ${JSON.stringify(source.slice(a, b)).slice(0, 80)} → ${JSON.stringify(m.replacement ?? '').slice(0, 80)}`
    console.log(line)
    if (!killed) still.push(line)
    restore()
  }
} finally {
  restore()
}
const pct = (n: number) => ((100 * n) / valid).toFixed(1)
console.log(`\n${key}: run ${pct(caught)} % (${caught} of ${valid}); with today's tests ${pct(caught + nowKilled)} % (${nowKilled} more killed, ${still.length} still surviving)`)
