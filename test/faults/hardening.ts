// Issue 14's cases on the lab: what an unlucky user or an attacker can do to a run (kill it in the
// middle of an upload, make a command print gigabytes, read an old secret back through --diff).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as assert from 'uvu/assert'
import { HOST_LOCK_FILE } from '../../lib/transport/host-lock.ts'
import { hostPath, onHost, type Lab } from '../../lab/netns/lab.ts'
import { derivedInventory, FIXTURES, newestLog, runCli, tmpDir, type CliResult } from '../e2e/helpers.ts'
import { failWith, type Case, type Detail } from './harness.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const tail = (r: CliResult) => `exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1500)}`

let runs = 0
/** The steps fixture on one host (node1, unless an inventory names it otherwise), in a fresh folder. */
function stepsOnNode1(inventory: string, seconds: number, limit = 'node1') {
  const dir = `/tmp/zxfault-hostlock-${process.pid}-${++runs}`
  return { dir, args: ['run', path.join(FIXTURES, 'faults/steps.mts'), '-i', inventory, '--limit', limit, '-e', `steps_dir=${dir}`, '-e', `steps_sleep=${seconds}`] }
}

/** A run in the background, with its pid. */
function background(args: string[], env: Record<string, string> = {}) {
  let pid = 0
  const done = runCli(args, { env, timeoutMs: 180_000, onSpawn: (p) => (pid = p) })
  return { done, pid: () => pid }
}

/** Another control machine (or user): a lock folder of its own, so only the lock on the host itself can stop its runs. */
const elsewhere = () => ({ ZXPLAY_LOCK_DIR: path.join(tmpDir(), 'locks') })

/** What the host's lock file says (the holder's line while a run holds it). */
const lockLine = (l: Lab, host: string) => {
  const file = hostPath(l, host, HOST_LOCK_FILE)
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
}

/** Wait until the host's lock file is empty: its holder let go (it empties it as it does). */
async function unlocked(l: Lab, host: string, timeoutMs = 5000): Promise<void> {
  for (const t0 = Date.now(); lockLine(l, host) !== ''; await sleep(50)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${host}'s ${HOST_LOCK_FILE} still names a holder ${timeoutMs / 1000} s after its run ended: ${lockLine(l, host)}`)
  }
}

/** Wait until the host's lock file names the run with this pid. */
async function lockedBy(l: Lab, host: string, pid: number, timeoutMs = 30_000): Promise<void> {
  for (const t0 = Date.now(); !lockLine(l, host).includes(`"pid":${pid},`); await sleep(50)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${host}'s ${HOST_LOCK_FILE} did not name pid ${pid} within ${timeoutMs / 1000} s (it holds ${JSON.stringify(lockLine(l, host))})`)
  }
}

/** A steps run on node1 (its slow step `seconds` long) that holds node1's lock while `fn` runs; its folders removed after. */
async function whileNode1Locked<T>(l: Lab, seconds: number, fn: (run: ReturnType<typeof background>) => Promise<T>): Promise<T> {
  const run = background(stepsOnNode1(l.inventory, seconds).args)
  try {
    await lockedBy(l, 'node1', run.pid())
    return await fn(run)
  } finally {
    await run.done.catch(() => {})
    await onHost(l, 'node1', `rm -rf /tmp/zxfault-hostlock-${process.pid}-*`)
  }
}

export function hardeningCases(lab: () => Lab): Case[] {
  return [
    {
      group: 'fault',
      name: 'two runs on one host under two names, from two control machines',
      async run(): Promise<Detail> {
        const l = lab()
        // the second names node1 by an ~/.ssh/config alias and keeps its control locks elsewhere:
        // nothing on the control machine ties the two runs together
        const config = path.join(tmpDir(), 'ssh_config')
        fs.writeFileSync(config, 'Host lab-one\n  HostName 10.77.0.11\n')
        const aliasInv = derivedInventory(l, (i) => {
          i.all.vars.ansible_ssh_common_args = `-F ${config}`
          i.all.children.control_plane.hosts = {}
          i.all.children.workers.hosts = { 'web-a': { address: 'lab-one' } }
        })
        const second = stepsOnNode1(aliasInv, 0, 'web-a')
        const env = elsewhere()
        return whileNode1Locked(l, 15, async (run) => {
          const r = await runCli(second.args, { env, timeoutMs: 60_000 })
          assert.is(r.code, 1, tail(r))
          assert.match(r.stderr, new RegExp(`^✗ web-a is in use by another zxplay run: pid ${run.pid()} on ${os.hostname()} \\(user ${os.userInfo().username}\\), started \\d{4}-\\d\\d-\\d\\dT[^,]+, \`zxplay run \\S+steps\\.mts -i \\S+ --limit node1 -e … -e …\`\\.\n  Run again when it has ended\\. It holds the lock ${HOST_LOCK_FILE} on web-a`))
          assert.is((await onHost(l, 'node1', `ls -A ${second.dir} 2>/dev/null | wc -l`)).stdout.trim(), '0', 'the refused run changed node1')
          const done = await run.done
          assert.is(done.code, 0, tail(done))
          await unlocked(l, 'node1')
          const after = await runCli(second.args, { env, timeoutMs: 60_000 })
          assert.is(after.code, 0, tail(after))
          return { note: `the alias run refused naming pid ${run.pid()}, nothing changed by it; it runs once the first has ended`, counts: { lost: 0 } }
        })
      },
    },
    {
      group: 'fault',
      name: 'a run killed -9 holding a host lock: the next run takes it, no cleanup',
      async run(): Promise<Detail> {
        const l = lab()
        return whileNode1Locked(l, 25, async (run) => {
          process.kill(-run.pid(), 'SIGKILL')
          await run.done
          const killed = Date.now()
          // from another control machine: only the host's own lock could stand in the way
          const next = await runCli(stepsOnNode1(l.inventory, 0).args, { env: elsewhere(), timeoutMs: 60_000 })
          assert.is(next.code, 0, tail(next))
          await unlocked(l, 'node1')
          return { note: `killed holding node1's lock; a run from elsewhere got it and finished ${((Date.now() - killed) / 1000).toFixed(1)} s after the kill`, counts: { lost: 0 } }
        })
      },
    },
    {
      group: 'fault',
      name: '--check beside a changing run on the same host: allowed',
      async run(): Promise<Detail> {
        const l = lab()
        return whileNode1Locked(l, 15, async (run) => {
          const holder = lockLine(l, 'node1')
          const check = await runCli([...stepsOnNode1(l.inventory, 0).args, '--check'], { env: elsewhere(), timeoutMs: 60_000 })
          assert.is(check.code, 0, tail(check))
          assert.not.match(check.stderr, 'in use')
          assert.is(lockLine(l, 'node1'), holder, "the check run touched the holder's lock")
          const done = await run.done
          assert.is(done.code, 0, tail(done))
          return { note: 'the --check run took no lock and ran; the changing run kept its lock and finished', counts: { lost: 0 } }
        })
      },
    },
    // Both transports: over a channel the content streams into the temporary file; the persistent
    // shell takes the whole input into a file of its own (in /dev/shm) before the command starts
    ...(['channel per command', 'persistent shell'] as const).map((transport) => ({
      group: 'fault' as const,
      name: `the runner killed -9 in the middle of a 256 MiB upload over SSH (${transport})`,
      async run(): Promise<Detail> {
        const l = lab()
        const dir = `/etc/kubernetes/zxfault-cut-${process.pid}`
        const flag = transport === 'persistent shell' ? '--persistent-shell' : '--no-persistent-shell'
        const upload = (kb: number, fill: string) => ['run', path.join(FIXTURES, 'faults/upload.mts'), '-i', l.inventory, '--limit', 'node1', '-e', `upload_dir=${dir}`, '-e', `upload_kb=${kb}`, '-e', `upload_fill=${fill}`, flag]
        const local = hostPath(l, 'node1', dir)
        await onHost(l, 'node1', `mkdir -p ${dir}`)
        try {
          const small = await runCli(upload(16, 'o'), { timeoutMs: 30_000 })
          assert.is(small.code, 0, tail(small))
          const before = fs.readFileSync(path.join(local, 'big.bin'))
          let pid = 0
          const big = runCli(upload(256 * 1024, 'z'), { timeoutMs: 120_000, onSpawn: (p) => (pid = p) })
          // kill it once part of the content is on the host: in the temporary file, or in the
          // persistent shell's input file (/dev/shm is this machine's in the namespace lab)
          const temp = () => fs.readdirSync(local).find((f) => f.startsWith('.zxplay.'))
          const partial = (): string | undefined => {
            if (transport === 'channel per command') return temp() && path.join(local, temp()!)
            return fs.readdirSync('/dev/shm').map((d) => path.join('/dev/shm', d, 'in')).find((f) => fs.existsSync(f) && fs.statSync(f).size > 16 * 2 ** 20)
          }
          const t0 = Date.now()
          for (;;) {
            const t = partial()
            if (t && fs.statSync(t).size > 16 * 2 ** 20 && fs.statSync(t).size < 256 * 2 ** 20) break
            if (Date.now() - t0 > 60_000) throw new Error(`the upload did not start within 60 s:\n${tail(await big)}`)
            await sleep(20)
          }
          process.kill(-pid, 'SIGKILL')
          await big
          // sshd gives the script end-of-input; it must refuse the short file and clean up
          for (let i = 0; i < 100 && temp(); i++) await sleep(100)
          const after = fs.readFileSync(path.join(local, 'big.bin'))
          if (!after.equals(before)) throw failWith(`big.bin was replaced by ${after.length} bytes of a ${256 * 2 ** 20}-byte upload`, { lost: 1 })
          assert.is(temp(), undefined, 'the temporary file was left')
          // the rerun takes over the killed run's lock and puts the whole file in place
          const again = await runCli(upload(1024, 'z'), { timeoutMs: 60_000 })
          assert.is(again.code, 0, tail(again))
          assert.is(fs.statSync(path.join(local, 'big.bin')).size, 1024 * 1024)
          if (transport === 'persistent shell') assert.is(partial(), undefined, "the persistent shell's input file was left")
          return { note: 'killed with part of the content sent: old file intact, temp file removed, rerun lands', counts: { lost: 0 } }
        } finally {
          await onHost(l, 'node1', `rm -rf ${dir}`)
        }
      },
    })),
    {
      group: 'fault',
      name: 'a command printing 700 MiB on one host: that task fails alone',
      async run(): Promise<Detail> {
        const l = lab()
        const logDir = tmpDir()
        const cmd = `if [ "$(hostname)" = node1 ]; then head -c 700M /dev/zero | tr '\\0' x; else echo fine; fi`
        const r = await runCli(['sh', 'all', '-i', l.inventory, '--log-dir', logDir, '--', cmd], { timeoutMs: 240_000 })
        assert.is(r.code, 2, tail(r))
        assert.match(r.stdout, /printed more than 256 MiB of output, so it was stopped/)
        assert.match(r.stdout, /RECAP[^\n]*\n(node\d[^\n]*\n)*node1\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=1\s+skipped=0/)
        assert.match(r.stdout, /node2\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0\s+skipped=0/)
        assert.match(fs.readFileSync(newestLog(logDir), 'utf8'), /characters of output left out by zxplay[\s\S]*recap \{/)
        return { note: `node1 failed at the 256 MiB cap after ${(r.ms / 1000).toFixed(1)} s, the others ran, recap and log complete`, counts: { lost: 0 } }
      },
    },
    {
      group: 'secret',
      name: '--diff -v of a secret upload after a rotation: the old key is nowhere',
      async run(): Promise<Detail> {
        const l = lab()
        const dest = `/etc/kubernetes/zxfault-token-${process.pid}`
        const [oldKey, newKey] = ['zxold-6e1f0a9c2b7d', 'zxnew-41c8e02f9a5b']
        const args = (value: string, more: string[], logDir: string) => ['run', path.join(FIXTURES, 'faults/secret-upload.mts'), '-i', l.inventory, '--limit', 'node1', '--log-dir', logDir, '-e', `secret_dest=${dest}`, '-e', `secret_value=${value}`, ...more]
        try {
          const first = await runCli(args(oldKey, [], tmpDir()), { timeoutMs: 60_000 })
          assert.is(first.code, 0, tail(first))
          const logDir = tmpDir()
          const rotated = await runCli(args(newKey, ['--diff', '-v'], logDir), { timeoutMs: 60_000 })
          assert.is(rotated.code, 0, tail(rotated))
          assert.match(rotated.stdout, /node1\s+changed\s+the token file holds the current token/)
          assert.is(fs.readFileSync(hostPath(l, 'node1', dest), 'utf8'), `${newKey}\n`)
          const places = { stdout: rotated.stdout, stderr: rotated.stderr, log: fs.readFileSync(newestLog(logDir), 'utf8') }
          const found = Object.entries(places).flatMap(([where, text]) =>
            [oldKey, Buffer.from(`${oldKey}\n`).toString('base64').slice(0, 16)].filter((f) => text.includes(f)).map((f) => `${f === oldKey ? 'the old key' : 'its base64'} in ${where}`)
          )
          if (found.length) throw failWith(found.join('; '), { leaks: found.length })
          return { note: 'the old key (and its base64) in no output and no log', counts: { leaks: 0 } }
        } finally {
          await onHost(l, 'node1', `rm -f ${dest}`)
        }
      },
    },
  ]
}
