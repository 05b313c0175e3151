// Container runtime and Kubernetes packages: containerd with SystemdCgroup and kubeadm's pause
// image, the pkgs.k8s.io repository for the pinned minor, kubelet/kubeadm/kubectl at the
// pinned release (the repository's newest revision of it, or the inventory's) and held.
import { APT_UPDATE, changed, ok, playbook, raw, skip, task, type Context } from '../lib/index.ts'
import { CLUSTER, type ClusterVars } from './support/kube.ts'
import { alignContainerdConfig } from './support/containerd.ts'
import { KUBE_PACKAGES, kubePackageVersion } from './support/packages.ts'

const KEYRING = '/etc/apt/keyrings/kubernetes-apt-keyring.gpg'
const SOURCES = '/etc/apt/sources.list.d/kubernetes.list'

const minorOf = (version: string) => version.split('.').slice(0, 2).join('.')
const repoUrl = (version: string) => `https://pkgs.k8s.io/core:/stable:/v${minorOf(version)}/deb/`

/** kubeadm's pause image for the pinned version: the one registered this run, or asked now (e.g. after --start-at). */
async function pauseImage(ctx: Context<ClusterVars>): Promise<string> {
  const known = ctx.registered.pause_image
  if (typeof known === 'string') return known
  const { kubernetes_version } = ctx.vars
  const images = await ctx.probe`kubeadm config images list --kubernetes-version ${`v${kubernetes_version}`}`
  const pause = images.lines().find((l) => /\/pause:/.test(l))
  if (!pause) throw new Error(`kubeadm lists no pause image for v${kubernetes_version}:\n${images.stdout}`)
  ctx.register('pause_image', pause)
  return pause
}

export default playbook<ClusterVars>(
  {
    name: 'Container runtime and Kubernetes packages',
    hosts: 'all',
    ...CLUSTER,
    tasks: [
      task('containerd is installed', async (ctx) => {
        await ctx.ensure.packages([ctx.vars.containerd_package], { update: true })
      }),
      task('the pkgs.k8s.io signing key is present', async (ctx) => {
        if (await ctx.test`[ -s ${KEYRING} ]`) return ok(KEYRING)
        const { kubernetes_version } = ctx.vars
        await ctx.$`mkdir -p -m 0755 /etc/apt/keyrings && curl -fsSL --retry 3 ${`${repoUrl(kubernetes_version)}Release.key`} | gpg --dearmor --yes -o ${KEYRING} && chmod 0644 ${KEYRING}`
      }),
      task('the pkgs.k8s.io repository is the pinned minor', async (ctx) => {
        const { kubernetes_version } = ctx.vars
        const line = `deb [signed-by=${KEYRING}] ${repoUrl(kubernetes_version)} /\n`
        // a new repository (or another minor) needs fresh package lists before anything installs
        if (await ctx.ensure.file(SOURCES, line, { mode: '0644' })) await ctx.$(raw(APT_UPDATE))
      }),
      task('kubelet, kubeadm and kubectl are at the pinned version', async (ctx) => {
        const { kubernetes_version, kubernetes_package_revision } = ctx.vars
        // what the repository publishes (its revision of a release is its own: 1.36.2-2.1)
        const offered = await ctx.probe({ nothrow: true })`apt-cache madison ${KUBE_PACKAGES}`
        // under --check on a fresh host the repository was only planned: nothing is listed yet
        if (ctx.check && !offered.stdout.trim()) return changed(`would install ${kubernetes_version} at the repository's newest revision`)
        const pin = { version: kubernetes_version, revision: kubernetes_package_revision, repo: repoUrl(kubernetes_version), file: String(ctx.vars.inventory_file ?? 'the inventory') }
        await ctx.ensure.packages(KUBE_PACKAGES, { version: kubePackageVersion(offered.stdout, pin) })
      }),
      task('they are held against upgrades', async (ctx) => {
        await ctx.ensure.held(KUBE_PACKAGES)
      }),
      // The pause image depends only on the pinned Kubernetes version: kubeadm is asked once per run.
      task("kubeadm's pause image is known", { once: true }, async (ctx) => {
        if (ctx.check && !(await ctx.test`dpkg-query -W kubeadm`)) return skip('kubeadm is not installed yet (--check)')
        return ok(await pauseImage(ctx))
      }),
      task('containerd uses SystemdCgroup and kubeadm\'s pause image', async (ctx) => {
        const { containerd_package } = ctx.vars
        // under --check on a fresh host the packages were only planned: nothing to read the defaults from yet
        if (ctx.check && !(await ctx.test`dpkg-query -W ${containerd_package} kubeadm`)) return changed('would be written once containerd and kubeadm are installed')
        const [pause, defaults] = await Promise.all([pauseImage(ctx), ctx.probe`containerd config default`])
        // containerd reads it before it replaces the running one's file: a file it cannot parse stops here, containerd untouched
        const config = { mode: '0644', validate: 'containerd --config %s config dump >/dev/null' }
        if (await ctx.ensure.file('/etc/containerd/config.toml', alignContainerdConfig(defaults.stdout, pause), config)) await ctx.$`systemctl restart containerd`
        else return ok(`SystemdCgroup = true, sandbox ${pause}`)
      }),
      task('containerd is enabled and running', async (ctx) => {
        await ctx.ensure.service('containerd', { enabled: true, running: true })
      }),
      task('kubelet is enabled', async (ctx) => {
        await ctx.ensure.service('kubelet', { enabled: true })
      }),
    ],
  },
  import.meta
)
