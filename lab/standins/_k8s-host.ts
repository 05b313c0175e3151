// Where the kubeadm/kubectl stand-ins are and what is on the host: the lab registry
// (/srv/zxplay-lab/lab.json), this host's name and addresses, installed versions (from the node's
// OS state, _node.ts), and paths on other hosts.
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { p } from './_fs.ts'
import { isRoot, readJson, readText, writeAtomic } from './_io.ts'
import type { NodeState } from './_node.ts'

export const LAB_JSON = '/srv/zxplay-lab/lab.json'
export const STORE_FILE = '/var/lib/etcd/zxlab-cluster.json'

export type LabHostEntry = { address: string; root: string }
export type LabRegistry = { hosts: Record<string, LabHostEntry>; settings?: { podStartSeconds?: number } }

export function labRegistry(): LabRegistry {
  try {
    const r = readJson<LabRegistry>(p(LAB_JSON))
    return { hosts: r?.hosts ?? {}, ...(r?.settings ? { settings: r.settings } : {}) }
  } catch {
    return { hosts: {} }
  }
}

/** A host as the stand-ins see it: its name, address and root ('/' = this host's own files). */
export type HostRef = { name: string; address: string; root: string }

/** This host's name (ZXLAB_HOSTNAME for tests, else the UTS hostname). */
export const hostname = () => (process.env.ZXLAB_HOSTNAME ?? os.hostname()).toLowerCase()

/** This host's IPv4 addresses (ZXLAB_HOST_ADDRESSES=a,b for tests). */
export function hostAddresses(): string[] {
  const env = process.env.ZXLAB_HOST_ADDRESSES
  if (env !== undefined) return env.split(',').map((s) => s.trim()).filter(Boolean)
  return Object.values(os.networkInterfaces())
    .flatMap((l) => l ?? [])
    .filter((i) => i.family === 'IPv4')
    .map((i) => i.address)
}

/** The default-route-ish address: first non-loopback IPv4. */
export const primaryAddress = () => hostAddresses().find((a) => !a.startsWith('127.')) ?? '127.0.0.1'

/** This host in the registry (by name, else by address), or a registry-less description of it. */
export function selfHost(): HostRef {
  const reg = labRegistry()
  const name = hostname()
  const byName = reg.hosts[name]
  if (byName) return { name, address: byName.address, root: byName.root }
  const addrs = hostAddresses()
  for (const [n, h] of Object.entries(reg.hosts)) {
    if (addrs.includes(h.address)) return { name: n, address: h.address, root: h.root }
  }
  return { name, address: primaryAddress(), root: '/' }
}

/** The registry host with that address or name (or undefined). */
export function hostByAddress(addressOrName: string): HostRef | undefined {
  const reg = labRegistry()
  for (const [n, h] of Object.entries(reg.hosts)) {
    if (h.address === addressOrName || n === addressOrName.toLowerCase()) return { name: n, address: h.address, root: h.root }
  }
  // /etc/hosts names of this host
  const hosts = readText(p('/etc/hosts')) ?? ''
  for (const line of hosts.split('\n')) {
    const [addr, ...names] = line.replace(/#.*/, '').trim().split(/\s+/)
    if (addr && names.includes(addressOrName)) {
      for (const [n, h] of Object.entries(reg.hosts)) if (h.address === addr) return { name: n, address: h.address, root: h.root }
    }
  }
  const self = selfHost()
  if (self.address === addressOrName || hostAddresses().includes(addressOrName)) return self
  return undefined
}

/** An absolute path on a host, through p(). */
export const onHost = (host: Pick<HostRef, 'root'>, abs: string) => p(path.join(host.root, abs))

export const podStartMs = (): number => {
  const env = process.env.ZXLAB_POD_START_SECONDS
  const s = env !== undefined ? Number(env) : labRegistry().settings?.podStartSeconds ?? 1
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0
}

// ---------------------------------------------------------------------------
// Versions

/** "1.36.1-1.1" → "v1.36.1". */
export function debToSemver(v: string): string {
  const up = v.replace(/^\d+:/, '').replace(/-[^-]*$/, '')
  return `v${up}`
}

export type Semver = { major: number; minor: number; patch: number; text: string }
export function parseSemver(v: string): Semver | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(v.trim())
  if (!m) return undefined
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: `v${m[1]}.${m[2]}.${m[3]}` }
}

export function installedVersion(state: NodeState, pkg: string): string | undefined {
  const v = state.packages[pkg]?.version
  return v ? debToSemver(v) : undefined
}

/**
 * Write a file on a host as a pod running as root there would (flannel's install-cni writes
 * /etc/cni/net.d). When this process cannot (kubectl run as the lab user), fall back to
 * `sudo -n` (the lab user has passwordless sudo).
 */
export function writeAsRoot(file: string, content: string, mode = 0o644): boolean {
  try {
    writeAtomic(file, content, mode)
    return true
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if ((code !== 'EACCES' && code !== 'EPERM') || isRoot()) return false
    const r = spawnSync('sudo', ['-n', 'sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', 'sh', file, mode.toString(8)], {
      input: content,
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    return r.status === 0
  }
}
