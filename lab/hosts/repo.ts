// The lab's Kubernetes apt repository, at the real address shape
// https://pkgs.k8s.io/core:/stable:/v1.36/deb/ (a flat repository, Release.key beside it): real
// .debs built with dpkg-deb, indexed with apt-ftparchive, signed with a lab gpg key, served over
// HTTPS with a certificate from a lab CA that the hosts trust. Revisions shaped like the real
// repository's (five patches, 1.36.2 only as 1.36.2-2.1).
//
// The packages hold the project's stand-ins (Node programs, bundled by lab/netns's esbuild step)
// in zxplay-lab-standins; kubelet, kubeadm, kubectl and cri-tools add /usr/bin wrappers that run
// them with the machine's Node, which the lab bind-mounts read-only at /usr/lib/zxplay-lab/node
// (Debian 12's nodejs is 18, too old for them). kubelet carries the real kubelet.service and
// kubeadm the real 10-kubeadm.conf drop-in, so the kubelet is a systemd service.
import fs from 'node:fs'
import path from 'node:path'
import { bundleStandins, run, STANDINS_CACHE } from '../netns/lab.ts'
import { RUN } from './config.ts'

/** Patch releases the repository offers: 1.36.0 … 1.36.4. */
export const K8S_PATCHES = 5
/** Releases published under a later build revision only, as pkgs.k8s.io does (its v1.36 listing has 1.36.2 only as 1.36.2-2.1); every other patch is -1.1. */
export const K8S_REBUILDS: Record<string, string> = { '1.36.2': '2.1' }

export const REPO_HOST = 'pkgs.k8s.io'
export const MINOR = 36
export const REPO_PATH = `core:/stable:/v1.${MINOR}/deb`
export const NODE_ON_HOST = '/usr/lib/zxplay-lab/node'
const STANDINS_ON_HOST = '/usr/lib/zxplay-lab/standins'

export const repoFiles = () => {
  const dir = path.join(RUN, 'repo')
  return {
    dir,
    www: path.join(dir, 'www'),
    deb: path.join(dir, 'www', REPO_PATH),
    build: path.join(dir, 'build'),
    gnupg: path.join(dir, 'gnupg'),
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    cert: path.join(dir, 'server.crt'),
    key: path.join(dir, 'server.key'),
    pid: path.join(dir, 'server.pid'),
    log: path.join(dir, 'server.log'),
  }
}

type Pkg = {
  name: string
  version: string
  depends: string[]
  description: string
  files: Record<string, { text?: string; from?: string; mode?: number }> // path in the package → content
  scripts?: Record<string, string> // postinst, prerm, postrm
}

const wrapper = (tool: string) =>
  `#!/bin/sh\n# zxplay lab: the project's ${tool} stand-in, run by the machine's Node (bind-mounted by the lab)\n# (ZXLAB_REAL_HOST: the stand-in reads what is installed from dpkg's database;\n#  ZXLAB_API=network: kubectl and kubeadm reach the API server over HTTPS, the kubelet runs it)\nexport ZXLAB_REAL_HOST=1 ZXLAB_API=network\nexec ${NODE_ON_HOST} ${STANDINS_ON_HOST}/${tool}.mjs "$@"\n`

// kubernetes/release's packaging: cmd/krel/templates/latest/kubelet/kubelet.service
const KUBELET_SERVICE = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`
// …/kubeadm/10-kubeadm.conf
const KUBEADM_DROPIN = `# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`
// what dh_installsystemd writes for an enabled, started unit
const UNIT_SCRIPTS = (unit: string) => ({
  postinst: `#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  deb-systemd-helper enable ${unit} >/dev/null || true\n  if [ -d /run/systemd/system ]; then\n    systemctl --system daemon-reload >/dev/null || true\n    deb-systemd-invoke restart ${unit} >/dev/null || true\n  fi\nfi\n`,
  prerm: `#!/bin/sh\nset -e\nif [ -d /run/systemd/system ] && [ "$1" = remove ]; then\n  deb-systemd-invoke stop ${unit} >/dev/null || true\nfi\n`,
  postrm: `#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then\n  systemctl --system daemon-reload >/dev/null || true\nfi\nif [ "$1" = remove ]; then\n  deb-systemd-helper mask ${unit} >/dev/null || true\nfi\nif [ "$1" = purge ]; then\n  deb-systemd-helper purge ${unit} >/dev/null || true\n  deb-systemd-helper unmask ${unit} >/dev/null || true\nfi\n`,
})

/** Every package the repository publishes: the three tools in each patch's revision, and the rest. */
export function packages(): Pkg[] {
  const standins = { name: 'zxplay-lab-standins', version: '1.0-1', depends: [], description: "the zxplay project's stand-in tools (Node programs)", files: { [STANDINS_ON_HOST]: { from: STANDINS_CACHE } } }
  const out: Pkg[] = [
    standins,
    { name: 'cri-tools', version: `1.${MINOR}.0-1.1`, depends: ['zxplay-lab-standins'], description: 'Command-line utility for interacting with a container runtime', files: { '/usr/bin/crictl': { text: wrapper('crictl'), mode: 0o755 } } },
    // the real package holds the CNI plugins; the lab has no stand-ins for them
    { name: 'kubernetes-cni', version: '1.7.1-1.1', depends: [], description: 'Binaries required to provision kubernetes container networking', files: { '/opt/cni/bin/.zxplay-lab': { text: 'the lab has no CNI plugins\n' } } },
  ]
  for (let i = 0; i < K8S_PATCHES; i++) {
    const release = `1.${MINOR}.${i}`
    const version = `${release}-${K8S_REBUILDS[release] ?? '1.1'}`
    out.push(
      {
        name: 'kubelet',
        version,
        depends: ['conntrack', 'ebtables', 'ethtool', 'iptables', 'kubernetes-cni', 'socat', 'zxplay-lab-standins'],
        description: 'Node agent for Kubernetes clusters',
        files: { '/usr/bin/kubelet': { text: wrapper('kubelet'), mode: 0o755 }, '/usr/lib/systemd/system/kubelet.service': { text: KUBELET_SERVICE } },
        scripts: UNIT_SCRIPTS('kubelet.service'),
      },
      {
        name: 'kubeadm',
        version,
        depends: ['cri-tools', 'kubernetes-cni', 'zxplay-lab-standins'],
        description: 'Command-line utility for administering a Kubernetes cluster',
        files: { '/usr/bin/kubeadm': { text: wrapper('kubeadm'), mode: 0o755 }, '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf': { text: KUBEADM_DROPIN } },
      },
      { name: 'kubectl', version, depends: ['zxplay-lab-standins'], description: 'Command-line utility for interacting with a Kubernetes cluster', files: { '/usr/bin/kubectl': { text: wrapper('kubectl'), mode: 0o755 } } }
    )
  }
  return out
}

/** One .deb with dpkg-deb (root-owned files), into `outDir`. */
async function buildDeb(pkg: Pkg, buildDir: string, outDir: string): Promise<string> {
  const root = path.join(buildDir, `${pkg.name}_${pkg.version}`)
  fs.rmSync(root, { recursive: true, force: true })
  fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true })
  for (const [dest, f] of Object.entries(pkg.files)) {
    const at = path.join(root, dest)
    fs.mkdirSync(path.dirname(at), { recursive: true })
    if (f.from) fs.cpSync(f.from, at, { recursive: true, filter: (src) => path.basename(src) !== '.stamp' })
    else fs.writeFileSync(at, f.text ?? '', { mode: f.mode ?? 0o644 })
  }
  const arch = pkg.name === 'zxplay-lab-standins' ? 'all' : 'amd64'
  const control = [
    `Package: ${pkg.name}`,
    `Version: ${pkg.version}`,
    `Architecture: ${arch}`,
    'Maintainer: zxplay lab <lab@zxplay.invalid>',
    ...(pkg.depends.length ? [`Depends: ${pkg.depends.join(', ')}`] : []),
    'Section: admin',
    'Priority: optional',
    'Homepage: https://kubernetes.io',
    `Description: ${pkg.description}`,
    ' Built by the zxplay lab (lab/hosts/repo.ts): the project\'s stand-ins, the real package\'s shape.',
    '',
  ].join('\n')
  fs.writeFileSync(path.join(root, 'DEBIAN/control'), control)
  for (const [name, text] of Object.entries(pkg.scripts ?? {})) fs.writeFileSync(path.join(root, 'DEBIAN', name), text, { mode: 0o755 })
  const deb = path.join(outDir, `${pkg.name}_${pkg.version}_${arch}.deb`)
  await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb])
  return deb
}

const gpgArgs = (home: string) => ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '']

/** Build, index and sign the repository under RUN/repo/www; make the CA and the server certificate. */
export async function buildRepository(): Promise<{ debs: number; ms: number }> {
  const t0 = performance.now()
  const f = repoFiles()
  fs.rmSync(f.dir, { recursive: true, force: true })
  for (const d of [f.deb, f.build]) fs.mkdirSync(d, { recursive: true })
  fs.mkdirSync(f.gnupg, { mode: 0o700 })
  await bundleStandins()
  const pool = path.join(f.deb, 'amd64')
  fs.mkdirSync(pool)
  const pkgs = packages()
  for (const p of pkgs) await buildDeb(p, f.build, pool)
  fs.rmSync(f.build, { recursive: true, force: true })
  const packagesText = (await run('sh', ['-c', 'cd "$1" && apt-ftparchive packages amd64', 'sh', f.deb])).stdout
  fs.writeFileSync(path.join(f.deb, 'Packages'), packagesText)
  await run('sh', ['-c', 'cd "$1" && gzip -9kn Packages', 'sh', f.deb])
  const release = (await run('sh', ['-c', 'cd "$1" && apt-ftparchive -o APT::FTPArchive::Release::Origin=obs://build.opensuse.org/isv:kubernetes:core:stable:v1.36/deb -o APT::FTPArchive::Release::Label=zxplay-lab release .', 'sh', f.deb])).stdout
  fs.writeFileSync(path.join(f.deb, 'Release'), release)
  const g = gpgArgs(f.gnupg)
  await run('gpg', [...g, '--quick-gen-key', 'zxplay lab pkgs.k8s.io <lab@zxplay.invalid>', 'ed25519', 'sign', '2d'])
  fs.writeFileSync(path.join(f.deb, 'Release.key'), (await run('gpg', [...g, '--armor', '--export'])).stdout)
  await run('gpg', [...g, '--clearsign', '-o', path.join(f.deb, 'InRelease'), path.join(f.deb, 'Release')])
  await run('gpg', [...g, '-abs', '-o', path.join(f.deb, 'Release.gpg'), path.join(f.deb, 'Release')])
  // the lab CA, and pkgs.k8s.io's certificate from it
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f.caKey, '-out', f.caCert, '-days', '7', '-subj', '/CN=zxplay lab CA'])
  const csr = path.join(f.dir, 'server.csr')
  const ext = path.join(f.dir, 'server.ext')
  fs.writeFileSync(ext, `subjectAltName=DNS:${REPO_HOST}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`)
  await run('openssl', ['req', ...ec, '-keyout', f.key, '-out', csr, '-subj', `/CN=${REPO_HOST}`])
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', f.caCert, '-CAkey', f.caKey, '-CAcreateserial', '-days', '7', '-extfile', ext, '-out', f.cert])
  return { debs: pkgs.length, ms: Math.round(performance.now() - t0) }
}
