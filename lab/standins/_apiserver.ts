// The stand-in API server: HTTPS on the advertise address and port with kubeadm's
// apiserver.crt, client certificates checked against the cluster CA (and bootstrap tokens), the
// cluster's objects at the Kubernetes REST paths for reads, and for everything else one endpoint
// that runs the caller's kubectl or kubeadm command here, against the control plane's store, as
// the caller's identity (POST /zxlab/v1/run, in a child process per call: runner).
import { spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import type { TLSSocket } from 'node:tls'
import type { ApiCall, Identity, ServerCall } from './_apicall.ts'
import { reconcile } from './_controllers.ts'
import { bootstrapTokenGroups, joinOverApi } from './_join.ts'
import type { JoinRequest } from './_join.ts'
import type { HostReading } from './_host-facts.ts'
import { clock } from './_clock.ts'
import { authorize } from './_kubeconfig.ts'
import { clone, deepEqual, isObj } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { allKinds, matchesFieldSelector, matchesSelector, parseSelector } from './_resources.ts'
import { getObj, listObjs, readStore, updateStore, versionInfo } from './_store.ts'
import type { Store } from './_store.ts'

export type ApiServerOptions = {
  address: string
  port: number
  /** PEM: the serving certificate and key, the CA client certificates must chain to */
  cert: string
  key: string
  clientCa: string
  storeFile: string
  /** the command that runs one call of a tool: it reads the ServerCall as JSON on stdin, prints {out, err, code} (runServerCall) */
  runner: (tool: ApiCall['tool']) => string[]
  /** the environment calls run with (default: this process's at start) */
  env?: NodeJS.ProcessEnv
}

const ANONYMOUS: Identity = { name: 'system:anonymous', groups: ['system:unauthenticated'] }
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version'])
const CLUSTER_INFO = '/api/v1/namespaces/kube-public/configmaps/cluster-info'
const MAX_BODY = 64 << 20

export function startApiServer(o: ApiServerOptions): Promise<https.Server> {
  const env = { ...(o.env ?? process.env) }
  const server = https.createServer({ cert: o.cert, key: o.key, ca: o.clientCa, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(o, env, req, res).catch((e) => send(res, 500, statusDoc(500, 'InternalError', String((e as Error).message))))
  })
  server.requestTimeout = 0 // kubectl wait and rollout status hold a call for minutes
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.address, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

/** Who the caller is: a client certificate the CA signed, a bootstrap token, or nobody; undefined = 401. */
function identify(req: IncomingMessage, s: Store): Identity | undefined {
  const sock = req.socket as TLSSocket
  const peer = sock.getPeerCertificate()
  if (peer && Object.keys(peer).length > 0) {
    if (!sock.authorized) return undefined
    const orgs = peer.subject.O === undefined ? [] : ([] as string[]).concat(peer.subject.O)
    return { name: String(peer.subject.CN ?? ''), groups: [...orgs, 'system:authenticated'] }
  }
  const auth = req.headers.authorization
  if (auth) {
    const token = /^Bearer (.+)$/.exec(auth)?.[1] ?? ''
    const groups = bootstrapTokenGroups(s, token)
    if (!groups) return undefined
    return { name: `system:bootstrap:${token.split('.')[0]}`, groups: [...groups, 'system:authenticated'] }
  }
  return ANONYMOUS
}

async function handle(o: ApiServerOptions, env: NodeJS.ProcessEnv, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'https://apiserver')
  const path = url.pathname.replace(/\/+$/, '') || '/'
  // alive before kubeadm init has written the store (its wait-control-plane phase polls /livez)
  if (req.method === 'GET' && PUBLIC_PATHS.has(path) && path !== '/version') return send(res, 200, 'ok', 'text/plain')
  const store = readStore(o.storeFile)
  if (!store) return send(res, 503, statusDoc(503, 'ServiceUnavailable', 'the cluster store is not there'))
  const user = identify(req, store)
  if (!user) return send(res, 401, statusDoc(401, 'Unauthorized', 'Unauthorized'))
  if (req.method === 'GET' && path === '/version') return send(res, 200, versionInfo(store))
  if (req.method === 'POST' && path === '/zxlab/v1/run') {
    const call = JSON.parse(await body(req)) as ApiCall
    return send(res, 200, await runCall(o, env, { ...call, user, storeFile: o.storeFile, filesRoot: '' }))
  }
  if (req.method === 'POST' && path === '/zxlab/v1/join') {
    if (!user.groups.includes('system:bootstrappers')) return send(res, 403, statusDoc(403, 'Forbidden', `User "${user.name}" cannot join nodes`))
    const r = JSON.parse(await body(req)) as JoinRequest
    return send(res, 200, joinOverApi(o.storeFile, r))
  }
  if (req.method === 'POST' && path === '/zxlab/v1/node-status') {
    // a kubelet posts what its host shows, as its node (NodeRestriction: only its own Node)
    const node = user.groups.includes('system:nodes') ? /^system:node:(.+)$/.exec(user.name)?.[1] : undefined
    if (!node) return send(res, 403, statusDoc(403, 'Forbidden', `nodes is forbidden: User "${user.name}" cannot patch resource "nodes/status" in API group "" at the cluster scope`))
    const r = postNodeStatus(o.storeFile, node, JSON.parse(await body(req)) as HostReading)
    return send(res, r.code, r.doc)
  }
  if (path === '/api' || path.startsWith('/api/') || path === '/apis' || path.startsWith('/apis/')) {
    if (req.method !== 'GET') return send(res, 405, statusDoc(405, 'MethodNotAllowed', `the stand-in API server serves only GET at ${path}; kubectl's writes go through POST /zxlab/v1/run`))
    // cluster-info is public (kubeadm's RBAC rule lets system:unauthenticated get it)
    return rest(o, res, path, url.searchParams, user, path === CLUSTER_INFO)
  }
  return send(res, 404, statusDoc(404, 'NotFound', 'the server could not find the requested resource'))
}

/** GET at a Kubernetes REST path: one object or a list, after a reconcile (as kubectl's reads do). */
function rest(o: ApiServerOptions, res: ServerResponse, path: string, q: URLSearchParams, user: Identity, isPublic: boolean) {
  const seg = path.split('/').filter(Boolean)
  const r = updateStore(o.storeFile, (s) => {
    reconcile(s)
    if (seg.length === 1) return seg[0] === 'api' ? { code: 200, doc: { kind: 'APIVersions', versions: ['v1'] } } : { code: 200, doc: groupList(s) }
    const [group, version, rest] = seg[0] === 'api' ? ['', seg[1] as string, seg.slice(2)] : [seg[1] as string, seg[2] as string, seg.slice(3)]
    if (!version) return { code: 404, doc: statusDoc(404, 'NotFound', 'the server could not find the requested resource') }
    const gv = group ? `${group}/${version}` : version
    let ns: string | undefined
    let parts = rest
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      ns = parts[1]
      parts = parts.slice(2)
    }
    const [plural, name, sub] = parts
    const info = allKinds(s).find((k) => k.group === group && k.plural === plural && k.versions.includes(version))
    if (!plural) return { code: 200, doc: { kind: 'APIResourceList', groupVersion: gv, resources: allKinds(s).filter((k) => k.group === group && k.versions.includes(version)).map((k) => ({ name: k.plural, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: ['get', 'list'], ...(k.short.length ? { shortNames: k.short } : {}) })) } }
    if (!info || sub !== undefined || (ns !== undefined && !info.namespaced)) return { code: 404, doc: statusDoc(404, 'NotFound', 'the server could not find the requested resource') }
    const denied = isPublic ? undefined : authorize(user, name ? 'get' : 'list', info.plural, info.group, info.namespaced ? ns : undefined)
    const resource = info.group ? `${info.plural}.${info.group}` : info.plural
    if (denied) return { code: 403, doc: statusDoc(403, 'Forbidden', denied.replace(/^Error from server \(Forbidden\): /, ''), { kind: info.plural, group: info.group, ...(name ? { name } : {}) }) }
    const shaped = (x: Obj) => ({ ...clone(x), apiVersion: gv, kind: info.kind })
    if (name) {
      const obj = getObj(s, info.group, info.kind, info.namespaced ? ns : undefined, name)
      if (!obj) return { code: 404, doc: statusDoc(404, 'NotFound', `${resource} "${name}" not found`, { kind: info.plural, group: info.group, name }) }
      return { code: 200, doc: shaped(obj) }
    }
    const labels = q.get('labelSelector')
    const fields = q.get('fieldSelector')
    const reqs = labels ? parseSelector(labels) : []
    const items = listObjs(s, info.group, info.kind, info.namespaced ? ns : undefined)
      .filter((x) => matchesSelector(reqs, (isObj(x.metadata) && isObj(x.metadata.labels) ? x.metadata.labels : {}) as Obj))
      .filter((x) => !fields || matchesFieldSelector(fields, x))
      .map(shaped)
    return { code: 200, doc: { apiVersion: gv, kind: `${info.kind}List`, metadata: { resourceVersion: String(s.rv) }, items } }
  })
  if (!r) return send(res, 503, statusDoc(503, 'ServiceUnavailable', 'the cluster store is not there'))
  send(res, r.result.code, r.result.doc)
}

/** kubelet's --node-status-update-frequency default: an unchanged status is posted again this often. */
const STATUS_UPDATE_MS = 10_000

/** Keep what a node's kubelet saw (the controllers' facts of that host); answer with the files its pods want on the host. */
function postNodeStatus(storeFile: string, node: string, reading: HostReading): { code: number; doc: unknown } {
  const r = updateStore(storeFile, (s) => {
    if (!s.internal.hosts[node] || !getObj(s, '', 'Node', undefined, node)) return { code: 404, doc: statusDoc(404, 'NotFound', `nodes "${node}" not found`, { kind: 'nodes', name: node }) }
    const all = (s.internal.nodeStatus ??= {})
    const last = all[node]
    const now = clock.now()
    // the store is written only when the host changed or the heartbeat is due
    if (!last || now - last.at >= STATUS_UPDATE_MS || !deepEqual(last.reading, reading)) all[node] = { at: now, reading }
    return { code: 200, doc: { files: s.internal.hostFiles?.[node] ?? {} } }
  })
  return r?.result ?? { code: 503, doc: statusDoc(503, 'ServiceUnavailable', 'the cluster store is not there') }
}

function groupList(s: Store) {
  const groups = new Map<string, string[]>()
  for (const k of allKinds(s)) if (k.group) groups.set(k.group, [...new Set([...(groups.get(k.group) ?? []), ...k.versions])])
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({ name, versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })), preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] } })),
  }
}

/** Run one kubectl/kubeadm call in a child process (kubectl keeps per-call state in module globals; wait blocks). */
function runCall(o: ApiServerOptions, env: NodeJS.ProcessEnv, call: ServerCall): Promise<{ out: string; err: string; code: number }> {
  return new Promise((resolve) => {
    const [cmd, ...args] = o.runner(call.tool) as [string, ...string[]]
    const child = spawn(cmd, args, { env: { ...env, ZXLAB_API: 'server-call' }, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', (e) => resolve({ out: '', err: `zxlab kube-apiserver: cannot run the call: ${e.message}\n`, code: 1 }))
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as { out: string; err: string; code: number })
      } catch {
        resolve({ out: '', err: `zxlab kube-apiserver: the call failed (exit ${code}): ${Buffer.concat(err).toString('utf8').slice(-2000)}\n`, code: 1 })
      }
    })
    child.stdin.end(JSON.stringify(call))
  })
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) req.destroy(new Error('request body too large'))
      else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function statusDoc(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }
}

function send(res: ServerResponse, code: number, doc: unknown, type = 'application/json') {
  const text = typeof doc === 'string' ? doc : JSON.stringify(doc)
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
