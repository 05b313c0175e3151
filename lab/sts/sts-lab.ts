// The lab's STS endpoint (./sts.ts), run detached on 127.0.0.1 for as long as a lab is up, and
// the client-side files that point at it, in the lab's client folder (<repo>/.lab/aws/ for the
// namespace lab, <repo>/.lab-real/aws/ for the real-host lab's labUp({ aws: true })):
//   credentials   0600, profiles `zxlab` (an IAM user's long-term keys the endpoint knows) and
//                 `zxlab-expired` (a session whose token the endpoint answers ExpiredToken for)
//   sts.json      0600, the endpoint's config: those keys and the roles it knows
//   sts.port, sts.pid, sts.log, sts-state.json (0600: every request, every credential issued)
// The keys are made afresh at every labUp; they mean nothing outside the lab.
//
// The endpoint runs from a bundle (esbuild, cached in <repo>/.lab-cache/sts/ until its sources
// change) with plain node: without tsx's loader it starts in ~50 ms instead of ~250 ms of CPU,
// which labUp would otherwise take from the hosts' setup on a 2-CPU machine.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'
import { killPids, tail, waitGone } from '../proc.ts'
import { newAccessKeyId, newSecretAccessKey, newSessionToken, readStsState, STS_SCRIPT, type StsConfig, type StsState } from './sts.ts'

export const LAB_ACCOUNT = '000000000000'
export const LAB_ROLE_ARN = `arn:aws:iam::${LAB_ACCOUNT}:role/zxplay-lab` // MaxSessionDuration 1 h (IAM's default)
export const LAB_LONG_ROLE_ARN = `arn:aws:iam::${LAB_ACCOUNT}:role/zxplay-lab-12h` // MaxSessionDuration 12 h
export const LAB_USER_ARN = `arn:aws:iam::${LAB_ACCOUNT}:user/zxlab`
export const LAB_PROFILE = 'zxlab'
export const LAB_EXPIRED_PROFILE = 'zxlab-expired'
export const LAB_REGION = 'us-east-1'
const START_WAIT_MS = 10_000
const LAB_SRC = path.dirname(STS_SCRIPT)
const BUNDLE_DIR = path.resolve(LAB_SRC, '../../.lab-cache/sts')
export const STS_BUNDLE = path.join(BUNDLE_DIR, 'sts.mjs')

/** What labUp wrote: the inventory's `aws:` values, and where the endpoint keeps its state. */
export type LabAws = {
  endpoint: string
  role_arn: string
  region: string
  profile: string
  credentials_file: string
  /** the endpoint's record of requests and issued credentials: readStsState(stateFile) */
  stateFile: string
  pid: number
}

export function labAwsFiles(labDir: string) {
  const dir = path.join(labDir, 'aws')
  return {
    dir,
    credentials: path.join(dir, 'credentials'),
    config: path.join(dir, 'sts.json'),
    port: path.join(dir, 'sts.port'),
    pid: path.join(dir, 'sts.pid'),
    log: path.join(dir, 'sts.log'),
    state: path.join(dir, 'sts-state.json'),
  }
}

function writePrivate(file: string, text: string) {
  fs.writeFileSync(file, text, { mode: 0o600 })
  fs.chmodSync(file, 0o600)
}

/**
 * Make the keys, write the files, and start the endpoint detached (it outlives this process).
 * Resolves once it accepts connections. Spawns at once, so the caller can do other setup meanwhile.
 */
export async function startLabSts(labDir: string): Promise<LabAws> {
  const f = labAwsFiles(labDir)
  fs.mkdirSync(f.dir, { recursive: true, mode: 0o700 })
  for (const file of [f.port, f.pid, f.state]) fs.rmSync(file, { force: true })
  const user = { accessKeyId: newAccessKeyId('AKIA'), secretAccessKey: newSecretAccessKey(), arn: LAB_USER_ARN }
  const expired = {
    accessKeyId: newAccessKeyId('ASIA'),
    secretAccessKey: newSecretAccessKey(),
    sessionToken: newSessionToken(),
    arn: `arn:aws:sts::${LAB_ACCOUNT}:assumed-role/zxplay-lab/expired-session`,
    expired: true,
  }
  const config: StsConfig = {
    users: [user, expired],
    roles: [{ arn: LAB_ROLE_ARN, maxSessionDuration: 3600 }, { arn: LAB_LONG_ROLE_ARN, maxSessionDuration: 43200 }],
  }
  writePrivate(f.config, JSON.stringify(config, null, 2) + '\n')
  writePrivate(
    f.credentials,
    [
      '# written by the lab\'s labUp: test keys that only the lab\'s STS endpoint knows',
      `[${LAB_PROFILE}]`,
      `aws_access_key_id = ${user.accessKeyId}`,
      `aws_secret_access_key = ${user.secretAccessKey}`,
      '',
      `[${LAB_EXPIRED_PROFILE}]`,
      `aws_access_key_id = ${expired.accessKeyId}`,
      `aws_secret_access_key = ${expired.secretAccessKey}`,
      `aws_session_token = ${expired.sessionToken}`,
      '',
    ].join('\n')
  )

  const bundle = await bundleSts()
  // plain JavaScript: npm's NODE_OPTIONS (--import=tsx) would only slow its start
  const { NODE_OPTIONS: _, ...env } = process.env
  const log = fs.openSync(f.log, 'a', 0o600)
  let exited: string | undefined
  let pid: number | undefined
  try {
    const child = spawn(process.execPath, [bundle, '--config', f.config, '--port-file', f.port, '--state-file', f.state], {
      cwd: LAB_SRC,
      detached: true,
      stdio: ['ignore', log, log],
      env,
    })
    child.on('error', (e) => (exited = `could not be spawned (${e.message})`))
    child.on('exit', (code, signal) => (exited = `exited (${signal ?? `code ${code}`})`))
    child.unref()
    pid = child.pid
  } finally {
    fs.closeSync(log)
  }
  if (pid !== undefined) fs.writeFileSync(f.pid, `${pid}\n`, { mode: 0o644 })

  const deadline = Date.now() + START_WAIT_MS
  for (;;) {
    const port = readNumber(f.port)
    if (port !== undefined && pid !== undefined) {
      return { endpoint: `http://127.0.0.1:${port}`, role_arn: LAB_ROLE_ARN, region: LAB_REGION, profile: LAB_PROFILE, credentials_file: f.credentials, stateFile: f.state, pid }
    }
    if (exited || Date.now() > deadline) {
      throw new Error(`lab: the STS endpoint ${exited ?? `did not listen within ${START_WAIT_MS / 1000} s`}\n--- tail of ${f.log} ---\n${tail(f.log)}`)
    }
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** lab/sts/sts*.ts bundled into one ESM file, rebuilt only when they changed. */
async function bundleSts(): Promise<string> {
  const sources = fs.readdirSync(LAB_SRC).filter((f) => /^sts.*\.ts$/.test(f)).sort()
  const hash = createHash('sha256')
  for (const f of sources) hash.update(`${f}\0`).update(fs.readFileSync(path.join(LAB_SRC, f))).update('\0')
  const stamp = hash.digest('hex')
  const stampFile = path.join(BUNDLE_DIR, '.stamp')
  try {
    if (fs.readFileSync(stampFile, 'utf8') === stamp && fs.existsSync(STS_BUNDLE)) return STS_BUNDLE
  } catch {
    // no bundle yet
  }
  const out = await build({ entryPoints: [STS_SCRIPT], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent' })
  fs.mkdirSync(BUNDLE_DIR, { recursive: true })
  // through temporary names: a unit test and a labUp may bundle at the same time
  const tmp = `${STS_BUNDLE}.${process.pid}.tmp`
  fs.writeFileSync(tmp, out.outputFiles[0]!.contents)
  fs.renameSync(tmp, STS_BUNDLE)
  fs.writeFileSync(`${stampFile}.${process.pid}.tmp`, stamp)
  fs.renameSync(`${stampFile}.${process.pid}.tmp`, stampFile)
  return STS_BUNDLE
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim())
    return Number.isInteger(n) && n > 0 ? n : undefined
  } catch {
    return undefined
  }
}

/** The lab's endpoint as labUp left it, or undefined when it is not running. */
export function labAwsInfo(labDir: string): LabAws | undefined {
  const f = labAwsFiles(labDir)
  const port = readNumber(f.port)
  const pid = readNumber(f.pid)
  if (port === undefined || pid === undefined || !isLabSts(pid, labDir)) return undefined
  return { endpoint: `http://127.0.0.1:${port}`, role_arn: LAB_ROLE_ARN, region: LAB_REGION, profile: LAB_PROFILE, credentials_file: f.credentials, stateFile: f.state, pid }
}

/** What the lab's endpoint answered and issued so far. */
export const labStsState = (labDir: string): StsState => readStsState(labAwsFiles(labDir).state)

/** A process running this endpoint for that lab (argv: node …/sts.mjs --config <labDir>/aws/sts.json …). */
function isLabSts(pid: number, labDir: string): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    const i = argv.indexOf('--config')
    return (argv.includes(STS_BUNDLE) || argv.includes(STS_SCRIPT)) && i > 0 && argv[i + 1] === labAwsFiles(labDir).config
  } catch {
    return false
  }
}

/**
 * Stop the lab's endpoint: the pid labUp recorded, if it still runs this lab's endpoint (a stale
 * pid may belong to something else by now), and any other endpoint of this lab left behind (e.g.
 * when .lab/ was emptied by hand), found by its command line.
 */
export async function stopLabSts(labDir: string): Promise<void> {
  const pids = labStsPids(labDir)
  // SIGKILL: it holds nothing to flush (the state file is written at every request)
  killPids(pids)
  // Wait for the exit itself (isAlive: gone or a zombie): a killed process's command line reads
  // empty as soon as its memory is released, while it is still exiting (state R or D, not yet Z).
  await waitGone(pids, 2000)
}

/** Every running endpoint of that lab: the pid labUp recorded and any other found by its command line. */
export function labStsPids(labDir: string): number[] {
  const recorded = readNumber(labAwsFiles(labDir).pid)
  const pids = new Set<number>()
  if (recorded !== undefined && isLabSts(recorded, labDir)) pids.add(recorded)
  for (const entry of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && Number(entry) !== process.pid && isLabSts(Number(entry), labDir)) pids.add(Number(entry))
  }
  return [...pids]
}

/** The inventory's `aws:` block under all.vars (indented for inventoryText). */
export function awsInventoryLines(aws: LabAws): string[] {
  return [
    '    aws:',
    `      endpoint: ${aws.endpoint}`,
    `      role_arn: ${aws.role_arn}`,
    `      region: ${aws.region}`,
    `      profile: ${aws.profile}`,
    `      credentials_file: ${aws.credentials_file}`,
  ]
}
