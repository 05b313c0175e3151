// uvu, failing when a test did not pass. uvu 0.5 exits 0 when a suite's before hook throws (the
// suite's tests count as neither passed nor failed), so a lab that never came up would pass CI:
// this runs uvu with the same arguments, passes its output on, and fails unless passed + skipped
// equals the total it prints. `--shuffle` first: the files in a shuffled order (uvu-shuffle.ts).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const shuffle = process.argv[2] === '--shuffle'
const bin = fileURLToPath(new URL(shuffle ? './uvu-shuffle.ts' : '../node_modules/uvu/bin.js', import.meta.url))
const child = spawn(process.execPath, [...process.execArgv, bin, ...process.argv.slice(shuffle ? 3 : 2)], { stdio: ['inherit', 'pipe', 'inherit'] })
let tail = ''
child.stdout.on('data', (b: Buffer) => {
  process.stdout.write(b)
  tail = (tail + b.toString('utf8')).slice(-4000)
})
child.on('close', (code, signal) => {
  const text = tail.replace(/\x1b\[[0-9;]*m/g, '')
  const count = (label: string) => Number(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN)
  const [total, passed, skipped] = [count('Total'), count('Passed'), count('Skipped')]
  if (code !== 0 || signal) return process.exit(code || 1)
  if (!(total > 0) || passed + skipped !== total) {
    console.error(`uvu-strict: ${Number.isNaN(total) ? 'no totals printed' : `${total - passed - skipped} of ${total} tests neither passed nor were skipped (a before hook that threw?)`}`)
    return process.exit(1)
  }
  process.exit(0)
})
