// The demo family of vars (under `demo:`): the SHAP job's size, where its table comes from, and
// how the timeline is sampled and judged; their defaults and check (every problem at once).
import fs from 'node:fs'
import path from 'node:path'
import type { Vars, VarsSpec } from '../../../lib/index.ts'
import { showJson } from '../../../lib/base/yaml.ts'
import type { Problem } from '../../../lib/inventory/vars-spec.ts'
import type { RayVars } from './ray.ts'

export const demoDefaults = {
  num_rows: 320, // test rows to explain (the wine table has 320)
  background: 400, // background rows: the work grows with rows × background
  num_chunks: 12, // Ray tasks the rows are split into: more than workers, so new workers get some
  data_file: '', // the wine table on this machine (relative to the inventory), shipped with the app…
  s3_bucket: '', // …or read by the job from s3://s3_bucket/s3_key with the session credentials
  s3_key: 'winequality-red.csv',
  sample_seconds: 5, // how often the HPA and the workers are looked at
  scale_up_timeout: 600, // seconds from the job's start for the first scale-up
  scale_down_timeout: 300, // seconds from the job's end for the return to minReplicas
  job_timeout: 3600, // seconds the job may run (Ray installs the pinned packages on first use)
  artifacts_dir: 'artifacts', // on this machine, relative to the working directory
  pip_runtime_env: true, // Ray installs app/requirements.txt from PyPI; false: the image has them (app/Dockerfile)
}
export type DemoVars = typeof demoDefaults

/** The vars the demo playbook's tasks see. */
export type DemoRunVars = RayVars & { demo: DemoVars }

/** Every problem of the `demo:` block; `dir` given, a local table that is not there is one too. */
export function demoProblems(v: Vars, dir?: string): Problem[] {
  const out: Problem[] = []
  const demo = (v.demo ?? {}) as Record<string, unknown>
  const fail = (key: string, expected: string) => void out.push({ key: `demo.${key}`, message: `expected ${expected}, got ${showJson(demo[key])}` })
  const whole = (key: keyof DemoVars, min: number) => {
    const x = demo[key]
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min) fail(key, `a whole number of at least ${min}`)
  }
  for (const key of ['num_rows', 'background', 'num_chunks', 'sample_seconds', 'scale_up_timeout', 'scale_down_timeout', 'job_timeout'] as const) whole(key, 1)
  if (typeof demo.s3_bucket !== 'string' || (demo.s3_bucket && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(demo.s3_bucket))) fail('s3_bucket', "an S3 bucket name, or '' for demo.data_file shipped with the app")
  if (typeof demo.s3_key !== 'string' || !demo.s3_key) fail('s3_key', 'an object key like winequality-red.csv')
  if (typeof demo.data_file !== 'string') fail('data_file', 'a path to the wine table (CSV) on this machine')
  // The project keeps no copy of the table: it comes from the user's bucket or a local file.
  else if (!demo.s3_bucket && !demo.data_file) fail('data_file', 'the wine table: a local CSV (e.g. winequality-red.csv from UCI), or set demo.s3_bucket to read it from S3')
  else if (demo.s3_bucket && demo.data_file) fail('data_file', "'' when demo.s3_bucket is set (one source for the table)")
  else if (dir !== undefined && demo.data_file && !fs.existsSync(path.resolve(dir, demo.data_file))) {
    out.push({ key: 'demo.data_file', message: `expected the wine table (CSV) on this machine, but ${path.resolve(dir, demo.data_file)} does not exist` })
  }
  if (typeof demo.artifacts_dir !== 'string' || !demo.artifacts_dir) fail('artifacts_dir', 'a folder on this machine')
  if (typeof demo.pip_runtime_env !== 'boolean') fail('pip_runtime_env', 'true (Ray installs the pinned packages from PyPI) or false (an image with them baked in, app/Dockerfile)')
  return out
}

export const demoSpec: VarsSpec = { name: 'demo', defaults: { demo: demoDefaults }, check: (v) => demoProblems(v, String(v.inventory_dir)) }
