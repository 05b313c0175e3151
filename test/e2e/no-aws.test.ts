// site without AWS, on a 1-host lab whose inventory sets no aws.* (labUp({ aws: false })): the
// plan under --check, then a real run that gives a running Ray cluster and a verify table with
// "not configured" credential rows, exit 0; `zxplay render` equal to every manifest the playbooks
// applied; a converged rerun that changes nothing.
import fs from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { labDown, labUp, onHost, REPO, type Lab } from '../../lab/netns/lab.ts'
import { runCli, runJson, tmpDir } from './helpers.ts'

let lab: Lab
let logDir: string
const inv = () => ['-i', lab.inventory, '--log-dir', logDir]
const failures = (r: { stdout: string; stderr: string }) => `${r.stdout.slice(-5000)}\n${r.stderr.slice(-2000)}`

async function onNode(cmd: string): Promise<string> {
  const r = await onHost(lab, 'node1', cmd)
  if (r.code !== 0) throw new Error(`${cmd}: ${r.stderr}`)
  return r.stdout
}

const t = suite('site without AWS: no aws.* in the inventory (1 host)')
t.before(async () => {
  lab = await labUp({ hosts: 1, aws: false })
  logDir = tmpDir()
})
t.after(async () => {
  await labDown()
})

const NO_ROLE = /skipped\s+session credentials are valid \(no AWS role configured: aws\.role_arn is empty and \S+\/iamroles\.txt does not exist, so the Ray pods get no AWS credentials; to add them, put the role ARN on the first line of \S+\/iamroles\.txt or set aws\.role_arn\)/

t('the inventory sets no aws.*; site --check plans the whole run and says the AWS step is left out', async () => {
  assert.not.match(fs.readFileSync(lab.inventory, 'utf8'), /^\s*aws:/m)
  const r = await runCli(['run', 'site', '--check', ...inv()], { timeoutMs: 120_000 })
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, NO_ROLE)
  assert.match(r.stdout, /==> 95-verify/)
})

t('site: exit 0, the AWS step skipped with one line, Ray running without the Secret, verify rows "not configured"', async () => {
  const r = await runCli(['run', 'site', ...inv()], { timeoutMs: 600_000 })
  assert.is(r.code, 0, failures(r))
  assert.match(r.stdout, NO_ROLE)
  assert.match(r.stdout, /N\/A\s+head pod env \(envFrom\)\s+not configured/)
  assert.match(r.stdout, /N\/A\s+head pod files in \/etc\/awstoken\s+not configured/)
  assert.match(r.stdout, /PASS\s+Ray Deployments rolled out/)
  assert.match(r.stdout, /PASS\s+ray status: head and every worker/)
  assert.match(r.stdout, /PASS\s+HPA shap-autoscaler reads CPU/)
  assert.not.match(r.stdout, /FAIL/)
  assert.is((await onNode('kubectl --kubeconfig /etc/kubernetes/admin.conf get secret session-token -n ray --ignore-not-found -o name')).trim(), '')
  const pods = JSON.parse(await onNode('kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -n ray -o json')).items as any[]
  const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')
  assert.ok(pods.some((p) => p.metadata.labels.component === 'ray-head' && ready(p)), 'a Ready ray-head pod')
  assert.ok(pods.some((p) => p.metadata.labels.component === 'ray-worker' && ready(p)), 'a Ready ray-worker pod')
  assert.not.ok(fs.existsSync(path.join(path.dirname(lab.inventory), 'env.list')), 'no env.list without credentials')
})

// Each manifest the playbooks keep on the control plane (MANIFEST_DIR), and the template it comes from.
const RENDERED: [kept: string, template: string][] = [
  ['kubeadm-config', 'kubeadm/kubeadm-config.yaml'],
  ['kube-flannel', 'flannel/kube-flannel.yaml'],
  ['metrics-server', 'metrics-server/components.yaml'],
  ['ray-namespace', 'ray/namespace.yaml'],
  ['ray-cluster', 'ray/ray-cluster.yaml'],
  ['ray-autoscaler', 'ray/autoscaler.yaml'],
]

t('zxplay render prints exactly what the playbooks rendered, for every template', async () => {
  const templates = fs.readdirSync(path.join(REPO, 'templates'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'))
  assert.equal(RENDERED.map(([, tpl]) => tpl).sort(), templates.sort(), 'every template in templates/ is compared')
  for (const [kept, template] of RENDERED) {
    const applied = await onNode(`cat /etc/kubernetes/zxplay/${kept}.yaml`)
    const r = await runCli(['render', template, '--host', 'node1', '-i', lab.inventory])
    assert.is(r.code, 0, `${template}: ${r.stderr}`)
    assert.fixture(r.stdout, applied)
  }
})

t('a converged rerun changes nothing', async () => {
  const r = await runJson(['run', 'site', ...inv()], { timeoutMs: 300_000 })
  assert.is(r.code, 0, failures(r))
  assert.equal(Object.values(r.report.hosts).map((h) => h.changed), [0])
})

t.run()
