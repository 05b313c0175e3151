// Host entries merged across groups, empty values, error paths under a host's vars:, cycles and
// the order of group vars (lib/inventory/inventory.ts, its second half): cases found by mutation testing.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { loadInventory, parseInventory } from '../../lib/inventory/inventory.ts'
import type { Host, Inventory } from '../../lib/inventory/inventory.ts'
import { errorOf, tempDir } from './_helpers.ts'

const FILE = '/srv/infra/inventory.yaml'
const parse = (yaml: string) => parseInventory(yaml, FILE)

function hostOf(inv: Inventory, name: string): Host {
  const host = inv.hosts.find((h) => h.name === name)
  if (!host) throw new Error(`no host ${name} in ${inv.hosts.map((h) => h.name)}`)
  return host
}

/** The refusal's first line: the file, the key path, the words. */
function firstError(yaml: string): { path: string | undefined; line: string } {
  const e = errorOf(() => parse(yaml))
  assert.instance(e, InventoryError)
  return { path: (e as InventoryError).path, line: e.message.split('\n')[0] ?? '' }
}

test('a host listed in two groups with the same address is one host, not a duplicate', () => {
  const inv = parse('all:\n  children:\n    a: {hosts: {web: {ansible_host: 10.0.0.5}}}\n    b: {hosts: {web: {ansible_host: 10.0.0.5}}}\n')
  const web = hostOf(inv, 'web')
  assert.is(web.address, '10.0.0.5')
  assert.equal(web.groups.filter((g) => g !== 'all').sort(), ['a', 'b'])
})

test('a later listing with an empty value keeps the earlier value (the later non-empty value wins)', () => {
  const inv = parse('all:\n  children:\n    a: {hosts: {web: {ansible_port: 2222, role: db}}}\n    b: {hosts: {web: {ansible_port: , role: }}}\n')
  const web = hostOf(inv, 'web')
  assert.is(web.port, 2222)
  assert.is(web.vars.role, 'db')
})

test('an empty vars: under a host is no variables, not an error', () => {
  const inv = parse('all:\n  hosts:\n    web:\n      ansible_port: 2200\n      vars:\n')
  assert.is(hostOf(inv, 'web').port, 2200)
})

test("an empty connection setting (ansible_port:) is accepted as unset", () => {
  const inv = parse('all:\n  hosts:\n    web:\n      ansible_port:\n')
  assert.is(hostOf(inv, 'web').port, 22)
})

test("a bad value under a host's vars: is reported at its full key path", () => {
  const { path: at, line } = firstError('all:\n  hosts:\n    web:\n      vars:\n        ansible_port: nope\n')
  assert.is(at, 'all.hosts.web.vars.ansible_port')
  assert.ok(line.startsWith(`${FILE}: all.hosts.web.vars.ansible_port: `) && line.includes("'nope'"), line)
})

test('a cycle among top-level groups that all does not lead to is still reported', () => {
  const { line } = firstError('a:\n  children:\n    b:\nb:\n  children:\n    a:\n')
  assert.ok(line.includes('cycle in children:'), line)
})

test('sibling groups of the same depth and priority: the later name wins, whatever the file order', () => {
  const inv = parse('all:\n  children:\n    zeta: {hosts: {web: }, vars: {v: zeta}}\n    alpha: {hosts: {web: }, vars: {v: alpha}}\n')
  assert.is(hostOf(inv, 'web').vars.v, 'zeta')
})

test("group_vars/all.yml overrides all's vars in the inventory, not a child group's", async () => {
  const tmp = tempDir('inv-precedence')
  try {
    fs.mkdirSync(path.join(tmp.dir, 'group_vars'))
    fs.writeFileSync(path.join(tmp.dir, 'inventory.yml'), 'all:\n  vars: {v: inventory, w: inventory}\n  children:\n    app: {hosts: {web: }, vars: {x: app}}\n')
    fs.writeFileSync(path.join(tmp.dir, 'group_vars', 'all.yml'), 'v: file\nx: file\n')
    const web = hostOf(await loadInventory(path.join(tmp.dir, 'inventory.yml')), 'web')
    assert.equal([web.vars.v, web.vars.w, web.vars.x], ['file', 'inventory', 'app'])
  } finally {
    tmp.remove()
  }
})

// !vault values, encrypted here with the npm ansible-vault package (the one zxplay decrypts with)
const { Vault } = createRequire(import.meta.url)('ansible-vault') as typeof import('ansible-vault')
const PASSWORD = 'pw-for-tests'
const vaulted = (text: string, indent: string) =>
  `!vault |\n${new Vault({ password: PASSWORD }).encryptSync(text, '').split('\n').map((l) => indent + l).join('\n')}\n`
const VAULT_YAML =
  'all:\n  hosts:\n    web:\n' +
  `      db_password: ${vaulted('s3cret-value', '        ')}` +
  `      again: ${vaulted('s3cret-value', '        ')}` +
  `      pin: ${vaulted('123', '        ')}` +
  `      code: ${vaulted('1234', '        ')}` +
  `      tokens:\n        - plain\n        - ${vaulted('list-secret', '          ')}` +
  `      nested:\n        token: ${vaulted('map-secret', '          ')}`

test('!vault values decrypt (in lists too) and become secrets to redact: once each, none shorter than 4', () => {
  const inv = parseInventory(VAULT_YAML, FILE, {}, { vaultPassword: PASSWORD })
  const web = hostOf(inv, 'web')
  assert.equal([web.vars.db_password, web.vars.again, web.vars.pin, web.vars.code, web.vars.tokens], ['s3cret-value', 's3cret-value', '123', '1234', ['plain', 'list-secret']])
  assert.equal(web.vars.nested, { token: 'map-secret' })
  assert.equal([...inv.secrets].sort(), ['1234', 'list-secret', 'map-secret', 's3cret-value'])
})

test('!vault values (in a list, in a map) with a wrong password: refused at its key path, naming the variable', () => {
  const e = errorOf(() => parseInventory(VAULT_YAML, FILE, {}, { vaultPassword: 'wrong' }))
  assert.instance(e, InventoryError)
  const lines = e.message.split('\n')
  assert.is(lines[0], `${FILE}: all.hosts.web.db_password: the variable 'db_password' cannot be decrypted with the vault password given (${lines[0]!.split('given (')[1]}`)
  assert.ok(lines.some((l) => l.startsWith(`${FILE}: all.hosts.web.tokens.1: the variable 'tokens' cannot be decrypted`)), e.message)
  assert.ok(lines.some((l) => l.startsWith(`${FILE}: all.hosts.web.nested.token: the variable 'nested' cannot be decrypted`)), e.message)
})

test.run()
