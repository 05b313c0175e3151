// The cluster vars' check (vars/cluster.ts's spec): every problem of a host at once, each naming
// the key and what was expected. Pure apart from looking for a local Flannel manifest.
//
// Checked here: versions, image tags and images (they reach templates and apt), the CRI socket,
// the pod and service CIDRs (valid IPv4 networks, room for a /24 per node, no overlap with each
// other nor with any host's own address), durations, booleans, timeouts, a Kubernetes-valid node
// name, a local or http(s) Flannel manifest, and exactly one control-plane host (HA is not
// supported). The other families check their own blocks (vars/ray.ts, vars/aws.ts, vars/demo.ts),
// with the quantity checks below.
import fs from 'node:fs'
import path from 'node:path'
import { showJson } from '../../lib/base/yaml.ts'
import type { Host, InventoryView, Problem, Vars } from '../../lib/index.ts'
import { clusterImages } from './images.ts'

/** Every problem of this host's cluster vars and of the inventory's topology. */
export const clusterProblems = (v: Vars, host: Host, inventory: InventoryView): Problem[] => [...clusterVarProblems(v, host, inventory), ...topologyProblems(inventory)]

const show = (x: unknown) => (x === undefined || x === null ? 'nothing' : showJson(x))

// Docker's tag grammar: what may follow `image:` after the colon; also safe unquoted in YAML.
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}'
const IMAGE_TAG = new RegExp(`^${TAG}$`)
// Docker's reference grammar: [registry[:port]/]path[:tag][@sha256:digest].
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const DOMAIN = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\\d+)?'
const IMAGE_REF = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@sha256:[a-f0-9]{64})?$`)

/** A Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]. */
export const isImageRef = (x: unknown): x is string => typeof x === 'string' && x.length <= 255 && IMAGE_REF.test(x)

const K8S_VERSION = /^\d+\.\d+\.\d+$/
// empty: the repository's newest revision of the pinned release
const PACKAGE_REVISION = /^(\d+(\.\d+)*)?$/
// Debian policy: lowercase letters, digits, + - . and at least two characters, starting alphanumeric.
const DEB_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/
const UNIX_SOCKET = /^unix:\/\/\/[A-Za-z0-9_./-]+$/
// Go's time.ParseDuration, as the kube components read these flags.
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/
// A Kubernetes node name: a DNS-1123 subdomain.
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
/** Flannel gives every node a /24 of the pod network (its SubnetLen), like the controller-manager's node-cidr-mask-size. */
const NODE_PREFIX = 24

export function clusterVarProblems(v: Vars, host: Host, inventory: InventoryView): Problem[] {
  const out: Problem[] = []
  const bad = (key: string, expected: string) => out.push({ key, message: `expected ${expected}, got ${show(v[key])}` })
  const str = (key: string, re: RegExp, expected: string) => {
    const x = v[key]
    if (typeof x !== 'string' || !re.test(x)) bad(key, expected)
  }

  str('kubernetes_version', K8S_VERSION, "a Kubernetes release like '1.36.2' (major.minor.patch, no 'v')")
  str('kubernetes_package_revision', PACKAGE_REVISION, "a package revision like '2.1' (the apt version is <kubernetes_version>-<this>), or '' for the repository's newest")
  str('containerd_package', DEB_PACKAGE, "a Debian package name like 'containerd' or 'containerd.io'")
  str('cri_socket', UNIX_SOCKET, "a unix socket URL like 'unix:///var/run/containerd/containerd.sock'")
  str('hpa_downscale_stabilization', GO_DURATION, "a duration like '15s' or '5m'")
  str('metric_resolution', GO_DURATION, "a duration like '15s'")
  for (const { version } of Object.values(clusterImages)) str(version, IMAGE_TAG, "an image tag like 'v0.28.9' (letters, digits, '.', '_', '-')")
  for (const key of ['kubelet_insecure_tls', 'schedule_on_control_plane']) if (typeof v[key] !== 'boolean') bad(key, 'true or false')
  const wait = v.wait_timeout
  if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 1 || wait > 86_400) bad('wait_timeout', 'whole seconds from 1 to 86400')
  if (v.kubernetes_tag !== undefined && (typeof v.kubernetes_tag !== 'string' || !/^v\d+\.\d+\.\d+$/.test(v.kubernetes_tag))) bad('kubernetes_tag', "a version tag like 'v1.36.2' (or leave it unset: v<kubernetes_version>)")
  if (v.advertise_address !== undefined && (typeof v.advertise_address !== 'string' || !parseIPv4(v.advertise_address))) bad('advertise_address', "an IPv4 address like '192.0.2.10' (or leave it unset: the host's address)")
  for (const [key, { version }] of Object.entries(clusterImages)) {
    if (v[key] !== undefined && !isImageRef(v[key])) bad(key, `an image reference like 'registry.example/name:tag' (or leave it unset: made from ${version})`)
  }
  if (v.node_name !== undefined && (typeof v.node_name !== 'string' || v.node_name.length > 253 || !NODE_NAME.test(v.node_name))) bad('node_name', 'a Kubernetes node name (lowercase letters, digits, - and .)')
  if (v.node_name === undefined) {
    const name = host.name.toLowerCase()
    if (name.length > 253 || !NODE_NAME.test(name)) {
      out.push({ key: `${host.name}.node_name`, message: `the host name '${host.name}' is not a valid Kubernetes node name (lowercase letters, digits, - and ., starting and ending alphanumeric); rename the host or set node_name for it` })
    }
  }
  out.push(...manifestProblems(v))
  out.push(...networkProblems(v, host, inventory))
  return out
}

function manifestProblems(v: Vars): Problem[] {
  const source = v.flannel_manifest
  if (source === '' || source === undefined) return []
  const expected = "'' (our template), an http:// or https:// URL, or a local file"
  if (typeof source !== 'string') return [{ key: 'flannel_manifest', message: `expected ${expected}, got ${show(source)}` }]
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    let url: URL | undefined
    try {
      url = new URL(source)
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol) || /[\s'"`$\\]/.test(source)) return [{ key: 'flannel_manifest', message: `expected ${expected}, got ${show(source)}` }]
    return []
  }
  const file = path.resolve(String(v.inventory_dir ?? '.'), source)
  try {
    if (!fs.statSync(file).isFile()) return [{ key: 'flannel_manifest', message: `${file} is not a file (expected ${expected})` }]
  } catch {
    return [{ key: 'flannel_manifest', message: `${file} does not exist (expected ${expected})` }]
  }
  return []
}

// ---------------------------------------------------------------------------
// Quantities: the forms of Kubernetes' resource.Quantity the playbooks accept (no exponents, no sign)

/** CPU: decimal cores ('1', '0.5') or whole millicores ('500m'). */
export const isCpuQuantity = (x: unknown): x is string => typeof x === 'string' && /^(\d+(\.\d+)?|\d+m)$/.test(x)

/** Memory: bytes, plain or with a binary (Ki…Ei) or decimal (k…E) suffix: '1Gi', '512Mi', '1G', '1048576'. */
export const isMemoryQuantity = (x: unknown): x is string => typeof x === 'string' && /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(x)

// ---------------------------------------------------------------------------
// Networks

type Net = { base: number; prefix: number; text: string }

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return undefined
  const octets = m.slice(1).map(Number)
  if (octets.some((o) => o > 255)) return undefined
  return octets.reduce((n, o) => n * 256 + o, 0)
}

const formatIPv4 = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')
const size = (prefix: number) => 2 ** (32 - prefix)

/** An IPv4 network 'a.b.c.d/n' with no host bits set, or why not. */
export function parseCidr(s: unknown): Net | string {
  if (typeof s !== 'string') return 'not a string'
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s)
  const ip = m ? parseIPv4(m[1]!) : undefined
  const prefix = m ? Number(m[2]) : NaN
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) return 'not an IPv4 CIDR'
  const base = ip - (ip % size(prefix))
  if (base !== ip) return `host bits are set (the network is ${formatIPv4(base)}/${prefix})`
  return { base, prefix, text: s }
}

const contains = (n: Net, ip: number) => ip >= n.base && ip < n.base + size(n.prefix)
const overlaps = (a: Net, b: Net) => a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix)

function networkProblems(v: Vars, host: Host, inventory: InventoryView): Problem[] {
  const out: Problem[] = []
  const hostCount = Math.max(inventory.hosts.length, 1)
  const pod = parseCidr(v.pod_subnet)
  const service = parseCidr(v.service_subnet)
  if (typeof pod === 'string') out.push({ key: 'pod_subnet', message: `expected an IPv4 network like '10.244.0.0/16', got ${show(v.pod_subnet)}: ${pod}` })
  else if (pod.prefix > NODE_PREFIX - 1 || size(pod.prefix) / size(NODE_PREFIX) < hostCount) {
    out.push({ key: 'pod_subnet', message: `expected a network with room for a /${NODE_PREFIX} per node (${hostCount} node(s): /${Math.min(NODE_PREFIX - 1, NODE_PREFIX - Math.ceil(Math.log2(hostCount)))} or larger), got ${show(v.pod_subnet)}` })
  }
  if (typeof service === 'string') out.push({ key: 'service_subnet', message: `expected an IPv4 network like '10.96.0.0/12', got ${show(v.service_subnet)}: ${service}` })
  else if (service.prefix < 12 || service.prefix > 28) out.push({ key: 'service_subnet', message: `expected a network from /12 (the API server's largest) to /28, got ${show(v.service_subnet)}` })
  const nets = [typeof pod === 'string' ? undefined : (['pod_subnet', pod] as const), typeof service === 'string' ? undefined : (['service_subnet', service] as const)].filter((x) => x !== undefined)
  if (nets.length === 2 && overlaps(nets[0]![1], nets[1]![1])) {
    out.push({ key: 'pod_subnet', message: `${nets[0]![1].text} overlaps service_subnet ${nets[1]![1].text}; pods and services need separate ranges` })
  }
  // A host inside the pod or service range would have its own traffic routed into the cluster.
  const peers = inventory.hosts.length ? inventory.hosts : [host]
  for (const [key, net] of nets) {
    for (const h of peers) {
      const addresses = [h.address, h.name === host.name ? v.advertise_address : undefined].filter((a): a is string => typeof a === 'string')
      for (const a of new Set(addresses)) {
        const ip = parseIPv4(a)
        if (ip !== undefined && contains(net, ip)) out.push({ key, message: `${net.text} contains ${h.name}'s own address ${a}; choose a range that no host is in` })
      }
    }
  }
  return out
}

// ---------------------------------------------------------------------------
// Hosts

/**
 * Exactly one control-plane host (kubeadm HA needs a load balancer this project does not set up).
 * It may also be in workers (kubespray lists it in kube_node): then it is untainted, not joined.
 */
function topologyProblems(inv: InventoryView): Problem[] {
  if (!inv.groups.size) return [] // no inventory around the host (a test's)
  const cps = inv.groups.get('control_plane')?.hosts ?? []
  const out: Problem[] = []
  if (cps.length === 0) out.push({ key: 'all.children.control_plane', message: 'expected exactly one host in the group control_plane, found none; put the host kubeadm init runs on under all.children.control_plane.hosts' })
  if (cps.length > 1) out.push({ key: 'all.children.control_plane', message: `expected exactly one host in the group control_plane, found ${cps.length} (${cps.join(', ')}); a highly available control plane is not supported: keep one there and put the others under workers` })
  return out
}
