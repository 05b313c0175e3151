// Preflight: learn every host, report every problem of every host at once (each with its fix)
// before anything changes, then prepare the hosts: swap off, kernel modules, sysctl.
import { ok, playbook, raw, task } from '../lib/index.ts'
import { CLUSTER, type ClusterVars } from './support/kube.ts'
import { FACTS_SCRIPT, parseNodeFacts, problemsOf, type NodeFacts } from './support/preflight.ts'

const MODULES_FILE = '/etc/modules-load.d/k8s.conf'
const MODULES = ['overlay', 'br_netfilter']
const SYSCTL_FILE = '/etc/sysctl.d/99-kubernetes.conf'
const SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
}

export default playbook<ClusterVars, { node: NodeFacts }>(
  {
    name: 'Preflight: hosts are fit for kubeadm and prepared',
    hosts: 'all',
    ...CLUSTER,
    // a problem on one host stops all of them before anything changes
    anyErrorsFatal: true,
    tasks: [
      task('facts are gathered', { tags: ['facts'] }, async ({ probe, register }) => {
        const facts = parseNodeFacts((await probe(raw(FACTS_SCRIPT))).stdout)
        register('node', facts)
        return ok(`${facts.hostname}: ${facts.distro} ${facts.distroVersion} ${facts.arch}, ${facts.cpus} CPUs, ${facts.memoryMb} MB, ${facts.cgroup}, swap ${facts.swapOn ? 'on' : 'off'}, containerd socket ${facts.runtimeSocket ? 'up' : 'absent'}`)
      }),
      task('no host has a problem kubeadm would fail on', async ({ host, registered, hostvars }) => {
        const others = Object.fromEntries(Object.entries(hostvars).flatMap(([n, h]) => (h.registered.node ? [[n, h.registered.node]] : [])))
        const role = host.groups.includes('control_plane') ? 'control-plane' : 'worker'
        const problems = problemsOf(host.name, role, registered.node!, others)
        if (problems.length) throw new Error(`${problems.length} problem(s):\n${problems.map((p) => `  - ${p.problem}\n    fix: ${p.fix}`).join('\n')}`)
        return ok(`fit for a ${role}`)
      }),
      task('swap is off', async ({ $, registered }) => {
        if (!registered.node!.swapOn) return ok('no swap in use')
        await $`swapoff -a`
      }),
      task('swap stays off after a reboot', async ({ ensure }) => {
        // a swap line in /etc/fstab that is not commented out
        await ensure.replaced('/etc/fstab', '^([^#]\\S*\\s+\\S+\\s+swap\\s.*)$', '# \\1  # disabled by zxplay')
      }),
      // the files' folders are made when missing: systemd reads them when they exist, and Debian unstable no longer ships them
      task('kernel modules are loaded and load at boot', async ({ ensure }) => {
        await ensure.modules(MODULES, { file: MODULES_FILE, comment: '# written by zxplay: containerd and Flannel need these' })
      }),
      task('sysctl settings are in effect and persist', async ({ ensure }) => {
        await ensure.sysctl(SYSCTLS, { file: SYSCTL_FILE, comment: '# written by zxplay: pod traffic is forwarded and seen by iptables' })
      }),
    ],
  },
  import.meta
)
