// accept-new when known_hosts cannot be written: that host is refused with a clear message, and
// nothing else is lost (the throw inside ssh2's host-key callback made it emit a second 'error'
// with no handler left, which ended the process, and a strict host connecting alongside with it).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import ssh2 from 'ssh2'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { hostKeyName, keyType } from '../../lib/transport/known-hosts.ts'
import { connectSsh } from '../../lib/transport/ssh.ts'

test('known_hosts that cannot be written: accept-new refuses that host; a strict host beside it connects', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-ssh-hostkey-'))
  const userKey = ssh2.utils.generateKeyPairSync('ed25519')
  fs.writeFileSync(path.join(dir, 'id'), userKey.private, { mode: 0o600 })
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519')
  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])))
    client.on('error', () => {})
    client.on('ready', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  // a file where the folder of known_hosts should be: not writable, even as root
  fs.writeFileSync(path.join(dir, 'not-a-dir'), '')
  const blob = ssh2.utils.parseKey(hostKey.public) as { getPublicSSH(): Buffer }
  const pub = blob.getPublicSSH()
  fs.writeFileSync(path.join(dir, 'known'), `${hostKeyName('127.0.0.1', port)} ${keyType(pub)} ${pub.toString('base64')}\n`)
  const inv = [
    'all:',
    '  hosts:',
    `    newbie: {address: 127.0.0.1, port: ${port}, user: me, key: ${dir}/id, known_hosts: ${dir}/not-a-dir/known_hosts, host_key_checking: accept-new}`,
    `    strict: {address: 127.0.0.1, port: ${port}, user: me, key: ${dir}/id, known_hosts: ${dir}/known}`,
  ].join('\n')
  const [newbie, strict] = parseInventory(inv, path.join(dir, 'inventory.yaml')).hosts
  try {
    const [a, b] = await Promise.allSettled([connectSsh(newbie!, { connectTimeoutMs: 5000 }), connectSsh(strict!, { connectTimeoutMs: 5000 })])
    assert.is(a.status, 'rejected')
    assert.match(String((a as PromiseRejectedResult).reason.message), `cannot record the host key of ${hostKeyName('127.0.0.1', port)}`)
    assert.match(String((a as PromiseRejectedResult).reason.message), `${dir}/not-a-dir/known_hosts`)
    assert.is(b.status, 'fulfilled')
    await (b as PromiseFulfilledResult<Awaited<ReturnType<typeof connectSsh>>>).value.close()
  } finally {
    server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
