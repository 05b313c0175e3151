// The real-host lab's names, addresses and paths. Chosen apart from the namespace lab's
// (lab/netns: bridge zxlab0, 10.77.0.0/24, /srv/zxplay-lab, .lab/) so both labs can be up at once.
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** Built once, kept across labs and checkouts: the rootfs per distribution, apt-cacher-ng's files. */
export const CACHE = process.env.ZXPLAY_LAB_CACHE || '/var/cache/zxplay-lab'
/** This lab's runtime files (overlays, the repository, the servers' state); removed by down. */
export const RUN = '/var/lib/zxplay-reallab'
/** Client-side files: inventory, key, known_hosts. */
export const LAB_DIR = path.join(REPO, '.lab-real')
export const BRIDGE = 'zxreal0'
export const GATEWAY = '10.78.0.1'
export const PREFIX = 24
export const MACHINE_PREFIX = 'zxreal-'
export const ACNG_PORT = 3143 // not 3142: a system apt-cacher-ng (Debian starts one on install) may hold that
export const LAB_USER = 'zxlab'
export const LAB_PW_USER = 'zxlabpw'
export const MAX_HOSTS = 20
export const hostAddress = (i: number) => `10.78.0.${10 + i}` // host i is 1-based

/** The distributions a host can run: Debian's suite names and the containerd each ships. */
export const DISTS = {
  'debian-12': { suite: 'bookworm', updates: true, security: true, containerd: '1.6', expires: false },
  'debian-13': { suite: 'trixie', updates: true, security: true, containerd: '1.7', expires: false },
  // unstable's Release files expire within days; the machine's mirror may be a snapshot older than that
  'debian-unstable': { suite: 'sid', updates: false, security: false, containerd: '2.1', expires: true },
} as const
export type Dist = keyof typeof DISTS
export const DEFAULT_DIST: Dist = 'debian-12'
export const isDist = (d: string): d is Dist => Object.hasOwn(DISTS, d)

/** What every host has beyond minbase: systemd as PID 1, sshd, sudo and what the playbooks call. */
export const ROOTFS_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'sudo', 'iproute2', 'gpg', 'curl', 'ca-certificates', 'procps', 'kmod']

/** The machine's tools the lab runs, and the Debian packages they come from (for the error). */
export const TOOLS: Record<string, string> = {
  mmdebstrap: 'mmdebstrap',
  'systemd-nspawn': 'systemd-container',
  'apt-cacher-ng': 'apt-cacher-ng',
  'apt-ftparchive': 'apt-utils',
  'dpkg-deb': 'dpkg',
  gpg: 'gpg',
  openssl: 'openssl',
  'ssh-keygen': 'openssh-client',
  ip: 'iproute2',
  nsenter: 'util-linux',
}
