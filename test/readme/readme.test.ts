// The README is executable: every command of its quick start's ```sh blocks (the try-it lab
// included) runs in order, as a user would type it, in a fresh clone of this repository's HEAD
// (`npm ci` in it, from the registry), as root, each with a time limit. A command that drifts from the
// code fails here with its line, section, block and the tail of its output. Commands marked
// `not in CI` (against real machines, or this machine for real) are skipped and listed by name.
// Needs root and the real-host lab's lock (its lab:up); CI holds it.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { REPO } from '../../lab/hosts/config.ts'
import { readmeCommands, whereIs, type ReadmeCommand } from './commands.ts'

const SECTIONS = ['Quick start']
const LIMIT_MS = Number(process.env.ZXPLAY_README_LIMIT_MS) || 20 * 60_000
const README = process.env.ZXPLAY_README ?? path.join(REPO, 'README.md') // another README: to show a failure

const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8' })
const tailOf = (text: string, n = 40) => text.trimEnd().split('\n').slice(-n).join('\n')

/** A user's shell: none of npm's or tsx's variables that this test process runs under. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NODE_OPTIONS$|INIT_CWD$|TSX_)/i.test(k)) env[k] = v
  return env
}

/** Run one command line in bash in `cwd`; its whole process group ends at the limit. */
function runLine(command: string, cwd: string, log: string): Promise<{ code: number | null; ms: number; output: string; timedOut: boolean }> {
  const t0 = performance.now()
  const fd = fs.openSync(log, 'w', 0o600)
  const child = spawn('bash', ['-c', command], { cwd, env: userEnv(), detached: true, stdio: ['ignore', fd, fd] })
  fs.closeSync(fd)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }, LIMIT_MS)
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, ms: performance.now() - t0, output: fs.readFileSync(log, 'utf8'), timedOut })
    })
  })
}

test("the README's quick start, try-it lab included, runs on a fresh clone", async () => {
  const commands = readmeCommands(fs.readFileSync(README, 'utf8'), SECTIONS)
  const toRun = commands.filter((c) => !c.skip)
  const skipped = commands.filter((c) => c.skip)
  assert.ok(toRun.length > 0, 'no command to run')
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-readme-'))
  const clone = path.join(root, 'zxplay')
  const head = git(REPO, 'rev-parse', '--short', 'HEAD').stdout.trim()
  if (git(REPO, 'status', '--porcelain').stdout.trim()) console.log(`  note: uncommitted changes in ${REPO} are not in the clone (HEAD ${head})`)
  const done: ReadmeCommand[] = []
  let failure: string | undefined
  try {
    const cloned = git(root, 'clone', '-q', REPO, clone)
    assert.is(cloned.status, 0, `git clone: ${cloned.stderr}`)
    // the reference data lies beside the checkout, as ../shared does beside this one
    const shared = path.resolve(REPO, '../shared')
    if (fs.existsSync(shared)) fs.symlinkSync(fs.realpathSync(shared), path.join(root, 'shared'))
    console.log(`  fresh clone of ${head} in ${clone}`)
    for (const c of toRun) {
      const r = await runLine(c.command, clone, path.join(root, `line-${c.line}.log`))
      const seconds = (r.ms / 1000).toFixed(1)
      if (r.code === null || !c.okExits.includes(r.code)) {
        const why = r.timedOut ? `did not end within ${LIMIT_MS / 1000} s` : `exited ${r.code ?? 'on a signal'} after ${seconds} s (expected ${c.okExits.join(' or ')})`
        failure = `${whereIs(c)}\n  ${why}\n--- the last lines of its output ---\n${tailOf(r.output)}`
        break
      }
      done.push(c)
      console.log(`  ✓ ${seconds.padStart(6)} s  exit ${r.code}  ${whereIs(c)}`)
      if (/kubectl get nodes/.test(c.command)) console.log(tailOf(r.output, 10).replace(/^/gm, '      '))
    }
  } finally {
    // a lab the README brought up goes, whatever happened after it
    const up = done.some((c) => /lab:up/.test(c.command))
    const down = done.some((c) => /lab:down/.test(c.command))
    if (up && !down) spawnSync('npm', ['run', 'lab:down'], { cwd: clone, env: userEnv(), stdio: 'inherit' })
    fs.rmSync(root, { recursive: true, force: true })
  }
  console.log(`  ran ${done.length} command(s) of ${toRun.length}; skipped ${skipped.length} marked not in CI:`)
  for (const c of skipped) console.log(`    - ${whereIs(c)} (${c.skip})`)
  if (failure) assert.unreachable(failure)
})

test.run()
