// Running the real CLI against the lab, as a user would: a child process, no terminal.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as yaml from 'js-yaml'
import { REPO, type Lab } from '../../lab/netns/lab.ts'

export const BIN = path.join(REPO, 'bin/zxplay.mjs')
export const FIXTURES = path.join(REPO, 'test/fixtures')
export const playbookFile = (name: string) => path.join(FIXTURES, 'playbooks', `${name}.mts`)

/** uvu's runner sets FORCE_COLOR; a user's terminal would not, and Node warns when both are set. */
function withoutForceColor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _, ...rest } = env
  return rest
}

export type CliResult = { code: number | null; stdout: string; stderr: string; ms: number }

export function runCli(
  args: string[],
  opts: { input?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number; onSpawn?: (pid: number) => void } = {}
): Promise<CliResult> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    // detached: a new session without a controlling terminal, as in CI
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...withoutForceColor(process.env), NO_COLOR: '1', ...opts.env },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    opts.onSpawn?.(child.pid!)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`zxplay ${args.join(' ')} did not end within ${opts.timeoutMs ?? 60000}ms\n${stdout}\n${stderr}`))
    }, opts.timeoutMs ?? 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - t0) })
    })
    child.stdin.end(opts.input ?? '')
  })
}

export type JsonReport = {
  hosts: Record<string, { ok: number; changed: number; skipped: number; failed: number; unreachable: number }>
  tasks: { playbook: string; task: string; host: string; status: string; ms: number }[]
}

export async function runJson(args: string[], opts: Parameters<typeof runCli>[1] = {}): Promise<CliResult & { report: JsonReport }> {
  const r = await runCli([...args, '--json'], opts)
  let report: JsonReport
  try {
    report = JSON.parse(r.stdout) as JsonReport
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
  }
  return { ...r, report }
}

export const statusOf = (report: JsonReport, host: string, task: string) =>
  report.tasks.find((t) => t.host === host && t.task === task)?.status

/** A copy of the lab inventory with changes to all.vars or hosts, in a temp file. */
export function derivedInventory(lab: { inventory: string }, change: (inv: any) => void): string {
  const inv = yaml.load(fs.readFileSync(lab.inventory, 'utf8')) as any
  change(inv)
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-inv-')), 'inventory.yaml')
  fs.writeFileSync(file, yaml.dump(inv))
  return file
}

export const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-test-'))

/** The newest log file in a folder. */
export function newestLog(dir: string): string {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => path.join(dir, f))
  files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)
  if (!files[0]) throw new Error(`no log in ${dir}`)
  return files[0]
}
