// Kubeconfig files: writing them (kubeadm) and connecting through them (kubectl, kubeadm
// token): which lab host's cluster store the server URL names, and whether the TLS trust and
// the client certificate hold against that cluster's CA, with kubectl's error messages.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { p } from './_fs.ts'
import { callPath, serverCall } from './_apicall.ts'
import type { Identity } from './_apicall.ts'
import { hostByAddress, onHost, selfHost } from './_k8s-host.ts'
import type { HostRef } from './_k8s-host.ts'
import { dig, isObj, loadYamlDocs, str, toYaml } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { b64, signedBy, subjectOf, unb64 } from './_pki.ts'
import { readStore, storeFileOf } from './_store.ts'
import type { Store } from './_store.ts'

export function makeKubeconfig(o: { server: string; caCert: string; user: string; cert: string; key: string; clusterName?: string }): string {
  const cluster = o.clusterName ?? 'kubernetes'
  const context = `${o.user}@${cluster}`
  return toYaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(o.caCert), server: o.server }, name: cluster }],
    contexts: [{ context: { cluster, user: o.user }, name: context }],
    'current-context': context,
    kind: 'Config',
    preferences: {},
    users: [{ name: o.user, user: { 'client-certificate-data': b64(o.cert), 'client-key-data': b64(o.key) } }],
  })
}

export type { Identity }

export type Connection = {
  server: string
  host: HostRef
  storeFile: string
  store: Store
  user: Identity
  /** the context's namespace, if any */
  namespace?: string
  kubeconfigPath?: string
  config: Obj
}

export class ConnectError extends Error {}

const refused = (hostport: string) => new ConnectError(`The connection to the server ${hostport} was refused - did you specify the right host or port?`)

/** A path as the user wrote it → where it is (through p() when absolute). */
export const userPath = (f: string) => {
  // in a call the API server runs: the copy of the caller's file
  const sent = callPath(f)
  if (sent) return sent
  const expanded = f.startsWith('~/') ? path.join(os.homedir(), f.slice(2)) : f
  return path.isAbsolute(expanded) ? p(expanded) : path.resolve(expanded)
}

export type LoadedConfig = { path?: string; config: Obj }

/** Find and read the kubeconfig: --kubeconfig, else $KUBECONFIG (first that exists), else ~/.kube/config. */
export function loadKubeconfig(explicit?: string): LoadedConfig {
  const read = (f: string, mustExist: boolean): Obj | undefined => {
    const real = userPath(f)
    let text: string
    try {
      text = fs.readFileSync(real, 'utf8')
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        if (mustExist) throw new ConnectError(`error: stat ${f}: no such file or directory`)
        return undefined
      }
      if (code === 'EACCES') throw new ConnectError(`error: error loading config file "${f}": open ${f}: permission denied`)
      throw new ConnectError(`error: error loading config file "${f}": ${(e as Error).message}`)
    }
    try {
      const doc = loadYamlDocs(text)[0]
      return isObj(doc) ? doc : {}
    } catch (e) {
      throw new ConnectError(`error: error loading config file "${f}": yaml: ${(e as Error).message.split('\n')[0]}`)
    }
  }
  if (explicit) return { path: explicit, config: read(explicit, true) ?? {} }
  const env = process.env.KUBECONFIG
  if (env) {
    for (const f of env.split(':').filter(Boolean)) {
      const c = read(f, false)
      if (c) return { path: f, config: c }
    }
    return { config: {} }
  }
  const home = path.join(os.homedir(), '.kube/config')
  const c = read(home, false)
  return c ? { path: home, config: c } : { config: {} }
}

const named = (list: unknown, name: string, field: string): Obj | undefined => {
  if (!Array.isArray(list)) return undefined
  const e = list.find((x) => isObj(x) && x.name === name)
  return isObj(e) && isObj(e[field]) ? (e[field] as Obj) : undefined
}

export type Resolved = { server?: string; cluster?: Obj; user?: Obj; namespace?: string; contextName?: string }

export function resolveContext(config: Obj, contextOverride?: string): Resolved {
  const ctxName = contextOverride ?? str(config['current-context'])
  if (!ctxName) return {}
  const ctx = named(config.contexts, ctxName, 'context')
  if (!ctx) {
    if (contextOverride) throw new ConnectError(`error: context "${ctxName}" does not exist`)
    throw new ConnectError(`error: current-context "${ctxName}" does not exist in kubeconfig`)
  }
  const cluster = named(config.clusters, String(ctx.cluster ?? ''), 'cluster')
  const user = named(config.users, String(ctx.user ?? ''), 'user')
  return {
    ...(cluster && str(cluster.server) ? { server: str(cluster.server) as string } : {}),
    ...(cluster ? { cluster } : {}),
    ...(user ? { user } : {}),
    ...(str(ctx.namespace) ? { namespace: str(ctx.namespace) as string } : {}),
    contextName: ctxName,
  }
}

/** Connect to the API server the kubeconfig names. */
export function connect(opts: { kubeconfig?: string; context?: string; server?: string } = {}): Connection {
  // in a call the API server runs, the caller is who its client certificate says (checked by the server's TLS)
  const call = serverCall()
  if (call) {
    const store = readStore(call.storeFile)
    if (!store) throw refused(call.server.replace(/^https?:\/\//, ''))
    return { server: call.server, host: selfHost(), storeFile: call.storeFile, store, user: call.user, ...(call.namespace ? { namespace: call.namespace } : {}), config: {} }
  }
  const loaded = loadKubeconfig(opts.kubeconfig)
  const r = resolveContext(loaded.config, opts.context)
  const server = opts.server ?? r.server
  if (!server) throw refused('localhost:8080')
  const m = /^https?:\/\/([^/:]+)(?::(\d+))?\/?$/.exec(server)
  if (!m) throw new ConnectError(`Unable to connect to the server: parse "${server}": invalid URL`)
  const hostname = m[1] as string
  const port = Number(m[2] ?? (server.startsWith('https') ? 443 : 80))
  const hostport = `${hostname}:${port}`
  if (hostname === 'localhost' || hostname.startsWith('127.')) throw refused(hostport)
  const host = hostByAddress(hostname)
  if (!host) {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(hostname)) throw new ConnectError(`Unable to connect to the server: dial tcp ${hostport}: connect: no route to host`)
    throw new ConnectError(`Unable to connect to the server: dial tcp: lookup ${hostname} on 127.0.0.53:53: no such host`)
  }
  const storeFile = storeFileOf(host)
  const store = readStore(storeFile)
  if (!store || !fs.existsSync(onHost(store.cluster.controlPlaneHost, '/etc/kubernetes/manifests/kube-apiserver.yaml')) || store.cluster.bindPort !== port) {
    throw refused(hostport)
  }
  if (!server.startsWith('https://')) throw new ConnectError(`error: You must be logged in to the server (the server has asked for the client to provide credentials)`)
  // TLS: the server's certificate is signed by the cluster CA
  const cluster = r.cluster ?? {}
  if (cluster['insecure-skip-tls-verify'] !== true) {
    let ca = str(cluster['certificate-authority-data']) ? unb64(String(cluster['certificate-authority-data'])) : undefined
    const caFile = str(cluster['certificate-authority'])
    if (!ca && caFile) {
      try {
        ca = fs.readFileSync(userPath(caFile), 'utf8')
      } catch {
        throw new ConnectError(`error: unable to read certificate-authority ${caFile} for ${r.contextName ?? 'cluster'} due to open ${caFile}: no such file or directory`)
      }
    }
    if (!ca || !samePem(ca, store.cluster.caCert)) {
      throw new ConnectError(
        'Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "kubernetes")'
      )
    }
  }
  // authentication
  const u = r.user ?? {}
  let cert = str(u['client-certificate-data']) ? unb64(String(u['client-certificate-data'])) : undefined
  const certFile = str(u['client-certificate'])
  if (!cert && certFile) {
    try {
      cert = fs.readFileSync(userPath(certFile), 'utf8')
    } catch {
      throw new ConnectError(`error: unable to read client-cert ${certFile} for ${String(dig(r, 'contextName'))} due to open ${certFile}: no such file or directory`)
    }
  }
  let user: Identity = { name: 'system:anonymous', groups: ['system:unauthenticated'] }
  if (cert) {
    const subject = subjectOf(cert)
    if (!subject || !signedBy(cert, store.cluster.caCert)) throw new ConnectError('error: You must be logged in to the server (Unauthorized)')
    user = { name: subject.cn, groups: [...subject.orgs, 'system:authenticated'] }
  } else if (str(u.token)) {
    throw new ConnectError('error: You must be logged in to the server (Unauthorized)')
  }
  return {
    server,
    host,
    storeFile,
    store,
    user,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    ...(loaded.path ? { kubeconfigPath: loaded.path } : {}),
    config: loaded.config,
  }
}

const samePem = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '')

export const isAdmin = (u: Identity) => u.groups.includes('system:masters') || u.groups.includes('kubeadm:cluster-admins')

/** Authorisation (RBAC-lite): admins do anything; nodes read nodes/pods/services; others nothing. */
export function authorize(u: Identity, verb: string, resource: string, group: string, ns?: string): string | undefined {
  if (isAdmin(u)) return undefined
  const isNode = u.groups.includes('system:nodes')
  if (isNode && ['get', 'list', 'watch'].includes(verb) && ['nodes', 'pods', 'services', 'endpoints'].includes(resource) && group === '') return undefined
  const scope = ns ? `in the namespace "${ns}"` : 'at the cluster scope'
  return `Error from server (Forbidden): ${group ? `${resource}.${group}` : resource} is forbidden: User "${u.name}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`
}
