// What the faults suite looks at on the lab and on this machine: whether a host saw any SSH
// connection, every process's command line while a run goes on, canary files, leftovers.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { hostPath, type Lab } from '../../lab/netns/lab.ts'

/**
 * TCP connections each lab host has accepted since its network namespace was made (the kernel's
 * Tcp PassiveOpens counter of that namespace): unchanged across a run means nothing connected.
 */
export function acceptedConnections(lab: Lab): Record<string, number> {
  const out: Record<string, number> = {}
  for (const h of lab.hosts) {
    const snmp = execFileSync('nsenter', [`--net=/run/netns/${h.netns}`, 'cat', '/proc/net/snmp'], { encoding: 'utf8' })
    const [head, values] = snmp.split('\n').filter((l) => l.startsWith('Tcp:'))
    const at = head!.split(/\s+/).indexOf('PassiveOpens')
    out[h.name] = Number(values!.split(/\s+/)[at])
  }
  return out
}

/** Hosts whose counter moved between two readings. */
export function connectedHosts(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys(after).filter((h) => after[h] !== before[h])
}

/**
 * Every distinct command line on this machine while `fn` runs (the lab hosts share its PID
 * namespace, so their processes are here too), read from /proc every few milliseconds.
 */
export async function watchingProcesses<T>(fn: () => Promise<T>): Promise<{ result: T; commandLines: Set<string>; samples: number }> {
  const seen = new Set<string>()
  let samples = 0
  let running = true
  const loop = (async () => {
    while (running) {
      for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue
        try {
          const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
          if (args) seen.add(args.replace(/\0/g, ' ').trim())
        } catch {
          // gone meanwhile
        }
      }
      samples++
      await new Promise((r) => setTimeout(r, 5))
    }
  })()
  try {
    return { result: await fn(), commandLines: seen, samples }
  } finally {
    running = false
    await loop
  }
}

/** Places on each host and on this machine where an injected payload would leave its canary. */
export function canaryPaths(lab: Lab, name: string): string[] {
  return [path.join('/tmp', name), ...lab.hosts.map((h) => hostPath(lab, h.name, `/tmp/${name}`)), ...lab.hosts.map((h) => hostPath(lab, h.name, `/home/zxlab/${name}`))]
}

export const existing = (paths: string[]) => paths.filter((p) => fs.existsSync(p))

/** Files under a directory (recursively), relative names; [] when it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(path.relative(dir, p))
    }
  }
  walk(dir)
  return out.sort()
}
