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

export const FACTS_COMMAND = [
  'echo "hostname=$(uname -n)"', // not `hostname`: missing on minimal images (Arch, Fedora containers)
  '. /etc/os-release 2>/dev/null || true',
  'echo "distro=${ID:-unknown}"',
  'echo "distroVersion=${VERSION_ID:-unknown}"',
  'echo "arch=$(uname -m)"',
  'echo "kernel=$(uname -r)"',
  'echo "cpus=$(nproc)"',
  `echo "memoryKb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"`,
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
