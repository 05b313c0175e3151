// What `lab up` needs from this machine, checked before it creates anything: facts in (probeMachine,
// the only part that looks at the machine), problems out (labProblems, pure), so every refusal is
// one message and nothing was made.
import fs from 'node:fs'
import path from 'node:path'
import { run } from '../netns/lab.ts'
import { cidrsOverlap, parseCidr } from '../standins/_k8s-util.ts'
import { BRIDGE, CACHE, GATEWAY, PREFIX, RUN, TOOLS, type Dist } from './config.ts'
import { rootfsCached } from './rootfs.ts'

export type LabFacts = {
  uid: number
  /** Programs of TOOLS not on the PATH. */
  missingTools: string[]
  /** Every link's name, with its IPv4 networks (address/prefix). */
  links: { name: string; cidrs: string[] }[]
  /** IPv4 routes that are not the default one: destination (address/prefix) and device. */
  routes: { dst: string; dev: string }[]
  /** A lab of ours is up (its state file is there): `lab up` replaces it, bridge and all. */
  ours: boolean
  /** Free bytes and the filesystem (device id) where the cache and the runtime files go. */
  disk: { cache: { dev: number; free: number }; run: { dev: number; free: number } }
  /** The wanted distributions whose rootfs is built already; whether apt-cacher-ng's files are. */
  cachedDists: Dist[]
  aptCached: boolean
}

// Measured on 2026-12-03: a rootfs 200–244 MB per distribution, apt-cacher-ng's files 216 MB
// (du -sm in /var/cache/zxplay-lab); a host's own files 371 MB once site ran on it (du -sxm of
// /var/lib/zxplay-reallab/hosts/node1: its overlay's upper and containerd's folder; 1113 MB for 3).
// Rounded up.
export const ROOTFS_BYTES = 400 * 2 ** 20
export const APT_CACHE_BYTES = 400 * 2 ** 20
export const HOST_BYTES = 512 * 2 ** 20

/** Whether two IPv4 networks (a.b.c.d/n; a bare address is /32) share an address (not IPv4: no). */
export function overlaps(a: string, b: string): boolean {
  const [x, y] = [a, b].map((c) => parseCidr(c.includes('/') ? c : `${c}/32`))
  return !!x && !!y && cidrsOverlap(x, y)
}

const mb = (n: number) => `${Math.ceil(n / 2 ** 20)} MB`

/** Every reason `lab up` cannot start here, each with its fix; empty when it can. */
export function labProblems(f: LabFacts, want: { hosts: number; dists: Dist[] }): string[] {
  const out: string[] = []
  const range = `${GATEWAY}/${PREFIX}`
  if (f.uid !== 0) out.push('not root: the lab boots machines with systemd-nspawn and makes a bridge (run it as root, e.g. with sudo)')
  if (f.missingTools.length) {
    const pkgs = [...new Set(f.missingTools.map((t) => TOOLS[t] ?? t))]
    out.push(`missing ${f.missingTools.join(', ')}: apt-get install ${pkgs.join(' ')}`)
  }
  const bridge = f.links.find((l) => l.name === BRIDGE)
  if (bridge && !f.ours) out.push(`a link named ${BRIDGE} exists and is not this lab's (no ${path.join(RUN, 'state.json')}): remove it (ip link del ${BRIDGE}) if it is a leftover`)
  // a previous lab of ours is replaced; anything else on our range would be cut off or shadowed
  const mine = (dev: string) => dev === BRIDGE && f.ours
  const taken = new Set<string>()
  for (const l of f.links) {
    if (mine(l.name)) continue
    for (const c of l.cidrs.filter((c) => overlaps(c, range))) {
      out.push(`the lab's address range ${range} is in use: ${c} on ${l.name}`)
      taken.add(l.name)
    }
  }
  // routes without an address here (a VPN's, a static one) take the range too
  const routed = f.routes.filter((r) => !mine(r.dev) && !taken.has(r.dev) && overlaps(r.dst, range))
  for (const r of routed) out.push(`the lab's address range ${range} is routed elsewhere: ${r.dst} via ${r.dev}`)
  const newDists = [...new Set(want.dists)].filter((d) => !f.cachedDists.includes(d))
  const cacheNeed = newDists.length * ROOTFS_BYTES + (f.aptCached ? 0 : APT_CACHE_BYTES)
  const runNeed = want.hosts * HOST_BYTES
  const { cache, run: runDisk } = f.disk
  const hostsWhy = `${want.hosts} host(s) × ${mb(HOST_BYTES)}`
  const cacheWhy = [...newDists.map((d) => `the ${d} rootfs to build`), ...(f.aptCached ? [] : ['the apt cache'])].join(', ')
  const needs = cache.dev === runDisk.dev
    ? [{ where: `${CACHE} and ${RUN}`, need: cacheNeed + runNeed, free: cache.free, why: [hostsWhy, cacheWhy].filter(Boolean).join(', ') }]
    : [
        { where: CACHE, need: cacheNeed, free: cache.free, why: cacheWhy },
        { where: RUN, need: runNeed, free: runDisk.free, why: hostsWhy },
      ]
  for (const n of needs) if (n.need > n.free) out.push(`not enough disk for ${n.where}: ${mb(n.need)} needed (${n.why}), ${mb(n.free)} free`)
  return out
}

/** The free space and device of `p`'s filesystem, or of its nearest existing parent. */
function diskAt(p: string): { dev: number; free: number } {
  let at = p
  while (!fs.existsSync(at)) at = path.dirname(at)
  const s = fs.statfsSync(at)
  return { dev: fs.statSync(at).dev, free: s.bavail * s.bsize }
}

/** The facts labProblems judges, read from this machine (reads only). */
export async function probeMachine(dists: Dist[]): Promise<LabFacts> {
  const r = await run('sh', ['-c', `for t in ${Object.keys(TOOLS).join(' ')}; do command -v $t >/dev/null || echo $t; done`])
  const missingTools = r.stdout.split('\n').filter(Boolean)
  const hasIp = !missingTools.includes('ip')
  type Addr = { ifname: string; addr_info?: { family: string; local: string; prefixlen: number }[] }
  const addrs: Addr[] = hasIp ? JSON.parse((await run('ip', ['-j', 'addr', 'show'])).stdout || '[]') : []
  const routes: { dst: string; dev: string }[] = hasIp ? JSON.parse((await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])).stdout || '[]') : []
  return {
    uid: process.getuid?.() ?? -1,
    missingTools,
    links: addrs.map((a) => ({ name: a.ifname, cidrs: (a.addr_info ?? []).filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`) })),
    routes: routes.filter((x) => x.dst && x.dst !== 'default' && x.dev).map((x) => ({ dst: x.dst, dev: x.dev })),
    ours: fs.existsSync(path.join(RUN, 'state.json')),
    disk: { cache: diskAt(CACHE), run: diskAt(RUN) },
    cachedDists: dists.filter(rootfsCached),
    aptCached: fs.existsSync(path.join(CACHE, 'apt-cacher-ng')),
  }
}
