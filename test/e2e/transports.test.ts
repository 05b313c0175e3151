// The same cases over both transports on the lab (sshd, a login shell, sudo): a channel per
// command (--no-persistent-shell) and the persistent shell (--persistent-shell). The local side
// of the same cases is test/unit/transports.test.ts.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { labDown, labUp, type Lab } from '../../lab/netns/lab.ts'
import { BIN, derivedInventory, playbookFile, runCli, runJson } from './helpers.ts'

const test = suite('both transports on the lab')
let lab: Lab

test.before(async () => {
  lab = await labUp({ hosts: 3 })
})
test.after(async () => {
  await labDown()
})

/** Processes on this machine (the lab's hosts are namespaces of it) whose command line is `text`. */
function processesWith(text: string): string[] {
  return fs.readdirSync('/proc').flatMap((e) => {
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
      return /^\d+$/.test(e) && cmd === text ? [cmd] : []
    } catch {
      return []
    }
  })
}

for (const flag of ['--no-persistent-shell', '--persistent-shell']) {
  test(`${flag}: hostile output, 100 MB, state, stdin, NOPASSWD become, a killed shell`, async () => {
    const r = await runJson(['run', playbookFile('transports'), '-i', lab.inventory, flag], { timeoutMs: 300_000 })
    const bad = r.report.tasks.filter((t) => t.status !== 'ok' && t.status !== 'changed')
    assert.equal(bad, [], r.stderr)
    assert.is(r.code, 0)
  })

  test(`${flag}: a hung command is stopped at its limit on every host`, async () => {
    const r = await runJson(['run', playbookFile('hang'), '-i', lab.inventory, flag], { timeoutMs: 30_000 })
    assert.is(r.code, 2)
    assert.equal(Object.values(r.report.hosts).map((h) => h.failed), [1, 1, 1])
    assert.ok(r.ms < 15_000, `${r.ms} ms`)
    assert.equal(processesWith('sleep 600'), [])
  })

  test(`${flag}: become with a password (-K), asked once, never shown`, async () => {
    const inv = derivedInventory(lab, (i) => (i.all.vars.user = 'zxlabpw'))
    const r = await runCli(['sh', 'all', '-i', inv, '-b', '-K', '-v', flag, '--', 'id -un; echo "$SUDO_USER"'], { input: `${lab.becomePass}\n`, env: { SSH_AUTH_SOCK: '' } })
    assert.is(r.code, 0, r.stdout + r.stderr)
    assert.is((r.stdout.match(/^node\d\s+· root$/gm) ?? []).length, 3, r.stdout)
    assert.not.ok((r.stdout + r.stderr).includes(lab.becomePass))
    const wrong = await runCli(['sh', 'node1', '-i', inv, '-b', '-K', flag, '--', 'id -un'], { input: 'wrong-password\n', env: { SSH_AUTH_SOCK: '' } })
    assert.is(wrong.code, 2, wrong.stdout)
    assert.match(wrong.stdout, /password was refused|incorrect password/)
  })

  test(`${flag}: Ctrl-C during a long command on 3 hosts stops it on each at once`, async () => {
    const marker = `77.${process.pid}${flag.length}`
    const child = spawn(process.execPath, [BIN, 'sh', 'all', '-i', lab.inventory, flag, '--', `sleep ${marker}`], { stdio: 'ignore', detached: true })
    const t0 = performance.now()
    let code: unknown
    try {
      for (let i = 0; i < 100 && processesWith(`sleep ${marker}`).length < 3; i++) await new Promise((r) => setTimeout(r, 100))
      assert.is(processesWith(`sleep ${marker}`).length, 3)
    } finally {
      child.kill('SIGINT')
      code = await new Promise((r) => child.once('close', r))
    }
    assert.is(code, 99)
    assert.ok(performance.now() - t0 < 15_000)
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(processesWith(`sleep ${marker}`), [])
  })
}

test.run()
