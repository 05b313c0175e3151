// The SSH transport: one ssh2 connection per host, reused for every command. The only module
// that imports ssh2.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import ssh2 from 'ssh2'
import type { ConnectConfig } from 'ssh2'
import type { Connection, Proc } from './connection.ts'
import { UnreachableError } from './errors.ts'
import type { Host } from './inventory.ts'
import { appendKnownHost, fingerprint, hostKeyName, knownAlgorithms, readKnownHosts, verify } from './known-hosts.ts'
import { askSecret } from './prompt.ts'
import { defaultIdentityFiles, readSshConfig, resolveJump, resolveTarget, type SshTarget } from './ssh-config.ts'

export type SshOptions = {
  connectTimeoutMs: number
  /** ask for a key's passphrase; default: the terminal, or a line of stdin */
  askPassphrase?: (question: string) => Promise<string>
}

const passphrases = new Map<string, Promise<string>>()

/** A usable private key for the target: the first identity file that exists, decrypted if need be. */
async function loadKey(t: SshTarget, opts: SshOptions, explicit: boolean): Promise<{ privateKey?: Buffer; passphrase?: string }> {
  const files = t.identityFiles.length ? t.identityFiles : defaultIdentityFiles()
  for (const file of files) {
    let privateKey: Buffer
    try {
      privateKey = fs.readFileSync(file)
    } catch (e) {
      if (explicit) throw new UnreachableError(t.label, `key file ${file} cannot be read: ${(e as Error).message}`)
      continue
    }
    const parsed = ssh2.utils.parseKey(privateKey)
    if (!(parsed instanceof Error)) return { privateKey }
    if (!/passphrase|encrypted/i.test(parsed.message)) throw new UnreachableError(t.label, `key file ${file} is not a private key: ${parsed.message}`)
    // Hosts connect in parallel but share keys: ask once per key file, and let the others wait for it.
    let pending = passphrases.get(file)
    if (!pending) {
      const ask = opts.askPassphrase ?? askSecret
      pending = ask(`Enter passphrase for key '${file}': `)
      passphrases.set(file, pending)
    }
    let passphrase: string
    try {
      passphrase = await pending
    } catch (e) {
      throw new UnreachableError(t.label, `key ${file} is encrypted and no passphrase was given: ${(e as Error).message}`)
    }
    if (ssh2.utils.parseKey(privateKey, passphrase) instanceof Error) throw new UnreachableError(t.label, `wrong passphrase for key ${file}`)
    return { privateKey, passphrase }
  }
  return {}
}

function knownHostsFiles(host: Host): string[] {
  return [host.knownHosts ?? path.join(os.homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts']
}

/** Open an ssh2 client to one hop, over `sock` when it is reached through a jump host. */
async function connectHop(t: SshTarget, host: Host, opts: SshOptions, isTarget: boolean, sock?: Duplex): Promise<ssh2.Client> {
  const files = knownHostsFiles(host)
  const known = readKnownHosts(files)
  const names = [hostKeyName(t.hostname, t.port)]
  let refusal = ''
  const hostVerifier = (blob: Buffer): boolean => {
    const v = verify(known, names, blob)
    if (v.status === 'known') return true
    if (v.status === 'unknown' && host.hostKeyChecking === 'accept-new') {
      // A throw here would reach ssh2's protocol code: refuse the host instead, saying why.
      try {
        appendKnownHost(files[0]!, names[0]!, blob)
        return true
      } catch (e) {
        refusal = `cannot record the host key of ${names[0]} (${fingerprint(blob)}) in ${files[0]}: ${(e as Error).message}; make that file writable, or add the key yourself (ssh-keyscan)`
        return false
      }
    }
    refusal =
      v.status === 'unknown'
        ? `host key of ${names[0]} (${fingerprint(blob)}) is not in ${files[0]}; add it (ssh-keyscan) or set host_key_checking: accept-new`
        : v.status === 'revoked'
          ? `host key of ${names[0]} is revoked in ${v.known.file}:${v.known.line}`
          : `HOST KEY CHANGED for ${names[0]}: it now offers ${fingerprint(blob)}, but ${v.known[0]!.file}:${v.known[0]!.line} lists another key. Someone may be intercepting the connection; if the host was rebuilt, remove that line.`
    return false
  }
  const auth = await loadKey(t, opts, isTarget && host.key !== undefined)
  const algorithms = knownAlgorithms(known, names)
  const agent = process.env.SSH_AUTH_SOCK || undefined
  const config: ConnectConfig = {
    host: t.hostname,
    port: t.port,
    username: t.user,
    ...auth,
    agent,
    // ssh2 tries `none` first by default, which costs a round trip and a refusal on every real
    // server; the same methods in an order that starts with the ones that can succeed.
    authHandler: [...(auth.privateKey ? ['publickey' as const] : []), ...(agent ? ['agent' as const] : []), 'none'],
    sock: sock as ConnectConfig['sock'],
    readyTimeout: opts.connectTimeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 3,
    hostVerifier,
    ...(algorithms.length ? { algorithms: { serverHostKey: algorithms as never } } : {}),
  }
  const client = new ssh2.Client()
  return await new Promise((resolve, reject) => {
    const where = `${t.user}@${t.hostname}:${t.port}`
    client.once('ready', () => resolve(client))
    // 'on', not 'once', for good: a refused handshake can emit a second error, and one with no
    // handler ends the process. The first one decides; later ones surface as lost channels.
    client.on('error', (err: Error & { level?: string }) => {
      const why = refusal || describeConnectError(err, opts.connectTimeoutMs)
      reject(new UnreachableError(host.name, `${where}${isTarget ? '' : ` (jump host ${t.label})`}: ${why}`))
    })
    client.connect(config)
    // Without TCP_NODELAY each small packet waits ~40 ms for a delayed ACK (Nagle): every command
    // (see lab-notes.md), and the handshake too (service request, auth), so it is set before the
    // socket connects, not once the client is ready. No-op over a ProxyJump channel.
    client.setNoDelay(true)
  })
}

function describeConnectError(err: Error & { level?: string; code?: string }, timeoutMs: number): string {
  if (/handshake|timed out/i.test(err.message)) return `connect timed out after ${timeoutMs / 1000}s`
  if (err.level === 'client-authentication') return `authentication failed: ${err.message}`
  if (err.code === 'ECONNREFUSED') return 'connection refused (is sshd running?)'
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return `no route to host (${err.code})`
  return err.message
}

/**
 * Send a signal to the command on a channel. ssh2's channel.signal() does nothing once the
 * channel's stdin is ended, which every command's is; the protocol call it wraps still works.
 */
function signal(ch: ssh2.ClientChannel, name: string): void {
  const c = ch as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, name: string): void } } }
  try {
    // 'eof': our side ended stdin, the command still runs
    if (c.outgoing && (c.outgoing.state === 'open' || c.outgoing.state === 'eof')) c._client?._protocol?.signal(c.outgoing.id, name)
  } catch {
    // the connection is already gone
  }
}

function forward(client: ssh2.Client, t: SshTarget): Promise<Duplex> {
  return new Promise((resolve, reject) =>
    client.forwardOut('127.0.0.1', 0, t.hostname, t.port, (err, stream) => (err ? reject(err) : resolve(stream)))
  )
}

export async function connectSsh(host: Host, opts: SshOptions): Promise<Connection> {
  const config = readSshConfig()
  const target = resolveTarget(host, config)
  // ProxyJump: each hop is reached through the previous one; all hops are closed with the host.
  const hops: SshTarget[] = []
  for (let t: SshTarget | undefined = target; t?.proxyJump; ) {
    const chain: SshTarget[] = t.proxyJump.split(',').map((s) => resolveJump(s, config))
    hops.unshift(...chain)
    t = chain[0]
    if (hops.length > 8) throw new UnreachableError(host.name, 'ProxyJump chain longer than 8 hops')
  }
  const clients: ssh2.Client[] = []
  let sock: Duplex | undefined
  for (const hop of [...hops, target]) {
    if (clients.length) {
      try {
        sock = await forward(clients.at(-1)!, hop)
      } catch (e) {
        clients.forEach((c) => c.end())
        throw new UnreachableError(host.name, `jump to ${hop.hostname}:${hop.port} failed: ${(e as Error).message}`)
      }
    }
    try {
      clients.push(await connectHop(hop, host, opts, hop === target, sock))
    } catch (e) {
      clients.forEach((c) => c.end())
      throw e
    }
  }
  const client = clients.at(-1)!
  let closed = false
  let closing = false
  const lost = new Set<() => void>()
  const running = new Set<ssh2.ClientChannel>()
  // commands asked for whose channel is not confirmed yet: sshd may already run them
  const opening = new Set<Promise<unknown>>()
  client.on('close', () => {
    closed = true
    lost.forEach((f) => f())
  })

  return {
    host: host.name,
    spawn(command: string): Promise<Proc> {
      if (closed) return Promise.reject(new UnreachableError(host.name, 'connection lost'))
      if (closing) return Promise.reject(new UnreachableError(host.name, 'connection closed'))
      const proc = new Promise<Proc>((resolve, reject) => {
        const opened = (err: Error | undefined, ch: ssh2.ClientChannel) => {
          if (err) return reject(new UnreachableError(host.name, `cannot open a channel: ${err.message}`))
          running.add(ch)
          ch.once('close', () => running.delete(ch))
          let exit: { exitCode: number | null; signal: string | null } = { exitCode: null, signal: null }
          const done = new Promise<typeof exit>((res) => {
            const onLost = () => res(exit)
            lost.add(onLost)
            ch.on('exit', (code: number | null, signal?: string) => {
              exit = { exitCode: code ?? null, signal: signal ?? null }
            })
            ch.on('close', () => {
              lost.delete(onLost)
              res(exit)
            })
          })
          resolve({
            stdin: ch,
            stdout: ch,
            stderr: ch.stderr,
            done,
            kill() {
              // TERM, not KILL, which nothing can catch and pass on: sshd sends it to the command's
              // process group. Without become the login shell running the script passes it on to that
              // group and exits (the trap of wrapCommand's time limit); under sudo, sudo relays it to
              // timeout(1), which passes it to the whole group
              signal(ch, 'TERM')
              ch.close()
            },
          })
        }
        try {
          client.exec(command, opened)
        } catch (e) {
          // the socket closed before ssh2 noticed (`Not connected`)
          reject(new UnreachableError(host.name, `connection lost (${(e as Error).message})`))
        }
      })
      const settled = proc.then(
        () => {},
        () => {}
      )
      opening.add(settled)
      void settled.then(() => opening.delete(settled))
      return proc
    },
    async close() {
      closing = true
      // A command asked for just before (a Ctrl-C) may already run on the host while its channel
      // is unconfirmed: wait for the confirmation (briefly), or it would miss its TERM below.
      if (opening.size) await Promise.race([Promise.all(opening), new Promise((r) => setTimeout(r, 1000).unref())])
      // Commands still running (a Ctrl-C): TERM to each, as kill() above (sshd sends it to the
      // command's process group, where the login shell's trap, or sudo and then timeout(1) under
      // become, pass it on to the whole group); without it they would run on unattended.
      for (const ch of running) signal(ch, 'TERM')
      for (const c of [...clients].reverse()) c.end()
      // A host that went silent (its link cut) never answers the goodbye: drop the sockets rather
      // than keep the process alive until TCP gives up, minutes later.
      setTimeout(() => {
        for (const c of clients) (c as unknown as { _sock?: Duplex })._sock?.destroy()
      }, 2000).unref()
    },
  }
}
