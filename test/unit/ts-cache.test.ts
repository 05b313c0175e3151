// bin/zxplay.mjs started as a user starts it from a shell (no NODE_OPTIONS, so no tsx): the runner and
// the playbook come from the compiled cache (bin/ts-cache.mjs). What a user relies on: a playbook runs
// as under tsx, an edit to it or to a file it imports shows in the next run, paths relative to a file
// still mean the same, and a package name means what it means next to the file that imports it.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { tempDir } from './_helpers.ts'

const REPO = path.resolve(import.meta.dirname, '../..')
const { dir, remove } = tempDir('ts-cache')
const inventory = path.join(dir, 'inventory.yaml')
fs.writeFileSync(inventory, 'all:\n  hosts:\n    here: {connection: local}\n')
const cacheOfDir = path.join(REPO, 'node_modules/.cache/zxplay/js', dir)

test.after(() => {
  remove()
  fs.rmSync(cacheOfDir, { recursive: true, force: true })
})

/** `node bin/zxplay.mjs run FILE` from a plain shell: the environment without npm's NODE_OPTIONS. */
function run(file: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { NODE_OPTIONS: _, FORCE_COLOR: __, ...env } = process.env
  const child = spawn(process.execPath, [path.join(REPO, 'bin/zxplay.mjs'), 'run', file, '-i', inventory, '--log-dir', path.join(dir, 'logs')], {
    env: { ...env, NO_COLOR: '1', ZXPLAY_LOCK_DIR: path.join(dir, 'locks'), ZXPLAY_HOST_LOCK: path.join(dir, 'host.lock') },
    cwd: dir,
    timeout: 60_000,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })))
}

/** A playbook whose one task says `what` (and where its module was loaded from, its stack's first file). */
function playbookSaying(what: string, imports = ''): string {
  return `import { playbook, task, ok } from ${JSON.stringify(path.join(REPO, 'lib/index.ts'))}
${imports}
const loadedFrom = (new Error().stack ?? '').includes('/node_modules/.cache/zxplay/js/') ? 'cache' : 'source'
export default playbook({ name: 'p', hosts: 'all', tasks: [task('says', async () => ok(\`said \${${what}} from \${loadedFrom}\`))] }, import.meta)
`
}

test('a playbook runs from the compiled cache, and an edit to it shows in the next run', async () => {
  const pb = path.join(dir, 'edit.mts')
  fs.writeFileSync(pb, playbookSaying(`'one' as string`))
  const first = await run(pb)
  assert.is(first.status, 0, first.stderr + first.stdout)
  assert.match(first.stdout, 'said one from cache')
  assert.ok(fs.existsSync(path.join(cacheOfDir, 'edit.mjs')), 'its compiled copy is in the cache')
  fs.writeFileSync(pb, playbookSaying(`'two' as string`))
  const second = await run(pb)
  assert.is(second.status, 0, second.stderr)
  assert.match(second.stdout, 'said two from cache')
})

test('an edit to a file the playbook imports shows too, and a new import is followed', async () => {
  const helper = path.join(dir, 'helper.ts')
  const pb = path.join(dir, 'imports.mts')
  fs.writeFileSync(helper, `export const word: string = 'alpha'\n`)
  fs.writeFileSync(pb, playbookSaying('word', `import { word } from './helper.ts'`))
  assert.match((await run(pb)).stdout, 'said alpha from cache')
  // same size, same second: the file's times and inode still tell
  fs.writeFileSync(helper, `export const word: string = 'gamma'\n`)
  assert.match((await run(pb)).stdout, 'said gamma from cache')
  fs.writeFileSync(path.join(dir, 'more.ts'), `export const more = (w: string): string => w + '+more'\n`)
  fs.writeFileSync(helper, `import { more } from './more.ts'\nexport const word: string = more('beta')\n`)
  assert.match((await run(pb)).stdout, 'said beta+more from cache')
})

test("import.meta is the source file's: a path relative to the playbook is read beside it", async () => {
  fs.writeFileSync(path.join(dir, 'beside.txt'), 'next to the playbook')
  const pb = path.join(dir, 'meta.mts')
  fs.writeFileSync(pb, playbookSaying(`fs.readFileSync(new URL('./beside.txt', import.meta.url), 'utf8') + ' ' + import.meta.filename`, `import fs from 'node:fs'`))
  const r = await run(pb)
  assert.is(r.status, 0, r.stderr + r.stdout)
  assert.match(r.stdout, `said next to the playbook ${pb} from cache`)
})

test("a package name resolves next to the playbook, as Node resolves it there (its own chalk, not zxplay's)", async () => {
  const pkg = path.join(dir, 'node_modules/chalk')
  fs.mkdirSync(pkg, { recursive: true })
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'chalk', type: 'module', exports: './index.js' }))
  fs.writeFileSync(path.join(pkg, 'index.js'), `export default 'the playbook folder\\'s chalk'\n`)
  const pb = path.join(dir, 'bare.mts')
  fs.writeFileSync(pb, playbookSaying('chalk', `import chalk from 'chalk'`))
  const r = await run(pb)
  assert.is(r.status, 0, r.stderr + r.stdout)
  assert.match(r.stdout, "said the playbook folder's chalk from cache")
})

test('runs started together on an empty cache each compile and run', async () => {
  const pb = path.join(dir, 'together.mts')
  fs.writeFileSync(pb, playbookSaying(`'together' as string`))
  fs.rmSync(path.join(cacheOfDir, 'together.mjs'), { force: true })
  fs.rmSync(path.join(cacheOfDir, 'together.mjs.graph.json'), { force: true })
  const runs = await Promise.all([run(pb), run(pb), run(pb)])
  // one run holds the host's lock; the others say so and exit 1, each after loading the playbook
  for (const r of runs) assert.ok(r.status === 0 || /lock/.test(r.stderr), r.stderr)
  assert.ok(runs.some((r) => r.status === 0 && /said together from cache/.test(r.stdout)))
  assert.equal(fs.readdirSync(cacheOfDir).filter((f) => f.endsWith('.tmp')), [], 'no half-written file is left')
})

test('a syntax error in the playbook is bad input, said with its place, and nothing is cached for it', async () => {
  const pb = path.join(dir, 'broken.mts')
  fs.writeFileSync(pb, 'export default (((\n')
  const r = await run(pb)
  assert.is(r.status, 5, r.stderr)
  assert.match(r.stderr, `cannot load ${pb}: ${pb}:2:0: Unexpected end of file`)
  assert.not.match(r.stderr, '    at ', 'no stack trace')
  assert.not.ok(fs.existsSync(path.join(cacheOfDir, 'broken.mjs.graph.json')))
})

test('an import of a file that is not there is said with the importing file', async () => {
  const pb = path.join(dir, 'missing.mts')
  fs.writeFileSync(pb, playbookSaying('gone', `import { gone } from './gone.ts'`))
  const r = await run(pb)
  assert.is(r.status, 5, r.stderr)
  assert.match(r.stderr, `cannot load ${pb}: ${pb}: cannot find module './gone.ts'`)
})

test.run()
