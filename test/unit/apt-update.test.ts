// APT_UPDATE under the strict mode every command runs in: a failed try is tried again (twice), the
// third failure fails the command, a success stops there. apt-get is a script on the PATH that
// fails a given number of times.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { APT_UPDATE } from '../../lib/engine/ops.ts'
import { strictMode } from '../../lib/transport/shell.ts'
import { tempDir } from './_helpers.ts'

const { dir, remove } = tempDir('apt-update')
test.after(remove)

function run(failures: number) {
  const bin = fs.mkdtempSync(path.join(dir, 'bin-'))
  const count = path.join(bin, 'count')
  fs.writeFileSync(count, '0')
  fs.writeFileSync(path.join(bin, 'apt-get'), `#!/bin/sh\nn=$(($(cat ${count}) + 1)); echo $n > ${count}\n[ $n -gt ${failures} ] || { echo "E: try $n" >&2; exit 100; }\necho updated\n`, { mode: 0o755 })
  // the 5 s pause between tries is the real one's; the test makes it short
  const script = `${APT_UPDATE.replace('sleep 5', 'sleep 0')} && echo then-install`
  const r = spawnSync('bash', ['-c', strictMode(script)], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })
  return { code: r.status, out: r.stdout, err: r.stderr, tries: Number(fs.readFileSync(count, 'utf8')) }
}

test('success at once: one try, then what follows', () => {
  assert.equal(run(0), { code: 0, out: 'updated\nthen-install\n', err: '', tries: 1 })
})

test('two failures: tried again each time, said on stderr, then what follows', () => {
  const r = run(2)
  assert.equal([r.code, r.tries, r.out], [0, 3, 'updated\nthen-install\n'])
  assert.match(r.err, /E: try 1\napt-get update: try 1 failed or stalled; trying again\nE: try 2\napt-get update: try 2 failed or stalled; trying again\n/)
})

test('three failures: the command fails with apt\'s own last error, nothing after it runs', () => {
  const r = run(5)
  assert.equal([r.code, r.tries, r.out], [1, 3, ''])
  assert.match(r.err, /E: try 3\n$/)
})

test.run()
