// Preflight: learn every host, report every problem of every host at once (each with its fix)
// before anything changes, then prepare the hosts: swap off, kernel modules, sysctl.
import { ok, playbook, raw, task } from '../lib/index.ts'
import { capacity } from './support/capacity.ts'
import { CLUSTER, controlPlaneTakesPods, groupMembers, type ClusterVars } from './support/kube.ts'
import { FACTS_SCRIPT, parseNodeFacts, problemsOf, type NodeFacts } from './support/preflight.ts'
import { hpaSpec, raySpec, type RayVars } from './support/vars/ray.ts'

const MODULES_FILE = '/etc/modules-load.d/k8s.conf'
const MODULES = ['overlay', 'br_netfilter']
const SYSCTL_FILE = '/etc/sysctl.d/99-kubernetes.conf'
const SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
}

type Vars = ClusterVars & Pick<RayVars, 'ray' | 'hpa'>
type Hostvars = Record<string, { groups: string[]; registered: { node?: NodeFacts } }>

/**
 * Whether the pods site starts (Kubernetes' own, the Ray head and hpa.min_replicas workers) fit the
 * nodes that take them, judged once the facts of every node are known; the nodes that take pods are
 * the workers, and the control planes when 60-untaint will untaint them (its rule).
 */
function podsFit(hostvars: Hostvars, vars: Vars): { problems: { problem: string; fix: string }[]; note: string } {
  const cps = groupMembers({ hostvars }, 'control_plane')
  const workers = groupMembers({ hostvars }, 'workers')
  const all = [...new Set([...cps, ...workers])]
  const unknown = all.filter((n) => !hostvars[n]?.registered.node)
  if (unknown.length) return { problems: [], note: `; whether the pods fit is not judged without ${unknown.join(', ')}'s facts` }
  const untainted = controlPlaneTakesPods({ hostvars }, cps[0]!, vars.schedule_on_control_plane)
  const nodes = all.map((n) => ({ name: n, facts: hostvars[n]!.registered.node!, controlPlane: cps.includes(n), schedulable: !cps.includes(n) || untainted }))
  const fit = capacity({ nodes, ray: vars.ray, hpa: vars.hpa })
  const reach = fit.problems.length || fit.workersThatFit >= vars.hpa.max_replicas ? '' : `; the HPA can reach ${fit.workersThatFit} of hpa.max_replicas ${vars.hpa.max_replicas} Ray workers here (more would stay Pending)`
  return { problems: fit.problems, note: reach }
}

export default playbook<Vars, { node: NodeFacts }>(
  {
    name: 'Preflight: hosts are fit for kubeadm and prepared',
    hosts: 'all',
    ...CLUSTER,
    // Ray's pod sizes, to judge whether they fit before anything changes
    specs: [...CLUSTER.specs, raySpec, hpaSpec],
    // a problem on one host stops all of them before anything changes
    anyErrorsFatal: true,
    tasks: [
      task('facts are gathered', { tags: ['facts'] }, async ({ probe, register }) => {
        const facts = parseNodeFacts((await probe(raw(FACTS_SCRIPT))).stdout)
        register('node', facts)
        return ok(`${facts.hostname}: ${facts.distro} ${facts.distroVersion} ${facts.arch}, ${facts.cpus} CPUs, ${facts.memoryMb} MB, ${facts.cgroup}, swap ${facts.swapOn ? 'on' : 'off'}, containerd socket ${facts.runtimeSocket ? 'up' : 'absent'}`)
      }),
      task('no host has a problem kubeadm would fail on', async ({ host, registered, hostvars, vars }) => {
        const others = Object.fromEntries(Object.entries(hostvars).flatMap(([n, h]) => (h.registered.node ? [[n, h.registered.node]] : [])))
        const role = host.groups.includes('control_plane') ? 'control-plane' : 'worker'
        const problems = problemsOf(host.name, role, registered.node!, others)
        // the cluster's fit is said once, on the first control plane
        const fit = groupMembers({ hostvars }, 'control_plane')[0] === host.name ? podsFit(hostvars, vars) : { problems: [], note: '' }
        problems.push(...fit.problems)
        if (problems.length) throw new Error(`${problems.length} problem(s):\n${problems.map((p) => `  - ${p.problem}\n    fix: ${p.fix}`).join('\n')}`)
        return ok(`fit for a ${role}${fit.note}`)
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
