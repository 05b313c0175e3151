// The aws family of vars: the `aws:` block (STS AssumeRole for the Ray pods' session credentials),
// its defaults and its check (every problem at once, each naming aws.<key>). Pure.
import os from 'node:os'
import path from 'node:path'
import type { VarsSpec } from '../../../lib/index.ts'
import { showJson } from '../../../lib/base/yaml.ts'
import { closestNames } from '../../../lib/base/suggest.ts'
import type { Problem } from '../../../lib/inventory/vars-spec.ts'

/** The `aws:` block's defaults. Files are relative to the inventory's directory. */
export const awsDefaults = {
  role_arn: '', // empty: the first line of iamroles_file
  iamroles_file: 'iamroles.txt',
  session_name: 'zxplay',
  duration_seconds: 3600, // STS allows 900 up to the role's maximum (at most 43200)
  refresh_margin_seconds: 600, // assume the role again when less than this is left
  region: 'us-east-1',
  profile: '', // empty: the SDK's default chain (env, ~/.aws, SSO, instance role…)
  credentials_file: '', // empty: ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE)
  endpoint: '', // empty: AWS's regional STS endpoint; else e.g. a local STS-compatible endpoint
  allow_http_endpoint: false, // plain http:// to an endpoint other than this machine (credentials unencrypted)
  env_file: 'env.list', // docker --env-file copy of the session credentials
}

export type AwsVars = typeof awsDefaults

export const ROLE_ARN_FORM = 'arn:aws:iam::<12 digits>:role/<name> (or role/<path>/<name>)'
export const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\x21-\x7e]+\/)?[\w+=,.@-]{1,64}$/
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/
const STS_MAX_SECONDS = 43200

/** Every problem of the `aws:` block, each naming aws.<key>. Pure. */
export function awsVarProblems(vars: unknown): Problem[] {
  const out: Problem[] = []
  const fail = (key: string, message: string) => void out.push({ key: key ? `aws.${key}` : 'aws', message })
  if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) {
    fail('', `expected a map of AWS settings, got ${show(vars)}`)
    return out
  }
  const given = vars as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(key in awsDefaults)) {
      const near = closestNames(key, Object.keys(awsDefaults))
      fail(key, `unknown key${near.length ? ` (did you mean aws.${near[0]}?)` : ''}; known: ${Object.keys(awsDefaults).join(', ')}`)
    }
  }
  const v = { ...awsDefaults, ...given } as Record<string, unknown>
  const strings = ['role_arn', 'iamroles_file', 'session_name', 'region', 'profile', 'credentials_file', 'endpoint', 'env_file'] as const
  for (const key of strings) {
    if (typeof v[key] !== 'string') fail(key, `expected a string, got ${show(v[key])}`)
  }
  // A key that is not a string was reported above; the checks below read it as ''.
  const s = Object.fromEntries(strings.map((k) => [k, typeof v[k] === 'string' ? v[k] : ''])) as Record<(typeof strings)[number], string>
  const duration = v.duration_seconds
  if (!isInt(duration) || duration < 900 || duration > STS_MAX_SECONDS) {
    fail('duration_seconds', `expected an integer from 900 to ${STS_MAX_SECONDS} (seconds; STS's limits, and no more than the role's maximum session duration), got ${show(duration)}`)
  }
  const margin = v.refresh_margin_seconds
  if (!isInt(margin) || margin < 0 || margin >= (duration as number)) {
    fail('refresh_margin_seconds', `expected an integer from 0 to less than aws.duration_seconds (${duration as number}), got ${show(margin)}`)
  }
  if (typeof v.session_name === 'string' && !SESSION_NAME.test(s.session_name)) {
    fail('session_name', `expected 2 to 64 characters of letters, digits and + = , . @ _ - (STS's RoleSessionName), got ${show(s.session_name)}`)
  }
  if (typeof v.region === 'string' && !/^[a-z]{2,}(-[a-z]+)+-\d+$/.test(s.region)) fail('region', `expected an AWS region like us-east-1, got ${show(s.region)}`)
  if (s.role_arn && !ROLE_ARN.test(s.role_arn)) fail('role_arn', `expected an IAM role ARN, ${ROLE_ARN_FORM}, got ${show(s.role_arn)}`)
  if (typeof v.role_arn === 'string' && typeof v.iamroles_file === 'string' && !s.role_arn && !s.iamroles_file) fail('iamroles_file', 'expected a file name when aws.role_arn is empty (the role ARN is read from its first line)')
  if (typeof v.allow_http_endpoint !== 'boolean') fail('allow_http_endpoint', `expected true or false, got ${show(v.allow_http_endpoint)}`)
  if (s.endpoint && !isHttpUrl(s.endpoint)) fail('endpoint', `expected an http:// or https:// URL like http://127.0.0.1:4566, got ${show(s.endpoint)}`)
  else if (s.endpoint && new URL(s.endpoint).protocol === 'http:' && !isLoopback(new URL(s.endpoint).hostname) && v.allow_http_endpoint !== true) {
    fail('endpoint', `expected an https:// URL (STS answers with credentials); plain http:// only to this machine (127.0.0.1, ::1, localhost) or with aws.allow_http_endpoint: true, got ${show(s.endpoint)}`)
  }
  if (typeof v.env_file === 'string' && !s.env_file) fail('env_file', 'expected a file name')
  return out
}

export const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x)
const show = showJson

/** This machine: the loopback addresses, by the URL's host name (as WHATWG URL normalises it). */
const isLoopback = (h: string) => h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {
    return false
  }
}

/** A path from the vars: `~/` is the home folder, a relative one is relative to the inventory's directory. */
export function awsPath(file: string, inventoryDir: string): string {
  if (file === '~' || file.startsWith('~/')) return path.join(os.homedir(), file.slice(1))
  return path.resolve(inventoryDir, file)
}


/** The `aws:` block: present (its defaults) for every Ray playbook, whether or not a role is configured. */
export const awsSpec: VarsSpec = { name: 'aws', defaults: { aws: awsDefaults }, check: (v) => awsVarProblems(v.aws) }
