// The stand-in cluster's "etcd": one JSON file on the control plane
// (/var/lib/etcd/zxlab-cluster.json), read by kubectl and kubeadm on any host through the lab
// registry. Objects are keyed group/Kind/namespace/name; writes are locked and atomic.
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { readJson, withLock, writeAtomic } from './_io.ts'
import { onHost, parseSemver, STORE_FILE } from './_k8s-host.ts'
import type { HostRef } from './_k8s-host.ts'
import type { HostReading } from './_host-facts.ts'
import { clone, deepEqual, isObj, nowIso } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { splitApiVersion } from './_schema.ts'

export type ClusterInfo = {
  name: string
  /** Where the API server is, as clients connect to it (controlPlaneEndpoint or advertise address + port). */
  endpoint: string
  advertiseAddress: string
  bindPort: number
  controlPlaneHost: HostRef
  caCert: string
  caKey: string
  kubernetesVersion: string // v1.36.1
  podSubnet?: string
  serviceSubnet: string
  dnsDomain: string
  nodeCidrMaskSize: number
  controlPlaneEndpoint?: string
  createdAt: string
  /** the kubelets are on other machines (the real-host lab): they post what they see (POST /zxlab/v1/node-status) */
  kubeletsPost?: true
}

export type Store = {
  version: 1
  cluster: ClusterInfo
  rv: number
  objects: Record<string, Obj>
  internal: {
    /** node name → the lab host it runs on */
    hosts: Record<string, HostRef>
    /** "ns/pod/container" → log lines */
    logs: Record<string, string[]>
    /** object key → the last server-side-applied config */
    ssa: Record<string, Obj>
    /** node name → index of its podCIDR in the pod subnet */
    nodeCidrs: Record<string, number>
    nextServiceIP: number
    nextPodIP: Record<string, number>
    /** node name → what its kubelet last posted, and when (kubeletsPost) */
    nodeStatus?: Record<string, { at: number; reading: HostReading }>
    /** node name → files its pods want on the host (CNI configs), written by its kubelet (kubeletsPost) */
    hostFiles?: Record<string, Record<string, string>>
  }
}

export const storeFileOf = (host: Pick<HostRef, 'root'>) => onHost(host, STORE_FILE)

export function readStore(file: string): Store | undefined {
  try {
    return readJson<Store>(file)
  } catch {
    return undefined
  }
}

export function writeStore(file: string, store: Store) {
  // behind the network API server only root (its process) reads the store: it holds the CA key
  writeAtomic(file, JSON.stringify(store) + '\n', process.env.ZXLAB_API ? 0o600 : 0o666)
}

/** Read-modify-write under the store's lock. fn returns false to skip the write. */
export function updateStore<T>(file: string, fn: (s: Store) => T): { store: Store; result: T } | undefined {
  return withLock(file, () => {
    const s = readStore(file)
    if (!s) return undefined
    const before = JSON.stringify(s)
    const result = fn(s)
    if (JSON.stringify(s) !== before) writeStore(file, s)
    return { store: s, result }
  })
}

export function newStore(cluster: ClusterInfo): Store {
  return { version: 1, cluster, rv: 1, objects: {}, internal: { hosts: {}, logs: {}, ssa: {}, nodeCidrs: {}, nextServiceIP: 20, nextPodIP: {} } }
}

/** Make the store's folder writable for every user (kubectl runs as the lab user too). */
export function openUpStoreDir(file: string) {
  if (process.env.ZXLAB_API) return // clients go through the API server
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.chmodSync(path.dirname(file), 0o777)
  } catch {
    // not ours to change
  }
}

// ---------------------------------------------------------------------------
// Objects

export const groupOf = (obj: Obj) => splitApiVersion(String(obj.apiVersion ?? '')).group
export const objKey = (group: string, kind: string, ns: string | undefined, name: string) => `${group}/${kind}/${ns ?? ''}/${name}`
export const keyOf = (obj: Obj) => objKey(groupOf(obj), String(obj.kind), metaOf(obj).namespace as string | undefined, String(metaOf(obj).name))

export function metaOf(obj: Obj): Obj {
  if (!isObj(obj.metadata)) obj.metadata = {}
  return obj.metadata as Obj
}

export function getObj(s: Store, group: string, kind: string, ns: string | undefined, name: string): Obj | undefined {
  return s.objects[objKey(group, kind, ns, name)]
}

// The keys of each group/Kind/, sorted by namespace and name, per objects map: listObjs runs
// hundreds of times per reconcile, and a scan of every key each time was most of a kubectl call.
// putObj (a new key) and deleteObj drop it; nothing else adds or removes keys.
const keysByType = new WeakMap<Store['objects'], Map<string, string[]>>()

function typeKeys(s: Store, prefix: string): string[] {
  let byType = keysByType.get(s.objects)
  if (!byType) keysByType.set(s.objects, (byType = new Map()))
  let keys = byType.get(prefix)
  if (!keys) {
    keys = Object.keys(s.objects).filter((k) => k.startsWith(prefix))
    const order = (k: string) => metaOf(s.objects[k] as Obj)
    keys.sort((a, b) => String(order(a).namespace ?? '').localeCompare(String(order(b).namespace ?? '')) || String(order(a).name).localeCompare(String(order(b).name)))
    byType.set(prefix, keys)
  }
  return keys
}

export function listObjs(s: Store, group: string, kind: string, ns?: string): Obj[] {
  const keys = typeKeys(s, `${group}/${kind}/`)
  const inNs = ns === undefined ? keys : keys.filter((k) => k.startsWith(`${group}/${kind}/${ns}/`))
  return inNs.map((k) => s.objects[k] as Obj)
}

const specOf = (o: Obj) => {
  const { metadata: _m, status: _s, ...rest } = o
  return rest
}

/**
 * Store an object: a new one gets uid, creationTimestamp, generation 1; an existing one keeps
 * them, and its generation goes up when anything but metadata/status changed. Every write
 * that changes the object bumps resourceVersion. Returns whether anything changed.
 */
export function putObj(s: Store, obj: Obj): boolean {
  const key = keyOf(obj)
  const old = s.objects[key]
  const meta = metaOf(obj)
  if (old) {
    const om = metaOf(old)
    meta.uid = om.uid
    meta.creationTimestamp = om.creationTimestamp
    meta.resourceVersion = om.resourceVersion
    if (om.generation !== undefined) meta.generation = om.generation
    // most writes of a reconcile change nothing: one compare settles those
    if (deepEqual(old, obj)) return false
    if (om.generation !== undefined && !deepEqual(specOf(old), specOf(obj))) meta.generation = (om.generation as number) + 1
  } else {
    meta.uid ??= randomUUID()
    meta.creationTimestamp ??= nowIso()
    if (obj.spec !== undefined && meta.generation === undefined) meta.generation = 1
  }
  meta.resourceVersion = String(++s.rv)
  if (!old) keysByType.delete(s.objects)
  s.objects[key] = clone(obj)
  return true
}

export function deleteObj(s: Store, obj: Obj): boolean {
  const key = keyOf(obj)
  if (!(key in s.objects)) return false
  delete s.objects[key]
  keysByType.delete(s.objects)
  delete s.internal.ssa[key]
  return true
}

/** The server's /version document. */
export function versionInfo(s: Store) {
  const v = parseSemver(s.cluster.kubernetesVersion)
  return { major: String(v?.major ?? 1), minor: String(v?.minor ?? 36), emulationMajor: String(v?.major ?? 1), emulationMinor: String(v?.minor ?? 36), minCompatibilityMajor: '1', minCompatibilityMinor: String((v?.minor ?? 36) - 1), gitVersion: s.cluster.kubernetesVersion, gitCommit: '6c1cd990aa4c4d9d1e4a1f4b1ef1e0e6a6d3c3a1', gitTreeState: 'clean', buildDate: '2026-10-14T12:00:00Z', goVersion: 'go1.25.3', compiler: 'gc', platform: 'linux/amd64' }
}
