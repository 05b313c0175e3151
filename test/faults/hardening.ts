// Issue 14's cases on the lab: what an unlucky user or an attacker can do to a run (kill it in the
// middle of an upload, make a command print gigabytes, read an old secret back through --diff).
import fs from 'node:fs'
import path from 'node:path'
import * as assert from 'uvu/assert'
import { hostPath, onHost, type Lab } from '../lab/lab.ts'
import { FIXTURES, newestLog, runCli, tmpDir, type CliResult } from '../e2e/helpers.ts'
import { failWith, type Case, type Detail } from './harness.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const tail = (r: CliResult) => `exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1500)}`

export function hardeningCases(lab: () => Lab): Case[] {
  return [
    {
      group: 'fault',
      name: 'the runner killed -9 in the middle of a 256 MiB upload over SSH',
      async run(): Promise<Detail> {
        const l = lab()
        const dir = `/etc/kubernetes/zxfault-cut-${process.pid}`
        const upload = (kb: number, fill: string) => ['run', path.join(FIXTURES, 'faults/upload.mts'), '-i', l.inventory, '--limit', 'node1', '-e', `upload_dir=${dir}`, '-e', `upload_kb=${kb}`, '-e', `upload_fill=${fill}`]
        const local = hostPath(l, 'node1', dir)
        await onHost(l, 'node1', `mkdir -p ${dir}`)
        try {
          const small = await runCli(upload(16, 'o'), { timeoutMs: 30_000 })
          assert.is(small.code, 0, tail(small))
          const before = fs.readFileSync(path.join(local, 'big.bin'))
          let pid = 0
          const big = runCli(upload(256 * 1024, 'z'), { timeoutMs: 120_000, onSpawn: (p) => (pid = p) })
          // kill it once part of the content is in the temporary file on the host
          const temp = () => fs.readdirSync(local).find((f) => f.startsWith('.zxplay.'))
          const t0 = Date.now()
          for (;;) {
            const t = temp()
            if (t && fs.statSync(path.join(local, t)).size > 16 * 2 ** 20) break
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
          return { note: 'killed with part of the content sent: old file intact, temp file removed, rerun lands', counts: { lost: 0 } }
        } finally {
          await onHost(l, 'node1', `rm -rf ${dir}`)
        }
      },
    },
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
