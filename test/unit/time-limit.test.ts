// wrapCommand with a time limit, as the runner sends every task command: the script runs in the
// login shell when it is bash (else in the bash it becomes), and a watchdog in that shell ends the
// command's process group at the limit. Run here as sshd runs a command: `<login shell> -c`, in a
// new session (setsid).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { buildCommand, TIMED_OUT_EXIT, wrapCommand } from '../../lib/transport/shell.ts'
import { alive, tempDir } from './_helpers.ts'

const { dir: tmp, remove } = tempDir('limit')
test.after(remove)

type Run = { pid: number; code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

/** `shell -c command` in a new session, like sshd; `argv0` as the login shell's name. */
function run(shell: string, command: string, opts: { argv0?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const t0 = performance.now()
  const child = spawn(shell, ['-c', command], { detached: true, cwd: tmp, argv0: opts.argv0, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ pid: child.pid!, code, signal, stdout, stderr, ms: performance.now() - t0 }))
  )
}

const limited = (script: string, ms = 60_000) => wrapCommand(script, undefined, ms)
const cmd = (pieces: TemplateStringsArray, ...args: unknown[]) => buildCommand(pieces, args)


/** Every live process of a session (the command's, since it was started as one). */
function sessionMembers(sid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        return Number(fields[3]) === sid && fields[0] !== 'Z'
      } catch {
        return false
      }
    })
    .map(Number)
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

// Login shells: bash, sh (dash here), and bash started as `sh` (POSIX mode: no process substitution).
const SHELLS: [string, string, string | undefined][] = [
  ['bash', 'bash', undefined],
  ['dash', 'sh', undefined],
  ['bash as sh (POSIX mode)', 'bash', 'sh'],
]

for (const [name, shell, argv0] of SHELLS) {
  test(`${name}: one process runs the script, in strict mode, with bash syntax`, async () => {
    const r = await run(shell, limited(`echo "$$" "\${BASH_VERSION:+bash}" $'a\\tb' <(echo ps) "$-"`), { argv0 })
    assert.is(r.code, 0, r.stderr)
    const [pid, bash, tab, ps, flags] = r.stdout.trim().split(' ')
    assert.is(Number(pid), r.pid, 'the login shell runs the script itself, or execs the bash that does')
    assert.equal([bash, tab, ps?.startsWith('/dev/fd/')], ['bash', 'a\tb', true])
    assert.match(flags!, /e/)
  })

  test(`${name}: set -e, pipefail and set -u hold`, async () => {
    for (const [script, code, out] of [
      ['echo a; false; echo b', 1, 'a\n'],
      ['false | cat; echo after', 1, ''],
      ['(exit 3) | cat', 3, ''],
      ['echo "${ZXPLAY_UNSET_VAR}"; echo after', 1, ''],
    ] as const) {
      const r = await run(shell, limited(script), { argv0 })
      assert.equal([r.code, r.stdout], [code, out], `${script}: ${r.stderr}`)
    }
  })

  test(`${name}: hostile values arrive as one argument`, async () => {
    const values = ["it's", '$(touch canary)', '`touch canary`', '; touch canary', 'a\nb', '*', '$HOME ${IFS}', '!! !$', "'\\'' $'\\x41'", '']
    for (const v of values) {
      const r = await run(shell, limited(cmd`printf '%s' ${v}`), { argv0 })
      assert.equal([r.code, r.stdout, r.stderr], [0, v, ''], JSON.stringify(v))
    }
    assert.not.ok(fs.existsSync(path.join(tmp, 'canary')))
  })
}

test('a command that ends in time leaves nothing behind, and `wait` does not wait for the watchdog', async () => {
  const r = await run('bash', limited('sleep 0.1 & wait; echo done'))
  assert.is(r.stdout, 'done\n')
  assert.ok(r.ms < 2000, `${r.ms} ms`)
  await pause(100)
  assert.equal(sessionMembers(r.pid), [])
})

test('at the limit: TERM to the whole group, exit 124, children gone', async () => {
  const r = await run('bash', limited('sleep 30 & echo $!; sleep 30', 300))
  assert.is(r.code, TIMED_OUT_EXIT)
  assert.ok(r.ms >= 290 && r.ms < 2000, `${r.ms} ms`)
  await pause(100)
  assert.not.ok(alive(Number(r.stdout.trim())), 'the background child was killed')
  assert.equal(sessionMembers(r.pid), [], 'the watchdog went too')
})

test('a TERM to the group from elsewhere (before the limit): the command exits 143 after its EXIT trap, children gone too', async () => {
  const t0 = performance.now()
  const child = spawn('bash', ['-c', limited("trap 'echo cleaned' EXIT; sleep 30 & echo $!; sleep 30")], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
  while (!out.includes('\n')) await pause(20)
  process.kill(-child.pid!, 'SIGTERM') // as sshd's signal request does it (killpg)
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  assert.equal([code, signal], [143, null])
  assert.match(out, /\ncleaned\n$/)
  assert.ok(performance.now() - t0 < 5000)
  await pause(100)
  assert.not.ok(alive(Number(out.split('\n')[0])), 'the background child is gone')
  assert.equal(sessionMembers(child.pid!), [])
})

test('at the limit, under sh (dash) too', async () => {
  const r = await run('sh', limited('sleep 30', 300))
  assert.is(r.code, TIMED_OUT_EXIT)
})

test('a command the script `exec`s is still limited', async () => {
  const r = await run('bash', limited('exec sleep 30', 300))
  assert.is(r.signal, 'SIGTERM')
  assert.ok(r.ms < 2000, `${r.ms} ms`)
})

test('what ignores TERM is killed 2 s later', async () => {
  const r = await run('bash', limited(`bash -c 'trap "" TERM; sleep 30'; echo never`, 300))
  assert.is(r.signal, 'SIGKILL')
  assert.ok(r.ms >= 2200 && r.ms < 5000, `${r.ms} ms`)
  assert.is(r.stdout, '')
  await pause(100)
  assert.equal(sessionMembers(r.pid), [])
})

test('a background child the command left running is not stopped once the command has ended', async () => {
  // timeout(1) behaved so too: the limit is the command's, not its daemons'
  const r = await run('bash', limited('sleep 2 >/dev/null 2>&1 </dev/null & echo $!', 300))
  assert.is(r.code, 0)
  await pause(600)
  const child = Number(r.stdout.trim())
  assert.ok(alive(child), 'the background child still runs after the limit')
  process.kill(child)
})

test('under become: timeout(1) after sudo, as before (a stand-in sudo that runs what follows --)', async () => {
  const bin = path.join(tmp, 'bin')
  fs.mkdirSync(bin, { recursive: true })
  fs.writeFileSync(path.join(bin, 'sudo'), `#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n`, { mode: 0o755 })
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` }
  const become = { user: 'root', withPassword: false }
  assert.match(wrapCommand('true', become, 1500), /^sudo -n -H -u 'root' -- timeout -k 2 1\.500 bash -c /)
  const ok = await run('sh', wrapCommand('echo "$0" ok', become, 60_000), { env })
  assert.equal([ok.code, ok.stdout], [0, 'bash ok\n'], ok.stderr)
  const hung = await run('sh', wrapCommand('sleep 30', become, 300), { env })
  assert.is(hung.code, TIMED_OUT_EXIT)
  assert.ok(hung.ms < 2000, `${hung.ms} ms`)
})

test.run()
