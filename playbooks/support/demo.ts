// The SHAP demo's app as the demo playbook ships it (ConfigMap ray-app) and the job's command line. Pure
// apart from reading app/.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { dump } from 'js-yaml'
import type { DemoVars } from './vars/demo.ts'

const APP_DIR = fileURLToPath(new URL('../../app/', import.meta.url))
export const CONFIGMAP = 'ray-app'
const ENTRY = 'shap_job.py'
/** On the control plane: the running job's pid, start time, output and exit file. */
export const JOB_DIR = '/var/lib/zxplay/shap-demo'

/** What the ConfigMap carries: the app's modules (not its tests), its pins and, when given, the wine table, flat. */
export function appFiles(table?: string, dir = APP_DIR): Record<string, string> {
  const names = fs.readdirSync(dir).filter((f) => (f.endsWith('.py') && !/^test/.test(f)) || f === 'requirements.txt')
  const files: Record<string, string> = {}
  for (const name of names.sort()) files[name] = fs.readFileSync(path.join(dir, name), 'utf8')
  if (table !== undefined) files['winequality-red.csv'] = table
  return files
}

export function appConfigMap(namespace: string, files: Record<string, string>): string {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CONFIGMAP, namespace, labels: { app: 'ray', component: 'ray-app' } }, data: files }
  return dump(cm, { lineWidth: -1 })
}

/** The job's command line in the head pod. */
export function jobArgs(d: DemoVars): string[] {
  const source = d.s3_bucket ? ['--s3_bucket', d.s3_bucket, '--s3_key', d.s3_key] : ['--data', '/app/winequality-red.csv']
  const pip = d.pip_runtime_env ? [] : ['--pip_runtime_env', 'off']
  return ['python', `/app/${ENTRY}`, '--num_rows', String(d.num_rows), '--background', String(d.background), '--num_chunks', String(d.num_chunks), ...source, ...pip]
}
