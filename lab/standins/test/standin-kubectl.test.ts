// The kubectl stand-in (lab/standins/kubectl.ts) against a cluster the kubeadm stand-in made,
// run in-process on a fake lab.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { editNodeState, fakeLab, FLANNEL, hostFile, INIT_CONFIG, initCluster, joinNode, METRICS_SERVER, put, run } from '../_k8s-testlab.ts'
import type { FakeLab } from '../_k8s-testlab.ts'
import { parseInventory } from '../../../lib/inventory/inventory.ts'
import { playbookVars } from '../../../lib/engine/playbook.ts'
import { renderFile } from '../../../lib/engine/template.ts'
import { CLUSTER } from '../../../playbooks/support/kube.ts'

let lab: FakeLab
test.before.each(() => {
  lab = fakeLab(2)
})
test.after.each(() => lab.remove())

const kubectl = (...argv: string[]) => run(lab, 'node1', 'kubectl', argv)
const kubectlIn = (stdin: string, ...argv: string[]) => run(lab, 'node1', 'kubectl', argv, { stdin })
const apply = (yaml: string, ...extra: string[]) => kubectlIn(yaml, 'apply', '-f', '-', ...extra)

async function cluster(cfg?: string) {
  const r = await initCluster(lab, cfg)
  assert.is(r.code, 0, r.err)
}
async function flannel(network?: string) {
  const r = await apply(FLANNEL(network))
  assert.is(r.code, 0, r.err)
  return r
}

const DEPLOY = (o: { name?: string; ns?: string; replicas?: number | null; cpu?: string; image?: string | null; containerName?: string | null; extra?: string } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${o.name ?? 'web'}
${o.ns ? `  namespace: ${o.ns}\n` : ''}spec:
${o.replicas === null ? '' : `  replicas: ${o.replicas ?? 2}\n`}  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - ${o.containerName === null ? '' : `name: ${o.containerName ?? 'web'}`}
${o.image === null ? '' : `          image: ${o.image ?? 'nginx:1.27'}\n`}          resources:
            requests: { cpu: ${o.cpu ?? '"100m"'} }
${o.extra ?? ''}`

test('no kubeconfig: the connection to localhost:8080 is refused; unknown commands and flags', async () => {
  let r = await kubectl('get', 'nodes')
  assert.is(r.code, 1)
  assert.is(r.err, 'The connection to the server localhost:8080 was refused - did you specify the right host or port?\n')
  r = await kubectl('frob')
  assert.is(r.code, 1)
  assert.match(r.err, 'error: unknown command "frob" for "kubectl"')
  r = await kubectl('get', 'nodes', '--bogus')
  assert.is(r.code, 1)
  assert.match(r.err, "error: unknown flag: --bogus\nSee 'kubectl get --help' for usage.")
  r = await kubectl('version', '--client')
  assert.is(r.out, 'Client Version: v1.36.1\nKustomize Version: v5.7.1\n')
  r = await kubectl('--kubeconfig', '/nope', 'get', 'nodes')
  assert.match(r.err, 'error: stat /nope: no such file or directory')
})

test('kubeconfig: --kubeconfig, $KUBECONFIG and ~/.kube/config; a worker can use admin.conf too', async () => {
  await cluster()
  let r = await kubectl('--kubeconfig', '/etc/kubernetes/admin.conf', 'get', 'nodes', '-o', 'name')
  assert.is(r.out, 'node/node1\n')
  r = await run(lab, 'node1', 'kubectl', ['get', 'nodes', '-o', 'name'], { env: { KUBECONFIG: '/etc/kubernetes/admin.conf', HOME: '/home/zxlab' } })
  assert.is(r.out, 'node/node1\n')
  r = await run(lab, 'node1', 'kubectl', ['get', 'nodes'], { env: { HOME: '/home/zxlab' } })
  assert.match(r.err, 'localhost:8080 was refused')
  put(lab, 'node2', '/root/admin.conf', fs.readFileSync(hostFile(lab, 'node1', '/etc/kubernetes/admin.conf'), 'utf8'))
  r = await run(lab, 'node2', 'kubectl', ['--kubeconfig', '/root/admin.conf', 'get', 'nodes', '-o', 'name'])
  assert.is(r.out, 'node/node1\n', r.err)
  r = await kubectl('version')
  assert.match(r.out, 'Server Version: v1.36.1\n')
  r = await kubectl('cluster-info')
  assert.match(r.out, 'Kubernetes control plane is running at https://10.77.0.11:6443\n')
})

test('apply: created, unchanged, configured; generation and last-applied', async () => {
  await cluster()
  await kubectl('taint', 'nodes', 'node1', 'node-role.kubernetes.io/control-plane-')
  let r = await apply(DEPLOY())
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'deployment.apps/web created\n')
  r = await apply(DEPLOY())
  assert.is(r.out, 'deployment.apps/web unchanged\n')
  r = await apply(DEPLOY({ image: 'nginx:1.28' }))
  assert.is(r.out, 'deployment.apps/web configured\n')
  r = await kubectl('get', 'deploy', 'web', '-o', 'json')
  const d = JSON.parse(r.out) as { metadata: { generation: number; annotations: Record<string, string>; resourceVersion: string; creationTimestamp: string }; spec: { template: { spec: { containers: { image: string; imagePullPolicy: string }[] } } } }
  assert.is(d.metadata.generation, 2)
  assert.ok(d.metadata.creationTimestamp)
  assert.ok(d.metadata.resourceVersion)
  assert.is(d.spec.template.spec.containers[0]?.imagePullPolicy, 'IfNotPresent')
  const last = JSON.parse(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] as string) as { spec: { template: { spec: { containers: { image: string }[] } } } }
  assert.is(last.spec.template.spec.containers[0]?.image, 'nginx:1.28')
})

test('apply: three-way merge keeps fields nobody applied (replicas set by scale) and removes dropped ones', async () => {
  await cluster()
  assert.is((await apply(DEPLOY({ replicas: null, extra: '  minReadySeconds: 5\n' }))).code, 0)
  let r = await kubectl('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}')
  assert.is(r.out, '1')
  r = await kubectl('scale', 'deployment/web', '--replicas=3')
  assert.is(r.out, 'deployment.apps/web scaled\n')
  r = await apply(DEPLOY({ replicas: null }))
  assert.is(r.out, 'deployment.apps/web configured\n')
  r = await kubectl('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas} {.spec.minReadySeconds}')
  assert.is(r.out, '3 ')
  // a manifest that sets replicas takes them back
  r = await apply(DEPLOY({ replicas: 1 }))
  r = await kubectl('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}')
  assert.is(r.out, '1')
})

test('apply rejects invalid objects, naming the object and the field', async () => {
  await cluster()
  let r = await apply(DEPLOY({ cpu: 'lots' }))
  assert.is(r.code, 1)
  // a quantity is decoded, not validated: the API server cannot decode the object
  assert.is(r.err, `Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'\n`)
  r = await apply(DEPLOY({ image: null }))
  assert.match(r.err, 'The Deployment "web" is invalid: spec.template.spec.containers[0].image: Required value')
  r = await apply(DEPLOY({ containerName: null }))
  assert.match(r.err, 'spec.template.spec.containers[0].name: Required value')
  r = await apply(DEPLOY({ extra: '  bogus: 1\n' }))
  assert.match(r.err, 'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.bogus"')
  r = await apply(DEPLOY({ extra: '  bogus: 1\n' }), '--validate=false')
  assert.is(r.out, 'deployment.apps/web created\n', r.err)
  r = await kubectl('delete', 'deploy', 'web')
  r = await apply(DEPLOY().replace('replicas: 2', 'replicas: two'))
  assert.match(r.err, 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32')
  r = await apply(DEPLOY().replace('app: web }\n  template', 'app: other }\n  template'))
  assert.match(r.err, 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`')
  r = await apply('apiVersion: ray.io/v1\nkind: RayCluster\nmetadata:\n  name: rc\n')
  assert.match(r.err, 'error: resource mapping not found for name: "rc" namespace: "" from "STDIN": no matches for kind "RayCluster" in version "ray.io/v1"\nensure CRDs are installed first')
  r = await apply('apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: h\n')
  assert.match(r.err, 'no matches for kind "HorizontalPodAutoscaler" in version "autoscaling/v2beta2"')
  r = await apply('kind: ConfigMap\nmetadata:\n  name: x\n')
  assert.match(r.err, 'error validating data: [apiVersion not set]')
  r = await kubectl('get', 'deploy')
  assert.match(r.err, 'No resources found in default namespace.')
})

test('apply: namespaces must exist, in file order', async () => {
  await cluster()
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ray\n'
  let r = await apply(DEPLOY({ ns: 'ray' }))
  assert.is(r.code, 1)
  assert.match(r.err, 'Error from server (NotFound): error when creating "STDIN": namespaces "ray" not found')
  r = await apply(`${DEPLOY({ ns: 'ray' })}---\n${ns}`)
  assert.is(r.code, 1)
  assert.is(r.out, 'namespace/ray created\n')
  r = await apply(`${ns}---\n${DEPLOY({ ns: 'ray' })}`)
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'namespace/ray unchanged\ndeployment.apps/web created\n')
  r = await kubectl('-n', 'default', 'apply', '-f', '-')
  r = await kubectlIn(DEPLOY({ ns: 'ray' }), 'apply', '-n', 'default', '-f', '-')
  assert.match(r.err, 'the namespace from the provided object "ray" does not match the namespace "default"')
  // cluster-scoped kinds ignore the namespace
  r = await kubectlIn('apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\n  namespace: ray\nvalue: 1000\n', 'apply', '-f', '-')
  assert.is(r.out, 'priorityclass.scheduling.k8s.io/high created\n', r.err)
})

test('apply -f FILE, get -f FILE -o name, delete -f, URLs only when pre-seeded', async () => {
  await cluster()
  put(lab, 'node1', '/root/app.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "1"\n---\n${DEPLOY()}`)
  let r = await kubectl('get', '-f', '/root/app.yaml', '-o', 'name')
  assert.is(r.code, 1)
  assert.match(r.err, 'Error from server (NotFound): configmaps "cfg" not found')
  r = await kubectl('apply', '-f', '/root/app.yaml')
  assert.is(r.out, 'configmap/cfg created\ndeployment.apps/web created\n')
  r = await kubectl('get', '-f', '/root/app.yaml', '-o', 'name')
  assert.is(r.out, 'configmap/cfg\ndeployment.apps/web\n')
  assert.is(r.code, 0)
  r = await kubectl('delete', '-f', '/root/app.yaml')
  assert.is(r.out, 'configmap "cfg" deleted\ndeployment.apps "web" deleted\n')
  r = await kubectl('get', 'pods')
  assert.match(r.err, 'No resources found in default namespace.')
  r = await kubectl('apply', '-f', '/root/missing.yaml')
  assert.match(r.err, 'error: the path "/root/missing.yaml" does not exist')
  const url = 'https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml'
  r = await kubectl('apply', '-f', url)
  assert.is(r.code, 1)
  assert.match(r.err, `error: unable to read URL "${url}"`)
  put(lab, 'node1', `/var/lib/zxlab/urls/${createHash('sha256').update(url).digest('hex')}.yaml`, FLANNEL())
  r = await kubectl('apply', '-f', url)
  assert.is(r.code, 0, r.err)
  r = await kubectl('-n', 'kube-flannel', 'get', 'ds', 'kube-flannel-ds', '-o', `jsonpath={.metadata.annotations.zxlab/source}`)
  assert.is(r.out, url)
})

test('get: tables, -o json/yaml/name/wide, jsonpath, -l, -A, short names, KIND/NAME, not found', async () => {
  await cluster()
  let r = await kubectl('get', 'no')
  assert.match(r.out, /^NAME    STATUS     ROLES           AGE   VERSION\nnode1   NotReady   control-plane   \d+s    v1\.36\.1\n$/)
  r = await kubectl('get', 'ns')
  assert.match(r.out, /^NAME\s+STATUS\s+AGE\n/)
  assert.match(r.out, /kube-system\s+Active/)
  r = await kubectl('get', 'pods', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}')
  assert.match(r.out, 'kube-system/etcd-node1\n')
  r = await kubectl('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}')
  assert.is(r.out, 'node1')
  r = await kubectl('get', 'nodes', '-o', `jsonpath={.items[0].status.conditions[?(@.type=="Ready")].status}`)
  assert.is(r.out, 'False')
  r = await kubectl('-n', 'kube-system', 'get', 'cm', 'kubeadm-config', '-o', 'json')
  assert.is((JSON.parse(r.out) as { kind: string }).kind, 'ConfigMap')
  r = await kubectl('get', 'nodes', '-o', 'json')
  assert.is((JSON.parse(r.out) as { kind: string; items: unknown[] }).kind, 'List')
  r = await kubectl('get', 'deploy/coredns', '-n', 'kube-system', '-o', 'name')
  assert.is(r.out, 'deployment.apps/coredns\n')
  r = await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'name')
  assert.is(r.out.trim().split('\n').length, 2)
  r = await kubectl('get', 'deployments.apps', '-n', 'kube-system', '--no-headers')
  assert.match(r.out, /^coredns\s+0\/2\s+2\s+0\s+\d+s\n$/)
  r = await kubectl('get', 'svc', '-n', 'kube-system', 'kube-dns')
  assert.match(r.out, /kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53\/UDP,53\/TCP,9153\/TCP/)
  r = await kubectl('get', 'deploy', 'nope')
  assert.is(r.code, 1)
  assert.is(r.err, 'Error from server (NotFound): deployments.apps "nope" not found\n')
  r = await kubectl('get', 'deploy', 'nope', '--ignore-not-found')
  assert.is(r.code, 0)
  assert.is(r.out + r.err, '')
  r = await kubectl('get', 'frobs')
  assert.match(r.err, 'error: the server doesn\'t have a resource type "frobs"')
  r = await kubectl('get', 'apiservices')
  assert.match(r.out, /v1\.apps\s+Local\s+True/)
  r = await kubectl('api-resources')
  assert.match(r.out, /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/)
})

test('taint: add, add again (refused), remove, remove a missing one', async () => {
  await cluster()
  let r = await kubectl('taint', 'nodes', 'node1', 'node-role.kubernetes.io/control-plane:NoSchedule')
  assert.is(r.code, 1)
  assert.match(r.err, "error: Node 'node1' already has a taint with key (node-role.kubernetes.io/control-plane) and effect (NoSchedule), and --overwrite is false")
  r = await kubectl('taint', 'nodes', '--all', 'node-role.kubernetes.io/control-plane-')
  assert.is(r.code, 0, r.err)
  assert.is(r.out, 'node/node1 untainted\n')
  r = await kubectl('taint', 'nodes', '--all', 'node-role.kubernetes.io/control-plane-')
  assert.is(r.code, 1)
  assert.is(r.err, 'error: taint "node-role.kubernetes.io/control-plane" not found\n')
  r = await kubectl('taint', 'nodes', '--all', 'node-role.kubernetes.io/master-')
  assert.is(r.err, 'error: taint "node-role.kubernetes.io/master" not found\n')
  r = await kubectl('taint', 'nodes', 'node1', 'dedicated=gpu:NoSchedule')
  assert.is(r.out, 'node/node1 tainted\n')
  r = await kubectl('taint', 'nodes', 'node1', 'dedicated=cpu:NoSchedule', '--overwrite')
  assert.is(r.out, 'node/node1 modified\n')
  r = await kubectl('get', 'node', 'node1', '-o', 'jsonpath={.spec.taints[?(@.key=="dedicated")].value}')
  assert.is(r.out, 'cpu')
  r = await kubectl('taint', 'nodes', 'node1', 'dedicated:NoSchedule-')
  assert.is(r.out, 'node/node1 untainted\n')
  r = await kubectl('taint', 'nodes', 'node1', 'x=y:Sometimes')
  assert.match(r.err, 'invalid taint effect: Sometimes')
  r = await kubectl('taint', 'nodes', 'nodeX', 'a:NoSchedule')
  assert.match(r.err, 'Error from server (NotFound): nodes "nodeX" not found')
})

test('flannel makes nodes Ready and writes the CNI config on every node it runs on', async () => {
  await cluster()
  assert.is((await joinNode(lab, 'node2')).code, 0)
  let r = await kubectl('get', 'nodes', '--no-headers')
  assert.match(r.out, /node1\s+NotReady/)
  assert.match(r.out, /node2\s+NotReady/)
  r = await flannel()
  assert.is(r.out, 'namespace/kube-flannel created\nserviceaccount/flannel created\nconfigmap/kube-flannel-cfg created\ndaemonset.apps/kube-flannel-ds created\n')
  r = await kubectl('-n', 'kube-flannel', 'rollout', 'status', 'ds/kube-flannel-ds', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, 'daemon set "kube-flannel-ds" successfully rolled out\n')
  r = await kubectl('get', 'nodes', '--no-headers')
  assert.match(r.out, /node1\s+Ready/)
  assert.match(r.out, /node2\s+Ready/)
  for (const h of ['node1', 'node2']) {
    const conf = JSON.parse(fs.readFileSync(hostFile(lab, h, '/etc/cni/net.d/10-flannel.conflist'), 'utf8')) as { name: string; plugins: { type: string }[] }
    assert.is(conf.name, 'cbr0')
    assert.is(conf.plugins[0]?.type, 'flannel')
  }
  r = await kubectl('wait', '--for=condition=Ready', 'node', '--all', '--timeout=5s')
  assert.is(r.out, 'node/node1 condition met\nnode/node2 condition met\n')
  r = await kubectl('-n', 'kube-flannel', 'get', 'ds', 'kube-flannel-ds', '-o', 'jsonpath={.status.numberReady}/{.status.desiredNumberScheduled}')
  assert.is(r.out, '2/2')
})

test('no podSubnet: flannel crash-loops ("pod cidr not assigned") and nodes stay NotReady', async () => {
  await cluster(INIT_CONFIG({ podSubnet: null }))
  let r = await kubectl('get', 'node', 'node1', '-o', 'jsonpath={.spec.podCIDR}')
  assert.is(r.out, '')
  await flannel()
  r = await kubectl('get', 'nodes', '--no-headers')
  assert.match(r.out, /node1\s+NotReady/)
  r = await kubectl('-n', 'kube-flannel', 'get', 'pods', '--no-headers')
  assert.match(r.out, /kube-flannel-ds-\w+\s+0\/1\s+CrashLoopBackOff/)
  const pod = r.out.split(/\s+/)[0] as string
  r = await kubectl('-n', 'kube-flannel', 'logs', pod)
  assert.match(r.out, 'Error registering network: failed to acquire lease: node "node1" pod cidr not assigned')
  r = await kubectl('-n', 'kube-flannel', 'rollout', 'status', 'daemonset/kube-flannel-ds', '--timeout=1s')
  assert.is(r.code, 1)
  assert.match(r.out, 'Waiting for daemon set "kube-flannel-ds" rollout to finish: 0 of 1 updated pods are available...\n')
  assert.is(r.err, 'error: timed out waiting for the condition\n')
})

test('flannel with a Network that does not contain the pod CIDR crash-loops; without br_netfilter too', async () => {
  await cluster()
  await flannel('10.245.0.0/16')
  let r = await kubectl('get', 'nodes', '--no-headers')
  assert.match(r.out, /node1\s+NotReady/)
  r = await kubectl('-n', 'kube-flannel', 'logs', 'ds/kube-flannel-ds')
  assert.match(r.out, 'pod cidr 10.244.0.0/24 is not in the flannel network 10.245.0.0/16')
  await flannel('10.244.0.0/16')
  editNodeState(lab, 'node1', (s) => {
    s.modules = ['overlay']
  })
  r = await kubectl('-n', 'kube-flannel', 'logs', 'ds/kube-flannel-ds')
  assert.match(r.out, 'Failed to check br_netfilter')
  editNodeState(lab, 'node1', (s) => {
    s.modules = ['overlay', 'br_netfilter']
  })
  r = await kubectl('get', 'nodes', '--no-headers')
  assert.match(r.out, /node1\s+Ready/)
})

test('single node: ordinary pods stay Pending until the control-plane taint is removed (CoreDNS tolerates it)', async () => {
  await cluster()
  let r = await kubectl('-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '--no-headers')
  assert.match(r.out, /coredns-\w+-\w+\s+0\/1\s+Pending/)
  r = await kubectl('-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={.items[0].status.conditions[?(@.type=="PodScheduled")].message}')
  assert.match(r.out, '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }')
  await flannel()
  r = await kubectl('-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  await apply(DEPLOY())
  r = await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].status.conditions[?(@.type=="PodScheduled")].message}')
  assert.match(r.out, '0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }')
  r = await kubectl('rollout', 'status', 'deployment/web', '--timeout=1s')
  assert.is(r.code, 1)
  assert.match(r.out, 'Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available...')
  assert.match(r.err, 'error: timed out waiting for the condition')
  r = await kubectl('taint', 'nodes', '--all', 'node-role.kubernetes.io/control-plane-')
  assert.is(r.code, 0)
  r = await kubectl('rollout', 'status', 'deployment/web', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, 'deployment "web" successfully rolled out\n')
  r = await kubectl('wait', '--for=condition=Available', 'deployment/web', '--timeout=2s')
  assert.is(r.out, 'deployment.apps/web condition met\n')
})

test('metrics-server: needs --kubelet-insecure-tls on kubeadm clusters; --metric-resolution below 10s crashes', async () => {
  await cluster(INIT_CONFIG({ taints: '  taints: []\n' }))
  await flannel()
  let r = await kubectl('top', 'nodes')
  assert.is(r.code, 1)
  assert.is(r.err, 'error: Metrics API not available\n')
  const base = ['--cert-dir=/tmp', '--secure-port=10250', '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname', '--kubelet-use-node-status-port']
  r = await apply(METRICS_SERVER([...base, '--metric-resolution=15s']))
  assert.is(r.code, 0, r.err)
  r = await kubectl('-n', 'kube-system', 'rollout', 'status', 'deploy/metrics-server', '--timeout=1s')
  assert.is(r.code, 1)
  r = await kubectl('top', 'nodes')
  assert.is(r.code, 1)
  assert.match(r.err, 'Error from server (ServiceUnavailable): the server is currently unable to handle the request (get nodes.metrics.k8s.io)')
  r = await kubectl('-n', 'kube-system', 'logs', 'deploy/metrics-server')
  assert.match(r.out, "x509: cannot validate certificate for 10.77.0.11 because it doesn't contain any IP SANs")
  r = await kubectl('get', 'apiservice', 'v1beta1.metrics.k8s.io', '--no-headers')
  assert.match(r.out, /v1beta1\.metrics\.k8s\.io\s+kube-system\/metrics-server\s+False \(MissingEndpoints\)/)

  r = await apply(METRICS_SERVER([...base, '--metric-resolution=5s', '--kubelet-insecure-tls']))
  assert.is(r.out, 'serviceaccount/metrics-server unchanged\nservice/metrics-server unchanged\ndeployment.apps/metrics-server configured\napiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io unchanged\n')
  r = await kubectl('-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=metrics-server', '--no-headers')
  assert.match(r.out, /CrashLoopBackOff/)
  r = await kubectl('-n', 'kube-system', 'logs', 'deploy/metrics-server')
  assert.match(r.out, 'metric-resolution should be a time duration at least 10s')
  r = await kubectl('-n', 'kube-system', 'rollout', 'status', 'deploy/metrics-server', '--timeout=1s')
  assert.is(r.code, 1)

  r = await apply(METRICS_SERVER([...base, '--metric-resolution=15s', '--kubelet-insecure-tls']))
  r = await kubectl('-n', 'kube-system', 'rollout', 'status', 'deploy/metrics-server', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  r = await kubectl('top', 'nodes', '--no-headers')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^node1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\n$/)
  r = await kubectl('top', 'pods', '-n', 'kube-system')
  assert.match(r.out, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\n/)
  assert.match(r.out, /metrics-server-\w+-\w+\s+\d+m\s+\d+Mi/)
  r = await kubectl('get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes')
  const list = JSON.parse(r.out) as { kind: string; items: { metadata: { name: string }; usage: { cpu: string } }[] }
  assert.is(list.kind, 'NodeMetricsList')
  assert.is(list.items[0]?.metadata.name, 'node1')
  assert.match(list.items[0]?.usage.cpu ?? '', /^\d+n$/)
})

test('metrics-server patched with kubectl patch --type=json', async () => {
  await cluster(INIT_CONFIG({ taints: '  taints: []\n' }))
  await flannel()
  await apply(METRICS_SERVER(['--cert-dir=/tmp', '--metric-resolution=15s']))
  let r = await kubectl('-n', 'kube-system', 'patch', 'deployment', 'metrics-server', '--type=json', '-p=[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]')
  assert.is(r.out, 'deployment.apps/metrics-server patched\n', r.err)
  r = await kubectl('-n', 'kube-system', 'rollout', 'status', 'deploy/metrics-server', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  r = await kubectl('-n', 'kube-system', 'patch', 'deployment', 'metrics-server', '--type=json', '-p=[{"op":"replace","path":"/spec/nope/0","value":1}]')
  assert.is(r.code, 1)
})

test('rollout restart makes new pods; rollout status follows', async () => {
  await cluster(INIT_CONFIG({ taints: '  taints: []\n' }))
  await flannel()
  await apply(DEPLOY())
  let r = await kubectl('rollout', 'status', 'deployment/web', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  const before = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'name')).out
  r = await kubectl('rollout', 'restart', 'deployment/web')
  assert.is(r.out, 'deployment.apps/web restarted\n')
  r = await kubectl('rollout', 'status', 'deployment/web', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  const after = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'name')).out
  assert.is(after.trim().split('\n').length, 2)
  assert.not.equal(after, before)
  r = await kubectl('get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.metadata.annotations}')
  assert.match(r.out, 'kubectl.kubernetes.io/restartedAt')
  r = await kubectl('rollout', 'history', 'deployment/web')
  assert.match(r.out, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/)
})

test('pods wait for missing ConfigMaps and Secrets, service accounts, images with pullPolicy Never', async () => {
  await cluster(INIT_CONFIG({ taints: '  taints: []\n' }))
  await flannel()
  const withEnv = DEPLOY({ replicas: 1, extra: '' }).replace('          resources:', '          envFrom:\n            - secretRef: { name: session-token }\n          resources:')
  let r = await apply(withEnv)
  assert.is(r.code, 0, r.err)
  r = await kubectl('get', 'pods', '-l', 'app=web', '--no-headers')
  assert.match(r.out, /0\/1\s+CreateContainerConfigError/)
  r = await kubectl('create', 'secret', 'generic', 'session-token', '--from-literal=AWS_SESSION_TOKEN=abc', '--dry-run=client', '-o', 'yaml')
  assert.match(r.out, 'kind: Secret')
  assert.match(r.out, `AWS_SESSION_TOKEN: ${Buffer.from('abc').toString('base64')}`)
  r = await kubectlIn(r.out, 'apply', '-f', '-')
  assert.is(r.out, 'secret/session-token created\n', r.err)
  r = await kubectl('rollout', 'status', 'deployment/web', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  r = await apply(DEPLOY({ name: 'local', replicas: 1, image: 'shap:latest' }).replace(/app: web/g, 'app: local').replace('          resources:', '          imagePullPolicy: Never\n          resources:'))
  r = await kubectl('get', 'pods', '-l', 'app=local', '--no-headers')
  assert.match(r.out, /ErrImageNeverPull/)
  editNodeState(lab, 'node1', (s) => {
    ;(s as Record<string, unknown>).images = { 'k8s.io': [{ ref: 'docker.io/library/shap:latest', digest: 'sha256:0', size: 1 }] }
  })
  r = await kubectl('rollout', 'status', 'deployment/local', '--timeout=5s')
  assert.is(r.code, 0, r.err)
  r = await apply(DEPLOY({ name: 'sa', replicas: 1 }).replace(/app: web/g, 'app: sa').replace('      containers:', '      serviceAccountName: ghost\n      containers:'))
  r = await kubectl('get', 'deploy', 'sa', '-o', 'jsonpath={.status.conditions[?(@.type=="ReplicaFailure")].message}')
  assert.match(r.out, 'error looking up service account default/ghost: serviceaccount "ghost" not found')
})

test('a stale CNI config that sorts first (calico) keeps pods in ContainerCreating', async () => {
  await cluster(INIT_CONFIG({ taints: '  taints: []\n' }))
  put(lab, 'node1', '/etc/cni/net.d/10-calico.conflist', JSON.stringify({ name: 'k8s-pod-network', cniVersion: '0.3.1', plugins: [{ type: 'calico' }] }))
  await flannel()
  let r = await kubectl('-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '--no-headers')
  assert.match(r.out, /0\/1\s+ContainerCreating/)
  fs.rmSync(hostFile(lab, 'node1', '/etc/cni/net.d/10-calico.conflist'))
  r = await kubectl('-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=5s')
  assert.is(r.code, 0, r.err)
})

test('a stopped kubelet or containerd makes the node NotReady', async () => {
  await cluster(INIT_CONFIG({ taints: '  taints: []\n' }))
  assert.is((await joinNode(lab, 'node2')).code, 0)
  await flannel()
  editNodeState(lab, 'node2', (s) => {
    s.services.kubelet.active = false
  })
  let r = await kubectl('get', 'nodes', '--no-headers')
  assert.match(r.out, /node2\s+NotReady/)
  r = await kubectl('get', 'node', 'node2', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].message}')
  assert.is(r.out, 'Kubelet stopped posting node status.')
  editNodeState(lab, 'node2', (s) => {
    s.services.kubelet.active = true
    s.services.containerd.active = false
  })
  r = await kubectl('get', 'nodes', 'node2', '--no-headers')
  assert.match(r.out, /node2\s+NotReady/)
  r = await kubectl('wait', '--for=condition=Ready', 'node/node2', '--timeout=1s')
  assert.is(r.code, 1)
  assert.is(r.err, 'error: timed out waiting for the condition on nodes/node2\n')
})

test('create, replace, delete by name, label, namespaces cascade', async () => {
  await cluster()
  let r = await kubectl('create', 'namespace', 'ray')
  assert.is(r.out, 'namespace/ray created\n')
  r = await kubectl('create', 'namespace', 'ray')
  assert.is(r.err, 'Error from server (AlreadyExists): namespaces "ray" already exists\n')
  r = await kubectlIn(DEPLOY({ ns: 'ray' }), 'create', '-f', '-')
  assert.is(r.out, 'deployment.apps/web created\n')
  r = await kubectlIn(DEPLOY({ ns: 'ray' }), 'create', '-f', '-')
  assert.match(r.err, 'Error from server (AlreadyExists): error when creating "STDIN": deployments.apps "web" already exists')
  r = await kubectlIn(DEPLOY({ ns: 'ray', replicas: 1 }), 'replace', '-f', '-')
  assert.is(r.out, 'deployment.apps/web replaced\n')
  r = await kubectl('label', 'nodes', 'node1', 'pool=fast')
  assert.is(r.out, 'node/node1 labeled\n')
  r = await kubectl('label', 'nodes', 'node1', 'pool=slow')
  assert.match(r.err, "error: 'pool' already has a value (fast), and --overwrite is false")
  r = await kubectl('delete', 'namespace', 'ray')
  assert.is(r.out, 'namespace "ray" deleted\n')
  r = await kubectl('get', 'deploy', '-A', '-o', 'name')
  assert.is(r.out, 'deployment.apps/coredns\n')
  r = await kubectl('delete', 'namespace', 'kube-system')
  assert.match(r.err, 'Error from server (Forbidden): namespaces "kube-system" is forbidden: this namespace may not be deleted')
  r = await kubectl('delete', 'deploy', 'nope')
  assert.is(r.err, 'Error from server (NotFound): deployments.apps "nope" not found\n')
  r = await kubectl('delete', 'deploy', 'nope', '--ignore-not-found')
  assert.is(r.code, 0)
})

test('CRDs add kinds; --dry-run and --server-side', async () => {
  await cluster()
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: rayclusters.ray.io
spec:
  group: ray.io
  names: { kind: RayCluster, plural: rayclusters, singular: raycluster, listKind: RayClusterList }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true }
`
  const cr = 'apiVersion: ray.io/v1\nkind: RayCluster\nmetadata:\n  name: rc\nspec:\n  rayVersion: "2.52.0"\n'
  let r = await apply(`${crd}---\n${cr}`)
  assert.is(r.code, 1)
  assert.is(r.out, 'customresourcedefinition.apiextensions.k8s.io/rayclusters.ray.io created\n')
  r = await apply(cr)
  assert.is(r.out, 'raycluster.ray.io/rc created\n', r.err)
  r = await kubectl('get', 'rayclusters', '-o', 'name')
  assert.is(r.out, 'raycluster.ray.io/rc\n')
  r = await apply(DEPLOY(), '--dry-run=client')
  assert.is(r.out, 'deployment.apps/web created (dry run)\n')
  r = await kubectl('get', 'deploy', 'web', '--ignore-not-found', '-o', 'name')
  assert.is(r.out, '')
  r = await apply(DEPLOY(), '--server-side')
  assert.is(r.out, 'deployment.apps/web serverside-applied\n', r.err)
  r = await apply(DEPLOY(), '-o', 'yaml')
  assert.match(r.out, 'kind: Deployment\n')
})

test('the repository templates (flannel, metrics-server) are accepted as they render', async () => {
  const repo = path.resolve(import.meta.dirname, '../../..')
  // the vars the playbooks render with: the inventory's defaults, derived as for a real host
  const inv = parseInventory('all:\n  children:\n    control_plane:\n      hosts:\n        cp1: { address: 10.0.0.1 }\n', '/tmp/inv/inventory.yaml')
  const vars = playbookVars(CLUSTER, inv.hosts[0]!)
  const rendered = [
    await renderFile(path.join(repo, 'templates/flannel/kube-flannel.yaml'), vars),
    await renderFile(path.join(repo, 'templates/metrics-server/components.yaml'), vars),
  ]
  assert.match(rendered[0]!, `image: "ghcr.io/flannel-io/flannel:${String(vars.flannel_version)}"`)
  assert.match(rendered[1]!, `image: "registry.k8s.io/metrics-server/metrics-server:${String(vars.metrics_server_version)}"`)
  await cluster(INIT_CONFIG({ taints: '  taints: []\n' }))
  for (const manifest of rendered) {
    const r = await apply(manifest)
    assert.is(r.code, 0, r.err)
  }
  const r = await kubectl('wait', '--for=condition=Ready', 'node', '--all', '--timeout=5s')
  assert.is(r.code, 0, r.err)
})

test.run()
