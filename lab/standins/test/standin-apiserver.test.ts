// The stand-in API server (lab/standins/_apiserver.ts) on a loopback address, and kubectl
// and kubeadm reaching it over HTTPS with ZXLAB_API=network (as the real-host lab's packaged
// stand-ins do): TLS checked with the kubeconfig's CA, client certificates with the cluster's,
// the server down or a wrong CA hash failing as the real tools do.
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import path from 'node:path'
import type { Server } from 'node:https'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { load } from 'js-yaml'
import { startApiServer } from '../_apiserver.ts'
import { fakeLab, FLANNEL, hostEnv, hostFile, INIT_CONFIG, initCluster, put, run } from '../_k8s-testlab.ts'
import { readHost } from '../_host-facts.ts'
import type { FakeLab } from '../_k8s-testlab.ts'
import { makeKubeconfig } from '../_kubeconfig.ts'
import { newCA, newLeaf } from '../_pki.ts'

const ADDRESS = '127.0.0.1'
const RUNNER = (tool: string) => [process.execPath, ...process.execArgv, path.resolve(`lab/standins/${tool}.ts`)]
const NET = { ZXLAB_API: 'network' }

let lab: FakeLab
let port: number
let server: Server | undefined

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, ADDRESS, () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
const read = (host: string, abs: string) => fs.readFileSync(hostFile(lab, host, abs), 'utf8')

async function serve() {
  server = await startApiServer({
    address: ADDRESS,
    port,
    cert: read('node1', '/etc/kubernetes/pki/apiserver.crt'),
    key: read('node1', '/etc/kubernetes/pki/apiserver.key'),
    clientCa: read('node1', '/etc/kubernetes/pki/ca.crt'),
    storeFile: hostFile(lab, 'node1', '/var/lib/etcd/zxlab-cluster.json'),
    runner: RUNNER,
    env: { ...process.env, ...hostEnv(lab, 'node1') },
  })
}
const stop = () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))

test.before.each(async () => {
  lab = fakeLab(3)
  port = await freePort()
  const r = await initCluster(lab, INIT_CONFIG({ address: ADDRESS }).replace('bindPort: 6443', `bindPort: ${port}`))
  assert.is(r.code, 0, r.err)
  await serve()
  // the user's kubeconfig on another host: only the file, no store there
  put(lab, 'node2', '/home/zxlab/.kube/config', read('node1', '/etc/kubernetes/admin.conf'))
})
test.after.each(async () => {
  await stop()
  server = undefined
  lab.remove()
})

const asUser = { ...NET, HOME: '/home/zxlab' }

test('kubectl on another host reaches the server through ~/.kube/config: get nodes, apply a file only that host has', async () => {
  const r = await run(lab, 'node2', 'kubectl', ['get', 'nodes'], { env: asUser })
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^NAME\s+STATUS\s+ROLES/)
  assert.match(r.out, /\nnode1\s+NotReady\s+control-plane/)
  put(lab, 'node2', '/home/zxlab/cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-node2\ndata:\n  a: "1"\n')
  const a = await run(lab, 'node2', 'kubectl', ['apply', '-f', '/home/zxlab/cm.yaml'], { env: asUser })
  assert.is(a.code, 0, a.err)
  assert.is(a.out, 'configmap/from-node2 created\n')
  const g = await run(lab, 'node1', 'kubectl', ['get', 'configmap', 'from-node2', '-o', 'jsonpath={.data.a}'], { env: NET })
  assert.is(g.out, '1', g.err)
})

test('the server stopped: kubectl is refused as the real one is (the store is still there)', async () => {
  await stop()
  server = undefined
  const r = await run(lab, 'node2', 'kubectl', ['get', 'nodes'], { env: asUser })
  assert.is(r.code, 1)
  assert.is(r.err, `The connection to the server ${ADDRESS}:${port} was refused - did you specify the right host or port?\n`)
})

test('no kubeconfig, a wrong CA, a client certificate from another CA', async () => {
  let r = await run(lab, 'node3', 'kubectl', ['get', 'nodes'], { env: { ...NET, HOME: '/home/zxlab' } })
  assert.is(r.err, 'The connection to the server localhost:8080 was refused - did you specify the right host or port?\n')
  const admin = load(read('node1', '/etc/kubernetes/admin.conf')) as { users: { user: Record<string, string> }[] }
  const other = newCA()
  const cert = Buffer.from(admin.users[0]?.user['client-certificate-data'] as string, 'base64').toString()
  const key = Buffer.from(admin.users[0]?.user['client-key-data'] as string, 'base64').toString()
  put(lab, 'node2', '/home/zxlab/wrong-ca.conf', makeKubeconfig({ server: `https://${ADDRESS}:${port}`, caCert: other.cert, user: 'kubernetes-admin', cert, key }))
  r = await run(lab, 'node2', 'kubectl', ['--kubeconfig', '/home/zxlab/wrong-ca.conf', 'get', 'nodes'], { env: asUser })
  assert.is(r.code, 1)
  assert.is(r.err, 'Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority\n')
  const stranger = newLeaf(other, { cn: 'mallory', orgs: ['system:masters'], usage: 'client' })
  put(lab, 'node2', '/home/zxlab/stranger.conf', makeKubeconfig({ server: `https://${ADDRESS}:${port}`, caCert: read('node1', '/etc/kubernetes/pki/ca.crt'), user: 'mallory', cert: stranger.cert, key: stranger.key }))
  r = await run(lab, 'node2', 'kubectl', ['--kubeconfig', '/home/zxlab/stranger.conf', 'get', 'nodes'], { env: asUser })
  assert.is(r.err, 'error: You must be logged in to the server (Unauthorized)\n')
})

/** A GET as kubectl's transport makes it (the admin's client certificate, the cluster CA), or anonymous. */
function get(urlPath: string, anonymous = false): Promise<{ status: number; body: string }> {
  const admin = load(read('node1', '/etc/kubernetes/admin.conf')) as { users: { user: Record<string, string> }[] }
  const unb64 = (k: string) => Buffer.from(admin.users[0]?.user[k] as string, 'base64').toString()
  return new Promise((resolve, reject) => {
    https
      .get({ host: ADDRESS, port, path: urlPath, ca: read('node1', '/etc/kubernetes/pki/ca.crt'), ...(anonymous ? {} : { cert: unb64('client-certificate-data'), key: unb64('client-key-data') }), agent: false }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      .on('error', reject)
  })
}

test('REST reads: /healthz, /version, nodes and a pod in Kubernetes JSON; anonymous is forbidden but may read cluster-info', async () => {
  assert.equal(await get('/healthz', true), { status: 200, body: 'ok' })
  assert.is((JSON.parse((await get('/version', true)).body) as { gitVersion: string }).gitVersion, 'v1.36.1')
  const nodes = JSON.parse((await get('/api/v1/nodes')).body) as { kind: string; apiVersion: string; items: { kind: string; metadata: { name: string } }[] }
  assert.is(nodes.kind, 'NodeList')
  assert.equal(nodes.items.map((n) => [n.kind, n.metadata.name]), [['Node', 'node1']])
  const pods = JSON.parse((await get('/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns')).body) as { kind: string; items: { metadata: { name: string } }[] }
  assert.is(pods.kind, 'PodList')
  assert.is(pods.items.length, 2)
  const pod = await get(`/api/v1/namespaces/kube-system/pods/${pods.items[0]?.metadata.name}`)
  assert.is(pod.status, 200)
  assert.is((JSON.parse(pod.body) as { kind: string }).kind, 'Pod')
  const missing = await get('/apis/apps/v1/namespaces/default/deployments/nope')
  assert.is(missing.status, 404)
  assert.is((JSON.parse(missing.body) as { message: string }).message, 'deployments.apps "nope" not found')
  const anon = await get('/api/v1/nodes', true)
  assert.is(anon.status, 403)
  assert.match(anon.body, 'User \\"system:anonymous\\" cannot list resource \\"nodes\\"')
  assert.is((await get('/api/v1/namespaces/kube-public/configmaps/cluster-info', true)).status, 200)
})

test('join over the network: token and CA hash checked against what the server presents; a wrong hash fails, a stopped server is retried until timeouts.discovery as kubeadm does', async () => {
  const t = await run(lab, 'node1', 'kubeadm', ['token', 'create', '--print-join-command'], { env: NET })
  assert.is(t.code, 0, t.err)
  const argv = t.out.trim().split(/\s+/).slice(1)
  const wrong = argv.map((a) => (a.startsWith('sha256:') ? `sha256:${'0'.repeat(64)}` : a))
  let r = await run(lab, 'node2', 'kubeadm', wrong, { env: NET })
  assert.is(r.code, 1)
  assert.match(r.err, /error execution phase preflight: couldn't validate the identity of the API Server: cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned/)
  assert.not.ok(fs.existsSync(hostFile(lab, 'node2', '/etc/kubernetes/kubelet.conf')))
  r = await run(lab, 'node2', 'kubeadm', argv, { env: NET })
  assert.is(r.code, 0, r.err)
  assert.match(r.out, 'This node has joined the cluster')
  const nodes = await run(lab, 'node2', 'kubectl', ['get', 'nodes', '-o', 'name'], { env: asUser })
  assert.is(nodes.out, 'node/node1\nnode/node2\n')
  // the kubelet's kubeconfig the server signed authenticates as the node
  const kubelet = await run(lab, 'node2', 'kubectl', ['--kubeconfig', '/etc/kubernetes/kubelet.conf', 'get', 'node', 'node2', '-o', 'name'], { env: NET })
  assert.is(kubelet.out, 'node/node2\n', kubelet.err)
  await stop()
  server = undefined
  // discovery asks an unreachable server again every 5 s until v1beta4's timeouts.discovery (5m0s by default)
  const flag = (name: string) => argv[argv.indexOf(name) + 1] as string
  const joinConfig = (timeout: string) =>
    `apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: "${ADDRESS}:${port}"\n    token: "${flag('--token')}"\n    caCertHashes: ["${flag('--discovery-token-ca-cert-hash')}"]\ntimeouts:\n  discovery: ${timeout}\n`
  put(lab, 'node3', '/root/join.yaml', joinConfig('7s'))
  const t0 = Date.now()
  r = await run(lab, 'node3', 'kubeadm', ['join', '--config', '/root/join.yaml'], { env: NET })
  assert.is(r.code, 1)
  assert.ok(Date.now() - t0 >= 5000, `gave up after ${Date.now() - t0} ms: not retried`)
  assert.match(r.err, `error execution phase preflight: couldn't validate the identity of the API Server: Get "https://${ADDRESS}:${port}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp ${ADDRESS}:${port}: connect: connection refused`)
  // the server back before the timeout: the same join goes through
  put(lab, 'node3', '/root/join.yaml', joinConfig('1m'))
  const joining = run(lab, 'node3', 'kubeadm', ['join', '--config', '/root/join.yaml'], { env: NET })
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await serve()
  r = await joining
  assert.is(r.code, 0, r.err)
  assert.match(r.out, 'This node has joined the cluster')
})

/** A POST with a client certificate (the cluster CA trusted). */
function send(urlPath: string, creds: { cert: string; key: string }, doc: unknown): Promise<{ status: number; body: string }> {
  const payload = JSON.stringify(doc)
  return new Promise((resolve, reject) => {
    https
      .request({ method: 'POST', host: ADDRESS, port, path: urlPath, ca: read('node1', '/etc/kubernetes/pki/ca.crt'), ...creds, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      .on('error', reject)
      .end(payload)
  })
}

/** POST /zxlab/v1/node-status as the kubelet of a host does it: its kubelet.conf's client certificate, what its files show. */
function postStatus(host: string, reading: object = readHost({ root: hostFile(lab, host, '/') })): Promise<{ status: number; body: string }> {
  const conf = load(read(host, '/etc/kubernetes/kubelet.conf')) as { users: { user: Record<string, string> }[] }
  const unb64 = (k: string) => Buffer.from(conf.users[0]?.user[k] as string, 'base64').toString()
  return send('/zxlab/v1/node-status', { cert: unb64('client-certificate-data'), key: unb64('client-key-data') }, reading)
}

test("kubelets on other machines (kubeletsPost): a node is what its kubelet posts; Flannel's CNI config is sent to it to write, then the node is Ready", async () => {
  // the cluster as kubeadm init makes it on a real host: the controllers see no host's files
  const storeFile = hostFile(lab, 'node1', '/var/lib/etcd/zxlab-cluster.json')
  const store = JSON.parse(fs.readFileSync(storeFile, 'utf8')) as { cluster: Record<string, unknown> }
  store.cluster.kubeletsPost = true
  fs.writeFileSync(storeFile, JSON.stringify(store))
  const kubectl = (...argv: string[]) => run(lab, 'node1', 'kubectl', argv, { env: NET })
  const node1 = async () => (await kubectl('get', 'node', 'node1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}')).out
  assert.is(await node1(), 'NodeStatusUnknown') // no kubelet has posted
  // only a node may post, and only as itself
  const admin = load(read('node1', '/etc/kubernetes/admin.conf')) as { users: { user: Record<string, string> }[] }
  const adminCreds = { cert: Buffer.from(admin.users[0]?.user['client-certificate-data'] as string, 'base64').toString(), key: Buffer.from(admin.users[0]?.user['client-key-data'] as string, 'base64').toString() }
  const denied = await send('/zxlab/v1/node-status', adminCreds, {})
  assert.is(denied.status, 403)
  assert.match(denied.body, 'User \\"kubernetes-admin\\" cannot patch resource \\"nodes/status\\"')
  let r = await postStatus('node1')
  assert.is(r.status, 200, r.body)
  assert.equal(JSON.parse(r.body), { files: {} })
  assert.is(await node1(), 'KubeletNotReady') // up, but no CNI config yet
  put(lab, 'node1', '/root/flannel.yaml', FLANNEL())
  assert.is((await kubectl('apply', '-f', '/root/flannel.yaml')).code, 0)
  await kubectl('get', 'pods', '-A') // a reconcile: flannel's pod starts, its install-cni wants the file on node1
  r = await postStatus('node1')
  const files = (JSON.parse(r.body) as { files: Record<string, string> }).files
  assert.equal(Object.keys(files), ['/etc/cni/net.d/10-flannel.conflist'])
  assert.not.ok(fs.existsSync(hostFile(lab, 'node1', '/etc/cni/net.d/10-flannel.conflist'))) // the server writes nothing on hosts
  put(lab, 'node1', '/etc/cni/net.d/10-flannel.conflist', files['/etc/cni/net.d/10-flannel.conflist'] as string)
  assert.is(await node1(), 'KubeletNotReady') // the server knows the host only from the next post
  assert.is((await postStatus('node1')).status, 200)
  assert.is(await node1(), 'KubeletReady')
  // a kubelet whose unit is stopped posts that: the node is lost again
  const reading = readHost({ root: hostFile(lab, 'node1', '/') })
  reading.state.services.kubelet = { enabled: true, active: false }
  await postStatus('node1', reading)
  assert.is(await node1(), 'NodeStatusUnknown')
})

test.run()
