// Faults on the lab: each case breaks something real (sshd, the link, sudo, the disk, the run
// itself), checks that the run says what happened and ends without hanging, then repairs the
// lab and checks that a rerun converges with nothing lost (every step's file on every host, and
// a second rerun changes nothing).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as assert from 'uvu/assert'
import { hostPath, linkDown, linkUp, onHost, startSshd, stopSshd, type Lab } from '../../lab/netns/lab.ts'
import { derivedInventory, FIXTURES, newestLog, playbookFile, runCli, runJson, tmpDir, type CliResult } from '../e2e/helpers.ts'
import { failWith, type Case, type Detail } from './harness.ts'
import { acceptedConnections, connectedHosts, filesUnder } from './probes.ts'

const STEPS = path.join(FIXTURES, 'faults/steps.mts')
const STEP_FILES = ['first', 'slow', 'last']
const STEP_TASKS = ['first step leaves its file', 'slow step leaves its file', 'last step leaves its file']
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const tail = (r: CliResult) => `exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1500)}`

let runs = 0
/** A fresh folder on every host for one case's step files. */
const stepsDir = () => `/tmp/zxfault-steps-${process.pid}-${++runs}`

/** The steps fixture's command line: one file per step under dir, on every host. */
const stepsArgs = (inventory: string, dir: string, more: string[] = []) => ['run', STEPS, '-i', inventory, '-e', `steps_dir=${dir}`, ...more]

/** The step files missing on each host. */
function missing(lab: Lab, dir: string): string[] {
  return lab.hosts.flatMap((h) => STEP_FILES.filter((f) => !fs.existsSync(hostPath(lab, h.name, `${dir}/${f}`))).map((f) => `${h.name}:${f}`))
}

/**
 * Rerun the steps in dir until done, then once more: it must finish the work and then change
 * nothing, with every step file on every host. A loss fails the case, its error carrying the
 * number lost; the count returned for a passing case is therefore 0.
 */
async function converges(lab: Lab, dir: string): Promise<number> {
  const args = stepsArgs(lab.inventory, dir)
  const again = await runJson(args, { timeoutMs: 120_000 })
  assert.is(again.code, 0, `the rerun did not converge:\n${tail(again)}`)
  const twice = await runJson(args, { timeoutMs: 120_000 })
  assert.is(twice.code, 0, tail(twice))
  for (const [h, c] of Object.entries(twice.report.hosts)) assert.is(c.changed, 0, `${h} still changes on a converged rerun`)
  const lost = missing(lab, dir)
  if (lost.length) throw failWith(`files were lost: ${lost.join(', ')}`, { lost: lost.length })
  return 0
}

/** Wait until a process with this exact command line runs on this machine (lab hosts share its PID namespace). */
async function processRunning(cmdline: string, timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pids = pidsOf(cmdline)
    if (pids.length) return pids
    if (Date.now() > deadline) throw new Error(`no process \`${cmdline}\` started within ${timeoutMs}ms`)
    await sleep(50)
  }
}

function pidsOf(cmdline: string): number[] {
  const out: number[] = []
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() === cmdline) out.push(Number(e))
    } catch {}
  }
  return out
}

/** A run in the background, with its pid, for the cases that act while it runs. */
function background(args: string[], env: Record<string, string> = {}) {
  let pid = 0
  const done = runCli(args, { env, timeoutMs: 180_000, onSpawn: (p) => (pid = p) })
  return { done, pid: () => pid }
}

export function faultCases(lab: () => Lab, lockDir: string): Case[] {
  const steps = (dir: string, more: string[] = [], inv = lab().inventory) => stepsArgs(inv, dir, more)
  /** A steps run in a fresh dir, in the background, once its slow step runs (`sleep <seconds>` on the hosts). */
  const slowRun = async (seconds: number, more: string[] = []) => {
    const dir = stepsDir()
    const run = background(steps(dir, ['-e', `steps_sleep=${seconds}`, ...more]))
    await processRunning(`sleep ${seconds}`)
    return { dir, run }
  }
  /** Ctrl-C to a background run: it must end with exit 99 (Ansible's) within 5 s. */
  const interrupt = async (run: ReturnType<typeof background>) => {
    const sent = Date.now()
    process.kill(run.pid(), 'SIGINT')
    const r = await run.done
    const stopped = Date.now() - sent
    assert.is(r.code, 99, tail(r))
    assert.ok(stopped < 5000, `took ${stopped}ms to stop`)
    return { r, stopped }
  }
  return [
    {
      group: 'fault',
      name: 'a host down before the run',
      async run(): Promise<Detail> {
        const l = lab()
        const dir = stepsDir()
        await stopSshd(l, 'node3')
        try {
          const r = await runCli(steps(dir), { timeoutMs: 60_000 })
          assert.is(r.code, 4, tail(r))
          assert.match(r.stdout, /node3\s+unreachable\s+first step leaves its file/)
          assert.match(r.stdout, /10\.77\.0\.13:22: connection refused \(is sshd running\?\)/)
          for (const t of STEP_TASKS) assert.match(r.stdout, new RegExp(`node1\\s+changed\\s+${t}`), 'the others proceed')
          assert.equal(missing(l, dir), ['node3:first', 'node3:slow', 'node3:last'])
          // a playbook whose errors are fatal: everybody stops after the task the host missed
          const fatalDir = stepsDir()
          const fatal = await runJson(steps(fatalDir), { env: { ZXFAULT_FATAL: '1' }, timeoutMs: 60_000 })
          assert.is.not(fatal.code, 0)
          assert.equal([...new Set(fatal.report.tasks.map((t) => t.task))], [STEP_TASKS[0]], 'nobody went past the failed task')
        } finally {
          await startSshd(l, 'node3')
        }
        return { note: 'node3 unreachable (connection refused), others done; fatal: all stop; rerun converges', counts: { lost: await converges(l, dir) } }
      },
    },
    {
      group: 'fault',
      name: 'sshd killed in the middle of a task',
      async run(): Promise<Detail> {
        const l = lab()
        const { dir, run } = await slowRun(4)
        await stopSshd(l, 'node2') // kills node2's sshd and everything it started; the run must end by itself
        const r = await run.done
        try {
          assert.is(r.code, 2, tail(r))
          assert.match(r.stdout, /node2\s+failed\s+slow step leaves its file/)
          assert.match(r.stdout, /connection lost while the command ran/)
          assert.not.match(r.stdout, /node2\s+\S+\s+last step leaves its file/)
          assert.match(r.stdout, /node1\s+changed\s+last step leaves its file/)
          assert.ok(r.ms < 20_000, `took ${r.ms}ms`)
        } finally {
          await startSshd(l, 'node2')
        }
        return { note: `"connection lost" after ${r.ms}ms; sshd back; rerun converges`, counts: { lost: await converges(l, dir) } }
      },
    },
    {
      group: 'fault',
      name: 'the network cut (link down): connect and task timeouts',
      async run(): Promise<Detail> {
        const l = lab()
        const dir = stepsDir()
        await linkDown(l, 'node3')
        let before: CliResult, during: CliResult
        try {
          before = await runCli(steps(dir, ['-T', '2']), { timeoutMs: 60_000 })
          assert.is(before.code, 4, tail(before))
          assert.match(before.stdout, /node3\s+unreachable\s+first step leaves its file/)
          assert.match(before.stdout, /connect timed out after 2s/)
          assert.ok(before.ms < 12_000, `the connect timeout took ${before.ms}ms`)
        } finally {
          await linkUp(l, 'node3')
        }
        // cut while a command runs: node3's slow step waits 30 s, its limit is 3 s
        const slowOn3 = derivedInventory(l, (i) => (i.all.children.workers.hosts.node3.steps_sleep = 30))
        const run = background(steps(dir, [], slowOn3), { ZXFAULT_TASK_TIMEOUT_MS: '3000' })
        try {
          await processRunning('sleep 30')
          await linkDown(l, 'node3')
          during = await run.done
        } finally {
          await linkUp(l, 'node3')
        }
        assert.is(during.code, 2, tail(during))
        assert.match(during.stdout, /node3\s+failed\s+slow step leaves its file/)
        assert.match(during.stdout, /timed out after 3s \(the task's time limit\)/)
        assert.ok(during.ms < 20_000, `a silent host held the run for ${during.ms}ms`)
        return { note: `connect timeout in ${before.ms}ms; task timeout, run over in ${during.ms}ms; rerun converges`, counts: { lost: await converges(l, dir) } }
      },
    },
    {
      group: 'fault',
      name: 'a command that hangs',
      async run(): Promise<Detail> {
        const l = lab()
        const r = await runCli(['run', playbookFile('hang'), '-i', l.inventory], { timeoutMs: 30_000 })
        assert.is(r.code, 2, tail(r))
        for (const h of l.hosts) assert.match(r.stdout, new RegExp(`${h.name}\\s+failed\\s+sleeps forever`))
        assert.match(r.stdout, /timed out after 1\.5s \(the task's time limit\); the command was killed/)
        assert.match(r.stdout, /RECAP/)
        assert.ok(r.ms < 10_000, `took ${r.ms}ms`)
        await sleep(300)
        assert.equal(pidsOf('sleep 600'), [], 'the hung command still runs on a host')
        return { note: `ended by the 1.5 s task limit in ${r.ms}ms, remote command gone`, counts: { lost: 0 } }
      },
    },
    {
      group: 'fault',
      name: 'sudo asks for a password that was not given, or refuses it',
      async run(): Promise<Detail> {
        const l = lab()
        const pwInv = derivedInventory(l, (i) => (i.all.vars.user = 'zxlabpw'))
        const become = ['run', playbookFile('parallel'), '-i', pwInv, '--tags', 'become']
        const none = await runCli(become, { timeoutMs: 30_000 })
        assert.is(none.code, 2, tail(none))
        assert.match(none.stdout, /sudo on node1 asks for a password: run again with --ask-become-pass \(-K\)/)
        assert.ok(none.ms < 10_000, `took ${none.ms}ms`)
        const wrong = await runCli([...become, '-K'], { input: 'not-the-password\n', timeoutMs: 30_000 })
        assert.is(wrong.code, 2, tail(wrong))
        assert.match(wrong.stdout, /the become password was refused/)
        assert.ok(wrong.ms < 15_000, `took ${wrong.ms}ms`)
        const right = await runJson([...become, '-K'], { input: `${l.becomePass}\n`, timeoutMs: 30_000 })
        assert.is(right.code, 0, tail(right))
        return { note: `no -K: clear in ${none.ms}ms; wrong password: refused in ${wrong.ms}ms; right one works`, counts: { lost: 0 } }
      },
    },
    {
      group: 'fault',
      name: 'a node directory on a full file system',
      async run(): Promise<Detail> {
        const l = lab()
        const full = '/etc/kubernetes/zxfault-full'
        const mounted = await onHost(l, 'node1', `mkdir -p ${full} && mount -t tmpfs -o size=64k zxfault ${full}`)
        assert.is(mounted.code, 0, mounted.stderr)
        const upload = (kb: number, fill: string) => ['run', path.join(FIXTURES, 'faults/upload.mts'), '-i', l.inventory, '--limit', 'node1', '-e', `upload_dir=${full}`, '-e', `upload_kb=${kb}`, '-e', `upload_fill=${fill}`]
        const onNode1 = async (cmd: string) => (await onHost(l, 'node1', cmd)).stdout.trim()
        let failed: CliResult
        try {
          const small = await runCli(upload(16, 'o'), { timeoutMs: 30_000 })
          assert.is(small.code, 0, tail(small))
          const before = await onNode1(`sha256sum < ${full}/big.bin`)
          failed = await runCli(upload(200, 'z'), { timeoutMs: 30_000 })
          assert.is(failed.code, 2, tail(failed))
          assert.match(failed.stdout, /No space left on device/)
          assert.is(await onNode1(`sha256sum < ${full}/big.bin`), before, 'the old file is untouched')
          assert.is(await onNode1(`ls -A ${full}`), 'big.bin', 'no temporary file is left')
        } finally {
          await onHost(l, 'node1', `umount ${full}`)
        }
        const after = await runCli(upload(200, 'z'), { timeoutMs: 30_000 })
        assert.is(after.code, 0, tail(after))
        assert.is(fs.statSync(hostPath(l, 'node1', `${full}/big.bin`)).size, 200 * 1024)
        return { note: 'ENOSPC shown, old file intact, no temp file; with room, the upload lands', counts: { lost: 0 } }
      },
    },
    {
      group: 'fault',
      name: 'SIGINT during a run',
      async run(): Promise<Detail> {
        const l = lab()
        const logDir = tmpDir()
        const { dir, run } = await slowRun(20, ['--log-dir', logDir])
        const { r, stopped } = await interrupt(run)
        assert.match(r.stdout, /interrupted at steps › slow step leaves its file: it did not complete, and nothing after it ran/)
        assert.match(r.stdout, /node1\s+changed\s+first step leaves its file/)
        assert.match(r.stdout, /RECAP[^\n]*\nnode1\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=1\s+skipped=0/)
        const log = fs.readFileSync(newestLog(logDir), 'utf8')
        assert.match(log, /interrupted at steps › slow step leaves its file: it did not complete, and nothing after it ran/)
        assert.match(log, /recap \{/)
        await sleep(500)
        assert.equal(pidsOf('sleep 20'), [], 'the interrupted commands still run on the hosts')
        assert.equal(filesUnder(lockDir), [], 'the lock was left behind')
        return { note: `exit 99 ${stopped}ms after SIGINT; remote commands stopped; log and recap say where; rerun converges`, counts: { lost: await converges(l, dir) } }
      },
    },
    {
      group: 'fault',
      name: 'SIGINT between two commands of a task',
      async run(): Promise<Detail> {
        const l = lab()
        const dir = stepsDir()
        // a poll of 100 short commands 0.1 s apart, then `sleep 20`: SIGINT lands between two
        // commands, when none is in flight, and a run that reconnected for the next would go on
        const run = background(steps(dir, ['-e', 'steps_sleep=20', '-e', 'steps_polls=100']))
        const polling = Date.now()
        while (missing(l, dir).some((f) => f.endsWith(':first'))) {
          if (Date.now() - polling > 15_000) throw new Error('the first step did not finish within 15 s')
          await sleep(50)
        }
        await sleep(500)
        const { r, stopped } = await interrupt(run)
        assert.match(r.stdout, /interrupted while this task ran/)
        assert.match(r.stdout, /interrupted at steps › slow step leaves its file/)
        await sleep(500)
        assert.equal(pidsOf('sleep 20'), [], 'the slow step started after the interrupt')
        assert.equal(filesUnder(lockDir), [], 'the lock was left behind')
        return { note: `exit 99 ${stopped}ms after SIGINT; no command after it ran`, counts: { lost: await converges(l, dir) } }
      },
    },
    {
      group: 'fault',
      name: 'two runs at once against the same hosts',
      async run(): Promise<Detail> {
        const l = lab()
        const { dir, run: first } = await slowRun(15)
        const before = acceptedConnections(l)
        const second = await runCli(steps(dir), { timeoutMs: 30_000 })
        assert.is(second.code, 1, tail(second))
        assert.match(second.stderr, new RegExp(`node\\d \\(10\\.77\\.0\\.1\\d:22\\) is in use by another zxplay run: pid ${first.pid()} on ${os.hostname()}, started \\d{4}-\\d\\d-\\d\\dT`))
        assert.match(second.stderr, /Run again when it has ended/)
        assert.equal(connectedHosts(before, acceptedConnections(l)), [], 'the refused run connected')
        const check = await runCli([...steps(dir), '--check'], { timeoutMs: 30_000 })
        assert.is(check.code, 0, tail(check))
        assert.match(check.stderr, new RegExp(`is being changed by another run \\(pid ${first.pid()}`))
        const r = await first.done
        assert.is(r.code, 0, tail(r))
        assert.equal(filesUnder(lockDir), [], 'the first run left its lock')
        return { note: `second refused naming pid ${first.pid()}; --check allowed with a note; after the first ends it runs`, counts: { lost: await converges(l, dir) } }
      },
    },
    {
      group: 'fault',
      name: 'a stale lock from a killed run',
      async run(): Promise<Detail> {
        const l = lab()
        const { dir, run: killed } = await slowRun(25)
        process.kill(-killed.pid(), 'SIGKILL')
        await killed.done
        const locks = filesUnder(lockDir)
        assert.is(locks.length, 3, `the killed run's locks: ${locks}`)
        assert.match(fs.readFileSync(path.join(lockDir, locks[0]!), 'utf8'), `"pid":${killed.pid()}`)
        const r = await runCli(steps(dir, ['-e', 'steps_sleep=0']), { timeoutMs: 60_000 })
        assert.is(r.code, 0, tail(r))
        assert.match(r.stdout, new RegExp(`node1\\s+· took over the lock of pid ${killed.pid()} \\(started [^)]+\\): that run is gone`))
        assert.equal(filesUnder(lockDir), [], 'locks left behind')
        return { note: `pid ${killed.pid()} killed -9; its locks recognised as stale and taken over`, counts: { lost: await converges(l, dir) } }
      },
    },
  ]
}
