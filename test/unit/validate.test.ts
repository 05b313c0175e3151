// playbooks/support/validate.ts: the cluster vars every cluster playbook checks before anything connects,
// through the path the CLI takes (an inventory parsed from YAML, then the playbooks' vars specs,
// vars/cluster.ts's clusterSpec). Each check with values it must take and values it must refuse, and the
// error: an InventoryError naming the inventory file, the key and what was expected.
import fs from 'node:fs'
import path from 'node:path'
import { dump, loadAll } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { parseInventory, type Vars } from '../../lib/inventory/inventory.ts'
import { playbookVars } from '../../lib/engine/playbook.ts'
import { renderFile } from '../../lib/engine/template.ts'
import { CLUSTER } from '../../playbooks/support/kube.ts'
import { clusterDefaults, metricsServerArgs } from '../../playbooks/support/vars/cluster.ts'
import { RAY } from '../../playbooks/support/ray.ts'
import { clusterVarProblems, isCpuQuantity, isMemoryQuantity, parseCidr, parseIPv4 } from '../../playbooks/support/validate.ts'
import { zxplayInProcess } from './_cli.ts'
import { errorOf, tempDir } from './_helpers.ts'
import { showJson } from '../../lib/base/yaml.ts'

const { dir: tmp, remove } = tempDir('validate')
test.after(remove)
const FILE = path.join(tmp, 'inventory.yaml')

type Children = Record<string, { hosts: Record<string, Vars> }>
const THREE: Children = {
  control_plane: { hosts: { cp1: { address: '192.0.2.10' } } },
  workers: { hosts: { w1: { address: '192.0.2.11' }, w2: { address: '192.0.2.12', port: 2222 } } },
}

/** The vars a cluster playbook sees for `host`, from an inventory with these vars (in all.vars). */
function derive(vars: Vars = {}, opts: { children?: Children; host?: string; pb?: typeof CLUSTER } = {}): Vars {
  const inv = parseInventory(dump({ all: { vars, children: opts.children ?? THREE } }), FILE)
  const host = inv.hosts.find((h) => h.name === (opts.host ?? 'cp1'))
  if (!host) throw new Error(`no host ${opts.host}`)
  return playbookVars(opts.pb ?? CLUSTER, host)
}

function refusal(vars: Vars, opts?: Parameters<typeof derive>[1]): InventoryError {
  const e = errorOf(() => derive(vars, opts))
  assert.instance(e, InventoryError, e.message)
  assert.is((e as InventoryError).file, FILE)
  return e as InventoryError
}

/** Refused, naming the file and `key` first, with exactly this message. */
function refuses(vars: Vars, key: string, message: string, opts?: Parameters<typeof derive>[1]) {
  const e = refusal(vars, opts)
  assert.is(e.path, key, e.message)
  assert.is(e.message.split('\n')[0], `${FILE}: ${key}: ${message}`)
}

const accepts = (vars: Vars, opts?: Parameters<typeof derive>[1]) => derive(vars, opts)

/** Each good value is accepted; each bad one refused as "expected …, got <JSON>". */
function table(key: string, expected: string, good: unknown[], bad: unknown[]) {
  for (const value of good) {
    try {
      accepts({ [key]: value })
    } catch (e) {
      assert.unreachable(`${key}: ${JSON.stringify(value)} was refused: ${(e as Error).message}`)
    }
  }
  for (const value of bad) refuses({ [key]: value }, key, `expected ${expected}, got ${showJson(value)}`)
}

test('the default inventory passes, and the derived vars are what the templates use', () => {
  const v = accepts({})
  assert.is(v.kubernetes_tag, 'v1.36.2')
  assert.is(v.node_name, 'cp1')
  assert.is(v.advertise_address, '192.0.2.10')
  assert.is(v.flannel_image, 'ghcr.io/flannel-io/flannel:v0.28.9')
  assert.is(v.flannel_cni_plugin_image, 'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3')
  assert.is(v.metrics_server_image, 'registry.k8s.io/metrics-server/metrics-server:v0.9.0')
  assert.is(accepts({}, { host: 'w2' }).node_name, 'w2')
  // the images follow the versions
  const newer = accepts({ flannel_version: 'v0.29.0', metrics_server_version: 'v0.9.1', kubernetes_version: '1.36.3' })
  assert.equal([newer.flannel_image, newer.metrics_server_image, newer.kubernetes_tag], ['ghcr.io/flannel-io/flannel:v0.29.0', 'registry.k8s.io/metrics-server/metrics-server:v0.9.1', 'v1.36.3'])
})

test('kubernetes_version: major.minor.patch without v', () => {
  table('kubernetes_version', "a Kubernetes release like '1.36.2' (major.minor.patch, no 'v')", ['1.36.2', '1.37.0', '2.0.10'], ['v1.36.2', '1.36', '1.36.2-1.1', '1.36.2; reboot', '', 1.36])
  refuses({ kubernetes_version: null }, 'kubernetes_version', "expected a Kubernetes release like '1.36.2' (major.minor.patch, no 'v'), got nothing")
})

test("kubernetes_package_revision: dotted numbers, or '' for the newest (an unquoted 1.1 in YAML is a number, and refused)", () => {
  table('kubernetes_package_revision', "a package revision like '2.1' (the apt version is <kubernetes_version>-<this>), or '' for the repository's newest", ['1.1', '1', '2.1.3', ''], ['1.1-x', '1.', ' ', 'a', 1.1])
})

test('containerd_package: a Debian package name', () => {
  table('containerd_package', "a Debian package name like 'containerd' or 'containerd.io'", ['containerd', 'containerd.io', 'containerd2+x-1'], ['c', 'Containerd', '-containerd', 'containerd;id', 'containerd io', ''])
})

test('cri_socket: a unix:/// URL with a plain path', () => {
  table('cri_socket', "a unix socket URL like 'unix:///var/run/containerd/containerd.sock'", ['unix:///var/run/containerd/containerd.sock', 'unix:///run/crio/crio.sock'], ['/var/run/containerd/containerd.sock', 'unix://run/x.sock', 'tcp://127.0.0.1:2375', 'unix:///run/a b.sock', "unix:///run/'x'.sock", ''])
})

test("durations: Go's time.ParseDuration units, as the kube components read them", () => {
  const good = ['15s', '5m', '1h30m', '1.5s', '250ms', '10us', '10µs', '1ns']
  const bad = ['15', '15 s', '-1s', '1d', 's', '', 15]
  table('hpa_downscale_stabilization', "a duration like '15s' or '5m'", good, bad)
  table('metric_resolution', "a duration like '15s'", good, bad)
})

test('image tags: the versions that become image tags', () => {
  const expected = "an image tag like 'v0.28.9' (letters, digits, '.', '_', '-')"
  for (const key of ['flannel_version', 'flannel_cni_plugin_version', 'metrics_server_version']) {
    table(key, expected, ['v0.28.9', 'v1.9.1-flannel3', 'latest', '_x', 'a'.repeat(128)], ['', '.v1', '-v1', 'v1:x', 'v1 x', 'v1"', 'v1\n- x', 'a'.repeat(129), 0.28])
  }
})

test('images: derived from the versions, or set whole (a mirror) and then checked as image references', () => {
  const mirror = accepts({ flannel_image: 'registry.local:5000/mirror/flannel:v0.28.9', metrics_server_image: 'registry.local/ms@sha256:' + 'a'.repeat(64) })
  assert.is(mirror.flannel_image, 'registry.local:5000/mirror/flannel:v0.28.9')
  assert.is(mirror.flannel_cni_plugin_image, 'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3', 'the ones not set are still derived')
  for (const [key, version] of [['flannel_image', 'flannel_version'], ['flannel_cni_plugin_image', 'flannel_cni_plugin_version'], ['metrics_server_image', 'metrics_server_version']] as const) {
    table(key, `an image reference like 'registry.example/name:tag' (or leave it unset: made from ${version})`, ['flannel', 'docker.io/library/busybox:1.36', 'localhost:5000/a/b_c__d-e:tag'], ['', 'UPPER', 'library/Busybox', 'ghcr.io/x:"y', 'a b', 'x:tag\n- evil', 'x:', 'x@sha256:short', `x/${'a'.repeat(260)}`, 3])
  }
})

test('booleans: true or false, not strings', () => {
  for (const key of ['kubelet_insecure_tls', 'schedule_on_control_plane']) table(key, 'true or false', [true, false], ['true', 'yes', 1, 0])
})

test('wait_timeout: whole seconds from 1 to 86400', () => {
  table('wait_timeout', 'whole seconds from 1 to 86400', [1, 300, 86_400], [0, -5, 86_401, 1.5, '300'])
})

test('kubernetes_tag: derived as v<kubernetes_version>, or set as vX.Y.Z', () => {
  table('kubernetes_tag', "a version tag like 'v1.36.2' (or leave it unset: v<kubernetes_version>)", ['v1.36.2'], ['1.36.2', 'v1.36', 'latest', 136])
  assert.is(accepts({ kubernetes_tag: 'v1.36.1' }).kubernetes_tag, 'v1.36.1')
})

test("advertise_address: an IPv4 address; derived from the host's address when that is one", () => {
  table('advertise_address', "an IPv4 address like '192.0.2.10' (or leave it unset: the host's address)", ['192.0.2.99', '198.51.100.1'], ['192.0.2.256', '192.0.2', 'cp1.example.com', '::1', ''])
  const named: Children = { control_plane: { hosts: { cp1: { address: 'cp1.example.com' } } } }
  assert.is(accepts({}, { children: named }).advertise_address, undefined, 'a DNS name: 20-control-plane asks the host for its source address')
})

test('node names: node_name must be a Kubernetes node name; without it the host name, lowercased, must be one', () => {
  table('node_name', 'a Kubernetes node name (lowercase letters, digits, - and .)', ['cp1', 'node-1.example.com', 'a'.repeat(253)], ['Node1', '-a', 'a-', 'a_b', 'a..b', 'a'.repeat(254), ''])
  const hosts = (name: string, extra: Vars = {}): Children => ({ control_plane: { hosts: { [name]: { address: '192.0.2.10', ...extra } } } })
  assert.is(accepts({}, { children: hosts('CP1'), host: 'CP1' }).node_name, 'cp1')
  refuses({}, 'cp_1.node_name', "the host name 'cp_1' is not a valid Kubernetes node name (lowercase letters, digits, - and ., starting and ending alphanumeric); rename the host or set node_name for it", { children: hosts('cp_1'), host: 'cp_1' })
  assert.is(accepts({}, { children: hosts('cp_1', { node_name: 'cp-1' }), host: 'cp_1' }).node_name, 'cp-1')
})

test("flannel_manifest: '' (the template), an http(s) URL, or a file beside the inventory", () => {
  fs.mkdirSync(path.join(tmp, 'manifests'), { recursive: true })
  fs.writeFileSync(path.join(tmp, 'manifests', 'flannel.yml'), 'kind: List\n')
  for (const source of ['', 'https://github.com/flannel-io/flannel/releases/download/v0.28.9/kube-flannel.yml', 'http://mirror.local/kube-flannel.yml', 'manifests/flannel.yml', path.join(tmp, 'manifests', 'flannel.yml')]) {
    accepts({ flannel_manifest: source })
  }
  const expected = "'' (our template), an http:// or https:// URL, or a local file"
  for (const url of ['ftp://mirror.local/kube-flannel.yml', 'https://mirror.local/$(id).yml', 'https://mirror.local/a b.yml', "https://mirror.local/'x'.yml", 'https://', 'file:///etc/passwd']) {
    refuses({ flannel_manifest: url }, 'flannel_manifest', `expected ${expected}, got ${JSON.stringify(url)}`)
  }
  refuses({ flannel_manifest: 12 }, 'flannel_manifest', `expected ${expected}, got 12`)
  refuses({ flannel_manifest: 'manifests/missing.yml' }, 'flannel_manifest', `${path.join(tmp, 'manifests', 'missing.yml')} does not exist (expected ${expected})`)
  refuses({ flannel_manifest: 'manifests' }, 'flannel_manifest', `${path.join(tmp, 'manifests')} is not a file (expected ${expected})`)
})

test('pod_subnet: an IPv4 network without host bits, with a /24 for every node', () => {
  accepts({ pod_subnet: '10.244.0.0/22' }) // 3 nodes: 4 /24s
  accepts({ pod_subnet: '172.16.0.0/12' })
  for (const bad of ['ten', '10.244.0.0', '10.244.0.0/33', '256.0.0.0/8', '10.244.0.0/-1', ' 10.244.0.0/16']) {
    refuses({ pod_subnet: bad }, 'pod_subnet', `expected an IPv4 network like '10.244.0.0/16', got ${JSON.stringify(bad)}: not an IPv4 CIDR`)
  }
  refuses({ pod_subnet: '10.244.1.0/16' }, 'pod_subnet', `expected an IPv4 network like '10.244.0.0/16', got "10.244.1.0/16": host bits are set (the network is 10.244.0.0/16)`)
  refuses({ pod_subnet: 16 }, 'pod_subnet', `expected an IPv4 network like '10.244.0.0/16', got 16: not a string`)
  refuses({ pod_subnet: '10.244.0.0/23' }, 'pod_subnet', 'expected a network with room for a /24 per node (3 node(s): /22 or larger), got "10.244.0.0/23"')
  const one: Children = { control_plane: { hosts: { cp1: { address: '192.0.2.10' } } } }
  accepts({ pod_subnet: '10.244.0.0/23' }, { children: one })
  refuses({ pod_subnet: '10.244.0.0/24' }, 'pod_subnet', 'expected a network with room for a /24 per node (1 node(s): /23 or larger), got "10.244.0.0/24"', { children: one })
})

test("service_subnet: an IPv4 network from /12 (the API server's largest) to /28", () => {
  accepts({ service_subnet: '10.96.0.0/12' })
  accepts({ service_subnet: '10.96.0.0/28' })
  refuses({ service_subnet: '10.96.0.0/11' }, 'service_subnet', `expected a network from /12 (the API server's largest) to /28, got "10.96.0.0/11"`)
  refuses({ service_subnet: '10.96.0.0/29' }, 'service_subnet', `expected a network from /12 (the API server's largest) to /28, got "10.96.0.0/29"`)
  refuses({ service_subnet: 'x' }, 'service_subnet', `expected an IPv4 network like '10.96.0.0/12', got "x": not an IPv4 CIDR`)
  refuses({ service_subnet: '10.96.0.1/12' }, 'service_subnet', `expected an IPv4 network like '10.96.0.0/12', got "10.96.0.1/12": host bits are set (the network is 10.96.0.0/12)`)
})

test("the pod and service networks: apart from each other and from every host's address", () => {
  refuses({ pod_subnet: '10.96.0.0/16' }, 'pod_subnet', '10.96.0.0/16 overlaps service_subnet 10.96.0.0/12; pods and services need separate ranges')
  refuses({ pod_subnet: '10.0.0.0/8' }, 'pod_subnet', '10.0.0.0/8 overlaps service_subnet 10.96.0.0/12; pods and services need separate ranges')
  accepts({ pod_subnet: '10.112.0.0/16' }) // just past 10.96.0.0/12
  // every host inside is named, not only the one being derived
  const e = refusal({ pod_subnet: '192.0.0.0/16' }, { host: 'w2' })
  assert.is(e.path, 'pod_subnet')
  assert.equal(e.message.split('\n'), ['cp1', 'w1', 'w2'].map((h, i) => `${FILE}: pod_subnet: 192.0.0.0/16 contains ${h}'s own address 192.0.2.1${i}; choose a range that no host is in`))
  // the address kubeadm advertises counts too
  const cp1: Children = { control_plane: { hosts: { cp1: { address: '192.0.2.10', advertise_address: '10.96.0.5' } } } }
  refuses({}, 'service_subnet', "10.96.0.0/12 contains cp1's own address 10.96.0.5; choose a range that no host is in", { children: cp1 })
})

test('exactly one control-plane host, which may also be in workers (kubespray)', () => {
  refuses({}, 'all.children.control_plane', 'expected exactly one host in the group control_plane, found none; put the host kubeadm init runs on under all.children.control_plane.hosts', { children: { workers: THREE.workers! }, host: 'w1' })
  const two: Children = { control_plane: { hosts: { cp1: { address: '192.0.2.10' }, cp2: { address: '192.0.2.20' } } } }
  refuses({}, 'all.children.control_plane', 'expected exactly one host in the group control_plane, found 2 (cp1, cp2); a highly available control plane is not supported: keep one there and put the others under workers', { children: two })
  const both: Children = { control_plane: { hosts: { cp1: { address: '192.0.2.10' } } }, workers: { hosts: { cp1: {}, w1: { address: '192.0.2.11' } } } }
  accepts({}, { children: both, host: 'w1' })
})

test('every problem of a host at once, each on its own line naming the file and the key', () => {
  const e = refusal({ kubernetes_version: 'v1', wait_timeout: 0, pod_subnet: 'x', kubelet_insecure_tls: 'yes' })
  assert.is(e.path, 'kubernetes_version')
  const lines = e.message.split('\n')
  assert.equal(
    lines.map((l) => l.split(': ')[1]),
    ['kubernetes_version', 'kubelet_insecure_tls', 'wait_timeout', 'pod_subnet']
  )
  for (const l of lines) assert.ok(l.startsWith(`${FILE}: `), l)
  // the same list, without the error around it
  const inv = parseInventory(dump({ all: { children: THREE } }), FILE)
  const problems = clusterVarProblems({ ...clusterDefaults, inventory_file: FILE, kubernetes_version: 'v1', wait_timeout: 0 }, inv.hosts[0]!, inv)
  assert.equal(problems.map((p) => p.key), ['kubernetes_version', 'wait_timeout'])
})

test('bad vars in every family at once (cluster, ray, hpa, aws): the CLI lists every one before anything connects, exit 5', async () => {
  const file = path.join(tmp, 'bad-vars.yaml')
  const vars = {
    pod_subnet: 'x',
    wait_timeout: 0,
    ray: { image: 'Not An Image', head_cpu: '0' },
    hpa: { name: 'Bad_Name', min_replicas: 0 },
    aws: { duration_seconds: 50_000, region: 'moon', role_arn: 'nope' },
  }
  fs.writeFileSync(file, dump({ all: { vars, children: { control_plane: { hosts: { cp1: { connection: 'local' } } }, workers: { hosts: {} } } } }))
  const r = await zxplayInProcess(['run', 'site', '--check', '-i', file])
  assert.is(r.code, 5, r.stderr)
  const keys = r.stderr.split('\n').filter(Boolean).map((l) => l.replace(/^✗ /, '').split(': ')).map(([f, key]) => (f === file ? key : `${f}: ${key}`))
  assert.equal(keys.sort(), ['aws.duration_seconds', 'aws.region', 'aws.role_arn', 'hpa.min_replicas', 'hpa.name', 'pod_subnet', 'ray.head_cpu', 'ray.image', 'wait_timeout'])
  assert.is(r.stdout, '', 'nothing ran')
})

test('parseIPv4 and parseCidr', () => {
  assert.is(parseIPv4('192.0.2.10'), 3_221_225_994)
  assert.is(parseIPv4('255.255.255.255'), 2 ** 32 - 1)
  for (const bad of ['192.0.2.256', '1.2.3', '1.2.3.4.5', 'a.b.c.d', ' 1.2.3.4', '1.2.3.4 ', '']) assert.is(parseIPv4(bad), undefined, bad)
  assert.equal(parseCidr('10.244.0.0/16'), { base: parseIPv4('10.244.0.0'), prefix: 16, text: '10.244.0.0/16' })
  assert.equal(parseCidr('0.0.0.0/0'), { base: 0, prefix: 0, text: '0.0.0.0/0' })
  assert.is(parseCidr('10.0.0.1/32').constructor, Object)
  assert.is(parseCidr('10.0.0.1/31'), 'host bits are set (the network is 10.0.0.0/31)')
  assert.is(parseCidr(null), 'not a string')
})

test("quantities: CPU as decimal cores or whole millicores, memory as bytes with Kubernetes' suffixes", () => {
  for (const q of ['1', '0.5', '2.25', '500m', '1000m', '0']) assert.ok(isCpuQuantity(q), q)
  for (const q of ['', '1.5m', '-1', '+1', '1e3', '.5', '1.', ' 1', '1 ', '1k', '1Mi', 'm', '1m5', 1, undefined]) assert.not.ok(isCpuQuantity(q), String(q))
  for (const q of ['1Gi', '512Mi', '1.5Gi', '1G', '100k', '1048576', '1Ki', '1Ti', '1Pi', '1Ei', '2T', '2P', '2E', '1M']) assert.ok(isMemoryQuantity(q), q)
  for (const q of ['', 'Gi', '1gi', '1GB', '1Mb', '1K', '1m', '1e9', '1E3x', '-1Gi', '1 Gi', '1Gi ', '.5Gi', 1_073_741_824, null]) assert.not.ok(isMemoryQuantity(q), String(q))
})

test('the Ray quantities go through the same checks, with their own messages (and above zero)', () => {
  const ray = (values: Vars) => ({ ray: values })
  for (const cpu of ['1', '0.5', '250m']) derive(ray({ worker_cpu: cpu, head_cpu: cpu }), { pb: RAY })
  for (const mem of ['1Gi', '1.5Gi', '2G', '1073741824']) derive(ray({ head_memory: mem }), { pb: RAY })
  for (const cpu of ['0', '0m', '0.0', '1.5m', '1e3', 'one', 1]) {
    refuses(ray({ worker_cpu: cpu }), 'ray.worker_cpu', `expected a CPU quantity above zero like '1' or '500m' (the HPA measures against it), got ${JSON.stringify(cpu)}`, { pb: RAY })
  }
  refuses(ray({ head_cpu: '-1' }), 'ray.head_cpu', `expected a CPU quantity above zero like '1' or '500m' (the HPA measures against it), got "-1"`, { pb: RAY })
  for (const mem of ['0', '0Gi', '1GB', '1gi', '-1Gi', 2]) {
    refuses(ray({ head_memory: mem }), 'ray.head_memory', `expected a memory quantity like '1Gi' or '512Mi', got ${JSON.stringify(mem)}`, { pb: RAY })
  }
  refuses(ray({ worker_memory: '1 Gi' }), 'ray.worker_memory', `expected a memory quantity like '1Gi' or '512Mi', got "1 Gi"`, { pb: RAY })
})

// What the checks protect, and what stands behind them: the cluster templates put every value
// through `| json`, so even a value that got past the checks stays one YAML scalar.
test('the cluster templates: the derived images reach the manifests as they are; no value can break out of its YAML scalar', async () => {
  const templates = ['kubeadm/kubeadm-config.yaml', 'flannel/kube-flannel.yaml', 'metrics-server/components.yaml']
  const render = async (v: Vars) =>
    Promise.all(templates.map(async (t) => loadAll(await renderFile(path.join(import.meta.dirname, '../../templates', t), { inventory_hostname: 'cp1', ...v, metrics_server_args: metricsServerArgs(v as Parameters<typeof metricsServerArgs>[0]) })) as any[]))
  const v = accepts({})
  const [kubeadm, flannel, metrics] = await render(v)
  const ds = flannel!.find((o) => o.kind === 'DaemonSet').spec.template.spec
  assert.equal([...ds.initContainers, ...ds.containers].map((c: any) => c.image), [v.flannel_cni_plugin_image, v.flannel_image, v.flannel_image])
  assert.is(metrics!.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].image, v.metrics_server_image)
  assert.is(kubeadm![1].kubernetesVersion, 'v1.36.2')

  // Unchecked values (as if the checks were bypassed): every rendered document keeps its keys,
  // and the hostile text arrives as the value, byte for byte.
  const evil = '"\n  privileged: true\n# {{ x }}\u2028- z: 1'
  const hostile: Vars = { ...v, inventory_hostname: `cp1${evil}` }
  for (const key of ['flannel_image', 'flannel_cni_plugin_image', 'metrics_server_image', 'flannel_version', 'metrics_server_version', 'pod_subnet', 'node_name', 'kubernetes_tag', 'cri_socket', 'advertise_address', 'service_subnet', 'hpa_downscale_stabilization']) hostile[key] = `${String(v[key])}${evil}`
  const bent = await render(hostile)
  const keys = (x: unknown): unknown => (Array.isArray(x) ? x.map(keys) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, keys(y)])) : typeof x)
  assert.equal(keys(bent), keys([kubeadm, flannel, metrics]))
  const bentDs = bent[1]!.find((o) => o.kind === 'DaemonSet').spec.template.spec
  assert.is(bentDs.containers[0].image, hostile.flannel_image)
  assert.is(bent[2]!.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].image, hostile.metrics_server_image)
})

test.run()
