// The objects `kubeadm init` / `join` put into the cluster: Nodes, the kube-system add-ons
// (CoreDNS, kube-proxy), ConfigMaps, bootstrap tokens, static pod manifests.
import os from 'node:os'
import { applyDefaults } from './_defaults.ts'
import { argsMap } from './_kubeadm-config.ts'
import { formatIPv4, parseCidr, randomToken, subnet } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import type { HostRef } from './_k8s-host.ts'
import { b64 } from './_pki.ts'
import { assertAdmissible } from './_schema.ts'
import { getObj, putObj } from './_store.ts'
import type { Store } from './_store.ts'
import { clock } from './_clock.ts'

export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.13.1'
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.1'
export const ETCD_IMAGE = 'registry.k8s.io/etcd:3.6.6-0'

export function controlPlaneImages(version: string, repo = 'registry.k8s.io'): string[] {
  return [
    `${repo}/kube-apiserver:${version}`,
    `${repo}/kube-controller-manager:${version}`,
    `${repo}/kube-scheduler:${version}`,
    `${repo}/kube-proxy:${version}`,
    COREDNS_IMAGE.replace('registry.k8s.io', repo),
    PAUSE_IMAGE.replace('registry.k8s.io', repo),
    ETCD_IMAGE.replace('registry.k8s.io', repo),
  ]
}

/** A bootstrap token Secret (kube-system/bootstrap-token-<id>), as kubeadm writes it. */
export function tokenSecret(token: string, ttlMs: number, description?: string, usages = ['signing', 'authentication'], groups = ['system:bootstrappers:kubeadm:default-node-token']): Obj {
  const [id, secret] = token.split('.') as [string, string]
  const data: Record<string, string> = {
    'token-id': b64(id),
    'token-secret': b64(secret),
    'auth-extra-groups': b64(groups.join(',')),
  }
  if (ttlMs > 0) data.expiration = b64(new Date(clock.now() + ttlMs).toISOString().replace(/\.\d+Z$/, 'Z'))
  if (description) data.description = b64(description)
  for (const u of usages) data[`usage-bootstrap-${u}`] = b64('true')
  const secret_: Obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token', data }
  assertAdmissible(secret_, 'kubeadm')
  return secret_
}

export const newToken = () => `${randomToken(6)}.${randomToken(16)}`

export type NodeRegistration = {
  name: string
  host: HostRef
  criSocket: string
  taints: { key: string; value?: string; effect: string }[]
  controlPlane: boolean
  kubeletVersion: string
  containerdVersion?: string
}

export function cpus(): number {
  const env = process.env.ZXLAB_CPUS
  return env ? Number(env) : os.cpus().length
}
export function memoryBytes(): number {
  const env = process.env.ZXLAB_MEMORY_MB
  return env ? Number(env) * 1024 * 1024 : os.totalmem()
}

/** Register (or take over) a Node object; allocates its podCIDR when the cluster has a pod subnet. */
export function registerNode(s: Store, r: NodeRegistration) {
  s.internal.hosts[r.name] = r.host
  let podCIDR: string | undefined
  if (s.cluster.podSubnet) {
    const cidr = parseCidr(s.cluster.podSubnet)
    if (cidr) {
      let idx = s.internal.nodeCidrs[r.name]
      if (idx === undefined) {
        const taken = new Set(Object.values(s.internal.nodeCidrs))
        idx = 0
        while (taken.has(idx)) idx++
        s.internal.nodeCidrs[r.name] = idx
      }
      podCIDR = subnet(cidr, s.cluster.nodeCidrMaskSize, idx)
    }
  }
  const old = getObj(s, '', 'Node', undefined, r.name)
  const memKi = Math.floor(memoryBytes() / 1024)
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': r.name,
    'kubernetes.io/os': 'linux',
    ...(r.controlPlane ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
  }
  const node: Obj = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: r.name,
      labels: { ...((old?.metadata as Obj | undefined)?.labels as Obj | undefined), ...labels },
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': r.criSocket,
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      ...(podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {}),
      ...(r.taints.length ? { taints: r.taints } : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: r.host.address },
        { type: 'Hostname', address: r.name },
      ],
      capacity: { cpu: String(cpus()), 'ephemeral-storage': '61202244Ki', 'hugepages-2Mi': '0', memory: `${memKi}Ki`, pods: '110' },
      allocatable: { cpu: String(cpus()), 'ephemeral-storage': '56403987978', 'hugepages-2Mi': '0', memory: `${memKi - 102400}Ki`, pods: '110' },
      conditions: [],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: `containerd://${r.containerdVersion ?? '2.2.0'}`,
        kernelVersion: os.release(),
        kubeProxyVersion: r.kubeletVersion,
        kubeletVersion: r.kubeletVersion,
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: '',
      },
    },
  }
  if (old) {
    const om = old.metadata as Obj
    ;(node.metadata as Obj).uid = om.uid
    ;(node.metadata as Obj).creationTimestamp = om.creationTimestamp
  }
  // what kubeadm writes goes through the API server too
  assertAdmissible(node, 'kubeadm')
  putObj(s, node)
}

const cm = (name: string, namespace: string, data: Record<string, string>): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data })

/** CoreDNS, kube-proxy and the kube-system/kube-public objects kubeadm creates at init. */
export function addonObjects(s: Store, opts: { clusterConfigYaml: string; kubeletConfigYaml: string; kubeProxyYaml: string; clusterInfoKubeconfig: string; dnsDisabled: boolean; proxyDisabled: boolean }): Obj[] {
  const version = s.cluster.kubernetesVersion
  const svcCidr = parseCidr(s.cluster.serviceSubnet)
  const svcIP = (n: number) => (svcCidr ? formatIPv4(svcCidr.base + n) : '10.96.0.1')
  const objs: Obj[] = [
    cm('kubeadm-config', 'kube-system', { ClusterConfiguration: opts.clusterConfigYaml }),
    cm('kubelet-config', 'kube-system', { kubelet: opts.kubeletConfigYaml }),
    cm('cluster-info', 'kube-public', { kubeconfig: opts.clusterInfoKubeconfig }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: svcIP(1), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: s.cluster.bindPort }] },
    },
  ]
  if (!opts.proxyDisabled) {
    objs.push(cm('kube-proxy', 'kube-system', { 'config.conf': opts.kubeProxyYaml }))
    objs.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: 'kube-system' } })
    objs.push({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { 'k8s-app': 'kube-proxy' } },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-proxy' } },
          spec: {
            containers: [
              {
                name: 'kube-proxy',
                image: `registry.k8s.io/kube-proxy:${version}`,
                command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
                securityContext: { privileged: true },
                volumeMounts: [
                  { mountPath: '/var/lib/kube-proxy', name: 'kube-proxy' },
                  { mountPath: '/run/xtables.lock', name: 'xtables-lock' },
                  { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
                ],
              },
            ],
            hostNetwork: true,
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            priorityClassName: 'system-node-critical',
            serviceAccountName: 'kube-proxy',
            tolerations: [{ operator: 'Exists' }],
            volumes: [
              { name: 'kube-proxy', configMap: { name: 'kube-proxy' } },
              { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
              { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
            ],
          },
        },
      },
    })
  }
  if (!opts.dnsDisabled) {
    objs.push(cm('coredns', 'kube-system', { Corefile: `.:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes ${s.cluster.dnsDomain} in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30 {\n       disable success ${s.cluster.dnsDomain}\n       disable denial ${s.cluster.dnsDomain}\n    }\n    loop\n    reload\n    loadbalance\n}\n` }))
    objs.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } })
    objs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        clusterIP: svcIP(10),
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    })
    objs.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            containers: [
              {
                name: 'coredns',
                image: COREDNS_IMAGE,
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { containerPort: 53, name: 'dns', protocol: 'UDP' },
                  { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                  { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
                ],
                resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
                volumeMounts: [{ mountPath: '/etc/coredns', name: 'config-volume', readOnly: true }],
              },
            ],
            dnsPolicy: 'Default',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: 'coredns',
            tolerations: [
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    })
  }
  for (const o of objs) {
    assertAdmissible(o, 'kubeadm')
    applyDefaults(o)
  }
  return objs
}

// ---------------------------------------------------------------------------
// Static pod manifests

const hostPathVol = (name: string, path: string, type: string) => ({ name, hostPath: { path, type } })
const mount = (name: string, mountPath: string, readOnly = true) => ({ name, mountPath, readOnly })

function staticPod(component: string, image: string, command: string[], opts: { cpu: string; port: number; scheme: 'HTTP' | 'HTTPS'; probeHost: string; probePath: string; volumes: Obj[]; mounts: Obj[]; env?: Obj[] }): Obj {
  const probe = (path: string) => ({ failureThreshold: 8, httpGet: { host: opts.probeHost, path, port: opts.port, scheme: opts.scheme }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15 })
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { labels: { component, tier: 'control-plane' }, name: component, namespace: 'kube-system' },
    spec: {
      containers: [
        {
          command,
          image,
          imagePullPolicy: 'IfNotPresent',
          livenessProbe: probe(opts.probePath),
          name: component,
          resources: { requests: { cpu: opts.cpu } },
          startupProbe: { ...probe(opts.probePath), failureThreshold: 24 },
          volumeMounts: opts.mounts,
          ...(opts.env?.length ? { env: opts.env } : {}),
        },
      ],
      hostNetwork: true,
      priority: 2000001000,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      volumes: opts.volumes,
    },
  }
}

/** --name=value, defaults overridden by extraArgs of the same name, sorted as kubeadm does. */
function command(binary: string, defaults: Record<string, string>, extra: unknown): string[] {
  const m = new Map(Object.entries(defaults))
  for (const [k, v] of argsMap(extra)) m.set(k, v)
  return [binary, ...[...m.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([k, v]) => `--${k}=${v}`)]
}

export type ManifestInput = {
  advertiseAddress: string
  bindPort: number
  version: string
  repo: string
  podSubnet?: string
  serviceSubnet: string
  clusterName: string
  cluster: Obj
  certsDir: string
  nodeName: string
}

export function staticPodManifests(i: ManifestInput): Record<string, Obj> {
  const comp = (n: string) => ((i.cluster[n] ?? {}) as Obj)
  const pki = [hostPathVol('k8s-certs', i.certsDir, 'DirectoryOrCreate'), hostPathVol('ca-certs', '/etc/ssl/certs', 'DirectoryOrCreate'), hostPathVol('etc-ca-certificates', '/etc/ca-certificates', 'DirectoryOrCreate')]
  const pkiMounts = [mount('k8s-certs', i.certsDir), mount('ca-certs', '/etc/ssl/certs'), mount('etc-ca-certificates', '/etc/ca-certificates')]
  const envOf = (n: string) => ((comp(n).extraEnvs as Obj[] | undefined) ?? [])
  const apiserver = staticPod(
    'kube-apiserver',
    `${i.repo}/kube-apiserver:${i.version}`,
    command(
      'kube-apiserver',
      {
        'advertise-address': i.advertiseAddress,
        'allow-privileged': 'true',
        'authorization-mode': 'Node,RBAC',
        'client-ca-file': `${i.certsDir}/ca.crt`,
        'enable-admission-plugins': 'NodeRestriction',
        'enable-bootstrap-token-auth': 'true',
        'etcd-cafile': `${i.certsDir}/etcd/ca.crt`,
        'etcd-certfile': `${i.certsDir}/apiserver-etcd-client.crt`,
        'etcd-keyfile': `${i.certsDir}/apiserver-etcd-client.key`,
        'etcd-servers': 'https://127.0.0.1:2379',
        'kubelet-client-certificate': `${i.certsDir}/apiserver-kubelet-client.crt`,
        'kubelet-client-key': `${i.certsDir}/apiserver-kubelet-client.key`,
        'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
        'proxy-client-cert-file': `${i.certsDir}/front-proxy-client.crt`,
        'proxy-client-key-file': `${i.certsDir}/front-proxy-client.key`,
        'requestheader-allowed-names': 'front-proxy-client',
        'requestheader-client-ca-file': `${i.certsDir}/front-proxy-ca.crt`,
        'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
        'requestheader-group-headers': 'X-Remote-Group',
        'requestheader-username-headers': 'X-Remote-User',
        'secure-port': String(i.bindPort),
        'service-account-issuer': 'https://kubernetes.default.svc.cluster.local',
        'service-account-key-file': `${i.certsDir}/sa.pub`,
        'service-account-signing-key-file': `${i.certsDir}/sa.key`,
        'service-cluster-ip-range': i.serviceSubnet,
        'tls-cert-file': `${i.certsDir}/apiserver.crt`,
        'tls-private-key-file': `${i.certsDir}/apiserver.key`,
      },
      comp('apiServer').extraArgs
    ),
    { cpu: '250m', port: i.bindPort, scheme: 'HTTPS', probeHost: i.advertiseAddress, probePath: '/livez', volumes: pki, mounts: pkiMounts, env: envOf('apiServer') }
  )
  const kcmDefaults: Record<string, string> = {
    'authentication-kubeconfig': '/etc/kubernetes/controller-manager.conf',
    'authorization-kubeconfig': '/etc/kubernetes/controller-manager.conf',
    'bind-address': '127.0.0.1',
    'client-ca-file': `${i.certsDir}/ca.crt`,
    'cluster-name': i.clusterName,
    'cluster-signing-cert-file': `${i.certsDir}/ca.crt`,
    'cluster-signing-key-file': `${i.certsDir}/ca.key`,
    controllers: '*,bootstrapsigner,tokencleaner',
    kubeconfig: '/etc/kubernetes/controller-manager.conf',
    'leader-elect': 'true',
    'requestheader-client-ca-file': `${i.certsDir}/front-proxy-ca.crt`,
    'root-ca-file': `${i.certsDir}/ca.crt`,
    'service-account-private-key-file': `${i.certsDir}/sa.key`,
    'service-cluster-ip-range': i.serviceSubnet,
    'use-service-account-credentials': 'true',
  }
  if (i.podSubnet) {
    kcmDefaults['allocate-node-cidrs'] = 'true'
    kcmDefaults['cluster-cidr'] = i.podSubnet
  }
  const kcm = staticPod('kube-controller-manager', `${i.repo}/kube-controller-manager:${i.version}`, command('kube-controller-manager', kcmDefaults, comp('controllerManager').extraArgs), {
    cpu: '200m',
    port: 10257,
    scheme: 'HTTPS',
    probeHost: '127.0.0.1',
    probePath: '/healthz',
    volumes: [...pki, hostPathVol('kubeconfig', '/etc/kubernetes/controller-manager.conf', 'FileOrCreate'), hostPathVol('flexvolume-dir', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', 'DirectoryOrCreate')],
    mounts: [...pkiMounts, mount('kubeconfig', '/etc/kubernetes/controller-manager.conf'), mount('flexvolume-dir', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', false)],
    env: envOf('controllerManager'),
  })
  const sched = staticPod(
    'kube-scheduler',
    `${i.repo}/kube-scheduler:${i.version}`,
    command('kube-scheduler', { 'authentication-kubeconfig': '/etc/kubernetes/scheduler.conf', 'authorization-kubeconfig': '/etc/kubernetes/scheduler.conf', 'bind-address': '127.0.0.1', kubeconfig: '/etc/kubernetes/scheduler.conf', 'leader-elect': 'true' }, comp('scheduler').extraArgs),
    { cpu: '100m', port: 10259, scheme: 'HTTPS', probeHost: '127.0.0.1', probePath: '/livez', volumes: [hostPathVol('kubeconfig', '/etc/kubernetes/scheduler.conf', 'FileOrCreate')], mounts: [mount('kubeconfig', '/etc/kubernetes/scheduler.conf')], env: envOf('scheduler') }
  )
  const etcd = staticPod(
    'etcd',
    ETCD_IMAGE.replace('registry.k8s.io', i.repo),
    command(
      'etcd',
      {
        'advertise-client-urls': `https://${i.advertiseAddress}:2379`,
        'cert-file': `${i.certsDir}/etcd/server.crt`,
        'client-cert-auth': 'true',
        'data-dir': '/var/lib/etcd',
        'initial-advertise-peer-urls': `https://${i.advertiseAddress}:2380`,
        'initial-cluster': `${i.nodeName}=https://${i.advertiseAddress}:2380`,
        'key-file': `${i.certsDir}/etcd/server.key`,
        'listen-client-urls': `https://127.0.0.1:2379,https://${i.advertiseAddress}:2379`,
        'listen-peer-urls': `https://${i.advertiseAddress}:2380`,
        'peer-cert-file': `${i.certsDir}/etcd/peer.crt`,
        'peer-key-file': `${i.certsDir}/etcd/peer.key`,
        'snapshot-count': '10000',
        'trusted-ca-file': `${i.certsDir}/etcd/ca.crt`,
      },
      undefined
    ),
    { cpu: '100m', port: 2381, scheme: 'HTTP', probeHost: '127.0.0.1', probePath: '/livez', volumes: [hostPathVol('etcd-data', '/var/lib/etcd', 'DirectoryOrCreate'), hostPathVol('etcd-certs', `${i.certsDir}/etcd`, 'DirectoryOrCreate')], mounts: [mount('etcd-data', '/var/lib/etcd', false), mount('etcd-certs', `${i.certsDir}/etcd`, false)] }
  )
  const pods = { 'kube-apiserver': apiserver, 'kube-controller-manager': kcm, 'kube-scheduler': sched, etcd }
  // the kubelet posts them as mirror pods: the API server sees them
  for (const pod of Object.values(pods)) assertAdmissible(pod, 'kubeadm')
  return pods
}

