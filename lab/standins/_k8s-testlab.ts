// For the unit tests of the kubeadm/kubectl stand-ins (not bundled into the lab): a fake lab in
// a temp folder laid out as the real one is seen from inside a host. Host N's files are
// <tmp>/h/nodeN (its ZXLAB_FS_ROOT); in every host <root>/srv/zxplay-lab is a symlink to the
// shared <tmp>/shared, where lab.json is and nodeN links back to <tmp>/h/nodeN — so paths
// through the registry and a host's own paths reach the same files, as bind mounts do in the lab.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { IO } from './_io.ts'
import { clock } from './_clock.ts'
import { main as kubeadmMain } from './kubeadm.ts'
import { main as kubectlMain } from './kubectl.ts'

export type FakeHost = { name: string; address: string; root: string }
export type FakeLab = { dir: string; hosts: FakeHost[]; remove: () => void }

export const VERSION = '1.36.1-1.1'

export function nodeState(over: Record<string, unknown> = {}) {
  return {
    packages: {
      kubelet: { version: VERSION, held: true },
      kubeadm: { version: VERSION, held: true },
      kubectl: { version: VERSION, held: true },
      containerd: { version: '2.2.0-1', held: false },
    },
    services: { containerd: { enabled: true, active: true }, kubelet: { enabled: true, active: false } },
    modules: ['overlay', 'br_netfilter'],
    ...over,
  }
}

export function fakeLab(n = 3): FakeLab {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-k8s-'))
  const shared = path.join(dir, 'shared')
  fs.mkdirSync(shared, { recursive: true })
  const hosts: FakeHost[] = []
  const registry: Record<string, { address: string; root: string }> = {}
  for (let i = 1; i <= n; i++) {
    const name = `node${i}`
    const root = path.join(dir, 'h', name)
    for (const d of ['etc/kubernetes/manifests', 'etc/cni/net.d', 'var/lib/kubelet', 'var/lib/etcd', 'var/lib/zxlab', 'proc/sys/net/ipv4', 'root', 'home/zxlab', 'srv', 'tmp']) {
      fs.mkdirSync(path.join(root, d), { recursive: true })
    }
    fs.writeFileSync(path.join(root, 'proc/sys/net/ipv4/ip_forward'), '1\n')
    fs.writeFileSync(path.join(root, 'proc/swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n')
    fs.writeFileSync(path.join(root, 'var/lib/zxlab/node.json'), JSON.stringify(nodeState(), null, 2))
    fs.symlinkSync(shared, path.join(root, 'srv/zxplay-lab'))
    fs.symlinkSync(root, path.join(shared, name))
    const address = `10.77.0.${10 + i}`
    registry[name] = { address, root: `/srv/zxplay-lab/${name}` }
    hosts.push({ name, address, root })
  }
  fs.writeFileSync(path.join(shared, 'lab.json'), JSON.stringify({ hosts: registry, settings: { podStartSeconds: 0 } }, null, 2))
  return { dir, hosts, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

export const hostOf = (lab: FakeLab, name: string) => lab.hosts.find((h) => h.name === name) as FakeHost

/** A path on a host (as the host sees it) → the real file. */
export const hostFile = (lab: FakeLab, name: string, abs: string) => path.join(hostOf(lab, name).root, abs)

export function editNodeState(lab: FakeLab, name: string, fn: (s: ReturnType<typeof nodeState>) => void) {
  const file = hostFile(lab, name, '/var/lib/zxlab/node.json')
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as ReturnType<typeof nodeState>
  fn(s)
  fs.writeFileSync(file, JSON.stringify(s, null, 2))
}

export type Result = { code: number; out: string; err: string }

/** The environment that makes a stand-in run "on" a host of the fake lab. */
export function hostEnv(lab: FakeLab, host: string): Record<string, string> {
  const h = hostOf(lab, host)
  return {
    ZXLAB_FS_ROOT: h.root,
    ZXLAB_HOSTNAME: h.name,
    ZXLAB_HOST_ADDRESSES: `127.0.0.1,${h.address}`,
    ZXLAB_SKIP_PORT_CHECK: '1',
    ZXLAB_POD_START_SECONDS: '0',
    ZXLAB_CPUS: '2',
    ZXLAB_MEMORY_MB: '4096',
    HOME: '/root',
  }
}

/** Run a stand-in's main() in-process "on" a host, with stdin and extra env. */
export async function run(lab: FakeLab, host: string, tool: 'kubeadm' | 'kubectl', argv: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Result> {
  const env: Record<string, string | undefined> = { ...hostEnv(lab, host), KUBECONFIG: undefined, ...opts.env }
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  let out = ''
  let err = ''
  const io: IO = { out: (s) => void (out += s), err: (s) => void (err += s), stdin: () => opts.stdin ?? '' }
  try {
    const code = await (tool === 'kubeadm' ? kubeadmMain : kubectlMain)(argv, io)
    return { code, out, err }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** Write a file on a host (path as the host sees it). */
export function put(lab: FakeLab, host: string, abs: string, content: string) {
  const f = hostFile(lab, host, abs)
  fs.mkdirSync(path.dirname(f), { recursive: true })
  fs.writeFileSync(f, content)
}

export const INIT_CONFIG = (o: { address?: string; podSubnet?: string | null; taints?: string; extra?: string; version?: string } = {}) => `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: "${o.address ?? '10.77.0.11'}"
  bindPort: 6443
nodeRegistration:
  name: node1
  criSocket: "unix:///var/run/containerd/containerd.sock"
${o.taints ?? ''}---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: "${o.version ?? 'v1.36.1'}"
networking:
${o.podSubnet === null ? '' : `  podSubnet: "${o.podSubnet ?? '10.244.0.0/16'}"\n`}  serviceSubnet: "10.96.0.0/12"
controllerManager:
  extraArgs:
    - name: horizontal-pod-autoscaler-downscale-stabilization
      value: "15s"
${o.extra ?? ''}---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
`

/** kubeadm init on node1 with INIT_CONFIG, then admin.conf copied to root's ~/.kube/config. */
export async function initCluster(lab: FakeLab, cfg = INIT_CONFIG(), env: Record<string, string> = {}): Promise<Result> {
  put(lab, 'node1', '/root/kubeadm.yaml', cfg)
  const r = await run(lab, 'node1', 'kubeadm', ['init', '--config', '/root/kubeadm.yaml', '--skip-token-print'], { env })
  if (r.code === 0) {
    put(lab, 'node1', '/root/.kube/config', fs.readFileSync(hostFile(lab, 'node1', '/etc/kubernetes/admin.conf'), 'utf8'))
  }
  return r
}

/** token create on node1 + join on `host`. */
export async function joinNode(lab: FakeLab, host: string): Promise<Result> {
  const t = await run(lab, 'node1', 'kubeadm', ['token', 'create', '--print-join-command'])
  if (t.code !== 0) return t
  const argv = t.out.trim().split(/\s+/).slice(1)
  return run(lab, host, 'kubeadm', argv)
}

export const FLANNEL = (network = '10.244.0.0/16') => `apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
  labels:
    k8s-app: flannel
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flannel
  namespace: kube-flannel
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
  labels:
    app: flannel
data:
  cni-conf.json: |
    {
      "name": "cbr0",
      "cniVersion": "0.3.1",
      "plugins": [
        { "type": "flannel", "delegate": { "hairpinMode": true, "isDefaultGateway": true } },
        { "type": "portmap", "capabilities": { "portMappings": true } }
      ]
    }
  net-conf.json: |
    {
      "Network": "${network}",
      "EnableNFTables": false,
      "Backend": { "Type": "vxlan" }
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
  labels:
    app: flannel
spec:
  selector:
    matchLabels:
      app: flannel
  template:
    metadata:
      labels:
        app: flannel
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations:
        - operator: Exists
          effect: NoSchedule
      serviceAccountName: flannel
      initContainers:
        - name: install-cni
          image: ghcr.io/flannel-io/flannel:v0.28.9
          command: [cp]
          args: [-f, /etc/kube-flannel/cni-conf.json, /etc/cni/net.d/10-flannel.conflist]
          volumeMounts:
            - name: cni
              mountPath: /etc/cni/net.d
            - name: flannel-cfg
              mountPath: /etc/kube-flannel/
      containers:
        - name: kube-flannel
          image: ghcr.io/flannel-io/flannel:v0.28.9
          command: [/opt/bin/flanneld]
          args: [--ip-masq, --kube-subnet-mgr]
          resources:
            requests:
              cpu: 100m
              memory: 50Mi
          volumeMounts:
            - name: flannel-cfg
              mountPath: /etc/kube-flannel/
      volumes:
        - name: cni
          hostPath:
            path: /etc/cni/net.d
        - name: flannel-cfg
          configMap:
            name: kube-flannel-cfg
`

export const METRICS_SERVER = (args: string[]) => `apiVersion: v1
kind: ServiceAccount
metadata:
  name: metrics-server
  namespace: kube-system
  labels:
    k8s-app: metrics-server
---
apiVersion: v1
kind: Service
metadata:
  name: metrics-server
  namespace: kube-system
  labels:
    k8s-app: metrics-server
spec:
  ports:
    - name: https
      port: 443
      protocol: TCP
      targetPort: https
  selector:
    k8s-app: metrics-server
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: metrics-server
  namespace: kube-system
  labels:
    k8s-app: metrics-server
spec:
  selector:
    matchLabels:
      k8s-app: metrics-server
  strategy:
    rollingUpdate:
      maxUnavailable: 0
  template:
    metadata:
      labels:
        k8s-app: metrics-server
    spec:
      containers:
        - name: metrics-server
          image: registry.k8s.io/metrics-server/metrics-server:v0.9.0
          args: ${JSON.stringify(args)}
          ports:
            - containerPort: 10250
              name: https
              protocol: TCP
          resources:
            requests:
              cpu: 100m
              memory: 200Mi
      priorityClassName: system-cluster-critical
      serviceAccountName: metrics-server
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
  labels:
    k8s-app: metrics-server
spec:
  group: metrics.k8s.io
  groupPriorityMinimum: 100
  insecureSkipTLSVerify: true
  service:
    name: metrics-server
    namespace: kube-system
  version: v1beta1
  versionPriority: 100
`

/** The Ray objects of issue #4 as the playbooks render them (namespace ray), with knobs for the tests. */
export const RAY = (o: { headArgs?: string; workerArgs?: string; workerCpu?: string; workerRequests?: string | null; secret?: string; app?: boolean; service?: boolean } = {}) => {
  const probe = (cmd: string, timeout = 2) => `          readinessProbe:
            exec:
              command: [bash, -c, ${JSON.stringify(cmd)}]
            initialDelaySeconds: 10
            periodSeconds: 5
            timeoutSeconds: ${timeout}
            failureThreshold: 10
`
  const raylet = 'wget --tries 1 -T 2 -q -O- http://localhost:52365/api/local_raylet_healthz | grep success'
  const gcs = 'wget --tries 1 -T 2 -q -O- http://localhost:8265/api/gcs_healthz | grep success'
  const env = `          env:
            - name: MY_POD_IP
              valueFrom: { fieldRef: { fieldPath: status.podIP } }
            - name: MY_CPU_REQUEST
              valueFrom: { resourceFieldRef: { resource: requests.cpu } }
          envFrom:
            - secretRef: { name: session-token }
`
  const cpu = o.workerCpu ?? '1'
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ray
---
apiVersion: v1
kind: Secret
metadata:
  name: session-token
  namespace: ray
  annotations: { zxplay.io/session-token-expires-at: "2030-01-01T00:00:00Z" }
stringData:
  AWS_ACCESS_KEY_ID_SESS: ${o.secret ?? 'ASIAFIRSTVALUE000001'}
  AWS_SECRET_ACCESS_KEY_SESS: first-secret-key-value-0000000000000001
  AWS_SESSION_TOKEN: first-session-token-value-000000000000001
${o.app ? `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ray-app
  namespace: ray
data:
  shap_job.py: |
    import ray
    ray.init(address="auto")
` : ''}${o.service === false ? '' : `---
apiVersion: v1
kind: Service
metadata:
  name: ray-head
  namespace: ray
  labels: { app: ray, component: ray-head }
spec:
  selector: { app: ray, component: ray-head }
  ports:
    - { name: gcs, port: 6379, targetPort: 6379 }
    - { name: dashboard, port: 8265, targetPort: 8265 }
    - { name: client, port: 10001, targetPort: 10001 }
    - { name: dashboard-agent, port: 52365, targetPort: 52365 }
`}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ray-head
  namespace: ray
  labels: { app: ray, component: ray-head }
spec:
  replicas: 1
  selector:
    matchLabels: { app: ray, component: ray-head }
  template:
    metadata:
      labels: { app: ray, component: ray-head }
    spec:
      containers:
        - name: ray-head
          image: rayproject/ray:2.52.0
          command: ["/bin/bash", "-c", "--"]
          args: [${JSON.stringify(o.headArgs ?? 'ray start --head --port=6379 --dashboard-host=0.0.0.0 --num-cpus=$MY_CPU_REQUEST --node-ip-address=$MY_POD_IP --object-manager-port=8076 --node-manager-port=8077 --dashboard-agent-listen-port=52365 --block')}]
${env}          resources:
            requests: { cpu: "1", memory: 2Gi }
            limits: { cpu: "1", memory: 2Gi }
${probe(`${raylet} && ${gcs}`, 5)}          volumeMounts:
            - { name: dshm, mountPath: /dev/shm }
            - { name: awstoken, mountPath: /etc/awstoken, readOnly: true }
            - { name: app, mountPath: /app, readOnly: true }
      volumes:
        - name: dshm
          emptyDir: { medium: Memory }
        - name: awstoken
          secret: { secretName: session-token }
        - name: app
          configMap: { name: ray-app, optional: true }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ray-worker
  namespace: ray
  labels: { app: ray, component: ray-worker }
spec:
  selector:
    matchLabels: { app: ray, component: ray-worker }
  template:
    metadata:
      labels: { app: ray, component: ray-worker }
    spec:
      containers:
        - name: ray-worker
          image: rayproject/ray:2.52.0
          command: ["/bin/bash", "-c", "--"]
          args: [${JSON.stringify(o.workerArgs ?? 'ray start --address=ray-head:6379 --num-cpus=$MY_CPU_REQUEST --node-ip-address=$MY_POD_IP --object-manager-port=8076 --node-manager-port=8077 --dashboard-agent-listen-port=52365 --block')}]
${env}          resources:
${o.workerRequests === null ? `            limits: { memory: 1Gi }\n` : `            requests: { cpu: ${JSON.stringify(o.workerRequests ?? cpu)}, memory: 1Gi }\n            limits: { cpu: ${JSON.stringify(cpu)}, memory: 1Gi }\n`}${probe(raylet)}          volumeMounts:
            - { name: dshm, mountPath: /dev/shm }
      volumes:
        - name: dshm
          emptyDir: { medium: Memory }
`
}

/** A fake stand-in clock for a test: now() returns t, sleep() does not wait; restore() puts the real one back. */
export function fakeClock(start = Date.now()) {
  const saved = { ...clock }
  const c = {
    t: start,
    advance(seconds: number) {
      c.t += seconds * 1000
    },
    restore() {
      Object.assign(clock, saved)
    },
  }
  clock.now = () => c.t
  clock.sleep = async () => {}
  return c
}

/**
 * A fresh one-host fake lab and a fake clock for every test of a uvu suite (its before/after
 * hooks), with kubectl on node1 and time passing in steps (the stand-ins move on kubectl calls).
 */
export function labPerTest(suite: { before: { each(fn: () => void): void }; after: { each(fn: () => void): void } }) {
  let lab: FakeLab | undefined
  let clk: ReturnType<typeof fakeClock> | undefined
  suite.before.each(() => {
    lab = fakeLab(1)
    clk = fakeClock()
  })
  suite.after.each(() => {
    clk?.restore()
    lab?.remove()
  })
  const t = {
    get lab(): FakeLab {
      if (!lab) throw new Error('labPerTest: only inside a test')
      return lab
    },
    get clk(): ReturnType<typeof fakeClock> {
      if (!clk) throw new Error('labPerTest: only inside a test')
      return clk
    },
    kubectl: (...argv: string[]) => run(t.lab, 'node1', 'kubectl', argv),
    kubectlIn: (stdin: string, ...argv: string[]) => run(t.lab, 'node1', 'kubectl', argv, { stdin }),
    /** Time passes in steps, the cluster observed (in namespace ray) after each. */
    async pass(seconds: number, step = 5) {
      for (let left = seconds; left > 0; left -= step) {
        t.clk.advance(Math.min(step, left))
        await t.kubectl('get', 'pods', '-n', 'ray')
      }
    },
  }
  return t
}
