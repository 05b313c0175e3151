// The CLI's edges that used to end in a stack trace: a reader that goes away (| head), a become
// password too short to be kept out of output. Through bin/zxplay.mjs on this machine
// (connection: local), each with its own lock and log folders; the exit codes through its main()
// in this process (bin/zxplay.mjs exits with what main() returns: the two process runs show that).
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { zxplayInProcess } from './_cli.ts'
import { tempDir } from './_helpers.ts'

const REPO = path.resolve(import.meta.dirname, '../..')
const { dir, remove } = tempDir('cli')
test.after(remove)
const inventory = path.join(dir, 'inventory.yaml')
fs.writeFileSync(inventory, 'all:\n  hosts:\n    here: {connection: local}\n')

/** bash -c script, with $ZX for the CLI and $FLAGS for its folders; async, so that runs can overlap (each with its own `locks`) */
function sh(script: string, input = '', locks = 'locks'): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { FORCE_COLOR: _, ...rest } = process.env
  const env = { ...rest, NO_COLOR: '1', ZXPLAY_LOCK_DIR: path.join(dir, locks), ZXPLAY_HOST_LOCK: path.join(dir, `${locks}.lock`), ZX: `node ${path.join(REPO, 'bin/zxplay.mjs')}`, FLAGS: `--log-dir ${path.join(dir, 'logs')} -i ${inventory}` }
  const child = spawn('bash', ['-c', script], { env, cwd: REPO, timeout: 60_000 })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.stdin.end(input)
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })))
}

test('| head: the reader going away ends nothing in a stack trace; the run still completes', async () => {
  // 10000 lines: about 190 KB of output, three times a pipe's 64 KB, so zxplay still writes after head has gone
  const r = await sh('$ZX sh all $FLAGS -- "seq 1 10000" | head -1; echo "zxplay exit ${PIPESTATUS[0]}"')
  assert.is(r.stdout, '\nzxplay exit 0\n')
  assert.not.match(r.stderr, /EPIPE|\n\s+at /)
})

test('a become password shorter than 4 characters: refused in one line, exit 5', async () => {
  const r = await sh('$ZX sh all $FLAGS -K -- true', 'abc\n')
  assert.is(r.status, 5, r.stderr)
  assert.is(r.stderr, '✗ the become password is shorter than 4 characters: zxplay could not keep it out of output and logs (it hides secrets by their text); use a longer one\n')
})

test('exit codes as Ansible: 0 when all ran, 2 when a host failed, 4 when one was unreachable (even if another failed)', async () => {
  // port 9 on this machine: nothing listens, so the connection is refused at once
  const mixed = path.join(dir, 'mixed.yaml')
  fs.writeFileSync(mixed, 'all:\n  hosts:\n    here: {connection: local}\n    gone: {ansible_host: 127.0.0.1, ansible_port: 9, ansible_user: nobody}\n')
  const status = async (pattern: string, cmd: string) => {
    const own = path.join(dir, `run-${pattern}-${cmd}`) // its locks (the runs would refuse each other otherwise) and log
    const env = { ZXPLAY_LOCK_DIR: path.join(own, 'locks'), ZXPLAY_HOST_LOCK: path.join(own, 'host.lock') }
    return (await zxplayInProcess(['sh', pattern, '--log-dir', path.join(own, 'logs'), '-i', mixed, '--timeout', '5', '--', cmd], env)).code
  }
  // the four runs at once
  assert.equal(await Promise.all([status('here', 'true'), status('here', 'false'), status('gone', 'true'), status('all', 'false')]), [0, 2, 4, 4])
})

test("a run's locks (this machine's and the host's) name its command line without -e values: another run is shown them", async () => {
  const here = path.join(dir, 'here.yaml')
  fs.writeFileSync(here, 'all:\n  hosts:\n    here: {connection: local}\n')
  const own = path.join(dir, 'run-locks')
  const env = { ZXPLAY_LOCK_DIR: path.join(own, 'locks'), ZXPLAY_HOST_LOCK: path.join(own, 'host.lock') }
  // the command reads both locks while the run holds them
  const r = await zxplayInProcess(['sh', 'here', '--log-dir', path.join(own, 'logs'), '-i', here, '-e', 'token=hunter2secret', '-v', '--', `cat ${env.ZXPLAY_LOCK_DIR}/*.lock ${env.ZXPLAY_HOST_LOCK}`], env)
  assert.is(r.code, 0, r.stderr)
  const commands = [...r.stdout.matchAll(/"command":"([^"]*)"/g)].map((m) => m[1])
  assert.ok(/"target":/.test(r.stdout) && /"hostPid":/.test(r.stdout) && commands.length >= 2, r.stdout) // both locks read
  for (const c of commands) assert.match(c!, /^zxplay sh here .* -e … -v --/)
  assert.not.match(r.stdout, 'hunter2secret')
})

test('Ctrl-C while a host does not answer the lock: the run ends at once, exit 99, nothing run', async () => {
  // a flock(1) that never answers stands in for a host gone quiet while the run takes its lock
  const bin = path.join(dir, 'quiet-flock')
  const marker = `41.${process.pid}`
  fs.mkdirSync(bin, { recursive: true })
  fs.writeFileSync(path.join(bin, 'flock'), `#!/bin/sh\nexec sleep ${marker}\n`, { mode: 0o755 })
  const ran = path.join(dir, 'quiet-ran')
  const t0 = performance.now()
  const r = await sh(
    `PATH=${bin}:$PATH $ZX sh all $FLAGS -- touch ${ran} & pid=$!
     for i in $(seq 200); do pgrep -f "^sleep ${marker}" >/dev/null && break; sleep 0.05; done
     kill -TERM $pid; wait $pid; echo "zxplay exit $?"`,
    '',
    'quiet'
  )
  const ms = performance.now() - t0
  assert.match(r.stdout, /zxplay exit 99\n$/, r.stderr)
  assert.match(r.stderr, /interrupted before the first task: nothing was changed/)
  // not the lock's 30 s wait for an answer (a busy machine takes seconds to start the CLI)
  assert.ok(ms < 15_000, `took ${Math.round(ms)} ms`)
  assert.not.ok(fs.existsSync(ran), 'the command ran')
  assert.is(spawnSync('pgrep', ['-f', `^sleep ${marker}`]).status, 1, 'the lock command still runs')
})

test.run()
