// Inventory sources that are not YAML files: INI errors and refusals (each also refused by
// ansible-inventory), files zxplay cannot read, and connection vars from the command line.
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { loadInventory, parseInventory } from '../../lib/inventory/inventory.ts'
import { listInventory } from '../../lib/inventory/inventory-list.ts'
import { tempDir } from '../unit/_helpers.ts'
import { ansibleInventory } from './_ansible.ts'

const tmp = tempDir('inv-sources')
test.after(tmp.remove)
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp.dir, ANSIBLE_NOCOLOR: '1', ANSIBLE_INVENTORY_UNPARSED_FAILED: '1', LC_ALL: 'C.UTF-8' }

/** `text` in a file `name`: zxplay refuses it with `message` (and Ansible refuses it too, when `ansibleToo`). */
function refused(name: string, text: string, where: string, message: string, ansibleToo = true) {
  return async () => {
    const file = path.join(tmp.dir, name)
    fs.writeFileSync(file, text)
    const e = await loadInventory(file).catch((e: unknown) => e)
    assert.instance(e, InventoryError)
    assert.is((e as Error).message, `${file}${where ? `: ${where}` : ''}: ${message}`)
    if (ansibleToo) {
      const ansible = await ansibleInventory(['-i', file, '--list'], { env: ENV, cwd: tmp.dir }).then(() => 'parsed', () => 'refused')
      assert.is(ansible, 'refused', 'ansible-inventory refuses it too')
    }
  }
}

test('INI: an unknown section type', refused('a.ini', '[web:hostz]\nh1\n', 'line 1', "section [web:hostz] has an unknown type 'hostz' (expected hosts, vars or children)"))
test('INI: [g:vars] for a group nothing declares', refused('b.ini', '[web]\nh1\n[db:vars]\nx=1\n', 'line 3', "section [db:vars] is for the group 'db', which no [db] or [db:children] section declares"))
test('INI: [g:children] naming a group nothing declares', refused('c.ini', '[web]\nh1\n[all_web:children]\nweb\nwbe\n', 'line 5', "[all_web:children] names the group 'wbe', which no [wbe] or [wbe:children] section declares"))
test('INI: a host variable without =', refused('d.ini', '[web]\nh1 port 22\n', 'line 2', "expected key=value after the host name, got 'port'"))
test('INI: an unclosed quote', refused('e.ini', "[web]\nh1 x='open\n", 'line 2', "no closing quotation (') in 'h1 x='open'"))
test('INI: a section with spaces', refused('f.ini', '[web servers]\nh1\n', 'line 1', "invalid section '[web servers]' (no spaces or other characters around the group name)"))
test('INI: a host ending in :', refused('g.ini', '[web]\nh1:\n', 'line 2', "invalid host 'h1:': a trailing ':' is where the port goes"))
test('YAML: an inventory plugin config is refused by name', refused('aws_ec2.yml', 'plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n', 'plugin', "inventory plugins (plugin: amazon.aws.aws_ec2) are not supported: write the hosts as a YAML or INI inventory", false))
test('an inventory script is refused', refused('inv.py', '#!/usr/bin/env python3\nprint("{}")\n', '', 'inventory scripts are not supported: write the hosts as a YAML or INI inventory', false))

test('a host list takes no ranges, as Ansible\'s host_list plugin', async () => {
  const e = await loadInventory(['a.example.com,web[1:3].example.com,']).catch((e: unknown) => e)
  assert.instance(e, InventoryError)
  assert.is((e as Error).message, "a.example.com,web[1:3].example.com,: 'web[1:3].example.com': a host list takes no ranges (Ansible's neither): name each host, or use an inventory file")
  const inv = await loadInventory(['[2001:db8::7]:2222,b.example.com:22,'])
  assert.equal(inv.hosts.map((h) => [h.name, h.port]), [['2001:db8::7', 2222], ['b.example.com', 22]])
})

test('INI without an extension: read as INI when it is not YAML, as Ansible tries them', () => {
  const inv = parseInventory('[web]\nw1 ansible_host=192.0.2.1 ansible_port=2222\n', '/tmp/x/hosts')
  assert.equal([inv.hosts[0]?.address, inv.hosts[0]?.port], ['192.0.2.1', 2222])
})

test('connection vars from the command line: below all.vars, and not listed', () => {
  const yaml = 'all:\n  vars: {ansible_user: from-inventory}\n  hosts:\n    a:\nweb:\n  hosts:\n    b: {ansible_become_method: sudo}\n'
  const inv = parseInventory(yaml, '/tmp/x/inv.yml', {}, { cliVars: { ansible_user: 'from-cli', ansible_port: 2200 } })
  assert.equal(inv.hosts.map((h) => [h.user, h.port]), [['from-inventory', 2200], ['from-inventory', 2200]])
  assert.equal(listInventory(inv)._meta, { hostvars: { a: { ansible_user: 'from-inventory' }, b: { ansible_user: 'from-inventory', ansible_become_method: 'sudo' } } })
  const bare = parseInventory('all:\n  hosts:\n    a:\n', '/tmp/x/inv.yml', {}, { cliVars: { ansible_user: 'from-cli' } })
  assert.is(bare.hosts[0]?.user, 'from-cli')
})

test.run()
