// The "control plane and kubelets" of the stand-in cluster: one reconcile pass, run under the
// store's lock by every kubectl / kubeadm invocation, moves the cluster as far towards its
// desired state as the hosts allow. Scheduler (taints, tolerations, node selectors, resource
// fit), Deployment → ReplicaSet → Pod, DaemonSet → Pod, kubelet (pod status from the host's
// node.json, CNI config and images), node readiness, token cleaner and signer, APIService
// availability, and the behaviour of known images (flannel, metrics-server).
// Containers: the kubelet fixes each container instance's environment when it starts and keeps a
// record of it (_container.ts); restarts follow the crash-loop back-off; exec probes run in the
// container (_runtime.ts). Extension points: CONTROLLERS (more reconcile steps: the HPA, _hpa.ts)
// and BEHAVIORS (what a container of a given image does: flannel, metrics-server, Ray).
import { createHmac } from 'node:crypto'
import fs from 'node:fs'
import { readText } from './_io.ts'
import { factsOf, readHost } from './_host-facts.ts'
import type { HostFacts } from './_host-facts.ts'
import { onHost, writeAsRoot, podStartMs } from './_k8s-host.ts'
import type { HostRef } from './_k8s-host.ts'
import { arr, cidrContains, clone, deepEqual, dig, formatIPv4, isObj, nowIso, objOr, parseCidr, parseDuration, parseIPv4, randomSuffix, str, subnet } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { applyDefaults, templateHash } from './_defaults.ts'
import { parseQuantity, selectorMatches } from './_schema.ts'
import { deleteObj, getObj, keyOf, listObjs, metaOf, putObj } from './_store.ts'
import type { Store } from './_store.ts'
import { b64, unb64 } from './_pki.ts'
import { clock } from './_clock.ts'
import { containerEnv, containerKey, containerRecords, podReady } from './_container.ts'
import type { ContainerRecord } from './_container.ts'
import { hpaController } from './_hpa.ts'
import { rayBehavior, runProbe, runtimeOf } from './_runtime.ts'
import type { Behavior, Env, RunResult } from './_runtime.ts'

export const CP_TAINT = 'node-role.kubernetes.io/control-plane'
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready'
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable'

// ---------------------------------------------------------------------------
// Host facts (what each node's kubelet would see), cached for one pass

export type { HostFacts }

/** kube-controller-manager's --node-monitor-grace-period default: a kubelet silent this long is lost. */
export const NODE_GRACE_MS = 50_000

function hostFacts(s: Store, node: string): HostFacts | undefined {
  const host = s.internal.hosts[node]
  if (!host) return undefined
  if (!s.cluster.kubeletsPost) return factsOf(host, readHost(host), s.cluster.caCert)
  // behind the network API server a host is only what its kubelet last posted
  const posted = s.internal.nodeStatus?.[node]
  return posted ? factsOf(host, posted.reading, s.cluster.caCert, clock.now() - posted.at <= NODE_GRACE_MS) : undefined
}

function makeEnv(s: Store): Env {
  const facts = new Map<string, HostFacts>()
  return {
    s,
    now: clock.now(),
    startMs: podStartMs(),
    facts,
    hostWrites: 0,
    factsOf(node) {
      if (!facts.has(node)) {
        const f = hostFacts(s, node)
        if (f) facts.set(node, f)
      }
      return facts.get(node)
    },
  }
}

// ---------------------------------------------------------------------------
// Helpers

const name = (o: Obj) => String(metaOf(o).name)
const ns = (o: Obj) => str(metaOf(o).namespace)
const labels = (o: Obj) => objOr(metaOf(o).labels)
const ms = (iso: unknown) => (typeof iso === 'string' ? Date.parse(iso) : NaN)

export type Taint = { key: string; value?: string; effect: string }
export type Toleration = { key?: string; operator?: string; value?: string; effect?: string }

export const taintsOf = (node: Obj): Taint[] => arr(dig(node, 'spec', 'taints')) as Taint[]

export function tolerates(tols: Toleration[], t: Taint): boolean {
  return tols.some((tol) => {
    if (tol.effect && tol.effect !== t.effect) return false
    if (tol.operator === 'Exists') return !tol.key || tol.key === t.key
    return tol.key === t.key && (tol.value ?? '') === (t.value ?? '')
  })
}

const taintText = (t: Taint) => `{${t.key}: ${t.value ?? ''}}`

function setCondition(conds: Obj[], type: string, status: string, reason: string | undefined, message: string | undefined, now: string, extra: Obj = {}): Obj[] {
  const old = conds.find((c) => c.type === type)
  const changed = !old || old.status !== status
  const c: Obj = {
    type,
    status,
    ...extra,
    ...(old && !changed ? { lastTransitionTime: old.lastTransitionTime } : { lastTransitionTime: now }),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  }
  if (old && !changed && old.lastProbeTime !== undefined) c.lastProbeTime = old.lastProbeTime
  return [...conds.filter((x) => x.type !== type), c]
}

export const nodeReady = (node: Obj) => arr(dig(node, 'status', 'conditions')).some((c) => dig(c, 'type') === 'Ready' && dig(c, 'status') === 'True')

export { podReady }

const podTemplateSpec = (o: Obj) => objOr(dig(o, 'spec', 'template', 'spec'))

export function ownedBy(pod: Obj, owner: Obj): boolean {
  return arr(metaOf(pod).ownerReferences).some((r) => dig(r, 'uid') === metaOf(owner).uid)
}

const ownerRef = (o: Obj, controller = true) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: name(o),
  uid: metaOf(o).uid,
  controller,
  blockOwnerDeletion: true,
})

/** Resolve an int-or-percent (maxUnavailable, maxSurge) against a total. */
function intOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && v.endsWith('%')) {
    const x = (Number(v.slice(0, -1)) * total) / 100
    return roundUp ? Math.ceil(x) : Math.floor(x)
  }
  return Number(v) || 0
}

// ---------------------------------------------------------------------------
// Container behaviours

/** Restarts the kubelet's back-off (10 s doubling to 5 min) allows after crash-looping this long. */
function backoffRestarts(elapsedMs: number): number {
  let n = 0
  for (let t = 0, back = 10_000; t + back <= elapsedMs; t += back, back = Math.min(back * 2, 300_000)) n++
  return n
}

const probeDelay = (probe: unknown) => Number(dig(probe, 'initialDelaySeconds') ?? 0) * 1000

const klog = (level: 'I' | 'E' | 'W', file: string, msg: string) => {
  const d = new Date()
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${level}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds() * 1000, 6)}       1 ${file}] ${msg}`
}

const argsOf = (c: Obj) => [...arr(c.command), ...arr(c.args)].map(String)

/** A --flag's value from a container's command+args (last wins), true for a bare flag. */
export function argValue(c: Obj, flag: string): string | boolean | undefined {
  let v: string | boolean | undefined
  for (const a of argsOf(c)) {
    if (a === `--${flag}`) v = true
    else if (a.startsWith(`--${flag}=`)) v = a.slice(flag.length + 3)
  }
  return v
}

/** A ConfigMap key as the pod's volumes expose it under a path, e.g. /etc/kube-flannel/net-conf.json. */
function configMapFile(pod: Obj, c: Obj, file: string, s: Store): { cm: string; key: string; value?: string } | undefined {
  for (const m of arr(c.volumeMounts)) {
    const mp = String(dig(m, 'mountPath') ?? '')
    if (!mp || !file.startsWith(mp.endsWith('/') ? mp : `${mp}/`)) continue
    const vol = arr(dig(pod, 'spec', 'volumes')).find((v) => dig(v, 'name') === dig(m, 'name'))
    const cmName = str(dig(vol, 'configMap', 'name'))
    if (!cmName) continue
    const rel = file.slice(mp.length).replace(/^\//, '')
    const item = arr(dig(vol, 'configMap', 'items')).find((i) => dig(i, 'path') === rel)
    const key = item ? String(dig(item, 'key')) : rel
    const cm = getObj(s, '', 'ConfigMap', ns(pod), cmName)
    const value = cm ? str(dig(cm, 'data', key)) : undefined
    return { cm: cmName, key, ...(value !== undefined ? { value } : {}) }
  }
  return undefined
}

/** A path in the container that is a hostPath mount → the host path. */
function hostPathOf(pod: Obj, c: Obj, file: string): string | undefined {
  for (const m of arr(c.volumeMounts)) {
    const mp = String(dig(m, 'mountPath') ?? '')
    if (!mp || !(file === mp || file.startsWith(mp.endsWith('/') ? mp : `${mp}/`))) continue
    const vol = arr(dig(pod, 'spec', 'volumes')).find((v) => dig(v, 'name') === dig(m, 'name'))
    const hp = str(dig(vol, 'hostPath', 'path'))
    if (hp) return hp + file.slice(mp.length)
  }
  return undefined
}

/** A CNI installer init container: copies a ConfigMap file into /etc/cni/net.d on the host. */
export function cniInstall(pod: Obj, s: Store): { dest: string; content?: string; cm: string } | undefined {
  for (const c of arr(dig(pod, 'spec', 'initContainers'))) {
    if (!isObj(c)) continue
    const tokens = argsOf(c).flatMap((a) => a.split(/\s+/)).filter((t) => t.startsWith('/'))
    let src: ReturnType<typeof configMapFile>
    let dest: string | undefined
    for (const t of tokens) {
      src ??= configMapFile(pod, c, t, s)
      const hp = hostPathOf(pod, c, t)
      if (hp && hp.startsWith('/etc/cni/net.d/')) dest = hp
    }
    if (src && dest) return { dest, cm: src.cm, ...(src.value !== undefined ? { content: src.value } : {}) }
  }
  return undefined
}

export const isFlannelPod = (pod: Obj) =>
  labels(pod).app === 'flannel' || labels(pod)['k8s-app'] === 'flannel' || arr(dig(pod, 'spec', 'initContainers')).some((c) => dig(c, 'name') === 'install-cni')

const flannel: Behavior = {
  matches: (c, pod) => isFlannelPod(pod) && (String(c.image ?? '').includes('flannel') || argsOf(c).some((a) => a.includes('flanneld'))) && !String(c.image ?? '').includes('cni-plugin'),
  run(c, pod, env, node) {
    const nodeName = name(node)
    const log = [klog('I', 'main.go:211', `CLI flags config: {etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 etcdPrefix:/coreos.com/network kubeSubnetMgr:${argValue(c, 'kube-subnet-mgr') ? 'true' : 'false'} ...}`)]
    const facts = env.factsOf(nodeName)
    if (facts && !facts.state.modules.includes('br_netfilter')) {
      log.push(klog('E', 'main.go:278', 'Failed to check br_netfilter: stat /proc/sys/net/bridge/bridge-nf-call-iptables: no such file or directory'))
      return { state: 'crash', log }
    }
    const podCIDR = str(dig(node, 'spec', 'podCIDR'))
    if (!podCIDR) {
      log.push(klog('E', 'main.go:359', `Error registering network: failed to acquire lease: node "${nodeName}" pod cidr not assigned`))
      return { state: 'crash', log }
    }
    const netConf = configMapFile(pod, c, '/etc/kube-flannel/net-conf.json', env.s)?.value
    let network: string | undefined
    try {
      network = str((JSON.parse(netConf ?? '{}') as Obj).Network)
    } catch (e) {
      log.push(klog('E', 'main.go:332', `Failed to create SubnetManager: error parsing subnet config: ${(e as Error).message}`))
      return { state: 'crash', log }
    }
    const net = network ? parseCidr(network) : undefined
    const pc = parseCidr(podCIDR)
    if (!net || !pc || !cidrContains(net, pc.base)) {
      log.push(klog('E', 'main.go:359', `Error registering network: failed to acquire lease: node "${nodeName}" pod cidr ${podCIDR} is not in the flannel network ${network ?? '(none)'}`))
      return { state: 'crash', log }
    }
    log.push(klog('I', 'kube.go:652', `List of node(${nodeName}) annotations: map[string]string{"flannel.alpha.coreos.com/backend-type":"vxlan"}`))
    log.push(klog('I', 'main.go:433', `Found network config - Backend type: vxlan`))
    log.push(klog('I', 'main.go:481', `Wrote subnet file to /run/flannel/subnet.env`))
    log.push(klog('I', 'main.go:485', 'Running backend.'))
    return { state: 'ok', log }
  },
}

const METRICS_SERVER_FLAGS = new Set(
  'cert-dir secure-port bind-address tls-cert-file tls-private-key-file tls-cipher-suites tls-min-version kubelet-preferred-address-types kubelet-use-node-status-port kubelet-port kubelet-insecure-tls kubelet-certificate-authority kubelet-client-certificate kubelet-client-key kubelet-request-timeout metric-resolution node-selector kubeconfig v vmodule logging-format log-file log-dir alsologtostderr logtostderr stderrthreshold show-hidden-metrics-for-version requestheader-client-ca-file requestheader-allowed-names requestheader-extra-headers-prefix requestheader-group-headers requestheader-username-headers authentication-kubeconfig authentication-skip-lookup authentication-token-webhook-cache-ttl authorization-kubeconfig authorization-always-allow-paths authentication-tolerate-lookup-failure permit-port-sharing profiling contention-profiling http2-max-streams-per-connection'.split(' ')
)

const metricsServer: Behavior = {
  matches: (c) => String(c.image ?? '').includes('metrics-server'),
  run(c, _pod, env) {
    const log: string[] = []
    for (const a of argsOf(c)) {
      const m = /^--([^=]+)/.exec(a)
      if (m && !METRICS_SERVER_FLAGS.has(m[1] as string)) {
        log.push(`Error: unknown flag: --${m[1]}`)
        return { state: 'crash', log }
      }
    }
    const resArg = argValue(c, 'metric-resolution')
    const res = typeof resArg === 'string' ? parseDuration(resArg) : 60_000
    const timeoutArg = argValue(c, 'kubelet-request-timeout')
    const timeout = typeof timeoutArg === 'string' ? parseDuration(timeoutArg) : 10_000
    if (res === undefined || timeout === undefined) {
      log.push(`Error: invalid argument ${JSON.stringify(res === undefined ? resArg : timeoutArg)}: time: invalid duration`)
      return { state: 'crash', log }
    }
    if (res < 10_000) {
      log.push('Error: metric-resolution should be a time duration at least 10s')
      return { state: 'crash', log }
    }
    if ((res * 9) / 10 < timeout) {
      log.push('Error: metric-resolution should be larger than kubelet-request-timeout by at least 10%')
      return { state: 'crash', log }
    }
    log.push(klog('I', 'serving.go:374', 'Generated self-signed cert (/tmp/apiserver.crt, /tmp/apiserver.key)'))
    if (argValue(c, 'kubelet-insecure-tls') !== true) {
      for (const node of listObjs(env.s, '', 'Node')) {
        const ip = str(arr(dig(node, 'status', 'addresses')).find((a) => dig(a, 'type') === 'InternalIP') && dig(arr(dig(node, 'status', 'addresses')).find((a) => dig(a, 'type') === 'InternalIP'), 'address'))
        log.push(klog('E', 'scraper.go:149', `"Failed to scrape node" err="Get \\"https://${ip}:10250/metrics/resource\\": tls: failed to verify certificate: x509: cannot validate certificate for ${ip} because it doesn't contain any IP SANs" node="${name(node)}"`))
      }
      log.push(klog('I', 'server.go:191', '"Failed probe" probe="metric-storage-ready" err="no metrics to serve"'))
      return { state: 'unready', log }
    }
    log.push(klog('I', 'secure_serving.go:213', 'Serving securely on [::]:10250'))
    return { state: 'ok', log }
  },
}

export const BEHAVIORS: Behavior[] = [flannel, metricsServer, rayBehavior]

// ---------------------------------------------------------------------------
// Built-in objects the API server keeps

const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease']
const LOCAL_APISERVICES = ['v1.', 'v1.apps', 'v1.authentication.k8s.io', 'v1.authorization.k8s.io', 'v2.autoscaling', 'v1.autoscaling', 'v1.batch', 'v1.certificates.k8s.io', 'v1.coordination.k8s.io', 'v1.discovery.k8s.io', 'v1.events.k8s.io', 'v1.networking.k8s.io', 'v1.node.k8s.io', 'v1.policy', 'v1.rbac.authorization.k8s.io', 'v1.scheduling.k8s.io', 'v1.storage.k8s.io', 'v1.apiextensions.k8s.io', 'v1.admissionregistration.k8s.io', 'v1.apiregistration.k8s.io']

function builtins(env: Env) {
  const s = env.s
  for (const n of BUILTIN_NAMESPACES) {
    if (!getObj(s, '', 'Namespace', undefined, n)) {
      const o: Obj = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } }
      applyDefaults(o)
      putObj(s, o)
    }
  }
  for (const [pc, value] of [
    ['system-node-critical', 2000001000],
    ['system-cluster-critical', 2000000000],
  ] as const) {
    if (!getObj(s, 'scheduling.k8s.io', 'PriorityClass', undefined, pc)) {
      putObj(s, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc }, value, description: 'Used for system critical pods that must not be moved from their current node.', preemptionPolicy: 'PreemptLowerPriority' })
    }
  }
  for (const a of LOCAL_APISERVICES) {
    if (!getObj(s, 'apiregistration.k8s.io', 'APIService', undefined, a)) {
      const dot = a.indexOf('.')
      putObj(s, {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: a, labels: { 'kube-aggregator.kubernetes.io/automanaged': 'onstart' } },
        spec: { group: a.slice(dot + 1), version: a.slice(0, dot), groupPriorityMinimum: 18000, versionPriority: 15 },
        status: { conditions: [{ type: 'Available', status: 'True', reason: 'Local', message: 'Local APIServices are always available', lastTransitionTime: s.cluster.createdAt }] },
      })
    }
  }
  // per namespace: the root CA ConfigMap and the default ServiceAccount
  for (const nsObj of listObjs(s, '', 'Namespace')) {
    const n = name(nsObj)
    if (!getObj(s, '', 'ConfigMap', n, 'kube-root-ca.crt')) {
      putObj(s, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: n, annotations: { 'kubernetes.io/description': "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters." } }, data: { 'ca.crt': s.cluster.caCert } })
    }
    if (!getObj(s, '', 'ServiceAccount', n, 'default')) {
      putObj(s, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: n } })
    }
  }
}

// Bootstrap tokens: the token cleaner and the bootstrap signer.
function tokens(env: Env) {
  const s = env.s
  const live: [string, string][] = []
  for (const sec of listObjs(s, '', 'Secret', 'kube-system')) {
    if (sec.type !== 'bootstrap.kubernetes.io/token') continue
    const data = objOr(sec.data)
    const exp = data.expiration ? Date.parse(unb64(String(data.expiration))) : NaN
    if (!Number.isNaN(exp) && exp <= env.now) {
      deleteObj(s, sec)
      continue
    }
    if (data['usage-bootstrap-signing'] && unb64(String(data['usage-bootstrap-signing'])) === 'true') {
      live.push([unb64(String(data['token-id'] ?? '')), unb64(String(data['token-secret'] ?? ''))])
    }
  }
  const ci = getObj(s, '', 'ConfigMap', 'kube-public', 'cluster-info')
  if (!ci) return
  const data = objOr(ci.data)
  const kubeconfig = String(data.kubeconfig ?? '')
  const next: Obj = { kubeconfig }
  for (const [id, secret] of live) next[`jws-kubeconfig-${id}`] = jwsDetached(kubeconfig, id, secret)
  if (!deepEqual(next, data)) {
    const updated = clone(ci)
    updated.data = next
    putObj(s, updated)
  }
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')

/** The detached JWS (HS256, kid = token id) the bootstrap signer puts in cluster-info. */
export function jwsDetached(content: string, tokenId: string, tokenSecret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }))
  const payload = b64url(content)
  const sig = b64url(createHmac('sha256', `${tokenId}.${tokenSecret}`).update(`${header}.${payload}`).digest())
  return `${header}..${sig}`
}

// ---------------------------------------------------------------------------
// Nodes

function nodeStatus(env: Env) {
  const s = env.s
  const now = nowIso()
  for (const node of listObjs(s, '', 'Node')) {
    const n = name(node)
    const f = env.factsOf(n)
    const updated = clone(node)
    const status = objOr(updated.status)
    updated.status = status
    let conds = arr(status.conditions) as Obj[]
    let ready: 'True' | 'False' | 'Unknown' = 'True'
    let reason = 'KubeletReady'
    let message = 'kubelet is posting ready status'
    if (!f || !f.kubeletUp) {
      ready = 'Unknown'
      reason = 'NodeStatusUnknown'
      message = 'Kubelet stopped posting node status.'
    } else if (!f.containerdUp) {
      ready = 'False'
      reason = 'KubeletNotReady'
      message = 'container runtime is down, PLEG is not healthy: pleg was last seen active 3m0s ago; threshold is 3m0s'
    } else if (!f.cniFile) {
      ready = 'False'
      reason = 'KubeletNotReady'
      message = 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized'
    } else if (f.cniType === 'flannel') {
      // flannel's config is loaded: the node's flannel pod must be up (no pod cidr → it crash-loops)
      const fp = listObjs(s, '', 'Pod').find((pod) => isFlannelPod(pod) && dig(pod, 'spec', 'nodeName') === n)
      if (fp && dig(fp, 'status', 'phase') === 'Running' && !podReady(fp) && crashing(fp)) {
        ready = 'False'
        reason = 'KubeletNotReady'
        message = 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized'
      }
    }
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const reasons: Record<string, [string, string]> = {
        MemoryPressure: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
        DiskPressure: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
        PIDPressure: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      }
      const [r, m] = reasons[t] as [string, string]
      const st = ready === 'Unknown' ? 'Unknown' : 'False'
      conds = setCondition(conds, t, st, st === 'Unknown' ? 'NodeStatusUnknown' : r, st === 'Unknown' ? 'Kubelet stopped posting node status.' : m, now, { lastHeartbeatTime: now })
    }
    conds = setCondition(conds, 'Ready', ready, reason, message, now, { lastHeartbeatTime: now })
    // keep heartbeat stable so unchanged nodes do not churn resourceVersion
    for (const c of conds) {
      const old = arr(dig(node, 'status', 'conditions')).find((x) => dig(x, 'type') === c.type) as Obj | undefined
      if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) c.lastHeartbeatTime = old.lastHeartbeatTime
    }
    status.conditions = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((t) => conds.find((c) => c.type === t) as Obj)
    if (f) {
      const kv = f.state.packages.kubelet?.version
      const cv = f.state.packages.containerd?.version ?? f.state.packages['containerd.io']?.version
      const info = objOr(status.nodeInfo)
      if (kv) info.kubeletVersion = `v${kv.replace(/^\d+:/, '').replace(/-[^-]*$/, '')}`
      if (cv) info.containerRuntimeVersion = `containerd://${cv.replace(/^\d+:/, '').replace(/-[^-]*$/, '')}`
      // a real host says what it is (the namespace lab's hosts all show the Debian 12 the Node was made with)
      if (s.cluster.kubeletsPost && f.osImage) info.osImage = f.osImage
      status.nodeInfo = info
    }
    // node lifecycle controller: not-ready / unreachable taints
    const spec = objOr(updated.spec)
    updated.spec = spec
    let taints = (arr(spec.taints) as Taint[]).filter((t) => t.key !== NOT_READY_TAINT && t.key !== UNREACHABLE_TAINT)
    const keep = (arr(spec.taints) as Taint[]).filter((t) => t.key === NOT_READY_TAINT || t.key === UNREACHABLE_TAINT)
    if (ready !== 'True') {
      const key = ready === 'Unknown' ? UNREACHABLE_TAINT : NOT_READY_TAINT
      const existing = keep.find((t) => t.key === key && t.effect === 'NoSchedule')
      taints = [...taints, existing ?? { key, effect: 'NoSchedule' }]
    }
    if (taints.length) spec.taints = taints
    else delete spec.taints
    putObj(s, updated)
  }
}

const crashing = (pod: Obj) => arr(dig(pod, 'status', 'containerStatuses')).some((c) => dig(c, 'state', 'waiting', 'reason') === 'CrashLoopBackOff' || (dig(c, 'restartCount') as number) > 0)

// ---------------------------------------------------------------------------
// Workloads

function newPod(owner: Obj, nameBase: string, extraLabels: Obj, nodeName?: string): Obj {
  const tmpl = clone(objOr(dig(owner, 'spec', 'template')))
  const tmeta = objOr(tmpl.metadata)
  const pod: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${nameBase}-${randomSuffix()}`,
      generateName: `${nameBase}-`,
      namespace: ns(owner),
      labels: { ...objOr(tmeta.labels), ...extraLabels },
      ...(tmeta.annotations ? { annotations: tmeta.annotations } : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec: objOr(tmpl.spec),
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  }
  const spec = pod.spec as Obj
  if (nodeName) spec.nodeName = nodeName
  spec.serviceAccountName ??= 'default'
  spec.serviceAccount ??= spec.serviceAccountName
  spec.enableServiceLinks ??= true
  spec.preemptionPolicy ??= 'PreemptLowerPriority'
  spec.priority ??= priorityOf(spec)
  applyDefaults(pod)
  return pod
}

let pcLookup: ((name: string) => number | undefined) | undefined
const priorityOf = (spec: Obj) => (str(spec.priorityClassName) ? (pcLookup?.(String(spec.priorityClassName)) ?? 0) : 0)

/** Why the API server would refuse to create this pod (admission), or undefined. */
function admissionError(s: Store, pod: Obj): string | undefined {
  const spec = objOr(pod.spec)
  const sa = str(spec.serviceAccountName) ?? 'default'
  const n = ns(pod)
  if (!getObj(s, '', 'ServiceAccount', n, sa)) {
    return `pods "${name(pod)}" is forbidden: error looking up service account ${n}/${sa}: serviceaccount "${sa}" not found`
  }
  const pc = str(spec.priorityClassName)
  if (pc && !getObj(s, 'scheduling.k8s.io', 'PriorityClass', undefined, pc)) {
    return `pods "${name(pod)}" is forbidden: no PriorityClass with name ${pc} was found`
  }
  if (!getObj(s, '', 'Namespace', undefined, n ?? 'default')) return `namespaces "${n}" not found`
  return undefined
}

function deployments(env: Env) {
  const s = env.s
  for (const d of listObjs(s, 'apps', 'Deployment')) {
    const spec = objOr(d.spec)
    const desired = typeof spec.replicas === 'number' ? spec.replicas : 1
    const tmpl = clone(objOr(spec.template))
    const hash = templateHash(tmpl)
    const rsName = `${name(d)}-${hash}`
    const owned = listObjs(s, 'apps', 'ReplicaSet', ns(d)).filter((rs) => ownedBy(rs, d))
    let current = owned.find((rs) => name(rs) === rsName)
    const revision = Math.max(0, ...owned.map((rs) => Number(objOr(metaOf(rs).annotations)['deployment.kubernetes.io/revision'] ?? 0)))
    if (!current) {
      const tmeta = objOr(tmpl.metadata)
      tmeta.labels = { ...objOr(tmeta.labels), 'pod-template-hash': hash }
      tmpl.metadata = tmeta
      current = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace: ns(d),
          labels: { ...objOr(tmeta.labels) },
          annotations: { 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + 1), 'deployment.kubernetes.io/revision': String(revision + 1) },
          ownerReferences: [ownerRef(d)],
        },
        spec: {
          replicas: 0,
          selector: { matchLabels: { ...objOr(dig(spec, 'selector', 'matchLabels')), 'pod-template-hash': hash }, ...(dig(spec, 'selector', 'matchExpressions') ? { matchExpressions: dig(spec, 'selector', 'matchExpressions') } : {}) },
          template: tmpl,
        },
      }
      putObj(s, current)
      current = getObj(s, 'apps', 'ReplicaSet', ns(d), rsName) as Obj
    }
    const olds = owned.filter((rs) => name(rs) !== rsName)
    const recreate = dig(spec, 'strategy', 'type') === 'Recreate'
    const oldPods = olds.reduce((n, rs) => n + podsOf(s, rs).length, 0)
    const cur = clone(current)
    const curSpec = objOr(cur.spec)
    curSpec.replicas = recreate && oldPods > 0 ? 0 : desired
    objOr(metaOf(cur).annotations)['deployment.kubernetes.io/desired-replicas'] = String(desired)
    putObj(s, cur)
    // old ReplicaSets: keep enough old pods to stay available while the new ones come up
    const newAvailable = podsOf(s, current).filter(podReady).length
    const maxUnavailable = intOrPercent(dig(spec, 'strategy', 'rollingUpdate', 'maxUnavailable') ?? '25%', desired, false)
    let budget = recreate ? 0 : Math.max(0, desired - maxUnavailable - newAvailable)
    for (const rs of olds) {
      const have = podsOf(s, rs).filter(podReady).length
      const keep = Math.min(have, budget)
      budget -= keep
      const o = clone(rs)
      objOr(o.spec).replicas = keep
      putObj(s, o)
    }
    // revision history
    const limit = typeof spec.revisionHistoryLimit === 'number' ? spec.revisionHistoryLimit : 10
    const idle = olds.filter((rs) => dig(rs, 'spec', 'replicas') === 0 && podsOf(s, rs).length === 0)
    idle.sort((a, b) => Number(objOr(metaOf(a).annotations)['deployment.kubernetes.io/revision']) - Number(objOr(metaOf(b).annotations)['deployment.kubernetes.io/revision']))
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) deleteObj(s, rs)
  }
}

const podsOf = (s: Store, owner: Obj) => listObjs(s, '', 'Pod', ns(owner)).filter((p) => ownedBy(p, owner))

function replicaSets(env: Env) {
  const s = env.s
  for (const rs of listObjs(s, 'apps', 'ReplicaSet')) {
    const want = typeof dig(rs, 'spec', 'replicas') === 'number' ? (dig(rs, 'spec', 'replicas') as number) : 1
    const pods = podsOf(s, rs)
    let failure: string | undefined
    for (let i = pods.length; i < want; i++) {
      const pod = newPod(rs, name(rs), {})
      failure = admissionError(s, pod)
      if (failure) break
      putObj(s, pod)
    }
    if (pods.length > want) {
      // delete unscheduled, then not ready, then newest
      const order = [...pods].sort((a, b) => rank(a) - rank(b) || String(metaOf(b).creationTimestamp).localeCompare(String(metaOf(a).creationTimestamp)))
      for (const pod of order.slice(0, pods.length - want)) deletePod(s, pod)
    }
    const o = clone(rs)
    const current = podsOf(s, rs)
    const status: Obj = {
      replicas: current.length,
      fullyLabeledReplicas: current.length,
      readyReplicas: current.filter(podReady).length,
      availableReplicas: current.filter(podReady).length,
      observedGeneration: metaOf(rs).generation ?? 1,
    }
    for (const k of ['readyReplicas', 'availableReplicas', 'fullyLabeledReplicas']) if (status[k] === 0) delete status[k]
    if (failure) status.conditions = [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure, lastTransitionTime: nowIso() }]
    o.status = status
    putObj(s, o)
  }
}

const rank = (pod: Obj) => (!dig(pod, 'spec', 'nodeName') ? 0 : !podReady(pod) ? 1 : 2)

function deletePod(s: Store, pod: Obj) {
  delete TIMERS(s)[keyOf(pod)]
  deleteObj(s, pod)
  const recs = containerRecords(s)
  for (const k of Object.keys(s.internal.logs)) if (k.startsWith(`${ns(pod)}/${name(pod)}/`)) delete s.internal.logs[k]
  for (const k of Object.keys(recs)) if (k.startsWith(`${ns(pod)}/${name(pod)}/`)) delete recs[k]
}

const DS_TOLERATIONS: Toleration[] = [
  { key: NOT_READY_TAINT, operator: 'Exists', effect: 'NoExecute' },
  { key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
]

function nodeSelectorMatches(spec: Obj, node: Obj): boolean {
  const sel = objOr(spec.nodeSelector)
  const l = labels(node)
  for (const [k, v] of Object.entries(sel)) if (l[k] !== v) return false
  const terms = arr(dig(spec, 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms'))
  if (terms.length === 0) return true
  return terms.some((t) => {
    const exprs = arr(dig(t, 'matchExpressions'))
    const fields = arr(dig(t, 'matchFields')).map((f) => ({ ...objOr(f), key: dig(f, 'key') === 'metadata.name' ? '__name' : dig(f, 'key') }))
    return selectorMatches({ matchExpressions: [...exprs, ...fields] }, { ...l, __name: name(node) })
  })
}

function daemonSets(env: Env) {
  const s = env.s
  const nodes = listObjs(s, '', 'Node')
  for (const ds of listObjs(s, 'apps', 'DaemonSet')) {
    const spec = podTemplateSpec(ds)
    const hash = templateHash(dig(ds, 'spec', 'template'))
    const tols = [...(arr(spec.tolerations) as Toleration[]), ...DS_TOLERATIONS, ...(spec.hostNetwork ? [{ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' }] : [])]
    const pods = podsOf(s, ds)
    let failure: string | undefined
    const eligible = nodes.filter((node) => nodeSelectorMatches(spec, node) && taintsOf(node).filter((t) => t.effect !== 'PreferNoSchedule').every((t) => tolerates(tols, t)))
    for (const node of nodes) {
      const n = name(node)
      const mine = pods.filter((p) => dig(p, 'spec', 'nodeName') === n)
      const should = eligible.includes(node)
      for (const p of mine) {
        const stale = labels(p)['controller-revision-hash'] !== hash
        if (!should || stale || mine.indexOf(p) > 0) deletePod(s, p)
      }
      const remaining = podsOf(s, ds).filter((p) => dig(p, 'spec', 'nodeName') === n)
      if (should && remaining.length === 0) {
        const pod = newPod(ds, name(ds), { 'controller-revision-hash': hash, 'pod-template-generation': String(metaOf(ds).generation ?? 1) }, n)
        objOr(pod.spec).tolerations = [...arr(objOr(pod.spec).tolerations), ...DS_TOLERATIONS.filter((t) => !arr(objOr(pod.spec).tolerations).some((x) => deepEqual(x, t)))]
        failure = admissionError(s, pod)
        if (!failure) putObj(s, pod)
      }
    }
    const current = podsOf(s, ds)
    const ready = current.filter(podReady).length
    const o = clone(ds)
    const status: Obj = {
      currentNumberScheduled: current.length,
      desiredNumberScheduled: eligible.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: eligible.length - ready,
      observedGeneration: metaOf(ds).generation ?? 1,
      updatedNumberScheduled: current.filter((p) => labels(p)['controller-revision-hash'] === hash).length,
    }
    if (status.numberAvailable === 0) delete status.numberAvailable
    if (status.numberUnavailable === 0) delete status.numberUnavailable
    if (failure) status.conditions = [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure, lastTransitionTime: nowIso() }]
    o.status = status
    putObj(s, o)
  }
}

function deploymentStatus(env: Env) {
  const s = env.s
  const now = nowIso()
  for (const d of listObjs(s, 'apps', 'Deployment')) {
    const spec = objOr(d.spec)
    const desired = typeof spec.replicas === 'number' ? spec.replicas : 1
    const hash = templateHash(objOr(spec.template))
    const owned = listObjs(s, 'apps', 'ReplicaSet', ns(d)).filter((rs) => ownedBy(rs, d))
    const cur = owned.find((rs) => name(rs) === `${name(d)}-${hash}`)
    const all = owned.flatMap((rs) => podsOf(s, rs))
    const updated = cur ? podsOf(s, cur) : []
    const available = all.filter(podReady).length
    const o = clone(d)
    const old = objOr(d.status)
    const maxUnavailable = intOrPercent(dig(spec, 'strategy', 'rollingUpdate', 'maxUnavailable') ?? '25%', desired, false)
    let conds = arr(old.conditions) as Obj[]
    const availableOk = available >= desired - maxUnavailable
    conds = setCondition(conds, 'Available', availableOk ? 'True' : 'False', availableOk ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', availableOk ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.', now, { lastUpdateTime: now })
    const complete = updated.length === desired && all.length === desired && updated.filter(podReady).length === desired
    const prog = conds.find((c) => c.type === 'Progressing')
    const progress = `${updated.length}/${updated.filter(podReady).length}/${all.length}/${hash}`
    const lastProgress = prog && old.zxlabProgress === progress ? ms(prog.lastUpdateTime) : env.now
    const deadline = (typeof spec.progressDeadlineSeconds === 'number' ? spec.progressDeadlineSeconds : 600) * 1000
    const rsName = cur ? name(cur) : `${name(d)}-${hash}`
    if (complete) conds = setCondition(conds, 'Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, now)
    else if (env.now - lastProgress > deadline) conds = setCondition(conds, 'Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, now)
    else conds = setCondition(conds, 'Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, now)
    for (const c of conds) {
      const was = arr(old.conditions).find((x) => dig(x, 'type') === c.type) as Obj | undefined
      c.lastUpdateTime = was && was.status === c.status && was.reason === c.reason && !(c.type === 'Progressing' && old.zxlabProgress !== progress) ? was.lastUpdateTime : now
    }
    const failure = cur ? arr(dig(cur, 'status', 'conditions')).find((c) => dig(c, 'type') === 'ReplicaFailure') : undefined
    if (failure) conds = setCondition(conds, 'ReplicaFailure', 'True', 'FailedCreate', String(dig(failure, 'message')), now, { lastUpdateTime: now })
    else conds = conds.filter((c) => c.type !== 'ReplicaFailure')
    const status: Obj = {
      observedGeneration: metaOf(d).generation ?? 1,
      replicas: all.length,
      updatedReplicas: updated.length,
      readyReplicas: all.filter(podReady).length,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, desired - available),
      conditions: ['Available', 'Progressing', 'ReplicaFailure'].flatMap((t) => conds.filter((c) => c.type === t)),
      zxlabProgress: progress,
    }
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (status[k] === 0) delete status[k]
    o.status = status
    putObj(s, o)
  }
}

// ---------------------------------------------------------------------------
// Static (mirror) pods: what kubeadm wrote to a node's /etc/kubernetes/manifests

export type StaticPod = { node: string; file: string; pod: Obj }

function mirrorPods(env: Env) {
  const s = env.s
  const statics = (s.internal as { staticPods?: StaticPod[] }).staticPods ?? []
  const want = new Set<string>()
  for (const sp of statics) {
    const f = env.factsOf(sp.node)
    if (!f || !f.manifests.includes(sp.file)) continue
    const podName = `${name(sp.pod)}-${sp.node}`
    want.add(podName)
    if (!getObj(s, '', 'Pod', 'kube-system', podName)) {
      const pod = clone(sp.pod)
      const meta = metaOf(pod)
      meta.name = podName
      meta.namespace = 'kube-system'
      meta.annotations = { ...objOr(meta.annotations), 'kubernetes.io/config.mirror': templateHash(sp.pod), 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.hash': templateHash(sp.pod) }
      meta.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: sp.node, uid: metaOf(getObj(s, '', 'Node', undefined, sp.node) ?? {}).uid, controller: true }]
      const spec = objOr(pod.spec)
      spec.nodeName = sp.node
      spec.tolerations = [{ operator: 'Exists', effect: 'NoExecute' }]
      pod.status = { phase: 'Pending' }
      applyDefaults(pod)
      putObj(s, pod)
    }
  }
  for (const pod of listObjs(s, '', 'Pod', 'kube-system')) {
    if (objOr(metaOf(pod).annotations)['kubernetes.io/config.mirror'] && !want.has(name(pod))) deletePod(s, pod)
  }
}

// ---------------------------------------------------------------------------
// Scheduler

function requestsOf(pod: Obj): { cpu: number; memory: number } {
  let cpu = 0
  let memory = 0
  for (const c of arr(dig(pod, 'spec', 'containers'))) {
    cpu += parseQuantity(dig(c, 'resources', 'requests', 'cpu') ?? dig(c, 'resources', 'limits', 'cpu')) ?? 0
    memory += parseQuantity(dig(c, 'resources', 'requests', 'memory') ?? dig(c, 'resources', 'limits', 'memory')) ?? 0
  }
  return { cpu, memory }
}

function schedule(env: Env) {
  const s = env.s
  const nodes = listObjs(s, '', 'Node')
  const pods = listObjs(s, '', 'Pod')
  const used = new Map<string, { cpu: number; memory: number; count: number }>()
  for (const n of nodes) used.set(name(n), { cpu: 0, memory: 0, count: 0 })
  for (const p of pods) {
    const nn = str(dig(p, 'spec', 'nodeName'))
    const u = nn ? used.get(nn) : undefined
    if (!u) continue
    const r = requestsOf(p)
    u.cpu += r.cpu
    u.memory += r.memory
    u.count++
  }
  const now = nowIso()
  for (const pod of pods) {
    const spec = objOr(pod.spec)
    if (spec.nodeName) continue
    const tols = arr(spec.tolerations) as Toleration[]
    const req = requestsOf(pod)
    const reasons = new Map<string, number>()
    const bump = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1)
    const fits: Obj[] = []
    for (const node of nodes) {
      if (dig(node, 'spec', 'unschedulable') === true) {
        bump('node(s) were unschedulable')
        continue
      }
      const bad = taintsOf(node).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tols, t))
      if (bad) {
        bump(`node(s) had untolerated taint ${taintText(bad)}`)
        continue
      }
      if (!nodeSelectorMatches(spec, node)) {
        bump("node(s) didn't match Pod's node affinity/selector")
        continue
      }
      const u = used.get(name(node)) ?? { cpu: 0, memory: 0, count: 0 }
      const alloc = objOr(dig(node, 'status', 'allocatable'))
      const cpuCap = parseQuantity(alloc.cpu) ?? Infinity
      const memCap = parseQuantity(alloc.memory) ?? Infinity
      const podsCap = Number(alloc.pods ?? 110)
      let misfit = false
      if (u.cpu + req.cpu > cpuCap) {
        bump('Insufficient cpu')
        misfit = true
      }
      if (u.memory + req.memory > memCap) {
        bump('Insufficient memory')
        misfit = true
      }
      if (u.count + 1 > podsCap) {
        bump('Too many pods')
        misfit = true
      }
      if (!misfit) fits.push(node)
    }
    const o = clone(pod)
    const status = objOr(o.status)
    o.status = status
    if (fits.length === 0) {
      const parts = [...reasons.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([r, n]) => `${n} ${r}`)
      const msg = `0/${nodes.length} nodes are available: ${parts.join(', ')}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`
      status.phase = 'Pending'
      status.conditions = setCondition(arr(status.conditions) as Obj[], 'PodScheduled', 'False', 'Unschedulable', nodes.length ? msg : 'no nodes available to schedule pods', now, { lastProbeTime: null })
      putObj(s, o)
      continue
    }
    fits.sort((a, b) => (used.get(name(a))?.count ?? 0) - (used.get(name(b))?.count ?? 0) || name(a).localeCompare(name(b)))
    const chosen = fits[0] as Obj
    objOr(o.spec).nodeName = name(chosen)
    status.conditions = setCondition((arr(status.conditions) as Obj[]).filter((c) => c.type !== 'PodScheduled'), 'PodScheduled', 'True', undefined, undefined, now, { lastProbeTime: null })
    const u = used.get(name(chosen))
    if (u) {
      u.cpu += req.cpu
      u.memory += req.memory
      u.count++
    }
    putObj(s, o)
  }
}

// ---------------------------------------------------------------------------
// Kubelet: pod status on each node

const TIMERS = (s: Store) => ((s.internal as { timers?: Record<string, number> }).timers ??= {})

function missingRef(s: Store, pod: Obj): string | undefined {
  const n = ns(pod)
  for (const vol of arr(dig(pod, 'spec', 'volumes'))) {
    const cm = dig(vol, 'configMap')
    if (isObj(cm) && cm.optional !== true && !getObj(s, '', 'ConfigMap', n, String(cm.name))) return `MountVolume.SetUp failed for volume "${String(dig(vol, 'name'))}" : configmap "${String(cm.name)}" not found`
    const sec = dig(vol, 'secret')
    if (isObj(sec) && sec.optional !== true && !getObj(s, '', 'Secret', n, String(sec.secretName))) return `MountVolume.SetUp failed for volume "${String(dig(vol, 'name'))}" : secret "${String(sec.secretName)}" not found`
  }
  return undefined
}

function configError(s: Store, pod: Obj, c: Obj): string | undefined {
  const n = ns(pod)
  for (const ef of arr(c.envFrom)) {
    const cm = dig(ef, 'configMapRef')
    if (isObj(cm) && cm.optional !== true && !getObj(s, '', 'ConfigMap', n, String(cm.name))) return `configmap "${String(cm.name)}" not found`
    const sec = dig(ef, 'secretRef')
    if (isObj(sec) && sec.optional !== true && !getObj(s, '', 'Secret', n, String(sec.name))) return `secret "${String(sec.name)}" not found`
  }
  for (const e of arr(c.env)) {
    const sk = dig(e, 'valueFrom', 'secretKeyRef')
    if (isObj(sk) && sk.optional !== true) {
      const sec = getObj(s, '', 'Secret', n, String(sk.name))
      if (!sec) return `secret "${String(sk.name)}" not found`
      if (!(String(sk.key) in objOr(sec.data))) return `couldn't find key ${String(sk.key)} in Secret ${n}/${String(sk.name)}`
    }
    const ck = dig(e, 'valueFrom', 'configMapKeyRef')
    if (isObj(ck) && ck.optional !== true) {
      const cm = getObj(s, '', 'ConfigMap', n, String(ck.name))
      if (!cm) return `configmap "${String(ck.name)}" not found`
      if (!(String(ck.key) in objOr(cm.data))) return `couldn't find key ${String(ck.key)} in ConfigMap ${n}/${String(ck.name)}`
    }
  }
  return undefined
}

const hasImage = (images: Set<string>, image: string) => {
  const norm = (i: string) => {
    let x = i.includes('/') && /[.:]/.test(i.split('/')[0] as string) ? i : `docker.io/${i.includes('/') ? i : `library/${i}`}`
    if (!/:[^/]+$/.test(x) && !x.includes('@')) x += ':latest'
    return x
  }
  const want = norm(image)
  for (const i of images) if (norm(i) === want) return true
  return false
}

function kubelet(env: Env) {
  const s = env.s
  const now = nowIso()
  const timers = TIMERS(s)
  for (const pod of listObjs(s, '', 'Pod')) {
    const nodeName = str(dig(pod, 'spec', 'nodeName'))
    if (!nodeName) continue
    const node = getObj(s, '', 'Node', undefined, nodeName)
    if (!node) {
      deletePod(s, pod)
      continue
    }
    const f = env.factsOf(nodeName)
    const o = clone(pod)
    const spec = objOr(o.spec)
    const status = objOr(o.status)
    o.status = status
    const key = keyOf(pod)
    if (!f || !f.kubeletUp) {
      // the node lifecycle controller marks the pods of a lost node not ready
      status.conditions = setCondition(arr(status.conditions) as Obj[], 'Ready', 'False', undefined, undefined, now)
      putObj(s, o)
      continue
    }
    const hostIP = str(arr(dig(node, 'status', 'addresses')).find((a) => dig(a, 'type') === 'InternalIP') && dig(arr(dig(node, 'status', 'addresses')).find((a) => dig(a, 'type') === 'InternalIP'), 'address')) ?? f.host.address
    status.hostIP = hostIP
    status.hostIPs = [{ ip: hostIP }]
    status.startTime ??= now
    // what keeps the sandbox from starting
    let waiting: { reason: string; message?: string } | undefined
    if (!f.containerdUp) waiting = { reason: 'ContainerCreating' }
    else if (!spec.hostNetwork) {
      if (!f.cniFile) waiting = { reason: 'ContainerCreating', message: 'network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized' }
      else if (f.cniType === 'calico') waiting = { reason: 'ContainerCreating', message: `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox: plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/` }
      else if (f.cniType === 'cilium-cni') waiting = { reason: 'ContainerCreating', message: 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox: plugin type="cilium-cni" failed (add): unable to connect to Cilium daemon: failed to create cilium agent client after 30.000000 seconds timeout' }
      else if (f.cniType === 'flannel') {
        const fp = listObjs(s, '', 'Pod').find((p) => isFlannelPod(p) && dig(p, 'spec', 'nodeName') === nodeName)
        if (!fp || !podReady(fp)) waiting = { reason: 'ContainerCreating', message: 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox: plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory' }
      } else if (f.cniType === 'invalid' || f.cniType === 'unknown') waiting = { reason: 'ContainerCreating', message: `Failed to create pod sandbox: failed to load CNI config: ${f.cniFile}` }
    }
    waiting ??= missingRef(s, pod) ? { reason: 'ContainerCreating', message: missingRef(s, pod) as string } : undefined
    // timers: when the sandbox could first start
    if (waiting) delete timers[key]
    else timers[key] ??= env.now
    const started = !waiting && env.now - (timers[key] as number) >= env.startMs
    if (!waiting && !started) waiting = { reason: 'ContainerCreating' }

    // CNI installers write their config when their init containers run
    if (!waiting) {
      const inst = cniInstall(o, s)
      if (inst?.content !== undefined && s.cluster.kubeletsPost) {
        // on another machine: the node's kubelet writes it when it next posts its status
        const files = ((s.internal.hostFiles ??= {})[nodeName] ??= {})
        files[inst.dest] = inst.content
      } else if (inst?.content !== undefined) {
        const file = onHost(f.host, inst.dest)
        if (readText(file) !== inst.content) {
          writeAsRoot(file, inst.content)
          env.hostWrites++
        }
        env.facts.delete(nodeName)
      }
    }
    // the sandbox gets its IP before any container starts (the downward API can read it)
    if (!waiting && !status.podIP) {
      if (spec.hostNetwork) status.podIP = hostIP
      else {
        const cidr = parseCidr(String(dig(node, 'spec', 'podCIDR') ?? ''))
        if (cidr) {
          const next = (s.internal.nextPodIP[nodeName] ?? 1) + 1
          s.internal.nextPodIP[nodeName] = next % 250
          status.podIP = formatIPv4(cidr.base + next)
        }
      }
      if (status.podIP) status.podIPs = [{ ip: status.podIP }]
    }
    const containers = arr(spec.containers).filter(isObj)
    const statuses: Obj[] = []
    let allReady = !waiting
    let anyCrash = false
    for (const c of containers) {
      const cname = String(c.name)
      const base: Obj = { name: cname, image: c.image, imageID: '', ready: false, restartCount: 0, started: false }
      if (waiting) {
        statuses.push({ ...base, state: { waiting: { reason: waiting.reason, ...(waiting.message && waiting.reason !== 'ContainerCreating' ? { message: waiting.message } : {}) } } })
        continue
      }
      const policy = String(c.imagePullPolicy ?? 'IfNotPresent')
      if (policy === 'Never' && !hasImage(f.images, String(c.image))) {
        allReady = false
        statuses.push({ ...base, state: { waiting: { reason: 'ErrImageNeverPull', message: `Container image "${String(c.image)}" is not present with pull policy of Never` } } })
        continue
      }
      const ckey = containerKey(o, cname)
      const recs = containerRecords(s)
      let rec = recs[ckey]
      const beh = BEHAVIORS.find((b) => b.matches(c, o))
      // a crash-looping container is restarted when its back-off is over
      const due = rec?.crashingSince !== undefined ? (rec.crashBase ?? 0) + backoffRestarts(env.now - rec.crashingSince) : 0
      const restarting = !!rec && due > rec.restarts
      if (!rec || restarting) {
        // a container instance starts: its config must resolve, its environment is fixed now
        const cfgErr = configError(s, pod, c)
        if (cfgErr) {
          allReady = false
          statuses.push({ ...base, restartCount: rec?.restarts ?? 0, state: { waiting: { reason: 'CreateContainerConfigError', message: cfgErr } } })
          continue
        }
        const cenv = containerEnv(s, o, c, node)
        if (!rec) rec = { startedAt: (timers[key] as number) + env.startMs, restarts: 0, env: cenv }
        else {
          rec.restarts = due
          rec.startedAt = env.now
          rec.env = cenv
          delete rec.proc
          delete rec.livenessFailingSince
        }
        recs[ckey] = rec
      }
      // a dead process of a stateful image stays dead until its restart
      const frozen = beh?.restartsOnly === true && rec.crashingSince !== undefined && !restarting
      let result: RunResult = frozen ? { state: 'crash', log: s.internal.logs[ckey] ?? [], ...(rec.lastTerminated ? { exitCode: rec.lastTerminated.exitCode, reason: rec.lastTerminated.reason } : {}) } : beh ? beh.run(c, o, env, node, rec) : { state: 'ok', log: [] }
      // exec probes run in the container; readiness after initialDelaySeconds, liveness kills after failureThreshold
      let probeReady = true
      if (result.state === 'ok' && (isObj(c.readinessProbe) || isObj(c.livenessProbe))) {
        const rt = runtimeOf(s, o, c, rec, node, env.now)
        const live = isObj(c.livenessProbe) && env.now >= rec.startedAt + probeDelay(c.livenessProbe) ? runProbe(rt, c.livenessProbe) : undefined
        if (live && !live.pass) {
          rec.livenessFailingSince ??= env.now
          const threshold = Number(dig(c.livenessProbe, 'failureThreshold') ?? 3)
          const period = Number(dig(c.livenessProbe, 'periodSeconds') ?? 10) * 1000
          if (env.now - rec.livenessFailingSince >= (threshold - 1) * period) result = { state: 'crash', exitCode: 137, reason: 'Error', log: [...result.log, `zxlab: killed by the kubelet: Liveness probe failed: ${live.output}`] }
        } else if (live) delete rec.livenessFailingSince
        if (result.state === 'ok' && isObj(c.readinessProbe)) probeReady = env.now >= rec.startedAt + probeDelay(c.readinessProbe) && runProbe(rt, c.readinessProbe).pass
      }
      s.internal.logs[ckey] = result.log
      const containerID = `containerd://${templateHash({ key, cname, start: rec.startedAt }).padEnd(64, '0')}`
      const iso = (t: number) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z')
      if (result.state === 'crash') {
        anyCrash = true
        allReady = false
        if (rec.crashingSince === undefined) {
          rec.crashingSince = env.now
          rec.crashBase = rec.restarts
        }
        if (rec.lastTerminated?.startedAt !== rec.startedAt) rec.lastTerminated = { exitCode: result.exitCode ?? 1, reason: result.reason ?? ((result.exitCode ?? 1) === 0 ? 'Completed' : 'Error'), startedAt: rec.startedAt, finishedAt: env.now }
        const t = rec.lastTerminated
        statuses.push({
          ...base,
          containerID,
          restartCount: rec.restarts,
          lastState: { terminated: { exitCode: t.exitCode, reason: t.reason, startedAt: iso(t.startedAt), finishedAt: iso(t.finishedAt), containerID } },
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${rec.restarts > 4 ? '5m0s' : `${10 * 2 ** Math.max(0, rec.restarts - 1)}s`} restarting failed container=${cname} pod=${name(pod)}_${ns(pod)}(${String(metaOf(pod).uid)})` } },
        })
        continue
      }
      delete rec.crashingSince
      delete rec.crashBase
      const ready = result.state === 'ok' && probeReady
      if (!ready) allReady = false
      const t = rec.lastTerminated
      statuses.push({ ...base, containerID, ready, restartCount: rec.restarts, started: true, ...(t ? { lastState: { terminated: { exitCode: t.exitCode, reason: t.reason, startedAt: iso(t.startedAt), finishedAt: iso(t.finishedAt) } } } : {}), state: { running: { startedAt: iso(rec.startedAt) } } })
    }
    const inits = arr(spec.initContainers).filter(isObj)
    if (inits.length) {
      status.initContainerStatuses = inits.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: !waiting,
        restartCount: 0,
        started: false,
        state: waiting ? { waiting: { reason: 'PodInitializing' } } : { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } },
      }))
    }
    status.containerStatuses = statuses
    status.phase = waiting ? 'Pending' : 'Running'
    let conds = arr(status.conditions) as Obj[]
    conds = setCondition(conds, 'PodReadyToStartContainers', waiting ? 'False' : 'True', undefined, undefined, now)
    conds = setCondition(conds, 'Initialized', waiting && inits.length ? 'False' : 'True', waiting && inits.length ? 'ContainersNotInitialized' : undefined, waiting && inits.length ? `containers with incomplete status: [${inits.map((c) => String(c.name)).join(' ')}]` : undefined, now)
    const notReady = statuses.filter((c) => !c.ready).map((c) => String(c.name))
    conds = setCondition(conds, 'Ready', allReady ? 'True' : 'False', allReady ? undefined : 'ContainersNotReady', allReady ? undefined : `containers with unready status: [${notReady.join(' ')}]`, now)
    conds = setCondition(conds, 'ContainersReady', allReady ? 'True' : 'False', allReady ? undefined : 'ContainersNotReady', allReady ? undefined : `containers with unready status: [${notReady.join(' ')}]`, now)
    conds = setCondition(conds, 'PodScheduled', 'True', undefined, undefined, now)
    status.conditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((t) => conds.find((c) => c.type === t) as Obj)
    status.qosClass = qosClass(o)
    void anyCrash
    putObj(s, o)
  }
}

function qosClass(pod: Obj): string {
  const cs = arr(dig(pod, 'spec', 'containers'))
  const any = cs.some((c) => Object.keys(objOr(dig(c, 'resources', 'requests'))).length || Object.keys(objOr(dig(c, 'resources', 'limits'))).length)
  if (!any) return 'BestEffort'
  const guaranteed = cs.every((c) => {
    const l = objOr(dig(c, 'resources', 'limits'))
    const r = objOr(dig(c, 'resources', 'requests'))
    return l.cpu !== undefined && l.memory !== undefined && (r.cpu === undefined || parseQuantity(r.cpu) === parseQuantity(l.cpu)) && (r.memory === undefined || parseQuantity(r.memory) === parseQuantity(l.memory))
  })
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

// ---------------------------------------------------------------------------
// Node annotations flannel writes, APIService availability

function flannelAnnotations(env: Env) {
  const s = env.s
  for (const pod of listObjs(s, '', 'Pod')) {
    if (!isFlannelPod(pod) || !podReady(pod)) continue
    const node = getObj(s, '', 'Node', undefined, String(dig(pod, 'spec', 'nodeName')))
    if (!node) continue
    const o = clone(node)
    const ann = objOr(metaOf(o).annotations)
    const ip = String(dig(pod, 'status', 'hostIP') ?? '')
    Object.assign(ann, {
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      'flannel.alpha.coreos.com/public-ip': ip,
    })
    metaOf(o).annotations = ann
    putObj(s, o)
  }
}

function apiServices(env: Env) {
  const s = env.s
  const now = nowIso()
  for (const a of listObjs(s, 'apiregistration.k8s.io', 'APIService')) {
    const svcRef = dig(a, 'spec', 'service')
    if (!isObj(svcRef)) continue
    const svc = getObj(s, '', 'Service', str(svcRef.namespace), String(svcRef.name))
    let ok = false
    let reason = 'ServiceNotFound'
    let message = `service/${String(svcRef.name)} in "${String(svcRef.namespace)}" is not present`
    if (svc) {
      const sel = objOr(dig(svc, 'spec', 'selector'))
      const ready = listObjs(s, '', 'Pod', str(svcRef.namespace)).filter((p) => Object.keys(sel).length > 0 && selectorMatches({ matchLabels: sel }, labels(p)) && podReady(p))
      ok = ready.length > 0
      reason = ok ? 'Passed' : 'MissingEndpoints'
      const portName = str(dig(svc, 'spec', 'ports', 0, 'name')) ?? ''
      message = ok ? 'all checks passed' : `endpoints for service/${String(svcRef.name)} in "${String(svcRef.namespace)}" have no addresses with port name "${portName}"`
    }
    const o = clone(a)
    o.status = { conditions: setCondition(arr(dig(a, 'status', 'conditions')) as Obj[], 'Available', ok ? 'True' : 'False', reason, message, now) }
    putObj(s, o)
  }
}

// ---------------------------------------------------------------------------

/** More reconcile steps (HPA, Jobs…) register here; they run after the built-in ones. */
export const CONTROLLERS: ((env: Env) => void)[] = [(env) => hpaController({ s: env.s, now: env.now, kubeletUp: (n) => env.factsOf(n)?.kubeletUp === true })]

/** One reconcile pass over the store (call under the store's lock). */
export function reconcile(s: Store): void {
  const env = makeEnv(s)
  pcLookup = (n) => {
    const pc = getObj(s, 'scheduling.k8s.io', 'PriorityClass', undefined, n)
    return typeof pc?.value === 'number' ? pc.value : undefined
  }
  builtins(env)
  tokens(env)
  mirrorPods(env)
  let before = JSON.stringify(s)
  for (let pass = 0; pass < 3; pass++) {
    const writes = env.hostWrites
    nodeStatus(env)
    deployments(env)
    replicaSets(env)
    daemonSets(env)
    schedule(env)
    kubelet(env)
    nodeStatus(env)
    // A pass is a function of the store, the clock (fixed for the call) and the hosts' files:
    // one that changed none of them would be repeated exactly, so stop (most calls on a
    // settled cluster need one pass, not three).
    const after = JSON.stringify(s)
    if (env.hostWrites === writes && after === before) break
    before = after
  }
  deploymentStatus(env)
  flannelAnnotations(env)
  apiServices(env)
  for (const c of CONTROLLERS) c(env)
  void b64
  void parseIPv4
}
