// The SSH transport: one ssh2 connection per host, reused for every command. The only module
// that imports ssh2.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { Duplex } from 'node:stream'
import ssh2 from 'ssh2'
import type { ConnectConfig } from 'ssh2'
import type { Connection, Proc } from './connection.ts'
import { UnreachableError } from '../base/errors.ts'
import type { Host } from '../inventory/inventory.ts'
import { appendKnownHost, fingerprint, hostKeyName, knownAlgorithms, readKnownHosts, verify } from './known-hosts.ts'
import { askSecret } from '../base/prompt.ts'
import { configFiles, defaultIdentityFiles, homeDir, resolveJump, resolveOptions, SshConfigError, targetOf, type SshOption, type SshTarget } from '../base/ssh-config.ts'

export type SshOptions = {
  connectTimeoutMs: number
  /** ask for a key's passphrase; default: the terminal, or a line of stdin */
  askPassphrase?: (question: string) => Promise<string>
  /** the SSH password asked with -k (--ask-pass); a host's ansible_password wins */
  password?: string
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

/** known_hosts files as ssh reads them: the user's (the first is where accept-new records), then the global ones. */
function knownHostsFiles(t: SshTarget): string[] {
  const user = t.knownHosts ?? ['known_hosts', 'known_hosts2'].map((f) => path.join(homeDir(), '.ssh', f))
  return [...user, ...(t.globalKnownHosts ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'])]
}

/**
 * The inventory's settings as ssh command-line options, in Ansible's order (ansible_ssh_args, then
 * what Ansible derives from its variables, then the common and extra args): on the command line
 * they come before the config files, and the first value of each option wins. `forJump`: only the
 * host-key settings, which also apply to jump hosts.
 */
function givenOptions(host: Host, forJump = false): SshOption[] {
  const o = (keyword: string, value: string | number | undefined, key: string): SshOption[] =>
    value === undefined ? [] : [{ keyword, args: [String(value)], where: `inventory (${key})` }]
  const checking = host.vars.host_key_checking === undefined ? undefined : { strict: 'yes', 'accept-new': 'accept-new', off: 'no' }[host.hostKeyChecking]
  const hostKeys = [...o('stricthostkeychecking', checking, 'host_key_checking'), ...o('userknownhostsfile', host.knownHosts, 'known_hosts')]
  if (forJump) return hostKeys
  const first = host.sshOptions.filter((x) => x.where.startsWith('ansible_ssh_args'))
  return [
    ...first,
    ...hostKeys,
    ...o('port', host.vars.port === undefined ? undefined : host.port, 'port'),
    ...o('identityfile', host.key, 'key'),
    ...o('user', host.user, 'user'),
    ...o('connecttimeout', host.connectTimeout, 'ansible_ssh_timeout'),
    ...host.sshOptions.filter((x) => !first.includes(x)),
  ]
}

// The CLI's check, the lock and the connection each ask for a host's target: the config files
// (and their Includes) are read once per host and run.
const targets = new WeakMap<Host, SshTarget>()

/** Where and how ssh would connect to this host: the inventory's options, then the config files. Throws SshConfigError. */
export function targetFor(host: Host): SshTarget {
  let t = targets.get(host)
  if (!t) {
    const files = host.sshConfigFile ? [host.sshConfigFile] : configFiles()
    t = targetOf(host.name, host.address, resolveOptions(host.address, givenOptions(host), files))
    targets.set(host, t)
  }
  return t
}

/** ProxyCommand: a local process whose stdin and stdout are the connection, as ssh runs it. */
function proxyCommand(command: string, label: string): { sock: Duplex; stop(): void; ended: Promise<string> } {
  const child = spawn(process.env.SHELL || '/bin/sh', ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)))
  const sock = Duplex.from({ readable: child.stdout, writable: child.stdin })
  child.on('error', (e) => sock.destroy(new Error(`ProxyCommand for ${label} could not start: ${e.message}`)))
  // what it said and how it ended, for the message when the connection fails (at most 1 s later)
  const ended = new Promise<string>((resolve) => {
    const say = (how: string) => resolve(`ProxyCommand ${how}${stderr.trim() ? `, saying: ${stderr.trim()}` : ''}`)
    child.on('close', (code, signal) => say(signal ? `killed by ${signal}` : `exited with ${code}`))
    setTimeout(() => say('still running'), 1000).unref()
  })
  return { sock, stop: () => child.kill(), ended }
}

/** Open an ssh2 client to one hop, over `sock` when it is reached through a jump host. */
async function connectHop(t: SshTarget, host: Host, opts: SshOptions, isTarget: boolean, sock?: Duplex): Promise<ssh2.Client> {
  const files = knownHostsFiles(t)
  const known = readKnownHosts(files)
  const names = [hostKeyName(t.hostname, t.port)]
  const checking = t.strictHostKeyChecking ?? 'strict'
  let refusal = ''
  const hostVerifier = (blob: Buffer): boolean => {
    if (checking === 'off') return true // asked for by name (ansible_host_key_checking: false, StrictHostKeyChecking no)
    const v = verify(known, names, blob)
    if (v.status === 'known') return true
    if (v.status === 'unknown' && checking === 'accept-new') {
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
  const agent = (t.agent ?? process.env.SSH_AUTH_SOCK) || undefined
  // ansible_password or -k: for the host itself, not its jump hosts
  const password = isTarget ? (host.password ?? opts.password) : undefined
  const timeoutMs = t.connectTimeoutMs ?? opts.connectTimeoutMs
  const proxy = t.proxyCommand ? proxyCommand(t.proxyCommand, t.label) : undefined
  const config: ConnectConfig = {
    host: t.hostname,
    port: t.port,
    username: t.user,
    ...auth,
    agent,
    password,
    // ssh2 tries `none` first by default, which costs a round trip and a refusal on every real
    // server; the same methods in an order that starts with the ones that can succeed.
    authHandler: [
      ...(auth.privateKey ? ['publickey' as const] : []),
      ...(agent ? ['agent' as const] : []),
      ...(password !== undefined ? ['password' as const] : []),
      'none',
    ],
    sock: (proxy?.sock ?? sock) as ConnectConfig['sock'],
    readyTimeout: timeoutMs,
    keepaliveInterval: t.keepaliveIntervalMs ?? 15_000,
    keepaliveCountMax: t.keepaliveCountMax ?? 3,
    hostVerifier,
    ...(algorithms.length ? { algorithms: { serverHostKey: algorithms as never } } : {}),
  }
  const client = new ssh2.Client()
  return await new Promise((resolve, reject) => {
    const where = `${t.user}@${t.hostname}:${t.port}`
    client.once('ready', () => {
      client.removeAllListeners('error')
      client.on('error', () => {}) // later errors surface as lost channels
      if (proxy) client.once('close', proxy.stop)
      resolve(client)
    })
    // A refused handshake can emit a second error, and one with no handler ends the process:
    // the first one decides, a no-op takes the later ones (a ProxyCommand's end brings one too).
    client.once('error', async (err: Error & { level?: string }) => {
      client.on('error', () => {})
      const said = proxy && (await proxy.ended)
      proxy?.stop()
      const why = refusal || describeConnectError(err, timeoutMs) + (said ? ` (${said})` : '')
      reject(new UnreachableError(host.name, `${where}${isTarget ? '' : ` (jump host ${t.label})`}${proxy ? ' via ProxyCommand' : ''}: ${why}`))
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
  const files = host.sshConfigFile ? [host.sshConfigFile] : configFiles()
  // ProxyJump: each hop is reached through the previous one; all hops are closed with the host.
  const hops: SshTarget[] = []
  let target: SshTarget
  try {
    target = targetFor(host)
    for (let t: SshTarget | undefined = target; t?.proxyJump; ) {
      const chain: SshTarget[] = t.proxyJump.split(',').map((s) => resolveJump(s, files, givenOptions(host, true)))
      hops.unshift(...chain)
      t = chain[0]
      if (hops.length > 8) throw new UnreachableError(host.name, 'ProxyJump chain longer than 8 hops')
    }
  } catch (e) {
    if (e instanceof SshConfigError) throw new UnreachableError(host.name, e.message)
    throw e
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
            signal: (name) => signal(ch, name),
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
