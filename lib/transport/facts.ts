// Facts about a host, gathered in one command the first time a task asks for them.
export type Facts = {
  hostname: string
  distro: string // os-release ID, e.g. debian
  distroVersion: string // os-release VERSION_ID
  arch: string // uname -m
  kernel: string
  cpus: number
  memoryMb: number
  user: string
}

/** Three programs in all (uname, nproc, id): the rest is bash reading files. */
export const FACTS_COMMAND = [
  // not `hostname`: missing on minimal images (Arch, Fedora containers); uname prints in this order
  'set -- $(uname -nrm)',
  'echo "hostname=$1"',
  '. /etc/os-release 2>/dev/null || true',
  'echo "distro=${ID:-unknown}"',
  'echo "distroVersion=${VERSION_ID:-unknown}"',
  'echo "arch=$3"',
  'echo "kernel=$2"',
  'echo "cpus=$(nproc)"',
  'while read -r key kb _; do [ "$key" = MemTotal: ] && break; done < /proc/meminfo',
  'echo "memoryKb=${kb:-0}"',
  'echo "user=$(id -un)"',
].join('\n')

/** The `key=value` lines a facts command prints. */
export function keyValues(stdout: string): Record<string, string | undefined> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()])
  )
}

export function parseFacts(stdout: string): Facts {
  const kv = keyValues(stdout)
  return {
    hostname: kv.hostname ?? '',
    distro: kv.distro ?? 'unknown',
    distroVersion: kv.distroVersion ?? 'unknown',
    arch: kv.arch ?? '',
    kernel: kv.kernel ?? '',
    cpus: Number(kv.cpus ?? 0),
    memoryMb: Math.round(Number(kv.memoryKb ?? 0) / 1024),
    user: kv.user ?? '',
  }
}
