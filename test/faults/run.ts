// npm run test:faults: bad input, lab faults, injection and secrets, against a lab of 3 hosts
// that this brings up and takes down itself (root, like test/e2e; the site secrets case brings up
// the real-host lab of 3 Debian machines for itself). Prints a line per case, a
// table, and machine-readable counts as the last lines; exits 1 when any case failed.
//
//   node test/faults/run.ts [--only REGEX]     REGEX picks cases by group or name (for work on one)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { labDown, labUp, type Lab } from '../../lab/netns/lab.ts'
import { badInputCases } from './bad-input.ts'
import { faultCases } from './faults.ts'
import { resultLine, runCases, summaryTable, type Case, type Result } from './harness.ts'
import { hardeningCases } from './hardening.ts'
import { injectionCases } from './injection.ts'
import { securityCases } from './security.ts'

const only = (() => {
  const at = process.argv.indexOf('--only')
  return at > 0 ? new RegExp(process.argv[at + 1] ?? '', 'i') : undefined
})()

// Locks of the runs under test go to a folder of their own, which the cases inspect.
const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zxfault-locks-'))
process.env.ZXPLAY_LOCK_DIR = lockDir

let lab: Lab | undefined
const theLab = () => {
  if (!lab) throw new Error('the lab is not up')
  return lab
}

const cases: Case[] = [...badInputCases(theLab, lockDir), ...injectionCases(theLab), ...faultCases(theLab, lockDir), ...securityCases(theLab), ...hardeningCases(theLab)].filter(
  (c) => !only || only.test(c.group) || only.test(c.name)
)

const t0 = performance.now()
let results: Result[] = []
try {
  lab = await labUp({ hosts: 3 })
  console.log(`lab up: ${lab.hosts.map((h) => `${h.name} ${h.address}`).join(', ')}; ${cases.length} cases\n`)
  results = await runCases(cases, (r) => console.log(resultLine(r)))
} catch (e) {
  console.error(`the suite could not run: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
  process.exitCode = 1
} finally {
  await labDown().catch((e: unknown) => console.error(`lab down failed: ${String(e)}`))
  fs.rmSync(lockDir, { recursive: true, force: true })
}

const failed = results.filter((r) => !r.pass)
for (const r of failed) console.log(`\n✗ ${r.group} › ${r.name}\n${(r.error ?? '').replace(/^/gm, '    ')}`)
console.log(`\n${summaryTable(results)}\n\n${results.length - failed.length}/${results.length} passed in ${((performance.now() - t0) / 1000).toFixed(1)}s\n`)

const of = (g: Result['group']) => results.filter((r) => r.group === g)
const passed = (g: Result['group']) => of(g).filter((r) => r.pass).length
const sum = (g: Result['group'], k: keyof Result['counts']) => of(g).reduce((n, r) => n + (r.counts[k] ?? 0), 0)
console.log(
  [
    `bad_inputs_tried ${of('bad input').length}`,
    `bad_inputs_clean ${passed('bad input')}`,
    `faults_tried ${of('fault').length}`,
    `faults_survived ${passed('fault')}`,
    `injections_tried ${of('injection').length}`,
    `injections_ran ${sum('injection', 'ran')}`,
    `secret_leaks ${sum('secret', 'leaks')}`,
  ].join('\n')
)
if (failed.length || results.length < cases.length) process.exitCode = 1
