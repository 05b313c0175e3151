// What ~/.ssh/config says about a host, merged under the inventory (as Ansible does: the
// inventory's user/port/key win, the config fills the gaps and may rename the address).
// Parsing is left to the npm `ssh-config` package.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import SSHConfig from 'ssh-config'
import type { Host } from './inventory.ts'

export type SshTarget = {
  /** what we call it in messages: the inventory name or the jump spec */
  label: string
  hostname: string
  port: number
  user: string
  identityFiles: string[]
  /** the next hop(s), OpenSSH syntax: [user@]host[:port][,…] */
  proxyJump?: string
}

const home = () => os.homedir()
const expand = (p: string) => (p.startsWith('~/') ? path.join(home(), p.slice(2)) : p)

export function readSshConfig(file = path.join(home(), '.ssh', 'config')): SSHConfig | undefined {
  try {
    return SSHConfig.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

function lookup(config: SSHConfig | undefined, alias: string): Record<string, string | string[]> {
  if (!config) return {}
  // Match exec would run commands from the config file: never do that for a lookup.
  return config.compute(alias, { ignoreCase: true, matchExec: false })
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

export function resolveTarget(host: Host, config: SSHConfig | undefined): SshTarget {
  const c = lookup(config, host.address)
  const explicitPort = host.vars.port !== undefined
  const proxy = first(c.proxyjump)
  return {
    label: host.name,
    hostname: first(c.hostname) ?? host.address,
    port: explicitPort ? host.port : Number(first(c.port) ?? host.port),
    user: host.user ?? first(c.user) ?? os.userInfo().username,
    identityFiles: host.key ? [host.key] : [c.identityfile ?? []].flat().map(expand),
    proxyJump: proxy && proxy.toLowerCase() !== 'none' ? proxy : undefined,
  }
}

/** One hop of a ProxyJump chain, itself looked up in the config (its own User, Port, IdentityFile, ProxyJump). */
export function resolveJump(spec: string, config: SSHConfig | undefined): SshTarget {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim())
  if (!m) throw new Error(`ProxyJump '${spec}' is not [user@]host[:port]`)
  const name = m[2]!.replace(/^\[|\]$/g, '')
  const c = lookup(config, name)
  const proxy = first(c.proxyjump)
  return {
    label: spec,
    hostname: first(c.hostname) ?? name,
    port: Number(m[3] ?? first(c.port) ?? 22),
    user: m[1] ?? first(c.user) ?? os.userInfo().username,
    identityFiles: [c.identityfile ?? []].flat().map(expand),
    proxyJump: proxy && proxy.toLowerCase() !== 'none' ? proxy : undefined,
  }
}

export const defaultIdentityFiles = () => ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(home(), '.ssh', f))
