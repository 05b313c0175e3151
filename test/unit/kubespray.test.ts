// kubespray's inventory with the documented mapping (test/fixtures/ansible/kubespray-mapping.yaml):
// which hosts each site playbook runs on, decided before anything connects. The sample is read in place.
import fs from 'node:fs'
import path from 'node:path'
import { dump, load } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadInventory, parseInventory } from '../../lib/inventory/inventory.ts'
import { plan } from '../../lib/engine/plan.ts'
import { playbookVars } from '../../lib/engine/playbook.ts'
import site from '../../playbooks/site.mts'
import { REPO } from '../../lab/netns/lab.ts'
import { FIXTURES } from '../e2e/helpers.ts'
import { errorOf } from './_helpers.ts'

const SAMPLE = path.resolve(REPO, '../shared/data/ansible-inventories/kubespray/hosts.yaml')
type Inv = { all: { hosts: Record<string, unknown>; children: Record<string, unknown> } }
const sample = load(fs.readFileSync(SAMPLE, 'utf8')) as Inv
const mapping = load(fs.readFileSync(path.join(FIXTURES, 'ansible/kubespray-mapping.yaml'), 'utf8')) as Record<string, unknown>

const withMapping = (children: Record<string, unknown>) => parseInventory(dump({ all: { hosts: sample.all.hosts, children: { ...children, ...mapping } } }), SAMPLE)

test("kubespray's small-cluster layout (the control plane also in kube_node): init on it, the others join, it is untainted", () => {
  const inv = withMapping({ ...sample.all.children, kube_control_plane: { hosts: { node1: null } }, kube_node: { hosts: { node1: null, node2: null, node3: null } } })
  const hostsOf = Object.fromEntries(plan(site, inv, { tags: [], skipTags: [] }).map((p) => [p.playbook.id, p.hosts.map((h) => h.name).join(' ')]))
  assert.is(hostsOf['00-preflight'], 'node1 node2 node3 node4 node5 node6')
  assert.is(hostsOf['20-control-plane'], 'node1')
  assert.is(hostsOf['50-join'], 'node2 node3')
  assert.is(hostsOf['60-untaint'], 'node1')
  for (const h of inv.hosts) playbookVars(site[0]!, h) // the cluster checks accept it
})

test('the sample as published (three control-plane hosts) is refused by name: HA is not supported', () => {
  const inv = withMapping(sample.all.children)
  const e = errorOf(() => playbookVars(site[0]!, inv.hosts[0]!))
  assert.match(e.message, /expected exactly one host in the group control_plane, found 3 \(node1, node2, node3\); a highly available control plane is not supported/)
})

test('the mapping as a second -i beside the sample read in place (its group_vars too): the same refusal, nothing else', async () => {
  const inv = await loadInventory([SAMPLE, path.join(FIXTURES, 'ansible/kubespray-mapping.yaml')])
  assert.equal(inv.groups.get('control_plane')?.hosts, ['node1', 'node2', 'node3'])
  assert.equal(inv.groups.get('workers')?.hosts, ['node4', 'node5', 'node6'])
  assert.is(inv.hosts[0]!.vars.bin_dir, '/usr/local/bin') // kubespray's group_vars/all: loaded, not ours to read
  const e = errorOf(() => playbookVars(site[0]!, inv.hosts[0]!))
  assert.equal(e.message.split('\n').length, 1, e.message)
  assert.match(e.message, /expected exactly one host in the group control_plane, found 3/)
})

test.run()
