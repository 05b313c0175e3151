// Closing a connection (Ctrl-C) while a command's channel is still being opened: sshd may already
// run the command, so close() waits for the confirmation and sends that command its TERM too.
// Against an in-process ssh2 server that starts the "command" at once but confirms it late.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import ssh2 from 'ssh2'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { connectSsh } from '../../lib/transport/ssh.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('a command whose channel is confirmed after close() began still gets its TERM', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-ssh-close-'))
  const userKey = ssh2.utils.generateKeyPairSync('ed25519')
  fs.writeFileSync(path.join(dir, 'id'), userKey.private, { mode: 0o600 })
  const started: string[] = []
  const signals: string[] = []
  const server = new ssh2.Server({ hostKeys: [ssh2.utils.generateKeyPairSync('ed25519').private] }, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])))
    client.on('error', () => {})
    client.on('session', (acceptSession) => {
      const session = acceptSession()
      session.on('signal', (_accept, _reject, info) => void signals.push(info.name))
      // the command runs from here on; its channel is confirmed 300 ms later
      session.on('exec', (accept, _reject, info) => {
        started.push(info.command)
        setTimeout(() => {
          try {
            accept()
          } catch {
            // the client is gone
          }
        }, 300)
      })
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  try {
    const inv = `all: {hosts: {fake: {address: 127.0.0.1, port: ${port}, user: me, key: ${dir}/id, known_hosts: ${dir}/known_hosts, host_key_checking: accept-new}}}`
    const host = parseInventory(inv, path.join(dir, 'inventory.yaml')).hosts[0]!
    const conn = await connectSsh(host, { connectTimeoutMs: 5000 })
    const proc = conn.spawn('sleep 20').catch((e: Error) => e)
    for (let i = 0; i < 100 && !started.length; i++) await sleep(10)
    assert.equal(started, ['sleep 20'])
    await conn.close()
    await proc
    for (let i = 0; i < 100 && !signals.length; i++) await sleep(10)
    assert.equal(signals, ['TERM'], 'the command that was starting got no TERM')
    const after = await conn.spawn('true').then(() => 'ran', (e: Error) => e.message)
    assert.match(after, /connection (closed|lost)/)
  } finally {
    server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
