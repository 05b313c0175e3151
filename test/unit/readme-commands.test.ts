// Which of the README's commands CI runs, and how a failure names one (test/readme/commands.ts);
// the run itself is test/readme/readme.test.ts.
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { REPO } from '../../lab/hosts/config.ts'
import { readmeCommands, whereIs } from '../readme/commands.ts'
import { errorOf } from './_helpers.ts'

const DOC = [
  '# t', //                                  1
  '## Intro', //                             2
  '```sh', //                                3
  'not-read', //                             4
  '```', //                                  5
  '## Quick start', //                       6
  '```sh', //                                7
  'npm ci                 # install', //     8
  '# a comment line', //                     9
  '', //                                     10
  'tool --check           # dry run (exit 2: a problem)', // 11
  'tool --real            # not in CI: changes this machine', // 12
  '```', //                                  13
  '### Yours', //                            14
  '```yaml', //                              15
  'all: {}   # not a command', //            16
  '```', //                                  17
  '<!-- not in CI: needs your machines -->', // 18
  '```sh', //                                19
  'tool -i mine.yaml', //                    20
  '```', //                                  21
  '```sh', //                                22
  'echo "#1 is not a comment"   # says so', // 23
  '```', //                                  24
  '## Test', //                              25
  '```sh', //                                26
  'npm test', //                             27
  '```', //                                  28
].join('\n')

test('the sh blocks of the sections named, their markers and allowed exits, each where it stands', () => {
  const c = readmeCommands(DOC, ['Quick start'])
  assert.equal(
    c.map((x) => [x.line, x.section, x.block, x.command, x.okExits, x.skip]),
    [
      [8, 'Quick start', 1, 'npm ci', [0], undefined],
      [11, 'Quick start', 1, 'tool --check', [0, 2], undefined],
      [12, 'Quick start', 1, 'tool --real', [0], 'changes this machine'],
      [20, 'Yours', 2, 'tool -i mine.yaml', [0], 'needs your machines'],
      [23, 'Yours', 3, 'echo "#1 is not a comment"', [0], undefined],
    ]
  )
  assert.is(whereIs(c[1]!), 'README.md:11 ("Quick start", block 1): tool --check')
})

test('a marker before a block is that block\'s alone', () => {
  const doc = ['## Quick start', '<!-- not in CI: x -->', 'Some text.', '```sh', 'a', '```', '<!-- not in CI: y -->', '```sh', 'b', '```', '```sh', 'c', '```'].join('\n')
  assert.equal(
    readmeCommands(doc, ['Quick start']).map((x) => [x.command, x.skip]),
    [
      ['a', undefined],
      ['b', 'y'],
      ['c', undefined],
    ]
  )
})

test('a section that is not there is an error, not an empty run', () => {
  assert.match(errorOf(() => readmeCommands(DOC, ['Quick start', 'Try it'])).message, 'README.md: no section "## Try it"')
})

test("this README: the try-it lab's commands run in CI, in the order a user types them", () => {
  const c = readmeCommands(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'), ['Quick start'])
  const run = c.filter((x) => !x.skip).map((x) => x.command)
  assert.is(run[0], 'npm ci')
  const up = run.findIndex((x) => /^npm run lab:up\b/.test(x))
  const site = run.findIndex((x) => /^npx zx playbooks\/site\.mts -i \.lab-real\/inventory\.yaml$/.test(x))
  const down = run.findIndex((x) => /^npm run lab:down$/.test(x))
  assert.ok(up > 0 && site > up && down > site, run.join('\n'))
  // what must not run in CI is marked: the real site against this machine, and the user's machines
  for (const x of c.filter((x) => / -i mycluster\.yaml|^npx zx playbooks\/site\.mts$/.test(x.command))) assert.ok(x.skip, whereIs(x))
})

test.run()
