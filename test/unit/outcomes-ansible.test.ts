// Exit codes and recap rows judged by ansible-playbook: the same playbook and inventory
// (test/fixtures/ansible/outcomes.yml, test/fixtures/playbooks/outcomes.mts) for changed, failed,
// skipped and unreachable hosts, alone and together, run by both on this machine.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BIN, FIXTURES, playbookFile } from '../e2e/helpers.ts'
import { ansibleCli } from './_ansible.ts'
import { tempDir } from './_helpers.ts'

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

for (const limit of ['changes:skips', 'fails', 'gone', 'all']) {
  test(`--limit ${limit}: ansible-playbook's exit code and recap rows`, () => {
    const ansible = ansibleCli('ansible-playbook', ['-i', INVENTORY, 'outcomes.yml', '-l', limit], dir)
    // no NODE_OPTIONS (npx's --import tsx would resolve from the temp dir): bin/zxplay.mjs loads tsx itself
    const { FORCE_COLOR: _, NODE_OPTIONS: __, ...env } = process.env
    const mine = spawnSync(process.execPath, [BIN, 'run', playbookFile('outcomes'), '-i', INVENTORY, '-l', limit, '--log-dir', dir, '-T', '5'], { cwd: dir, encoding: 'utf8', env: { ...env, NO_COLOR: '1' } })
    assert.ok(rows(ansible.stdout).length > 0, ansible.stdout + ansible.stderr)
    assert.equal(rows(mine.stdout), rows(ansible.stdout), mine.stdout + mine.stderr)
    assert.is(mine.status, ansible.code)
  })
}

test.run()
