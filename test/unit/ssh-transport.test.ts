// The transport as Ansible's connection variables set it up, against an in-process ssh2 server:
// password authentication, ProxyCommand, host key checking off, ssh options given as -o.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import ssh2 from 'ssh2'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { connectSsh } from '../../lib/transport/ssh.ts'

const PASSWORD = 'the-ssh-password'
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-ssh-transport-'))
const config = path.join(dir, 'ssh_config')
fs.writeFileSync(config, '')
const seen: { method: string; user: string }[] = []
const server = new ssh2.Server({ hostKeys: [ssh2.utils.generateKeyPairSync('ed25519').private] }, (client) => {
  client.on('authentication', (ctx) => {
    seen.push({ method: ctx.method, user: ctx.username })
    if (ctx.method === 'password' && ctx.password === PASSWORD) return ctx.accept()
    ctx.reject(['password'])
  })
  client.on('error', () => {})
})
let port = 0

test.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  port = (server.address() as { port: number }).port
})
test.after(() => {
  server.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Connect to the server as the inventory vars say (-F: only our empty config file is read); the error's message, or 'ok'. */
async function connect(vars: Record<string, unknown>, opts: { password?: string } = {}): Promise<string> {
  const all: Record<string, unknown> = { ansible_host: '127.0.0.1', ansible_port: port, ansible_user: 'me', known_hosts: path.join(dir, 'known_hosts'), ...vars }
  all.ansible_ssh_common_args = `-F ${config} ${all.ansible_ssh_common_args ?? ''}`
  const host = parseInventory(JSON.stringify({ all: { hosts: { fake: all } } }), path.join(dir, 'inventory.yaml')).hosts[0]!
  try {
    // a ceiling, not a wait: the ProxyCommand's node took over 5 s to start on a machine at load 20
    const conn = await connectSsh(host, { connectTimeoutMs: 30_000, askPassphrase: () => Promise.reject(new Error('no')), ...opts })
    await conn.close()
    return 'ok'
  } catch (e) {
    return (e as Error).message
  }
}

test('ansible_password: password authentication; a wrong one is refused; -k gives it when the inventory does not', async () => {
  const off = { ansible_host_key_checking: false }
  assert.is(await connect({ ...off, ansible_password: PASSWORD }), 'ok')
  assert.ok(seen.some((s) => s.method === 'password' && s.user === 'me'))
  assert.match(await connect({ ...off, ansible_password: 'wrong-password' }), 'authentication failed')
  assert.is(await connect(off, { password: PASSWORD }), 'ok')
  assert.is(await connect({ ...off, ansible_password: PASSWORD }, { password: 'wrong-password' }), 'ok', "the inventory's password wins over -k")
})

test('host key checking: strict refuses an unknown host; ansible_host_key_checking false accepts it and records nothing', async () => {
  assert.match(await connect({ ansible_password: PASSWORD }), /host key of \[127\.0\.0\.1\]:\d+ .* is not in .*known_hosts/)
  assert.is(await connect({ ansible_password: PASSWORD, ansible_host_key_checking: false }), 'ok')
  assert.not.ok(fs.existsSync(path.join(dir, 'known_hosts')))
})

test('-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=F in ansible_ssh_common_args: the key is recorded in F', async () => {
  const file = path.join(dir, 'recorded')
  const args = `-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${file}`
  assert.is(await connect({ ansible_password: PASSWORD, known_hosts: undefined, ansible_ssh_common_args: args }), 'ok')
  assert.match(fs.readFileSync(file, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${port} ssh-ed25519 `))
})

test('ProxyCommand: the connection goes through a local process (the address itself does not resolve)', async () => {
  const relay = `${process.execPath} -e 'const s = require("net").connect(+process.argv[1], "127.0.0.1"); process.stdin.pipe(s); s.pipe(process.stdout)' %p`
  const vars = { ansible_password: PASSWORD, ansible_host_key_checking: false, ansible_host: 'nowhere.invalid' }
  assert.match(await connect(vars), /nowhere\.invalid/)
  assert.is(await connect({ ...vars, ansible_ssh_common_args: `-o ProxyCommand="${relay.replace(/"/g, '\\"')}"` }), 'ok')
})

test.run()
