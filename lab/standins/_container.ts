// A running container as the kubelet sees it: the environment it computes AT CONTAINER START
// (env, envFrom, downward API, resourceFieldRef, Service variables of the Services that exist
// then — so a later Secret update is not seen until the container is recreated), the files of
// its volume mounts (Secret / ConfigMap / emptyDir, read from the CURRENT objects: updates reach
// mounted files), and the per-container record the kubelet keeps in the store (start time,
// restarts, environment, and what the image's process is doing).
import { arr, dig, isObj, objOr, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { parseQuantity } from './_schema.ts'
import { normPath } from './_shell.ts'
import type { Fs } from './_shell.ts'
import { getObj, listObjs, metaOf } from './_store.ts'
import type { Store } from './_store.ts'

export const podReady = (pod: Obj) => arr(dig(pod, 'status', 'conditions')).some((c) => dig(c, 'type') === 'Ready' && dig(c, 'status') === 'True')

const nsOf = (o: Obj) => str(metaOf(o).namespace) ?? 'default'
const nameOf = (o: Obj) => String(metaOf(o).name)

// ---------------------------------------------------------------------------
// The kubelet's record of each container instance

export type Terminated = { exitCode: number; reason: string; startedAt: number; finishedAt: number }

export type ContainerRecord = {
  /** When this instance started (ms, stand-in clock). */
  startedAt: number
  restarts: number
  /** The environment computed when this instance started. */
  env: Record<string, string>
  /** A crash loop: since when, and the restart count when it began. */
  crashingSince?: number
  crashBase?: number
  lastTerminated?: Terminated
  /** Since when the liveness probe fails (it kills after failureThreshold periods). */
  livenessFailingSince?: number
  /** What the image's process keeps as state (a Ray node…). */
  proc?: Obj
}

export const containerKey = (pod: Obj, cname: string) => `${nsOf(pod)}/${nameOf(pod)}/${cname}`

export function containerRecords(s: Store): Record<string, ContainerRecord> {
  const internal = s.internal as { containers?: Record<string, ContainerRecord> }
  internal.containers ??= {}
  return internal.containers
}

export const recordOf = (s: Store, pod: Obj, cname: string): ContainerRecord | undefined => containerRecords(s)[containerKey(pod, cname)]

// ---------------------------------------------------------------------------
// Environment at container start

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/
const unb64 = (v: unknown) => Buffer.from(String(v ?? ''), 'base64')

/** Kubernetes' $(VAR) expansion: defined names are replaced, $$ escapes, others stay as written. */
export function expandDollarParens(value: string, ...maps: Record<string, string>[]): string {
  return value.replace(/\$\$|\$\(([^)]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$'
    for (const map of maps) if (name !== undefined && name in map) return map[name] as string
    return m
  })
}

const envName = (svcName: string) => svcName.toUpperCase().replace(/-/g, '_')

/** The Service variables (FOO_SERVICE_HOST, FOO_PORT_6379_TCP…) as envvars.FromServices makes them. */
export function serviceEnv(s: Store, pod: Obj): Record<string, string> {
  const ns = nsOf(pod)
  const links = dig(pod, 'spec', 'enableServiceLinks') !== false
  const services = links ? listObjs(s, '', 'Service', ns) : []
  // the master service is always there, even without service links
  const master = getObj(s, '', 'Service', 'default', 'kubernetes')
  if (master && !services.some((x) => nsOf(x) === 'default' && nameOf(x) === 'kubernetes')) services.push(master)
  const out: Record<string, string> = {}
  for (const svc of services) {
    const ip = str(dig(svc, 'spec', 'clusterIP'))
    const ports = arr(dig(svc, 'spec', 'ports'))
    if (!ip || ip === 'None' || !ports.length) continue
    const n = envName(nameOf(svc))
    out[`${n}_SERVICE_HOST`] = ip
    out[`${n}_SERVICE_PORT`] = String(dig(ports[0], 'port'))
    for (const pt of ports) {
      const pn = str(dig(pt, 'name'))
      if (pn) out[`${n}_SERVICE_PORT_${envName(pn)}`] = String(dig(pt, 'port'))
    }
    ports.forEach((pt, i) => {
      const proto = String(dig(pt, 'protocol') ?? 'TCP')
      const url = `${proto.toLowerCase()}://${ip}:${String(dig(pt, 'port'))}`
      if (i === 0) out[`${n}_PORT`] = url
      const pre = `${n}_PORT_${String(dig(pt, 'port'))}_${proto.toUpperCase()}`
      out[pre] = url
      out[`${pre}_PROTO`] = proto.toLowerCase()
      out[`${pre}_PORT`] = String(dig(pt, 'port'))
      out[`${pre}_ADDR`] = ip
    })
  }
  return out
}

/** requests.cpu / limits.memory… of a container, as the downward API gives it (ceil by divisor). */
export function resourceFieldValue(pod: Obj, c: Obj, ref: Obj, node: Obj | undefined): string {
  const resource = String(ref.resource ?? '')
  const target = str(ref.containerName) ? (arr(dig(pod, 'spec', 'containers')).find((x) => dig(x, 'name') === ref.containerName) ?? c) : c
  const [kind, res] = resource.split('.') as [string, string]
  let milli = parseQuantity(dig(target, 'resources', kind, res))
  // an unset limit is the node's allocatable; an unset request is 0 (or the limit, defaulted)
  if (milli === undefined && kind === 'limits') milli = parseQuantity(dig(node, 'status', 'allocatable', res))
  milli ??= kind === 'requests' ? (parseQuantity(dig(target, 'resources', 'limits', res)) ?? 0) : 0
  const divisor = parseQuantity(ref.divisor ?? '1') || 1000
  return String(Math.ceil(milli / divisor))
}

function fieldRefValue(pod: Obj, path: string): string {
  const meta = metaOf(pod)
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path)
  if (m) return String(objOr(meta[m[1] as string])[m[2] as string] ?? '')
  const values: Record<string, unknown> = {
    'metadata.name': meta.name,
    'metadata.namespace': meta.namespace,
    'metadata.uid': meta.uid,
    'spec.nodeName': dig(pod, 'spec', 'nodeName'),
    'spec.serviceAccountName': dig(pod, 'spec', 'serviceAccountName'),
    'status.hostIP': dig(pod, 'status', 'hostIP'),
    'status.hostIPs': arr(dig(pod, 'status', 'hostIPs')).map((x) => dig(x, 'ip')).join(','),
    'status.podIP': dig(pod, 'status', 'podIP'),
    'status.podIPs': arr(dig(pod, 'status', 'podIPs')).map((x) => dig(x, 'ip')).join(','),
  }
  return String(values[path] ?? '')
}

/**
 * The container's environment as the kubelet computes it when the container starts:
 * envFrom (in order, with prefix; invalid names skipped), then env (with $(VAR) expansion),
 * then the Service variables not already set.
 */
export function containerEnv(s: Store, pod: Obj, c: Obj, node: Obj | undefined): Record<string, string> {
  const ns = nsOf(pod)
  const svc = serviceEnv(s, pod)
  const out: Record<string, string> = {}
  for (const ef of arr(c.envFrom)) {
    const prefix = String(dig(ef, 'prefix') ?? '')
    const cm = dig(ef, 'configMapRef')
    const sec = dig(ef, 'secretRef')
    let data: Record<string, string> = {}
    if (isObj(cm)) data = Object.fromEntries(Object.entries(objOr(getObj(s, '', 'ConfigMap', ns, String(cm.name))?.data)).map(([k, v]) => [k, String(v)]))
    if (isObj(sec)) data = Object.fromEntries(Object.entries(objOr(getObj(s, '', 'Secret', ns, String(sec.name))?.data)).map(([k, v]) => [k, unb64(v).toString('utf8')]))
    for (const [k, v] of Object.entries(data)) if (ENV_NAME.test(prefix + k)) out[prefix + k] = v
  }
  for (const e of arr(c.env)) {
    const name = String(dig(e, 'name'))
    const value = dig(e, 'value')
    const vf = objOr(dig(e, 'valueFrom'))
    if (typeof value === 'string' || !Object.keys(vf).length) {
      out[name] = expandDollarParens(String(value ?? ''), out, svc)
      continue
    }
    if (isObj(vf.fieldRef)) out[name] = fieldRefValue(pod, String(vf.fieldRef.fieldPath))
    else if (isObj(vf.resourceFieldRef)) out[name] = resourceFieldValue(pod, c, vf.resourceFieldRef, node)
    else if (isObj(vf.configMapKeyRef)) {
      const v = dig(getObj(s, '', 'ConfigMap', ns, String(vf.configMapKeyRef.name)), 'data', String(vf.configMapKeyRef.key))
      if (v !== undefined) out[name] = String(v)
    } else if (isObj(vf.secretKeyRef)) {
      const v = dig(getObj(s, '', 'Secret', ns, String(vf.secretKeyRef.name)), 'data', String(vf.secretKeyRef.key))
      if (v !== undefined) out[name] = unb64(v).toString('utf8')
    }
  }
  for (const [k, v] of Object.entries(svc)) if (!(k in out)) out[k] = v
  return out
}

/** A container's command + args with the kubelet's $(VAR) expansion from its environment. */
export const containerArgv = (c: Obj, env: Record<string, string>) => [...arr(c.command), ...arr(c.args)].map((a) => expandDollarParens(String(a), env))

// ---------------------------------------------------------------------------
// Files: the volume mounts

type Mount = { path: string; files: Map<string, Buffer> | undefined; single?: Buffer }

/** The files a volume holds now (Secret / ConfigMap keys, items mapping; emptyDir empty). */
function volumeFiles(s: Store, pod: Obj, vol: Obj): Map<string, Buffer> {
  const ns = nsOf(pod)
  const files = new Map<string, Buffer>()
  const addFrom = (data: Record<string, Buffer>, items: unknown[]) => {
    if (!items.length) for (const [k, v] of Object.entries(data)) files.set(k, v)
    for (const it of items) {
      const k = String(dig(it, 'key'))
      if (k in data) files.set(normPath(String(dig(it, 'path') ?? k)).slice(1), data[k] as Buffer)
    }
  }
  const fromSecret = (ref: Obj, nameKey: string) => {
    const sec = getObj(s, '', 'Secret', ns, String(ref[nameKey]))
    addFrom(Object.fromEntries(Object.entries(objOr(sec?.data)).map(([k, v]) => [k, unb64(v)])), arr(ref.items))
  }
  const fromConfigMap = (ref: Obj) => {
    const cm = getObj(s, '', 'ConfigMap', ns, String(ref.name))
    const data: Record<string, Buffer> = {}
    for (const [k, v] of Object.entries(objOr(cm?.data))) data[k] = Buffer.from(String(v), 'utf8')
    for (const [k, v] of Object.entries(objOr(cm?.binaryData))) data[k] = unb64(v)
    addFrom(data, arr(ref.items))
  }
  if (isObj(vol.secret)) fromSecret(vol.secret, 'secretName')
  if (isObj(vol.configMap)) fromConfigMap(vol.configMap)
  for (const src of arr(dig(vol, 'projected', 'sources'))) {
    if (isObj(dig(src, 'secret'))) fromSecret(dig(src, 'secret') as Obj, 'name')
    if (isObj(dig(src, 'configMap'))) fromConfigMap(dig(src, 'configMap') as Obj)
  }
  return files
}

/** The container's file system as far as the stand-in knows it: its volume mounts. */
export function containerFs(s: Store, pod: Obj, c: Obj): Fs {
  const mounts: Mount[] = []
  for (const m of arr(c.volumeMounts)) {
    const vol = arr(dig(pod, 'spec', 'volumes')).find((v) => dig(v, 'name') === dig(m, 'name'))
    if (!isObj(vol)) continue
    const files = volumeFiles(s, pod, vol)
    const sub = str(dig(m, 'subPath'))
    const path = normPath(String(dig(m, 'mountPath')))
    if (sub) {
      const single = files.get(normPath(sub).slice(1))
      const inner = new Map<string, Buffer>()
      const pre = `${normPath(sub).slice(1)}/`
      for (const [k, v] of files) if (k.startsWith(pre)) inner.set(k.slice(pre.length), v)
      mounts.push(single ? { path, files: undefined, single } : { path, files: inner })
    } else mounts.push({ path, files })
  }
  // deeper mounts shadow shallower ones
  mounts.sort((a, b) => b.path.length - a.path.length)
  const within = (p: string) => {
    for (const m of mounts) {
      if (p === m.path) return { m, rel: '' }
      if (p.startsWith(m.path === '/' ? '/' : `${m.path}/`)) return { m, rel: p.slice(m.path === '/' ? 1 : m.path.length + 1) }
    }
    return undefined
  }
  const kind = (path: string): 'file' | 'dir' | undefined => {
    const p = normPath(path)
    const w = within(p)
    if (w) {
      if (w.m.single) return w.rel === '' ? 'file' : undefined
      if (w.rel === '') return 'dir'
      if (w.m.files?.has(w.rel)) return 'file'
      for (const k of w.m.files?.keys() ?? []) if (k.startsWith(`${w.rel}/`)) return 'dir'
      return mounts.some((m) => m.path.startsWith(`${p}/`)) ? 'dir' : undefined
    }
    if (p === '/' || mounts.some((m) => m.path.startsWith(`${p}/`))) return 'dir'
    return undefined
  }
  return {
    kind,
    read(path) {
      const p = normPath(path)
      const w = within(p)
      if (!w) return undefined
      if (w.m.single) return w.rel === '' ? w.m.single : undefined
      return w.m.files?.get(w.rel)
    },
    list(dir) {
      const p = normPath(dir)
      if (kind(p) !== 'dir') return undefined
      const names = new Set<string>()
      const w = within(p)
      if (w && !w.m.single) {
        const pre = w.rel ? `${w.rel}/` : ''
        for (const k of w.m.files?.keys() ?? []) if (k.startsWith(pre)) names.add(k.slice(pre.length).split('/')[0] as string)
      }
      const base = p === '/' ? '/' : `${p}/`
      for (const m of mounts) if (m.path.startsWith(base) && m.path !== p) names.add(m.path.slice(base.length).split('/')[0] as string)
      return [...names].sort()
    },
  }
}
