// Exit codes and recap rows judged by ansible-playbook: the same playbook and inventory
// (test/fixtures/ansible/outcomes.yml, test/fixtures/playbooks/outcomes.mts) for changed, failed,
// skipped and unreachable hosts, alone and together, run by both on this machine.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BIN, FIXTURES, playbookFile } from '../e2e/helpers.ts'
import { ansibleCli, ansibleEnv } from './_ansible.ts'
import { tempDir } from '../unit/_helpers.ts'

const { dir, remove } = tempDir('outcomes')
test.after(remove)
const INVENTORY = path.join(FIXTURES, 'ansible/outcomes-inventory.yaml')
fs.copyFileSync(path.join(FIXTURES, 'ansible/outcomes.yml'), path.join(dir, 'outcomes.yml'))

/** The recap's host rows (Ansible: after PLAY RECAP; zxplay: after RECAP (…s)), trailing spaces kept. */
const rows = (out: string) => {
  const lines = out.split('\n')
  const at = lines.findIndex((l) => /^(PLAY )?RECAP/.test(l))
  return lines.slice(at + 1).filter((l) => / : ok=/.test(l))
}

// no NODE_OPTIONS (npx's --import tsx would resolve from the temp dir): bin/zxplay.mjs loads tsx itself
const { FORCE_COLOR: _, NODE_OPTIONS: __, ...env } = process.env
// a lock folder of its own: a zxplay run elsewhere on this machine holds `local`'s lock in ~/.zxplay/locks
const zxplayEnv = { ...env, NO_COLOR: '1', ZXPLAY_LOCK_DIR: path.join(dir, 'locks'), ZXPLAY_HOST_LOCK: path.join(dir, 'host.lock') }

/** Start a run in its own process group, Ctrl-C it (SIGINT to the group, as a terminal does) once `started` shows; its exit code. */
function interrupted(cmd: string, args: string[], env: NodeJS.ProcessEnv, started: RegExp): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let sent = false
    const seen = (d: Buffer) => {
      out += d
      if (!sent && started.test(out)) {
        sent = true
        setTimeout(() => process.kill(-child.pid!, 'SIGINT'), 500)
      }
    }
    child.stdout.on('data', seen)
    child.stderr.on('data', seen)
    child.on('close', (code) => resolve({ code, out }))
  })
}

test('Ctrl-C during a task: the exit code ansible-playbook gives (99)', async () => {
  const args = ['-i', INVENTORY, '-l', 'changes', '-e', 'sleep=30']
  const ansible = await interrupted('ansible-playbook', [...args, 'outcomes.yml'], ansibleEnv(dir), /TASK \[wait\]/)
  const mine = await interrupted(process.execPath, [BIN, 'run', playbookFile('outcomes'), ...args, '-v', '--log-dir', dir], zxplayEnv, /\$ sleep 30/)
  assert.is(ansible.code, 99, ansible.out)
  assert.is(mine.code, ansible.code, mine.out)
})

for (const limit of ['changes:skips', 'fails', 'gone', 'all']) {
  test(`--limit ${limit}: ansible-playbook's exit code and recap rows`, () => {
    const ansible = ansibleCli('ansible-playbook', ['-i', INVENTORY, 'outcomes.yml', '-l', limit], dir)
    const mine = spawnSync(process.execPath, [BIN, 'run', playbookFile('outcomes'), '-i', INVENTORY, '-l', limit, '--log-dir', dir, '-T', '5'], { cwd: dir, encoding: 'utf8', env: zxplayEnv })
    assert.ok(rows(ansible.stdout).length > 0, ansible.stdout + ansible.stderr)
    assert.equal(rows(mine.stdout), rows(ansible.stdout), mine.stdout + mine.stderr)
    assert.is(mine.status, ansible.code)
  })
}

test.run()
