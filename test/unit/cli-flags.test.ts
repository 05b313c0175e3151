// The Ansible flags end to end through the CLI (no lab: nothing connects), and the connection
// flags' place in the inventory's precedence. The CLI runs in this process (its main()), but where
// the working directory matters, as a process of its own.
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { playbookFile, runCli } from '../e2e/helpers.ts'
import { zxplayInProcess as zxplay } from './_cli.ts'
import { tempDir } from './_helpers.ts'

const { dir, remove } = tempDir('cli-flags')
test.after(remove)
const inventory = path.join(dir, 'inventory.yaml')
fs.writeFileSync(inventory, 'all:\n  vars: {key: /nonexistent/id_ed25519}\n  hosts:\n    web1: {address: 192.0.2.1}\n    web2: {address: 192.0.2.2}\n')
const outcomes = playbookFile('outcomes')
// in another working directory, npx's NODE_OPTIONS (--import tsx) would not resolve: bin/zxplay.mjs loads tsx itself
const elsewhere = { cwd: dir, env: { NODE_OPTIONS: '' } }

test('--list-hosts, --list-tasks, --list-tags need no key file; a run does', async () => {
  const hosts = await zxplay(['run', outcomes, '-i', inventory, '--list-hosts', '-l', 'web2'])
  const tags = await zxplay(['run', outcomes, '-i', inventory, '--list-tags'])
  const check = await zxplay(['run', outcomes, '-i', inventory, '--check'])
  assert.is(hosts.code, 0, hosts.stderr)
  assert.is(hosts.stdout.trim(), 'outcomes: outcomes [all]\n  web2')
  assert.is(tags.code, 0, tags.stderr)
  assert.match(tags.stdout, /TASK TAGS: \[\]/)
  assert.is(check.code, 5)
  assert.match(check.stderr, /cannot read the private key file \/nonexistent\/id_ed25519 \(no such file\)/)
})

test('--syntax-check loads the playbooks and checks the inventory, connects to nothing', async () => {
  const r = await zxplay(['run', outcomes, '-i', inventory, '--syntax-check'])
  const bad = await zxplay(['run', outcomes, '-i', inventory, '--syntax-check', '-l', 'nosuch'])
  assert.is(r.code, 0, r.stderr)
  assert.is(r.stdout.trim(), 'syntax ok: 1 playbook(s), 3 task(s)')
  assert.is(bad.code, 5)
})

test('--version', async () => {
  const [r, site] = [await zxplay(['--version']), await zxplay(['run', 'site', '--version'])]
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.is(r.stdout.trim(), `zxplay ${pkg.version} (node ${process.version})`)
  assert.is(site.stdout.trim(), r.stdout.trim())
})

test('--private-key is read relative to the working directory, and checked like the inventory key', async () => {
  // zxplay started in another folder: a process of its own
  const own = path.join(dir, 'plain.yaml')
  fs.writeFileSync(own, 'all:\n  hosts:\n    web1: {address: 192.0.2.1}\n')
  const [r, flag] = await Promise.all([
    runCli(['run', outcomes, '-i', inventory, '--check', '--private-key', 'keys/id', '-l', 'web1'], elsewhere),
    runCli(['run', outcomes, '-i', own, '--check', '--private-key', 'keys/id'], elsewhere),
  ])
  // the inventory's key wins over the flag (Ansible's precedence): its file is the one refused
  assert.match(r.stderr, /\/nonexistent\/id_ed25519/)
  assert.is(flag.code, 5)
  assert.ok(flag.stderr.includes(`cannot read the private key file ${path.join(dir, 'keys/id')} (no such file)`), flag.stderr)
})

const INV = `
all:
  vars: {ansible_user: from-all}
  children:
    web: {hosts: {w1: {address: 192.0.2.1}, w2: {address: 192.0.2.2, ansible_connection: ssh}}}
    ops: {vars: {ansible_user: from-group}, hosts: {o1: {address: 192.0.2.3}}}
`

test('connection flags are the lowest precedence: the inventory wins wherever it sets the same thing', () => {
  const cliVars = { ansible_user: 'from-flag', ansible_connection: 'local', ansible_become_user: 'app' }
  const inv = parseInventory(INV, 'inventory.yaml', {}, { cliVars })
  assert.equal(inv.hosts.map((h) => [h.name, h.user, h.connection, h.becomeUser]), [
    ['w1', 'from-all', 'local', 'app'],
    ['w2', 'from-all', 'ssh', 'app'],
    ['o1', 'from-group', 'local', 'app'],
  ])
  const bare = parseInventory('all: {hosts: {h: {address: 192.0.2.9}}}', 'inventory.yaml', {}, { cliVars })
  assert.is(bare.hosts[0]!.user, 'from-flag')
  // -e still beats everything
  assert.is(parseInventory(INV, 'inventory.yaml', { ansible_user: 'from-e' }, { cliVars }).hosts[2]!.user, 'from-e')
})

test('a bad connection flag value is refused like the same inventory key', () => {
  try {
    parseInventory(INV, 'inventory.yaml', {}, { cliVars: { ansible_connection: 'telnet' } })
    assert.unreachable('accepted')
  } catch (e) {
    assert.match((e as Error).message, /command-line flags\.ansible_connection: expected 'ssh', 'local' or 'paramiko' .*got 'telnet'/)
  }
})

test('--become-method reaches the become settings: su taken, an unknown method refused by name', () => {
  const one = 'all: {hosts: {h: {address: 192.0.2.1}}}'
  assert.is(parseInventory(one, 'inventory.yaml', {}, { cliVars: { ansible_become_method: 'su' } }).hosts[0]!.becomeMethod, 'su')
  try {
    parseInventory(one, 'inventory.yaml', {}, { cliVars: { ansible_become_method: 'doas' } })
    assert.unreachable('accepted')
  } catch (e) {
    assert.match((e as Error).message, /command-line flags\.ansible_become_method: expected 'sudo' or 'su'.*got 'doas'/)
  }
})

test.run()
