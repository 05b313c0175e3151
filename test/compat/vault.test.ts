// Ansible Vault in the inventory: `!vault` values and encrypted group_vars files, made at test time
// with Debian's `ansible-vault`; what zxplay decrypts is what Ansible's debug module prints.
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError, UsageError } from '../../lib/base/errors.ts'
import { loadInventory } from '../../lib/inventory/inventory.ts'
import { listInventory } from '../../lib/inventory/inventory-list.ts'
import { readVaultPasswordFile } from '../../lib/inventory/vault.ts'
import { tempDir } from '../unit/_helpers.ts'

const run = promisify(execFile)
const tmp = tempDir('vault')
test.after(tmp.remove)
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp.dir, ANSIBLE_NOCOLOR: '1', ANSIBLE_INVENTORY_UNPARSED_FAILED: '1', LC_ALL: 'C.UTF-8' }
const at = (...p: string[]) => path.join(tmp.dir, ...p)
const vault = (...args: string[]) => execFileSync('ansible-vault', [...args, '--vault-password-file', at('pw')], { env: ENV, cwd: tmp.dir, encoding: 'utf8' })

fs.writeFileSync(at('pw'), 'pw-for-tests\n')
fs.writeFileSync(at('wrong'), 'not-the-password\n')
const indent = (text: string, n: number) => text.trimEnd().replaceAll('\n', `\n${' '.repeat(n)}`)
fs.mkdirSync(at('group_vars'))
fs.writeFileSync(
  at('inventory.yml'),
  `all:\n  hosts:\n    h1:\n      ansible_connection: local\n      ${indent(vault('encrypt_string', 'the secret value', '--name', 'db_password'), 6)}\n      nested:\n        ${indent(vault('encrypt_string', 'inner secret', '--name', 'token'), 8)}\n`
)
fs.writeFileSync(at('group_vars/all.yml'), 'api_key: from an encrypted file\n')
vault('encrypt', at('group_vars/all.yml'))

/** What Ansible's debug module prints for `name` on h1. */
async function ansibleSays(name: string): Promise<unknown> {
  const { stdout } = await run('ansible', ['-i', at('inventory.yml'), 'h1', '-m', 'debug', '-a', `var=${name}`, '--vault-password-file', at('pw')], { env: ENV, cwd: tmp.dir })
  return (JSON.parse(stdout.slice(stdout.indexOf('{'))) as Record<string, unknown>)[name]
}

test('!vault values and encrypted vars files decrypt to what Ansible reads; they become secrets to redact', async () => {
  const inv = await loadInventory(at('inventory.yml'), { vaultPassword: readVaultPasswordFile(at('pw')) })
  const h1 = inv.hosts[0]!
  assert.ok(fs.readFileSync(at('group_vars/all.yml'), 'utf8').startsWith('$ANSIBLE_VAULT;'))
  for (const name of ['db_password', 'nested', 'api_key']) assert.equal(h1.vars[name], await ansibleSays(name), name)
  // every text of an encrypted file is as secret as a !vault value
  assert.equal([...inv.secrets].sort(), ['from an encrypted file', 'inner secret', 'the secret value'])
})

test('zxplay inventory --list shows !vault values still encrypted, as ansible-inventory does', async () => {
  const { stdout } = await run('ansible-inventory', ['-i', at('inventory.yml'), '--list', '--vault-password-file', at('pw')], { env: ENV, cwd: tmp.dir })
  const inv = await loadInventory(at('inventory.yml'), { vaultPassword: 'pw-for-tests' })
  assert.equal(JSON.parse(JSON.stringify(listInventory(inv))), JSON.parse(stdout))
})

test('without a vault password: refused, naming the file, the variable and the flags', async () => {
  const e = await loadInventory(at('inventory.yml')).catch((e: unknown) => e)
  assert.instance(e, InventoryError)
  const lines = (e as Error).message.split('\n')
  assert.is(lines[0], `${at('inventory.yml')}: all.hosts.h1.db_password: the variable 'db_password' is encrypted with Ansible Vault: pass --vault-password-file FILE or --ask-vault-pass`)
  assert.ok(lines.some((l) => l.startsWith(`${at('inventory.yml')}: all.hosts.h1.nested.token: the variable 'nested' is encrypted`)), (e as Error).message)
  assert.ok(lines.some((l) => l === `${at('group_vars/all.yml')}: the vars file is encrypted with Ansible Vault: pass --vault-password-file FILE or --ask-vault-pass`), (e as Error).message)
})

test('zxplay sh: decrypted values (a !vault one, one from an encrypted file) printed by a command are redacted on the terminal and in the log', async () => {
  const bin = path.resolve(import.meta.dirname, '../../bin/zxplay.mjs')
  const args = [bin, 'sh', 'all', '-i', at('inventory.yml'), '--vault-password-file', at('pw'), '--log-dir', at('logs'), '--', 'echo "[$(echo the secret value)] [$(echo from an encrypted file)]"']
  // without npm's NODE_OPTIONS (--import=tsx resolves from the cwd): the bin registers tsx itself;
  // a lock folder of its own: a zxplay run elsewhere on this machine may hold `local`'s in ~/.zxplay/locks
  const { stdout } = await run(process.execPath, args, { cwd: tmp.dir, env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', ZXPLAY_LOCK_DIR: at('locks'), ZXPLAY_HOST_LOCK: at('host.lock') } })
  assert.match(stdout, 'h1        · [********] [********]')
  const log = fs.readdirSync(at('logs')).map((f) => fs.readFileSync(at('logs', f), 'utf8')).join('')
  for (const text of [stdout, log]) for (const secret of ['the secret value', 'from an encrypted file']) assert.not.match(text, secret)
})

test('a wrong vault password: refused, the secret never shown', async () => {
  const e = await loadInventory(at('inventory.yml'), { vaultPassword: readVaultPasswordFile(at('wrong')) }).catch((e: unknown) => e)
  assert.instance(e, InventoryError)
  assert.match((e as Error).message, `${at('inventory.yml')}: all.hosts.h1.db_password: the variable 'db_password' cannot be decrypted with the vault password given`)
  assert.not.match((e as Error).message, 'not-the-password')
})

test('--vault-password-file: an executable file prints the password, as in Ansible; an empty one is refused', () => {
  fs.writeFileSync(at('pw.sh'), '#!/bin/sh\necho pw-for-tests\n', { mode: 0o755 })
  assert.is(readVaultPasswordFile(at('pw.sh')), 'pw-for-tests')
  fs.writeFileSync(at('empty'), '\n')
  assert.throws(() => readVaultPasswordFile(at('empty')), (e: unknown) => e instanceof UsageError && e.message === `--vault-password-file ${at('empty')}: the password is empty`)
  assert.throws(() => readVaultPasswordFile(at('missing')), (e: unknown) => e instanceof UsageError && e.message === `--vault-password-file ${at('missing')}: no such file`)
})

test.run()
