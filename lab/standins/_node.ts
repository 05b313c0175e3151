// The node's OS state, /var/lib/zxlab/node.json: written by the OS stand-ins (apt-get, systemctl,
// modprobe, ctr…) and by kubeadm (the kubelet unit), read by kubeadm, kubectl and the controllers.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { p } from './_fs.ts'
import { writeAtomic } from './_io.ts'

export type Package = { version: string; held: boolean; auto?: boolean }
export type ContainerdConfig = { version: number; systemdCgroup: boolean; sandbox: string }
export type Service = {
  enabled: boolean
  active: boolean
  // why an inactive service is not running: crash-looping (systemd restarts it), or stopped by failure
  sub?: 'auto-restart' | 'failed'
  error?: string // the last start failure, shown by `systemctl status`
  since?: string // ISO time of the last state change
  config?: ContainerdConfig // containerd only: the config it runs with
}
export type Image = { ref: string; digest: string; size: number }
export type NodeState = {
  packages: Record<string, Package>
  services: Record<string, Service>
  modules: string[]
  lists?: { updated: number; repos: string[] } // the last successful `apt-get update`
  images?: Record<string, Image[]> // containerd images per namespace
}

export const NODE_JSON = '/var/lib/zxlab/node.json'

/** A host's files: root '/' is this host's own (the kubeadm/kubectl stand-ins also read other hosts'). */
type Root = { root: string }
const SELF: Root = { root: '/' }

const nodeFile = (host: Root) => p(path.join(host.root, NODE_JSON))

/** The node's state; a missing file is a fresh node (nothing installed). Throws on a broken file. */
export function readState(host: Root = SELF): NodeState {
  let raw: string
  try {
    raw = fs.readFileSync(nodeFile(host), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    raw = '{}'
  }
  const s = JSON.parse(raw) as Partial<NodeState>
  const real = process.env.ZXLAB_REAL_HOST === '1'
  const packages = { ...s.packages, ...(real ? dpkgPackages(host) : {}) }
  const services = { ...s.services, ...(real && host.root === '/' ? systemdServices() : {}) }
  return { ...s, packages, services, modules: real ? kernelModules(host) : s.modules ?? [] }
}

/** On a real host, the kernel's modules: the loaded ones (/proc/modules) and the built-in ones (modules.builtin). */
function kernelModules(host: Root): string[] {
  const read = (f: string) => {
    try {
      return fs.readFileSync(p(path.join(host.root, f)), 'utf8')
    } catch {
      return ''
    }
  }
  const loaded = read('/proc/modules').split('\n').map((l) => l.split(' ')[0] as string)
  const builtin = read(`/lib/modules/${os.release()}/modules.builtin`).split('\n').map((l) => path.basename(l, '.ko'))
  return [...new Set([...loaded, ...builtin])].filter(Boolean)
}

/**
 * On a real Debian host (the real-host lab's packaged stand-ins set ZXLAB_REAL_HOST=1), what is
 * installed is dpkg's own database: /var/lib/dpkg/status.
 */
function dpkgPackages(host: Root): Record<string, Package> {
  const out: Record<string, Package> = {}
  let text = ''
  try {
    text = fs.readFileSync(p(path.join(host.root, '/var/lib/dpkg/status')), 'utf8')
  } catch {
    return out
  }
  for (const stanza of text.split(/\n\n+/)) {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1]
    const [name, status, version] = [field('Package'), field('Status'), field('Version')]
    if (name && version && status?.endsWith(' installed')) out[name] = { version, held: status.startsWith('hold ') }
  }
  return out
}

/** On a real Debian host, containerd's and the kubelet's state are systemd's own. */
function systemdServices(): Record<string, Service> {
  const r = spawnSync('systemctl', ['show', 'containerd.service', 'kubelet.service', '-p', 'Id,ActiveState,SubState,UnitFileState'], { encoding: 'utf8' })
  const out: Record<string, Service> = {}
  for (const block of (r.stdout ?? '').split(/\n\n+/)) {
    const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(block)?.[1] ?? ''
    const id = field('Id').replace(/\.service$/, '')
    if (!id || field('UnitFileState') === '') continue
    const sub = field('SubState')
    out[id] = { enabled: field('UnitFileState') === 'enabled', active: field('ActiveState') === 'active', ...(sub === 'auto-restart' || sub === 'failed' ? { sub } : {}) }
  }
  return out
}

/** As readState, but a file that cannot be read or parsed is a fresh node too (kubeadm, kubectl). */
export function readNodeState(host: Root = SELF): NodeState {
  try {
    return readState(host)
  } catch {
    return { packages: {}, services: {}, modules: [] }
  }
}

/** Write this host's state atomically (temp file + rename), keeping the file's mode. */
export function writeState(state: NodeState) {
  const file = nodeFile(SELF)
  let mode = 0o644
  try {
    mode = fs.statSync(file).mode & 0o777
  } catch {
    // new file
  }
  writeAtomic(file, JSON.stringify(state, null, 2) + '\n', mode)
}

/** Update this host's state (a broken file counts as a fresh node, as in readNodeState). */
export function updateNodeState(fn: (s: NodeState) => void) {
  const s = readNodeState()
  fn(s)
  writeState(s)
}
