// Which apt version of kubelet, kubeadm and kubectl to install: the pinned Kubernetes release at
// the newest revision the repository publishes for it (pkgs.k8s.io numbers its builds: 1.36.2 is
// published only as 1.36.2-2.1), or exactly <version>-<kubernetes_package_revision> when the
// inventory sets that override. Pure: `apt-cache madison` output in, one apt version or one error out.
import { compareVersions } from '../../lib/base/debian-version.ts'

export const KUBE_PACKAGES = ['kubelet', 'kubeadm', 'kubectl'] as const

/** `apt-cache madison` lines (`   kubelet | 1.36.2-2.1 | https://pkgs.k8s.io/… Packages`) → versions per package. */
export function parseMadison(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const [name, version] = line.split('|').map((f) => f.trim())
    if (!name || !version) continue
    const versions = out.get(name) ?? []
    if (!versions.includes(version)) versions.push(version)
    out.set(name, versions)
  }
  return out
}

/** The Debian upstream part of a package version: 1.36.2-2.1 → 1.36.2. */
const upstreamOf = (v: string) => v.replace(/^\d+:/, '').replace(/-[^-]*$/, '')

export type KubePin = {
  version: string // kubernetes_version, e.g. 1.36.2
  revision?: string // kubernetes_package_revision; empty or unset: the repository's newest
  repo: string // the repository, for the error
  file: string // the inventory, for the error
}

/**
 * The apt version every one of the packages has for the pinned release (the newest such revision,
 * or the override). Throws one error naming the inventory key and the versions the repository has.
 */
export function kubePackageVersion(madison: string, pin: KubePin): string {
  const offered = parseMadison(madison)
  const lists = KUBE_PACKAGES.map((p) => offered.get(p) ?? [])
  // versions every one of the three packages has (a partly published release is not installable)
  const common = lists[0]!.filter((v) => lists.every((l) => l.includes(v))).sort(compareVersions)
  const has = common.length ? common.join(', ') : 'none of them'
  const missing = KUBE_PACKAGES.filter((_, i) => !lists[i]!.length)
  if (missing.length) {
    throw new Error(`${pin.repo} offers no ${missing.join(', ')} to this host (its package lists hold ${has}); run \`apt-get update\` or check the repository`)
  }
  const revision = pin.revision ?? ''
  if (revision) {
    const want = `${pin.version}-${revision}`
    if (common.includes(want)) return want
    const same = common.filter((v) => upstreamOf(v) === pin.version)
    const hint = same.length ? `; for ${pin.version} it has ${same.join(', ')} (leave kubernetes_package_revision empty for the newest)` : ''
    throw new Error(`${pin.file}: kubernetes_package_revision: ${pin.repo} has no ${KUBE_PACKAGES.join('/')} ${want}: it has ${has}${hint}`)
  }
  const newest = common.filter((v) => upstreamOf(v) === pin.version).pop()
  if (newest) return newest
  throw new Error(`${pin.file}: kubernetes_version: ${pin.repo} has no ${KUBE_PACKAGES.join('/')} ${pin.version}: it has ${has}`)
}
