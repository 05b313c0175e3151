// Preflight: learn every host, report every problem of every host at once (each with its fix)
// before anything changes, then prepare the hosts: swap off, kernel modules, sysctl.
import { ok, playbook, raw, task, type Context } from '../lib/index.ts'
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

/** The file's folder: systemd reads it when it exists, and Debian unstable no longer ships it. */
async function ensureDir({ $, test }: Pick<Context, '$' | 'test'>, file: string) {
  const dir = file.replace(/\/[^/]+$/, '')
  if (!(await test`[ -d ${dir} ]`)) await $`mkdir -p -m 0755 ${dir}`
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
      task('swap stays off after a reboot', async ({ $, test }) => {
        // a swap line in /etc/fstab that is not commented out
        if (!(await test`grep -Eq '^[^#]\S*\s+\S+\s+swap\s' /etc/fstab`)) return ok('no swap in /etc/fstab')
        await $`sed -Ei.zxplay-bak 's|^([^#]\S*\s+\S+\s+swap\s.*)$|# \1  # disabled by zxplay|' /etc/fstab`
      }),
      task('kernel modules load at boot', async ({ $, test, upload }) => {
        await ensureDir({ $, test }, MODULES_FILE)
        await upload(MODULES_FILE, `# written by zxplay: containerd and Flannel need these\n${MODULES.join('\n')}\n`, { mode: '0644' })
      }),
      task('kernel modules are loaded', async ({ $, probe }) => {
        // a module built into the kernel is never in lsmod (nor is there a /proc/modules without
        // loadable modules): modules.builtin counts too, or every run would modprobe again
        const listed = await probe`{ lsmod || true; cat /lib/modules/"$(uname -r)"/modules.builtin || true; } 2>/dev/null`
        const loaded = listed.lines().map((l) => (l.split(/\s+/)[0] ?? '').replace(/^.*\//, '').replace(/\.ko$/, ''))
        const missing = MODULES.filter((m) => !loaded.includes(m))
        if (!missing.length) return ok('overlay and br_netfilter loaded')
        await $`modprobe -a ${missing}`
      }),
      task('sysctl settings persist', async ({ $, test, upload }) => {
        await ensureDir({ $, test }, SYSCTL_FILE)
        const text = Object.entries(SYSCTLS).map(([k, v]) => `${k} = ${v}`).join('\n')
        await upload(SYSCTL_FILE, `# written by zxplay: pod traffic is forwarded and seen by iptables\n${text}\n`, { mode: '0644' })
      }),
      task('sysctl settings are in effect', async ({ $, probe }) => {
        const current = (await probe({ nothrow: true })`sysctl -n ${Object.keys(SYSCTLS)}`).lines()
        if (Object.values(SYSCTLS).every((v, i) => current[i] === v)) return ok('already in effect')
        await $`sysctl -p ${SYSCTL_FILE}`
      }),
    ],
  },
  import.meta
)
