// Which files in /etc/cni/net.d belong to the chosen add-on (Flannel) and which are leftovers
// that would win the lexical order (05-cilium, 10-calico sort before 10-flannel). Pure.
export const CNI_DIR = '/etc/cni/net.d'
export const FLANNEL_CONFLIST = '10-flannel.conflist'
export const SUBNET_ENV = '/run/flannel/subnet.env'
export const BACKUP_ROOT = '/var/backups/zxplay'

/** FLANNEL_NETWORK from flanneld's subnet.env, if it wrote one. */
export function flannelNetwork(subnetEnv: string): string | undefined {
  return /^FLANNEL_NETWORK=(\S+)$/m.exec(subnetEnv)?.[1]
}

/** Files to move aside: everything but Flannel's conflist, and that too when it was made for another pod CIDR. */
export function staleCniFiles(files: string[], podSubnet: string, subnetEnv: string): string[] {
  const network = flannelNetwork(subnetEnv)
  const flannelIsCurrent = network === undefined || network === podSubnet
  return files.filter((f) => f !== FLANNEL_CONFLIST || !flannelIsCurrent).sort()
}

export const backupDir = (now = new Date()) => `${BACKUP_ROOT}/cni-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}`
