// The stand-ins' client side of the API server: the kubeconfig's server, CA and credentials as
// a TLS target, HTTPS requests to it, and network and TLS failures in kubectl's and kubeadm's
// words (refused, i/o timeout, x509).
import fs from 'node:fs'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import type { ApiCall } from './_apicall.ts'
import type { IO } from './_io.ts'
import { selfHost } from './_k8s-host.ts'
import { ConnectError, loadKubeconfig, resolveContext, userPath } from './_kubeconfig.ts'
import { str } from './_k8s-util.ts'
import { unb64 } from './_pki.ts'

export type Target = {
  server: string
  host: string
  port: number
  hostport: string
  /** the CA the server's certificate must chain to (else Node's default trust) */
  ca?: string
  insecure: boolean
  cert?: string
  key?: string
  token?: string
  namespace?: string
}

export const refused = (hostport: string) => new ConnectError(`The connection to the server ${hostport} was refused - did you specify the right host or port?`)

/** Parse a server URL (https://host:port) as kubectl does. */
export function parseServer(server: string): { host: string; port: number; hostport: string } {
  const m = /^https?:\/\/([^/:]+)(?::(\d+))?\/?$/.exec(server)
  if (!m) throw new ConnectError(`Unable to connect to the server: parse "${server}": invalid URL`)
  const host = m[1] as string
  const port = Number(m[2] ?? (server.startsWith('https') ? 443 : 80))
  return { host, port, hostport: `${host}:${port}` }
}

/** The API server the kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) names, with its trust and credentials. */
export function kubeconfigTarget(opts: { kubeconfig?: string; context?: string; server?: string; insecure?: boolean } = {}): Target {
  const loaded = loadKubeconfig(opts.kubeconfig)
  const r = resolveContext(loaded.config, opts.context)
  const server = opts.server ?? r.server
  if (!server) throw refused('localhost:8080')
  const where = parseServer(server)
  const cluster = r.cluster ?? {}
  const readFile = (what: string, f: string) => {
    try {
      return fs.readFileSync(userPath(f), 'utf8')
    } catch {
      throw new ConnectError(`error: unable to read ${what} ${f} for ${r.contextName ?? 'cluster'} due to open ${f}: no such file or directory`)
    }
  }
  const data = (o: Record<string, unknown>, k: string) => (str(o[k]) ? unb64(String(o[k])) : undefined)
  const caFile = str(cluster['certificate-authority'])
  const ca = data(cluster, 'certificate-authority-data') ?? (caFile ? readFile('certificate-authority', caFile) : undefined)
  const u = r.user ?? {}
  const certFile = str(u['client-certificate'])
  const keyFile = str(u['client-key'])
  const cert = data(u, 'client-certificate-data') ?? (certFile ? readFile('client-cert', certFile) : undefined)
  const key = data(u, 'client-key-data') ?? (keyFile ? readFile('client-key', keyFile) : undefined)
  return {
    server,
    ...where,
    ...(ca ? { ca } : {}),
    insecure: opts.insecure === true || cluster['insecure-skip-tls-verify'] === true,
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(str(u.token) ? { token: str(u.token) as string } : {}),
    ...(r.namespace ? { namespace: r.namespace } : {}),
  }
}

export type Reply = { status: number; body: string }

const X509_UNKNOWN = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE'])

/** What went wrong on the way, as Go's net/http and crypto/tls say it (after "dial tcp …: " or "tls: "). */
export function netError(e: NodeJS.ErrnoException & { reason?: string }, t: Pick<Target, 'hostport' | 'host'>): { kind: 'refused' | 'dial' | 'tls'; text: string } {
  const code = e.code ?? ''
  if (code === 'ECONNREFUSED') return { kind: 'refused', text: `dial tcp ${t.hostport}: connect: connection refused` }
  if (code === 'ETIMEDOUT' || code === 'ZXLAB_TIMEOUT') return { kind: 'dial', text: `dial tcp ${t.hostport}: i/o timeout` }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { kind: 'dial', text: `dial tcp ${t.hostport}: connect: no route to host` }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'dial', text: `dial tcp: lookup ${t.host} on 127.0.0.53:53: no such host` }
  if (X509_UNKNOWN.has(code)) return { kind: 'tls', text: 'tls: failed to verify certificate: x509: certificate signed by unknown authority' }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { kind: 'tls', text: `tls: failed to verify certificate: x509: ${e.reason ?? e.message}` }
  if (code === 'CERT_HAS_EXPIRED') return { kind: 'tls', text: 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid' }
  return { kind: 'dial', text: `${code ? `${code}: ` : ''}${e.message}` }
}

/** kubectl's words for a request that did not get an answer. */
export function kubectlError(e: unknown, t: Target): ConnectError {
  const n = netError(e as NodeJS.ErrnoException, t)
  if (n.kind === 'refused') return refused(t.hostport)
  return new ConnectError(`Unable to connect to the server: ${n.text}`)
}

/**
 * One HTTPS request to the target: the server's certificate checked against the target's CA
 * (unless insecure), the client certificate or bearer token presented. Rejects with the socket's
 * error (see netError); dial + answer within timeoutMs (0: no limit once connected).
 */
export function request(t: Target, method: string, path: string, body?: unknown, o: { timeoutMs?: number; connectTimeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const req = https.request(
      {
        host: t.host,
        port: t.port,
        method,
        path,
        ...(t.ca ? { ca: t.ca } : {}),
        rejectUnauthorized: !t.insecure,
        ...(t.cert && t.key ? { cert: t.cert, key: t.key } : {}),
        agent: false,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          ...(t.token && !t.cert ? { authorization: `Bearer ${t.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          clearTimeout(overall)
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
        })
        res.on('error', reject)
      }
    )
    const timeoutError = () => Object.assign(new Error('timeout'), { code: 'ZXLAB_TIMEOUT' })
    // the dial: a dropped SYN is an i/o timeout, as Go's dialer reports it
    const dial = setTimeout(() => req.destroy(timeoutError()), o.connectTimeoutMs ?? 30_000)
    req.on('socket', (s) => s.once('connect', () => clearTimeout(dial)))
    const overall = o.timeoutMs ? setTimeout(() => req.destroy(timeoutError()), o.timeoutMs) : undefined
    req.on('error', (e) => {
      clearTimeout(dial)
      clearTimeout(overall)
      reject(e)
    })
    req.on('close', () => clearTimeout(dial))
    req.end(payload)
  })
}


/** The files a call names (folders as every file under them), read here as the caller; what cannot be read is left for the server to report. */
export function callFiles(names: string[]): ApiCall['files'] {
  const out: ApiCall['files'] = []
  const add = (real: string, shown: string, depth: number) => {
    let st: fs.Stats
    try {
      st = fs.statSync(real)
    } catch {
      return
    }
    if (st.isDirectory() && depth < 8) {
      for (const e of fs.readdirSync(real)) add(path.join(real, e), path.join(shown, e), depth + 1)
    } else if (st.isFile()) {
      try {
        out.push({ path: shown, content: fs.readFileSync(real, 'utf8') })
      } catch {
        // unreadable: the server says so as kubectl would
      }
    }
  }
  for (const n of names) {
    if (n === '-' || /^https?:\/\//.test(n)) continue
    add(userPath(n), path.resolve(n === '~' ? os.homedir() : n.startsWith('~/') ? path.join(os.homedir(), n.slice(2)) : n), 0)
  }
  return out
}

/** Send a kubectl/kubeadm call to the server; its output and exit code as the server's run gave them. */
export async function sendCall(t: Target, call: Omit<ApiCall, 'cwd' | 'home' | 'server' | 'namespace' | 'client'>, io: IO): Promise<number> {
  const full: ApiCall = { ...call, cwd: process.cwd(), home: os.homedir(), server: t.server, ...(t.namespace ? { namespace: t.namespace } : {}), client: selfHost() }
  let reply: Reply
  try {
    reply = await request(t, 'POST', '/zxlab/v1/run', full)
  } catch (e) {
    throw kubectlError(e, t)
  }
  if (reply.status === 401) throw new ConnectError('error: You must be logged in to the server (Unauthorized)')
  if (reply.status !== 200) throw new ConnectError(`Error from server: ${reply.body}`)
  const r = JSON.parse(reply.body) as { out: string; err: string; code: number }
  io.out(r.out)
  io.err(r.err)
  return r.code
}
