// Shared by the OS stand-ins (apt-get, apt-mark, dpkg, systemctl, containerd, modprobe, swapoff…):
// the node's OS state in /var/lib/zxlab/node.json, the process I/O (replaceable by unit tests, which
// call main() in-process), root checks and small helpers. Every absolute path goes through p().
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { p } from './_fs.ts'

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

export const STATE_FILE = '/var/lib/zxlab/node.json'

/** The node's state; a missing file is a fresh node (nothing installed). */
export function readState(): NodeState {
  let raw: string
  try {
    raw = fs.readFileSync(p(STATE_FILE), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { packages: {}, services: {}, modules: [] }
    throw e
  }
  const s = JSON.parse(raw) as Partial<NodeState>
  return { ...s, packages: s.packages ?? {}, services: s.services ?? {}, modules: s.modules ?? [] }
}

/** Write the state atomically (temp file + rename). */
export function writeState(state: NodeState) {
  const file = p(STATE_FILE)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 })
  fs.renameSync(tmp, file)
}

// ---------------------------------------------------------------------------
// Process I/O: unit tests replace these fields to capture output and fake stdin or the uid.

export const io = {
  out(s: string | Uint8Array) {
    process.stdout.write(s)
  },
  err(s: string) {
    process.stderr.write(s)
  },
  /** All of stdin (empty when it is closed). */
  stdin(): Buffer {
    try {
      return fs.readFileSync(0)
    } catch {
      return Buffer.alloc(0)
    }
  },
  isTTY: () => Boolean(process.stdin.isTTY),
  uid: () => process.getuid?.() ?? 0,
  cwd: () => process.cwd(),
}

export const say = (s: string) => io.out(s.endsWith('\n') || s === '' ? s : s + '\n')
export const warn = (s: string) => io.err(s.endsWith('\n') ? s : s + '\n')
export const isRoot = () => io.uid() === 0

/** Run main() when this file is the process's entry point (not when a test imports it). */
export function isEntry(url: string): boolean {
  const argv1 = process.argv[1]
  if (!argv1) return false
  try {
    return fs.realpathSync(argv1) === fs.realpathSync(fileURLToPath(url))
  } catch {
    return false
  }
}

/**
 * For the tools a package provides (kubelet, containerd, crictl…): the lab has a shim for every
 * tool on every host, so behave as the shell would if the package is not installed.
 */
export function requirePackage(tool: string, pkg: string): boolean {
  if (readState().packages[pkg]) return true
  warn(`zxlab: ${tool}: command not found (package ${pkg} is not installed on this node)`)
  return false
}

export const now = () => new Date().toISOString()

/** A file's text, or undefined when it does not exist. */
export function readText(abs: string): string | undefined {
  try {
    return fs.readFileSync(p(abs), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw e
  }
}

/** Where the stand-ins' own files are: next to the source or to the bundle. */
export const selfDir = (url: string) => path.dirname(fileURLToPath(url))

/** apt's and dpkg's version comparison (Debian policy: epoch, upstream, revision). */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const colon = v.indexOf(':')
    const epoch = colon >= 0 ? Number(v.slice(0, colon)) : 0
    const rest = colon >= 0 ? v.slice(colon + 1) : v
    const dash = rest.lastIndexOf('-')
    return { epoch, upstream: dash >= 0 ? rest.slice(0, dash) : rest, revision: dash >= 0 ? rest.slice(dash + 1) : '0' }
  }
  const order = (c: string) => (c === '~' ? -1 : c === '' ? 0 : /[A-Za-z]/.test(c) ? c.charCodeAt(0) : c.charCodeAt(0) + 256)
  const part = (x: string, y: string): number => {
    let i = 0
    let j = 0
    while (i < x.length || j < y.length) {
      // non-digits
      while ((i < x.length && !/\d/.test(x[i]!)) || (j < y.length && !/\d/.test(y[j]!))) {
        const cx = i < x.length && !/\d/.test(x[i]!) ? x[i]! : ''
        const cy = j < y.length && !/\d/.test(y[j]!) ? y[j]! : ''
        if (order(cx) !== order(cy)) return order(cx) - order(cy)
        if (cx) i++
        if (cy) j++
        if (!cx && !cy) break
      }
      let nx = ''
      let ny = ''
      while (i < x.length && /\d/.test(x[i]!)) nx += x[i++]
      while (j < y.length && /\d/.test(y[j]!)) ny += y[j++]
      const d = Number(nx || 0) - Number(ny || 0)
      if (d) return d
    }
    return 0
  }
  const x = split(a)
  const y = split(b)
  return x.epoch - y.epoch || part(x.upstream, y.upstream) || part(x.revision, y.revision)
}
