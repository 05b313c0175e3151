// Server-side defaulting: what the API server fills in on create/update, so that
// `kubectl get -o yaml` shows what a real cluster shows. Idempotent.
import { createHash } from 'node:crypto'
import { arr, dig, isObj, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'

const setDefault = (o: Obj, key: string, value: unknown) => {
  if (o[key] === undefined) o[key] = value
}

const child = (o: Obj, key: string): Obj => {
  if (!isObj(o[key])) o[key] = {}
  return o[key] as Obj
}

function defaultContainer(c: unknown) {
  if (!isObj(c)) return
  const image = str(c.image) ?? ''
  const tag = /:([^/:@]+)$/.exec(image)?.[1]
  setDefault(c, 'imagePullPolicy', !image.includes('@') && (!tag || tag === 'latest') ? 'Always' : 'IfNotPresent')
  setDefault(c, 'terminationMessagePath', '/dev/termination-log')
  setDefault(c, 'terminationMessagePolicy', 'File')
  setDefault(c, 'resources', {})
  for (const port of arr(c.ports)) if (isObj(port)) setDefault(port, 'protocol', 'TCP')
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!isObj(probe)) continue
    setDefault(probe, 'timeoutSeconds', 1)
    setDefault(probe, 'periodSeconds', 10)
    setDefault(probe, 'successThreshold', 1)
    setDefault(probe, 'failureThreshold', 3)
    const http = probe.httpGet
    if (isObj(http)) setDefault(http, 'scheme', 'HTTP')
  }
}

export function defaultPodSpec(spec: unknown) {
  if (!isObj(spec)) return
  for (const c of [...arr(spec.initContainers), ...arr(spec.containers)]) defaultContainer(c)
  setDefault(spec, 'restartPolicy', 'Always')
  setDefault(spec, 'terminationGracePeriodSeconds', 30)
  setDefault(spec, 'dnsPolicy', 'ClusterFirst')
  setDefault(spec, 'securityContext', {})
  setDefault(spec, 'schedulerName', 'default-scheduler')
  if (spec.serviceAccountName === undefined && spec.serviceAccount !== undefined) spec.serviceAccountName = spec.serviceAccount
  if (spec.serviceAccountName !== undefined) setDefault(spec, 'serviceAccount', spec.serviceAccountName)
  for (const vol of arr(spec.volumes)) {
    if (!isObj(vol)) continue
    for (const src of ['configMap', 'secret']) {
      const s = vol[src]
      if (isObj(s)) setDefault(s, 'defaultMode', 0o644)
    }
    const hp = vol.hostPath
    if (isObj(hp)) setDefault(hp, 'type', '')
  }
  for (const t of arr(spec.tolerations)) {
    if (isObj(t) && t.operator === undefined && t.key !== undefined) t.operator = 'Equal'
  }
}

/** The hash kubectl/controllers put in pod-template-hash / controller-revision-hash. */
export function templateHash(template: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(template ?? {})).digest()
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789'
  return Array.from(h.subarray(0, 10), (b) => alphabet[b % alphabet.length]).join('')
}

/** autoscaling/v2 defaults: an 80% CPU metric when none; every scaling rule of a given behavior filled in. */
function defaultHpaV2(spec: Obj) {
  if (!arr(spec.metrics).length) spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]
  const b = spec.behavior
  if (!isObj(b)) return
  const up = child(b, 'scaleUp')
  setDefault(up, 'stabilizationWindowSeconds', 0)
  setDefault(up, 'selectPolicy', 'Max')
  setDefault(up, 'policies', [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ])
  // scaleDown's stabilization window stays unset: the controller's flag applies then
  const down = child(b, 'scaleDown')
  setDefault(down, 'selectPolicy', 'Max')
  setDefault(down, 'policies', [{ type: 'Percent', value: 100, periodSeconds: 15 }])
}

/** Fill in server-side defaults for a stored object (idempotent). */
export function applyDefaults(obj: Obj) {
  const kind = obj.kind
  const spec = isObj(obj.spec) ? obj.spec : undefined
  switch (kind) {
    case 'Deployment': {
      if (!spec) break
      setDefault(spec, 'replicas', 1)
      setDefault(spec, 'revisionHistoryLimit', 10)
      setDefault(spec, 'progressDeadlineSeconds', 600)
      const strategy = child(spec, 'strategy')
      setDefault(strategy, 'type', 'RollingUpdate')
      if (strategy.type === 'RollingUpdate') {
        const ru = child(strategy, 'rollingUpdate')
        setDefault(ru, 'maxUnavailable', '25%')
        setDefault(ru, 'maxSurge', '25%')
      }
      defaultPodSpec(dig(spec, 'template', 'spec'))
      break
    }
    case 'DaemonSet': {
      if (!spec) break
      setDefault(spec, 'revisionHistoryLimit', 10)
      const us = child(spec, 'updateStrategy')
      setDefault(us, 'type', 'RollingUpdate')
      if (us.type === 'RollingUpdate') {
        const ru = child(us, 'rollingUpdate')
        setDefault(ru, 'maxUnavailable', 1)
        setDefault(ru, 'maxSurge', 0)
      }
      defaultPodSpec(dig(spec, 'template', 'spec'))
      break
    }
    case 'ReplicaSet':
    case 'StatefulSet':
      if (!spec) break
      setDefault(spec, 'replicas', 1)
      defaultPodSpec(dig(spec, 'template', 'spec'))
      break
    case 'Job':
      if (!spec) break
      setDefault(spec, 'backoffLimit', 6)
      setDefault(spec, 'completions', 1)
      setDefault(spec, 'parallelism', 1)
      defaultPodSpec(dig(spec, 'template', 'spec'))
      break
    case 'Pod':
      defaultPodSpec(spec)
      // a limit without a request is also the request (SetDefaults_Pod)
      for (const c of [...arr(spec?.initContainers), ...arr(spec?.containers)]) {
        const res = isObj(c) ? c.resources : undefined
        if (!isObj(res) || !isObj(res.limits)) continue
        const req = child(res, 'requests')
        for (const [k, v] of Object.entries(res.limits)) setDefault(req, k, v)
      }
      break
    case 'Service': {
      if (!spec) break
      setDefault(spec, 'type', 'ClusterIP')
      setDefault(spec, 'sessionAffinity', 'None')
      setDefault(spec, 'internalTrafficPolicy', 'Cluster')
      if (spec.type !== 'ExternalName') {
        setDefault(spec, 'ipFamilies', ['IPv4'])
        setDefault(spec, 'ipFamilyPolicy', 'SingleStack')
      }
      for (const port of arr(spec.ports)) {
        if (!isObj(port)) continue
        setDefault(port, 'protocol', 'TCP')
        setDefault(port, 'targetPort', port.port)
      }
      if (typeof spec.clusterIP === 'string') setDefault(spec, 'clusterIPs', [spec.clusterIP])
      break
    }
    case 'Secret': {
      setDefault(obj, 'type', 'Opaque')
      const sd = obj.stringData
      if (isObj(sd)) {
        const data = child(obj, 'data')
        for (const [key, val] of Object.entries(sd)) data[key] = Buffer.from(String(val), 'utf8').toString('base64')
        delete obj.stringData
      }
      break
    }
    case 'Namespace': {
      const meta = child(obj, 'metadata')
      const labels = child(meta, 'labels')
      setDefault(labels, 'kubernetes.io/metadata.name', meta.name)
      const s = child(obj, 'spec')
      setDefault(s, 'finalizers', ['kubernetes'])
      const status = child(obj, 'status')
      setDefault(status, 'phase', 'Active')
      break
    }
    case 'HorizontalPodAutoscaler':
      if (!spec) break
      setDefault(spec, 'minReplicas', 1)
      if (obj.apiVersion === 'autoscaling/v2') defaultHpaV2(spec)
      break
    case 'PriorityClass':
      setDefault(obj, 'preemptionPolicy', 'PreemptLowerPriority')
      break
  }
}
