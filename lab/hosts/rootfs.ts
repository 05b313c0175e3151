// The hosts' root filesystem: one Debian system per distribution, built once with mmdebstrap from
// the machine's Debian mirror into the cache (outside the checkout) and reused while it is there.
// Hosts never write to it: each boots from an overlay with its own upper directory.
import fs from 'node:fs'
import path from 'node:path'
import { run } from '../netns/lab.ts'
import { CACHE, DISTS, ROOTFS_PACKAGES, type Dist } from './config.ts'

const DONE = '.zxplay-rootfs' // written last: a build that stopped half-way is not reused

export const rootfsDir = (dist: Dist) => path.join(CACHE, dist)
export const rootfsCached = (dist: Dist) => fs.existsSync(path.join(rootfsDir(dist), DONE))

/** The machine's Debian mirror (apt's deb822 sources), else deb.debian.org. */
export function debianMirror(sources = '/etc/apt/sources.list.d/debian.sources'): string {
  let text = ''
  try {
    text = fs.readFileSync(sources, 'utf8')
  } catch {
    // no deb822 sources: the default mirror
  }
  const uri = text.match(/^URIs:\s*(\S+)/gm)?.map((l) => l.replace(/^URIs:\s*/, '')).find((u) => !u.includes('security'))
  return (uri ?? 'http://deb.debian.org/debian').replace(/\/$/, '')
}

/** The rootfs for `dist`: the cached one, or built now (minutes: mirror-bound). */
export async function ensureRootfs(dist: Dist, log: (s: string) => void = () => {}): Promise<{ dir: string; builtMs?: number }> {
  const dir = rootfsDir(dist)
  if (rootfsCached(dist)) return { dir }
  const { suite, updates, security, expires } = DISTS[dist]
  const mirror = debianMirror()
  const lines = [`deb ${mirror} ${suite} main`]
  if (updates) lines.push(`deb ${mirror} ${suite}-updates main`)
  if (security) lines.push(`deb ${mirror}-security ${suite}-security main`)
  const tmp = `${dir}.tmp`
  fs.rmSync(tmp, { recursive: true, force: true })
  fs.mkdirSync(CACHE, { recursive: true })
  log(`building the ${dist} rootfs with mmdebstrap into ${dir} (once; minutes)`)
  const t0 = performance.now()
  await run('mmdebstrap', [
    '--variant=minbase',
    `--include=${ROOTFS_PACKAGES.join(',')}`,
    // every host makes its own host keys and machine-id
    '--customize-hook=rm -f "$1"/etc/ssh/ssh_host_* "$1"/etc/machine-id "$1"/var/lib/dbus/machine-id',
    // kept in the rootfs's apt.conf.d: the hosts' apt reads the same lists
    ...(expires ? ['--aptopt=Acquire::Check-Valid-Until "false"'] : []),
    suite,
    tmp,
    ...lines,
  ])
  fs.writeFileSync(path.join(tmp, DONE), `${dist} ${new Date().toISOString()} ${lines.join(' | ')}\n`)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.renameSync(tmp, dir)
  return { dir, builtMs: Math.round(performance.now() - t0) }
}
