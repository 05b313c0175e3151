import fs from 'node:fs'
import { PassThrough } from 'node:stream'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { exec, type Connection, type ExecOptions } from '../../lib/transport/connection.ts'
import { connectLocal } from '../../lib/transport/local.ts'
import { BECOME_OK, shq, SUDO_PROMPT, TIMED_OUT_EXIT, wrapCommand } from '../../lib/transport/shell.ts'
import { alive, tempDir } from './_helpers.ts'

const conn = connectLocal('local')
const run = (command: string, opts?: ExecOptions) => exec(conn, command, opts)


test('stdout, stderr, exit code', async () => {
  const r = await run('echo out; echo err >&2; exit 3')
  assert.equal(
    { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, lost: r.lost },
    { stdout: 'out\n', stderr: 'err\n', exitCode: 3, signal: null, timedOut: false, lost: false }
  )
})

test('exit 0', async () => assert.is((await run('true')).exitCode, 0))
test('input goes to stdin, then stdin ends', async () => assert.is((await run('cat; echo end', { input: 'a\nb' })).stdout, 'a\nbend\n'))
test('a Buffer input', async () => assert.is((await run('wc -c', { input: Buffer.alloc(3) })).stdout.trim(), '3'))
test('no input: stdin is closed, not left open', async () => assert.is((await run('cat; echo eof')).stdout, 'eof\n'))
test('a large input is not stuck on a full pipe', async () => {
  const input = 'x'.repeat(4 << 20)
  assert.is((await run('cat', { input })).stdout.length, input.length)
})
test('a command that ignores its input still ends', async () => assert.is((await run('exit 0', { input: 'x'.repeat(1 << 20) })).exitCode, 0))
test('utf-8 split across chunks is decoded whole', async () => assert.is((await run(`printf '\\xc3'; sleep 0.05; printf '\\xbc'`)).stdout, 'ü'))

test('onStdout and onStderr stream while the command runs', async () => {
  // the command goes on only when the callback has seen its last line (a file says so), so the
  // order holds however slow this machine is; without streaming it would wait out its 10 s
  const { dir, remove } = tempDir('stream')
  const seen: string[] = []
  const saw = (s: string) => fs.writeFileSync(`${dir}/${seen.push(s)}`, '')
  const after = (n: number) => `for i in $(seq 200); do [ -e ${dir}/${n} ] && break; sleep 0.05; done`
  const r = await run(`echo one; ${after(1)}; echo two >&2; ${after(2)}; echo three`, {
    onStdout: (s) => saw(`out:${s}`),
    onStderr: (s) => saw(`err:${s}`),
  })
  remove()
  assert.equal(seen, ['out:one\n', 'err:two\n', 'out:three\n'])
  assert.equal([r.stdout, r.stderr], ['one\nthree\n', 'two\n'])
})

test('timeout: the wrapped command and its children are killed by timeout(1) on the host', async () => {
  const pids: number[] = []
  const command = wrapCommand('sleep 30 & echo $$ $!; wait', undefined, 300)
  const r = await run(command, { timeoutMs: 300, onStdout: (s) => pids.push(...s.trim().split(' ').map(Number)) })
  assert.ok(r.timedOut)
  assert.is(r.exitCode, TIMED_OUT_EXIT)
  assert.not.ok(r.lost)
  assert.ok(r.ms >= 290 && r.ms < 2000, `${r.ms} ms`)
  assert.is(pids.length, 2)
  await new Promise((resolve) => setTimeout(resolve, 100))
  for (const pid of pids) assert.not.ok(alive(pid), `pid ${pid} still runs`)
})

test('timeout backstop: a command that ignores its limit is killed a little later', async () => {
  const r = await run('sleep 30', { timeoutMs: 200 })
  assert.ok(r.timedOut)
  assert.is(r.exitCode, null)
  assert.not.ok(r.lost)
  // limit + the 3 s backstop, with room for a busy machine: far below the command's own 30 s
  assert.ok(r.ms >= 200 && r.ms < 15000, `${r.ms} ms`)
})

test('no timeout when the command ends in time', async () => {
  const r = await run('sleep 0.05', { timeoutMs: 5000 })
  assert.equal([r.timedOut, r.exitCode], [false, 0])
})

/** A transport whose streams and `done` are driven by hand. */
function fakeConnection(drive: (io: { stdout: PassThrough; stderr: PassThrough; exit: (code: number | null) => void }) => void): Connection {
  return {
    host: 'fake',
    async spawn() {
      const [stdin, stdout, stderr] = [new PassThrough(), new PassThrough(), new PassThrough()]
      const done = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) =>
        drive({ stdout, stderr, exit: (exitCode) => resolve({ exitCode, signal: null }) })
      )
      return { stdin, stdout, stderr, done, kill() {} }
    },
    async close() {},
  }
}

test('output that arrives after `done` (exit before close) is kept', async () => {
  const late = fakeConnection(({ stdout, stderr, exit }) => {
    exit(0) // like child_process 'exit', or an SSH exit-status, before the last data
    setTimeout(() => {
      stdout.end('late out')
      stderr.end('late err')
    }, 20)
  })
  const r = await exec(late, 'x')
  assert.equal([r.exitCode, r.stdout, r.stderr], [0, 'late out', 'late err'])
})

test('lost: the transport ended without an exit status', async () => {
  const lost = fakeConnection(({ stdout, stderr, exit }) => {
    stdout.end('partial')
    stderr.end()
    exit(null)
  })
  const r = await exec(lost, 'x')
  assert.equal([r.lost, r.timedOut, r.exitCode, r.stdout], [true, false, null, 'partial'])
})

test('a transport that never ends its streams does not hang exec', async () => {
  const r = await exec(fakeConnection(({ exit }) => exit(null)), 'x')
  assert.ok(r.lost)
})
// ---- the become password gate: scripts that behave like `sudo -S -p PROMPT` ----

const PASSWORD = 's3cret pass'
/** Like sudo: some noise, the prompt on stderr (no newline), one password line, then BECOME_OK and the command. */
const fakeSudo = (command: string, opts: { noise?: string; tries?: number } = {}) => `
  printf '%s' ${shq(opts.noise ?? '')} >&2
  tries=${opts.tries ?? 3}
  while :; do
    printf '%s' '${SUDO_PROMPT.slice(0, 8)}' >&2; sleep 0.02; printf '%s' '${SUDO_PROMPT.slice(8)}' >&2
    IFS= read -r pw || exit 1
    [ "$pw" = ${shq(PASSWORD)} ] && break
    echo 'Sorry, try again.' >&2
    tries=$((tries - 1)); [ "$tries" -gt 0 ] || { echo 'sudo: 3 incorrect password attempts' >&2; exit 1; }
  done
  printf '%s\\n' ${BECOME_OK} >&2
  ${command}`

test('become: the password answers the prompt; the command gets only the input', async () => {
  const r = await run(fakeSudo('cat; echo done >&2'), { becomePassword: PASSWORD, input: 'the input\n' })
  assert.equal([r.exitCode, r.stdout, r.stderr], [0, 'the input\n', 'done\n'])
})

test('become: stderr before the prompt is kept, the markers are not', async () => {
  const stderr: string[] = []
  const r = await run(fakeSudo('echo late >&2', { noise: 'sudo: unable to resolve host x\n' }), { becomePassword: PASSWORD, onStderr: (s) => stderr.push(s) })
  assert.is(r.stderr, 'sudo: unable to resolve host x\nlate\n')
  assert.is(stderr.join(''), r.stderr)
  assert.not.ok(r.stderr.includes(SUDO_PROMPT) || r.stderr.includes(BECOME_OK))
})

test('become without a prompt (NOPASSWD): the password is never written', async () => {
  const r = await run(`printf '%s\\n' ${BECOME_OK} >&2; cat`, { becomePassword: PASSWORD, input: 'only this' })
  assert.equal([r.exitCode, r.stdout, r.stderr], [0, 'only this', ''])
})

test('become: a wrong password is answered once, then the command is killed', async () => {
  const r = await run(fakeSudo('cat', { tries: 3 }), { becomePassword: 'wrong', input: 'never sent', timeoutMs: 5000 })
  assert.is(r.stdout, '')
  assert.is(r.stderr, 'Sorry, try again.\nsudo: the become password was refused\n')
  assert.is(r.signal, 'SIGKILL')
  assert.not.ok(r.timedOut)
})

test('become: sudo refusing without a prompt shows its own words', async () => {
  const r = await run(`echo 'deploy is not in the sudoers file.' >&2; exit 1`, { becomePassword: PASSWORD, input: 'x' })
  assert.equal([r.exitCode, r.stdout, r.stderr], [1, '', 'deploy is not in the sudoers file.\n'])
})

/** Like util-linux su without a terminal: "Password: " on stderr (no newline), one line read, "su: Authentication failure" on a wrong one. */
const fakeSu = (command: string) => `
  printf 'Password: ' >&2
  IFS= read -r pw || pw=
  [ "$pw" = ${shq(PASSWORD)} ] || { sleep 0.05; echo 'su: Authentication failure' >&2; exit 1; }
  printf '%s\\n' ${BECOME_OK} >&2
  ${command}`

test('su: the password answers su\'s own prompt; the command gets only the input', async () => {
  const r = await run(fakeSu('cat'), { su: true, becomePassword: PASSWORD, input: 'the input\n' })
  assert.equal([r.exitCode, r.stdout, r.stderr], [0, 'the input\n', ''])
})

test('su without a password: stdin ends at the prompt, the input never reaches su as a password', async () => {
  const r = await run(fakeSu('cat'), { su: true, input: PASSWORD + '\n' })
  assert.equal([r.exitCode, r.stdout, r.stderr], [1, '', 'su: Authentication failure\n'])
})

test('su as a user that needs no password (root): no prompt, the password is never written', async () => {
  const r = await run(`printf '%s\\n' ${BECOME_OK} >&2; cat`, { su: true, becomePassword: PASSWORD, input: 'only this' })
  assert.equal([r.exitCode, r.stdout, r.stderr], [0, 'only this', ''])
})

test('su: the wrapped command runs the script as bash under su USER -c', () => {
  const c = wrapCommand('echo hi', { user: 'app', withPassword: true, method: 'su' }, 5000)
  assert.ok(c.startsWith("su 'app' -c 'exec timeout -k 2 5.000 bash -c "), c)
})

test('large output: the first and last part kept, the rest counted, not held', async () => {
  const r = await run("head -c 5000000 /dev/zero | tr '\\0' x; echo; echo the end", { output: { keep: 1000, max: 100_000_000 } })
  assert.is(r.exitCode, 0)
  assert.ok(r.stdout.startsWith('x'.repeat(1000) + '\n[… 4998009 characters of output left out by zxplay …]\n'), r.stdout.slice(0, 1100))
  assert.ok(r.stdout.endsWith('x\nthe end\n'))
  assert.ok(r.stdout.length < 2100, String(r.stdout.length))
  assert.is(r.overflow, false)
})

test('output past the hard cap: the command is stopped, and says so', async () => {
  const t0 = performance.now()
  const r = await run('echo start; yes', { output: { keep: 1000, max: 5_000_000 } })
  assert.is(r.overflow, true)
  assert.is(r.lost, false)
  assert.ok(r.stdout.startsWith('start\ny\n'))
  // `yes` never ends by itself: any bound well under the suite's patience shows it was stopped
  assert.ok(performance.now() - t0 < 20000)
})

test.run()
