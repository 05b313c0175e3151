// A kubespray inventory runs site unchanged apart from the documented mapping (README "Coming from
// Ansible"): kubespray's sample hosts.yaml, read in place from ../shared/data, pointed at the
// real-host lab's three Debian 12 machines, in kubespray's usual layout where the control plane is
// also in kube_node.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { dump, load } from 'js-yaml'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FIXTURES, runJson, statusOf } from '../../../test/e2e/helpers.ts'
import { REPO } from '../config.ts'
import { labDown, labUp, onRealHost, type RealLab } from '../lab.ts'

const SAMPLE = path.resolve(REPO, '../shared/data/ansible-inventories/kubespray/hosts.yaml')

/** The one setting: zxplay's two groups, made of kubespray's (README "Coming from Ansible"). */
const KUBESPRAY_MAPPING = load(fs.readFileSync(path.join(FIXTURES, 'ansible/kubespray-mapping.yaml'), 'utf8')) as Record<string, unknown>

type Inv = { all: { vars?: Record<string, unknown>; hosts: Record<string, Record<string, unknown>>; children: Record<string, any> } }

/**
 * kubespray's sample, pointed at the lab: its first host is the control plane, and every lab host is
 * in kube_node (kubespray's layout for small clusters); sample hosts beyond the lab are left out;
 * addresses are the lab's, and all.vars the lab's access (user, key, known_hosts).
 */
function kubesprayInventory(lab: RealLab): string {
  const sample = load(fs.readFileSync(SAMPLE, 'utf8')) as Inv
  const labVars = (load(fs.readFileSync(lab.inventory, 'utf8')) as Inv).all.vars
  const names = lab.hosts.map((h) => h.name)
  const hosts = Object.fromEntries(
    Object.entries(sample.all.hosts)
      .filter(([n]) => names.includes(n))
      .map(([n, v]) => [n, { ...v, ansible_host: lab.hosts.find((h) => h.name === n)!.address }])
  )
  const children = { ...sample.all.children, kube_control_plane: { hosts: { [names[0]!]: null } }, kube_node: { hosts: Object.fromEntries(names.map((n) => [n, null])) } }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-kubespray-')), 'hosts.yaml')
  fs.writeFileSync(file, dump({ all: { vars: labVars, hosts, children: { ...children, ...KUBESPRAY_MAPPING } } }))
  return file
}

const k = suite('kubespray inventory: site with only the group mapping added')
let lab: RealLab
k.before(async () => {
  lab = await labUp({ hosts: 3, log: (s) => console.log(s) })
})
k.after(async () => {
  await labDown()
})

k('site builds the cluster: node1 initialised and untainted, node2 and node3 joined, all Ready', async () => {
  const inventory = kubesprayInventory(lab)
  const sample = load(fs.readFileSync(SAMPLE, 'utf8')) as Inv
  assert.ok(sample.all.children.kube_control_plane && sample.all.children.kube_node && sample.all.children.etcd, 'the sample still has kubespray groups')
  const r = await runJson(['run', 'site', '-i', inventory], { timeoutMs: 900_000 })
  assert.is(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`)
  assert.is(statusOf(r.report, 'node1', 'the control plane takes ordinary pods'), 'changed')
  assert.is(statusOf(r.report, 'node1', 'the worker is joined'), undefined)
  for (const w of ['node2', 'node3']) assert.is(statusOf(r.report, w, 'the worker is joined'), 'changed', w)
  const nodes = await onRealHost(lab, 'node1', `kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].key};{end}'`)
  assert.equal(nodes.stdout.split(';').filter(Boolean).map((l) => l.trim()).sort(), ['node1=True', 'node2=True', 'node3=True'])
  // converged: a rerun changes nothing
  const again = await runJson(['run', 'site', '-i', inventory], { timeoutMs: 600_000 })
  assert.is(again.code, 0, again.stdout.slice(-3000))
  assert.equal(Object.values(again.report.hosts).reduce((n, h) => n + h.changed, 0), 0)
})

k.run()
