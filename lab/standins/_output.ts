// kubectl's output: the table printers (columns as kubectl 1.36 prints them, tabwriter spacing),
// -o name / json / yaml, and AGE.
import { arr, dig, humanDuration, isObj, objOr, str, toYaml } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { kindGroup } from './_schema.ts'
import type { KindInfo } from './_schema.ts'
import { metaOf } from './_store.ts'
import { nodeReady, podReady } from './_controllers.ts'
import { clock } from './_clock.ts'

/** Go's text/tabwriter as kubectl sets it up: minwidth 6, padding 3, last column unpadded. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return ''
  const n = Math.max(...rows.map((r) => r.length))
  const widths: number[] = []
  for (let i = 0; i < n - 1; i++) widths[i] = Math.max(...rows.map((r) => Math.max((r[i] ?? '').length + 3, 6)))
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] as number) : c)).join('') + '\n').join('')
}

export const age = (obj: Obj) => {
  const ts = str(metaOf(obj).creationTimestamp)
  return ts ? humanDuration(clock.now() - Date.parse(ts)) : '<unknown>'
}

const none = (s: string | undefined) => (s === undefined || s === '' ? '<none>' : s)

type Printer = { headers: string[]; wide?: string[]; row: (o: Obj, wide: boolean) => string[] }

function podStatus(pod: Obj): { ready: string; status: string; restarts: string } {
  const cs = arr(dig(pod, 'status', 'containerStatuses'))
  const total = arr(dig(pod, 'spec', 'containers')).length
  const readyN = cs.filter((c) => dig(c, 'ready') === true).length
  let reason = str(dig(pod, 'status', 'reason')) ?? str(dig(pod, 'status', 'phase')) ?? 'Pending'
  const inits = arr(dig(pod, 'status', 'initContainerStatuses'))
  const pendingInit = inits.filter((c) => !dig(c, 'state', 'terminated'))
  if (pendingInit.length && dig(pod, 'spec', 'nodeName')) reason = `Init:${inits.length - pendingInit.length}/${inits.length}`
  else {
    for (const c of cs) {
      const w = str(dig(c, 'state', 'waiting', 'reason'))
      const t = str(dig(c, 'state', 'terminated', 'reason'))
      if (w) reason = w
      else if (t) reason = t
    }
  }
  let restarts = 0
  let last: string | undefined
  for (const c of cs) {
    restarts += Number(dig(c, 'restartCount') ?? 0)
    const fin = str(dig(c, 'lastState', 'terminated', 'finishedAt'))
    if (fin && (!last || fin > last)) last = fin
  }
  const restartsStr = restarts && last ? `${restarts} (${humanDuration(clock.now() - Date.parse(last))} ago)` : String(restarts)
  return { ready: `${readyN}/${total}`, status: reason, restarts: restartsStr }
}

const images = (o: Obj) => arr(dig(o, 'spec', 'template', 'spec', 'containers'))
const selectorText = (sel: unknown) => {
  const ml = objOr(dig(sel, 'matchLabels'))
  const parts = Object.entries(ml).map(([k, v]) => `${k}=${String(v)}`)
  for (const e of arr(dig(sel, 'matchExpressions'))) {
    const op = String(dig(e, 'operator'))
    const vals = arr(dig(e, 'values')).map(String).join(',')
    parts.push(op === 'Exists' ? String(dig(e, 'key')) : op === 'DoesNotExist' ? `!${String(dig(e, 'key'))}` : `${String(dig(e, 'key'))} ${op.toLowerCase()} (${vals})`)
  }
  return parts.length ? parts.join(',') : '<none>'
}

const nodeRoles = (o: Obj) => {
  const roles = Object.keys(objOr(metaOf(o).labels))
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
  return roles.length ? roles.sort().join(',') : '<none>'
}

const servicePorts = (o: Obj) => {
  const ports = arr(dig(o, 'spec', 'ports')).map((pt) => `${String(dig(pt, 'port'))}${dig(pt, 'nodePort') ? `:${String(dig(pt, 'nodePort'))}` : ''}/${String(dig(pt, 'protocol') ?? 'TCP')}`)
  return ports.length ? ports.join(',') : '<none>'
}

const hpaTargets = (o: Obj) => {
  const metrics = arr(dig(o, 'spec', 'metrics'))
  const current = arr(dig(o, 'status', 'currentMetrics'))
  if (o.apiVersion === 'autoscaling/v1') {
    const t = dig(o, 'spec', 'targetCPUUtilizationPercentage')
    const c = dig(o, 'status', 'currentCPUUtilizationPercentage')
    return `cpu: ${c === undefined ? '<unknown>' : `${String(c)}%`}/${String(t ?? 80)}%`
  }
  if (!metrics.length) return '<none>'
  return metrics
    .map((m, i) => {
      const name = String(dig(m, 'resource', 'name') ?? dig(m, 'type'))
      const target = dig(m, 'resource', 'target')
      const cur = dig(current[i], 'resource', 'current', 'averageUtilization')
      const want = dig(target, 'averageUtilization')
      return want !== undefined ? `${name}: ${cur === undefined ? '<unknown>' : `${String(cur)}%`}/${String(want)}%` : `${name}: <unknown>/${String(dig(target, 'averageValue') ?? dig(target, 'value'))}`
    })
    .join(', ')
}

export const PRINTERS: Record<string, Printer> = {
  Node: {
    headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row: (o, wide) => {
      const ready = arr(dig(o, 'status', 'conditions')).find((c) => dig(c, 'type') === 'Ready')
      let status = nodeReady(o) ? 'Ready' : dig(ready, 'status') === 'Unknown' ? 'NotReady' : 'NotReady'
      if (dig(o, 'spec', 'unschedulable') === true) status += ',SchedulingDisabled'
      const r = [String(metaOf(o).name), status, nodeRoles(o), age(o), String(dig(o, 'status', 'nodeInfo', 'kubeletVersion') ?? '')]
      if (wide) {
        const ip = arr(dig(o, 'status', 'addresses')).find((a) => dig(a, 'type') === 'InternalIP')
        r.push(String(dig(ip, 'address') ?? '<none>'), '<none>', String(dig(o, 'status', 'nodeInfo', 'osImage') ?? ''), String(dig(o, 'status', 'nodeInfo', 'kernelVersion') ?? ''), String(dig(o, 'status', 'nodeInfo', 'containerRuntimeVersion') ?? ''))
      }
      return r
    },
  },
  Namespace: { headers: ['NAME', 'STATUS', 'AGE'], row: (o) => [String(metaOf(o).name), String(dig(o, 'status', 'phase') ?? 'Active'), age(o)] },
  Pod: {
    headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: (o, wide) => {
      const st = podStatus(o)
      const r = [String(metaOf(o).name), st.ready, st.status, st.restarts, age(o)]
      if (wide) r.push(none(str(dig(o, 'status', 'podIP'))), none(str(dig(o, 'spec', 'nodeName'))), '<none>', '<none>')
      return r
    },
  },
  Deployment: {
    headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (o, wide) => {
      const st = objOr(o.status)
      const r = [String(metaOf(o).name), `${Number(st.readyReplicas ?? 0)}/${Number(dig(o, 'spec', 'replicas') ?? 1)}`, String(st.updatedReplicas ?? 0), String(st.availableReplicas ?? 0), age(o)]
      if (wide) r.push(images(o).map((c) => String(dig(c, 'name'))).join(','), images(o).map((c) => String(dig(c, 'image'))).join(','), selectorText(dig(o, 'spec', 'selector')))
      return r
    },
  },
  ReplicaSet: {
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (o, wide) => {
      const st = objOr(o.status)
      const r = [String(metaOf(o).name), String(dig(o, 'spec', 'replicas') ?? 1), String(st.replicas ?? 0), String(st.readyReplicas ?? 0), age(o)]
      if (wide) r.push(images(o).map((c) => String(dig(c, 'name'))).join(','), images(o).map((c) => String(dig(c, 'image'))).join(','), selectorText(dig(o, 'spec', 'selector')))
      return r
    },
  },
  DaemonSet: {
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (o, wide) => {
      const st = objOr(o.status)
      const ns = Object.entries(objOr(dig(o, 'spec', 'template', 'spec', 'nodeSelector')))
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',')
      const r = [String(metaOf(o).name), String(st.desiredNumberScheduled ?? 0), String(st.currentNumberScheduled ?? 0), String(st.numberReady ?? 0), String(st.updatedNumberScheduled ?? 0), String(st.numberAvailable ?? 0), none(ns), age(o)]
      if (wide) r.push(images(o).map((c) => String(dig(c, 'name'))).join(','), images(o).map((c) => String(dig(c, 'image'))).join(','), selectorText(dig(o, 'spec', 'selector')))
      return r
    },
  },
  StatefulSet: { headers: ['NAME', 'READY', 'AGE'], row: (o) => [String(metaOf(o).name), `${Number(dig(o, 'status', 'readyReplicas') ?? 0)}/${Number(dig(o, 'spec', 'replicas') ?? 1)}`, age(o)] },
  Service: {
    headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['SELECTOR'],
    row: (o, wide) => {
      const type = String(dig(o, 'spec', 'type') ?? 'ClusterIP')
      const r = [String(metaOf(o).name), type, String(dig(o, 'spec', 'clusterIP') ?? '<none>'), type === 'LoadBalancer' ? '<pending>' : '<none>', servicePorts(o), age(o)]
      if (wide) {
        const sel = Object.entries(objOr(dig(o, 'spec', 'selector'))).map(([k, v]) => `${k}=${String(v)}`)
        r.push(sel.length ? sel.join(',') : '<none>')
      }
      return r
    },
  },
  ConfigMap: { headers: ['NAME', 'DATA', 'AGE'], row: (o) => [String(metaOf(o).name), String(Object.keys(objOr(o.data)).length + Object.keys(objOr(o.binaryData)).length), age(o)] },
  Secret: { headers: ['NAME', 'TYPE', 'DATA', 'AGE'], row: (o) => [String(metaOf(o).name), String(o.type ?? 'Opaque'), String(Object.keys(objOr(o.data)).length), age(o)] },
  ServiceAccount: { headers: ['NAME', 'SECRETS', 'AGE'], row: (o) => [String(metaOf(o).name), String(arr(o.secrets).length), age(o)] },
  APIService: {
    headers: ['NAME', 'SERVICE', 'AVAILABLE', 'AGE'],
    row: (o) => {
      const svc = dig(o, 'spec', 'service')
      const c = arr(dig(o, 'status', 'conditions')).find((x) => dig(x, 'type') === 'Available')
      const avail = dig(c, 'status') === 'True' ? 'True' : `False (${String(dig(c, 'reason') ?? 'Unknown')})`
      return [String(metaOf(o).name), isObj(svc) ? `${String(svc.namespace)}/${String(svc.name)}` : 'Local', c ? avail : 'Unknown', age(o)]
    },
  },
  HorizontalPodAutoscaler: {
    headers: ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
    row: (o) => [String(metaOf(o).name), `${String(dig(o, 'spec', 'scaleTargetRef', 'kind'))}/${String(dig(o, 'spec', 'scaleTargetRef', 'name'))}`, hpaTargets(o), String(dig(o, 'spec', 'minReplicas') ?? 1), String(dig(o, 'spec', 'maxReplicas') ?? ''), String(dig(o, 'status', 'currentReplicas') ?? 0), age(o)],
  },
  Job: { headers: ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE'], row: (o) => [String(metaOf(o).name), 'Running', `${Number(dig(o, 'status', 'succeeded') ?? 0)}/${Number(dig(o, 'spec', 'completions') ?? 1)}`, age(o), age(o)] },
  PriorityClass: { headers: ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY'], row: (o) => [String(metaOf(o).name), String(o.value), String(o.globalDefault ?? false), age(o), String(o.preemptionPolicy ?? 'PreemptLowerPriority')] },
  CustomResourceDefinition: { headers: ['NAME', 'CREATED AT'], row: (o) => [String(metaOf(o).name), String(metaOf(o).creationTimestamp)] },
  ClusterRole: { headers: ['NAME', 'CREATED AT'], row: (o) => [String(metaOf(o).name), String(metaOf(o).creationTimestamp)] },
  ClusterRoleBinding: { headers: ['NAME', 'ROLE', 'AGE'], row: (o) => [String(metaOf(o).name), `${String(dig(o, 'roleRef', 'kind'))}/${String(dig(o, 'roleRef', 'name'))}`, age(o)] },
  Role: { headers: ['NAME', 'CREATED AT'], row: (o) => [String(metaOf(o).name), String(metaOf(o).creationTimestamp)] },
  RoleBinding: { headers: ['NAME', 'ROLE', 'AGE'], row: (o) => [String(metaOf(o).name), `${String(dig(o, 'roleRef', 'kind'))}/${String(dig(o, 'roleRef', 'name'))}`, age(o)] },
}

const GENERIC: Printer = { headers: ['NAME', 'AGE'], row: (o) => [String(metaOf(o).name), age(o)] }

export const printerFor = (kind: string) => PRINTERS[kind] ?? GENERIC

export type TableOpts = { wide: boolean; namespaceColumn: boolean; noHeaders: boolean; showKind: boolean; showLabels: boolean; info?: KindInfo }

export function printTable(objs: Obj[], kind: string, o: TableOpts): string {
  const pr = printerFor(kind)
  const headers = [...(o.namespaceColumn ? ['NAMESPACE'] : []), ...pr.headers, ...(o.wide ? (pr.wide ?? []) : []), ...(o.showLabels ? ['LABELS'] : [])]
  const rows = objs.map((obj) => {
    const r = pr.row(obj, o.wide)
    if (o.showKind && o.info) r[0] = `${kindGroup(o.info)}/${r[0] as string}`
    const labels = Object.entries(objOr(metaOf(obj).labels)).map(([k, v]) => `${k}=${String(v)}`)
    return [...(o.namespaceColumn ? [String(metaOf(obj).namespace ?? '')] : []), ...r, ...(o.showLabels ? [labels.length ? labels.join(',') : '<none>'] : [])]
  })
  return table(o.noHeaders ? rows : [headers, ...rows])
}

/** Strip what kubectl hides (our bookkeeping, managedFields). */
export function forOutput(obj: Obj): Obj {
  const o = JSON.parse(JSON.stringify(obj)) as Obj
  const st = o.status
  if (isObj(st)) delete st.zxlabProgress
  return o
}

export const toJson = (v: unknown) => JSON.stringify(v, null, 4) + '\n'
export { toYaml, podReady }
