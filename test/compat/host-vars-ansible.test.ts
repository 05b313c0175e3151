// Connection variables as Ansible documents them (ansible-doc -t connection ssh/local/paramiko_ssh,
// -t become sudo/su), judged by Debian's ansible-core: each one is honoured, accepted-and-said-unused,
// or refused by name. The rest of host vars is in test/unit/host-vars.test.ts.
import { execFileSync } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connectionKeyOf } from '../../lib/inventory/host-vars.ts'
import { parseInventory, type Host } from '../../lib/inventory/inventory.ts'

const hostWith = (vars: Record<string, unknown>): Host => parseInventory(JSON.stringify({ all: { hosts: { web1: vars } } }), '/srv/infra/inventory.yaml').hosts[0]!

test('every variable Ansible documents for ssh, paramiko, local, sudo and su is known: honoured, unused or refused', () => {
  const names = new Set<string>()
  for (const [type, plugin] of [['connection', 'ssh'], ['connection', 'paramiko_ssh'], ['connection', 'local'], ['become', 'sudo'], ['become', 'su']]) {
    const doc = JSON.parse(execFileSync('ansible-doc', ['-t', type!, '-j', plugin!], { encoding: 'utf8' }))
    for (const o of Object.values(doc[Object.keys(doc)[0]!].doc.options) as { vars?: { name: string }[] }[]) for (const v of o.vars ?? []) names.add(v.name)
  }
  // not variables an inventory sets: Ansible's own and delegation's
  for (const n of [...names]) if (n === 'inventory_hostname' || n.startsWith('delegated_vars')) names.delete(n)
  assert.ok(names.size >= 40, `${names.size} names`)
  for (const name of names) {
    let outcome: string
    try {
      const h = hostWith({ [name]: name.includes('pass') ? 'a-password' : name.includes('timeout') || name.includes('port') ? 22 : name.includes('args') ? '-C' : name.includes('checking') || name.includes('pipelining') ? true : name.includes('user') ? 'deploy' : 'x' })
      outcome = h.unused.some((u) => u.startsWith(`${name}:`)) ? 'unused' : 'honoured'
    } catch (e) {
      outcome = (e as Error).message.includes(`${name}' is not supported`) ? 'refused' : `error: ${(e as Error).message}`
    }
    assert.ok(['honoured', 'unused', 'refused'].includes(outcome), `${name}: ${outcome}`)
    // a name missing from our table would load as an ordinary variable: honoured means read as a setting
    if (outcome === 'honoured') assert.ok(connectionKeyOf(name), `${name} is not read as a connection setting`)
  }
})

test.run()
