// Preflight facts and the checks on them. Pure: facts in, problems (each with its fix) out.
import { FACTS_COMMAND, keyValues, parseFacts, type Facts } from '../../lib/index.ts'

/** The runner's facts, and what kubeadm's preflight looks at. */
export type NodeFacts = Facts & {
  cgroup: string // stat -fc %T /sys/fs/cgroup: cgroup2fs for v2
  swapOn: boolean
  productUuid: string
  mac: string
  listening: number[] // TCP ports something listens on
  apiServerManifest: boolean // our cluster's control plane is already here
  kubeletConf: boolean // this node already belongs to a cluster
  runtimeSocket: boolean // containerd answers on its socket (not yet on a fresh host)
  missing: string[] // required commands not found
}

export const REQUIRED_COMMANDS = ['curl', 'gpg', 'sysctl', 'ip', 'mount', 'sed', 'sha256sum', 'base64', 'timeout', 'sudo']

/** One command that prints every fact as key=value: the runner's facts, then preflight's own. */
export const FACTS_SCRIPT = [
  FACTS_COMMAND,
  'echo "cgroup=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo none)"',
  `echo "swap=$(awk 'NR>1' /proc/swaps | wc -l)"`,
  'echo "productUuid=$(cat /sys/class/dmi/id/product_uuid 2>/dev/null || cat /etc/machine-id 2>/dev/null || echo unknown)"',
  `echo "mac=$(ip -o link 2>/dev/null | awk '$2 != "lo:" {for (i=1;i<=NF;i++) if ($i=="link/ether") {print $(i+1); exit}}')"`,
  `echo "listening=$(ss -Hltn 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -un | tr '\\n' ' ')"`,
  'echo "apiServerManifest=$([ -f /etc/kubernetes/manifests/kube-apiserver.yaml ] && echo 1 || echo 0)"',
  'echo "kubeletConf=$([ -f /etc/kubernetes/kubelet.conf ] && echo 1 || echo 0)"',
  'echo "runtimeSocket=$([ -S /run/containerd/containerd.sock ] && echo 1 || echo 0)"',
  `echo "missing=$(for c in ${REQUIRED_COMMANDS.join(' ')}; do command -v $c >/dev/null || printf '%s ' $c; done)"`,
].join('\n')

export function parseNodeFacts(stdout: string): NodeFacts {
  const kv = keyValues(stdout)
  const get = (k: string) => kv[k] ?? ''
  const words = (k: string) => get(k).split(/\s+/).filter(Boolean)
  return {
    ...parseFacts(stdout),
    cgroup: get('cgroup'),
    swapOn: Number(get('swap')) > 0,
    productUuid: get('productUuid'),
    mac: get('mac'),
    listening: words('listening').map(Number),
    apiServerManifest: get('apiServerManifest') === '1',
    kubeletConf: get('kubeletConf') === '1',
    runtimeSocket: get('runtimeSocket') === '1',
    missing: words('missing'),
  }
}

export const CONTROL_PLANE_PORTS = [6443, 2379, 2380, 10250, 10257, 10259]
export const WORKER_PORTS = [10250]

export type Role = 'control-plane' | 'worker'
export type Problem = { problem: string; fix: string }

/** What kubeadm (or the kubelet) would fail on for this host, knowing the other hosts too. */
export function problemsOf(name: string, role: Role, f: NodeFacts, others: Record<string, NodeFacts>): Problem[] {
  const out: Problem[] = []
  if (!['debian', 'ubuntu'].includes(f.distro)) out.push({ problem: `unsupported distribution ${f.distro} ${f.distroVersion}`, fix: 'use Debian 12+ or Ubuntu 22.04+' })
  if (!['x86_64', 'aarch64'].includes(f.arch)) out.push({ problem: `unsupported architecture ${f.arch}`, fix: 'use an amd64 or arm64 machine' })
  if (role === 'control-plane' && f.cpus < 2) out.push({ problem: `${f.cpus} CPU (kubeadm needs 2 on a control plane)`, fix: 'give the machine at least 2 CPUs' })
  if (role === 'control-plane' && f.memoryMb < 1700) out.push({ problem: `${f.memoryMb} MB of memory (kubeadm needs 1700 MB on a control plane)`, fix: 'give the machine at least 2 GB of memory' })
  if (f.cgroup !== 'cgroup2fs') out.push({ problem: `cgroup v1 (/sys/fs/cgroup is ${f.cgroup}); the kubelet 1.35+ refuses to start on it`, fix: 'boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1), the default on Debian 11+ and Ubuntu 21.10+' })
  for (const [other, o] of Object.entries(others)) {
    if (other === name) continue
    if (o.hostname && o.hostname === f.hostname) out.push({ problem: `hostname ${f.hostname} is also ${other}'s`, fix: 'give every node its own hostname (hostnamectl set-hostname)' })
    if (o.productUuid && o.productUuid !== 'unknown' && o.productUuid === f.productUuid) out.push({ problem: `product_uuid/machine-id ${f.productUuid} is also ${other}'s (a cloned machine?)`, fix: 'regenerate /etc/machine-id (rm /etc/machine-id; systemd-machine-id-setup) or give the VM its own UUID' })
    if (o.mac && o.mac === f.mac) out.push({ problem: `MAC address ${f.mac} is also ${other}'s`, fix: 'give every node its own MAC address' })
  }
  // Ports held by our own cluster are fine: a converged rerun finds them in use.
  const ours = role === 'control-plane' ? f.apiServerManifest : f.kubeletConf
  if (!ours) {
    for (const port of role === 'control-plane' ? CONTROL_PLANE_PORTS : WORKER_PORTS) {
      if (f.listening.includes(port)) out.push({ problem: `port ${port} is in use`, fix: `stop what listens on ${port} (ss -ltnp 'sport = :${port}')` })
    }
  }
  if (f.missing.length) out.push({ problem: `missing commands: ${f.missing.join(', ')}`, fix: `apt-get install ${f.missing.map((c) => ({ gpg: 'gpg', sysctl: 'procps', ip: 'iproute2', timeout: 'coreutils', sha256sum: 'coreutils', base64: 'coreutils', mount: 'mount' })[c] ?? c).join(' ')}` })
  return out
}
