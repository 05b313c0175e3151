// `npm run lab:up` on a machine that cannot hold the lab: one message, exit 2, and nothing made —
// no folder, no link, no process — for real: as a user who is not root, with the lab's address range
// on another link (a bridge: this kernel has no dummy links), with the bridge's name taken by a link that is not the lab's. (Each refusal's
// wording, and the disk and missing-program cases, are unit tests: test/unit/lab-preconditions.test.ts.)
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BRIDGE, LAB_DIR, REPO, RUN } from '../config.ts'
import { labDown, labLeftovers } from '../lab.ts'

const test = suite('real-host lab: lab:up refuses a machine it cannot use, changing nothing')
const OTHER = 'zxpre0' // a bridge: this kernel has no dummy links

const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' })
const links = () => sh('ip -br link show | cut -d" " -f1 | sort').stdout
const labUpCli = (as?: string) => {
  const argv = ['--import=tsx', path.join(REPO, 'lab/hosts/cli.ts'), 'up', '--hosts', '1']
  const [cmd, args] = as ? ['runuser', ['-u', as, '--', process.execPath, ...argv]] : [process.execPath, argv]
  const { NODE_OPTIONS: _, ...env } = process.env
  return spawnSync(cmd as string, args as string[], { cwd: REPO, encoding: 'utf8', env, timeout: 60_000 })
}
/** lab up exits 2 with `re` in its one message, and the machine is as it was. */
function refuses(r: ReturnType<typeof labUpCli>, re: RegExp, linksBefore: string) {
  assert.is(r.status, 2, `${r.stdout}\n${r.stderr}`)
  assert.match(r.stderr, /^lab up: nothing was changed, because:\n/)
  assert.match(r.stderr, re)
  assert.not.match(r.stderr, /\n\s+at /, 'a stack trace')
  assert.is(r.stdout, '')
  assert.not.ok(fs.existsSync(RUN), `${RUN} was made`)
  assert.not.ok(fs.existsSync(LAB_DIR), `${LAB_DIR} was made`)
  assert.is(links(), linksBefore)
}

test.before(async () => {
  await labDown()
  assert.equal(await labLeftovers(), [])
})
test.after(() => {
  sh(`ip link del ${OTHER} 2>/dev/null; ip link del ${BRIDGE} 2>/dev/null`)
})

test('not root', () => {
  refuses(labUpCli('nobody'), /  - not root: /, links())
})

test("the lab's address range on another link", () => {
  assert.is(sh(`ip link add ${OTHER} type bridge && ip addr add 10.78.0.250/24 dev ${OTHER}`).status, 0)
  try {
    const before = links()
    refuses(labUpCli(), new RegExp(`  - the lab's address range 10\\.78\\.0\\.1/24 is in use: 10\\.78\\.0\\.250/24 on ${OTHER}\\n`), before)
    assert.match(sh(`ip -br addr show ${OTHER}`).stdout, /10\.78\.0\.250\/24/, 'the other link was left as it was')
  } finally {
    sh(`ip link del ${OTHER}`)
  }
})

test("a link with the bridge's name that is not the lab's", () => {
  assert.is(sh(`ip link add ${BRIDGE} type bridge`).status, 0)
  try {
    const before = links()
    refuses(labUpCli(), new RegExp(`  - a link named ${BRIDGE} exists and is not this lab's`), before)
  } finally {
    sh(`ip link del ${BRIDGE}`)
  }
})

test.run()
