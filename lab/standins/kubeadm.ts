// Stand-in for kubeadm (1.36, config API v1beta4) on the lab hosts: init, join, reset, token,
// version, config. Strict like the real tool: it reads the node's OS state written by the OS
// stand-ins, runs the real preflight checks it can (ip_forward, ports, files, CPUs, memory),
// writes real files (certificates, kubeconfigs, static pod manifests, kubelet config) and
// keeps the cluster in the control plane's store so that kubectl and reruns see it.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { p } from './_fs.ts'
import { addonObjects, controlPlaneImages, cpus, memoryBytes, newToken, PAUSE_IMAGE, registerNode, staticPodManifests, tokenSecret } from './_cluster-objects.ts'
import type { StaticPod } from './_controllers.ts'
import { CP_TAINT, jwsDetached, nodeReady, reconcile } from './_controllers.ts'
import { applyDefaults } from './_defaults.ts'
import { FlagError, flagBool, flagList, flagStr, has, parseFlags } from './_flags.ts'
import type { FlagSpec, Parsed } from './_flags.ts'
import { Exit, isEntry, processIO, readText, sleep, writeAtomic } from './_io.ts'
import type { IO } from './_io.ts'
import { readNodeState, updateNodeState } from './_node.ts'
import type { NodeState } from './_node.ts'
import { hostAddresses, hostByAddress, hostname, installedVersion, parseSemver, selfHost } from './_k8s-host.ts'
import type { HostRef } from './_k8s-host.ts'
import { clone, dig, formatDuration, isObj, nowIso, parseDuration, str, toYaml } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { aggregate, argsMap, ConfigError, DEFAULT_SERVICE_SUBNET, KUBEADM_API, parseKubeadmConfig, TOKEN_RE, validateInit, validateKubelet, validateNodeRegistration } from './_kubeadm-config.ts'
import { connect, ConnectError, isAdmin, makeKubeconfig, userPath } from './_kubeconfig.ts'
import { isServerCallChild, networkMode, serverCall , runServerCall } from './_apicall.ts'
import { kubeconfigTarget, netError, request, sendCall } from './_apiclient.ts'
import type { Reply, Target } from './_apiclient.ts'
import { admitNode } from './_join.ts'
import type { JoinGrant, JoinRequest } from './_join.ts'
import { load } from 'js-yaml'
import { b64, caCertHash, newCA, newLeaf, unb64 } from './_pki.ts'
import type { Pem } from './_pki.ts'
import { deleteObj, getObj, listObjs, newStore, openUpStoreDir, putObj, readStore, storeFileOf, updateStore, writeStore } from './_store.ts'
import type { ClusterInfo, Store } from './_store.ts'
import { clock } from './_clock.ts'

const STACK_HINT = 'To see the stack trace of this error execute with --v=5 or higher'
const CONTAINERD_SOCKET = 'unix:///var/run/containerd/containerd.sock'
const KUBELET_DIR = '/var/lib/kubelet'
const CLUSTER_INFO_PATH = '/api/v1/namespaces/kube-public/configmaps/cluster-info'
const MANIFESTS = '/etc/kubernetes/manifests'

const globalFlags: FlagSpec[] = [
  { name: 'v', short: 'v', type: 'string' },
  { name: 'rootfs', type: 'string' },
  { name: 'help', short: 'h', type: 'bool' },
]

type Ctx = { io: IO; kubeadmVersion: string; state: NodeState }

const fail = (msg: string): never => {
  throw new Exit(`${msg}\n${STACK_HINT}\n`)
}
const phaseFail = (phase: string, msg: string): never => fail(`error execution phase ${phase}: ${msg}`)

export async function main(argv: string[], io: IO = processIO()): Promise<number> {
  try {
    const state = readNodeState()
    const kubeadmVersion = installedVersion(state, 'kubeadm')
    if (!kubeadmVersion) {
      io.err('zxlab: kubeadm: command not found (package kubeadm is not installed on this node)\n')
      return 127
    }
    const ctx: Ctx = { io, kubeadmVersion, state }
    const cmdIndex = argv.findIndex((a) => !a.startsWith('-'))
    const cmd = cmdIndex >= 0 ? argv[cmdIndex] : undefined
    const rest = cmdIndex >= 0 ? [...argv.slice(0, cmdIndex), ...argv.slice(cmdIndex + 1)] : argv
    switch (cmd) {
      case 'init':
        return await init(ctx, rest)
      case 'join':
        return await join(ctx, rest)
      case 'reset':
        return reset(ctx, rest)
      case 'token':
        return networkMode() && !['generate', undefined].includes(rest.find((a) => !a.startsWith('-'))) ? await tokenOverNetwork(ctx, argv, rest) : token(ctx, rest)
      case 'version':
        return version(ctx, rest)
      case 'config':
        return config(ctx, rest)
      case undefined:
        io.out('Usage:\n  kubeadm [command]\n\nAvailable Commands:\n  certs       Commands related to handling kubernetes certificates\n  completion  Output shell completion code for the specified shell (bash or zsh)\n  config      Manage configuration for a kubeadm cluster persisted in a ConfigMap in the cluster\n  help        Help about any command\n  init        Run this command in order to set up the Kubernetes control plane\n  join        Run this on any machine you wish to join an existing cluster\n  kubeconfig  Kubeconfig file utilities\n  reset       Performs a best effort revert of changes made to this host by \'kubeadm init\' or \'kubeadm join\'\n  token       Manage bootstrap tokens\n  upgrade     Upgrade your cluster smoothly to a newer version with this command\n  version     Print the version of kubeadm\n')
        return 0
      default:
        return fail(`unknown command ${JSON.stringify(cmd)} for "kubeadm"`)
    }
  } catch (e) {
    if (e instanceof Exit) {
      io.err(e.message)
      return e.code
    }
    if (e instanceof FlagError) {
      io.err(`${e.message}\n${STACK_HINT}\n`)
      return 1
    }
    io.err(`${(e as Error).stack ?? String(e)}\n`)
    return 1
  }
}

function flags(argv: string[], specs: FlagSpec[]): Parsed {
  return parseFlags(argv, [...globalFlags, ...specs])
}

function readConfigFile(file: string): string {
  try {
    return fs.readFileSync(userPath(file), 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return fail(`unable to read config from ${JSON.stringify(file)} : open ${file}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`)
  }
}

function parseConfig(text: string, use: Parameters<typeof parseKubeadmConfig>[1], io: IO) {
  try {
    const docs = parseKubeadmConfig(text, use)
    for (const w of docs.warnings) io.err(`${w}\n`)
    return docs
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message)
    throw e
  }
}

// ---------------------------------------------------------------------------
// Preflight

type Check = { name: string; error?: string; warning?: string }

function ignoredSet(flagsList: string[], config: unknown): Set<string> {
  const out = new Set<string>()
  for (const x of [...flagsList, ...(Array.isArray(config) ? config.map(String) : [])]) for (const y of x.split(',')) if (y.trim()) out.add(y.trim().toLowerCase())
  return out
}

function runChecks(io: IO, checks: Check[], ignore: Set<string>) {
  io.out('[preflight] Running pre-flight checks\n')
  const errors: string[] = []
  for (const c of checks) {
    if (c.warning) io.out(`\t[WARNING ${c.name}]: ${c.warning}\n`)
    if (!c.error) continue
    if (ignore.has('all') || ignore.has(c.name.toLowerCase())) io.out(`\t[WARNING ${c.name}]: ${c.error}\n`)
    else errors.push(`\t[ERROR ${c.name}]: ${c.error}\n`)
  }
  if (errors.length) {
    phaseFail('preflight', `[preflight] Some fatal errors occurred:\n${errors.join('')}[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``)
  }
}

function portInUse(port: number): Promise<boolean> {
  if (process.env.ZXLAB_SKIP_PORT_CHECK === '1') return Promise.resolve(false)
  return new Promise((resolve) => {
    const srv = net.createServer()
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'))
    srv.once('listening', () => srv.close(() => resolve(false)))
    srv.listen({ port, host: '0.0.0.0', exclusive: true })
  })
}

async function portChecks(ports: number[]): Promise<Check[]> {
  const out: Check[] = []
  for (const port of ports) if (await portInUse(port)) out.push({ name: `Port-${port}`, error: `Port ${port} is in use` })
  return out
}

function commonChecks(ctx: Ctx, criSocket: string, cpVersion?: string): Check[] {
  const checks: Check[] = []
  const s = ctx.state
  // container runtime
  const containerd = s.services.containerd?.active === true && !!(s.packages.containerd ?? s.packages['containerd.io'])
  const sock = criSocket.replace(/^unix:\/\//, '')
  if (!containerd || !['/var/run/containerd/containerd.sock', '/run/containerd/containerd.sock'].includes(sock)) {
    checks.push({
      name: 'CRI',
      error: `container runtime is not running: output: validate service connection: validate CRI v1 runtime API for endpoint ${JSON.stringify(criSocket)}: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix ${sock}: connect: no such file or directory", error: exit status 1`,
    })
  }
  if (!criSocket.startsWith('unix://')) {
    checks.push({ name: 'CRI-Endpoint', warning: `Usage of CRI endpoints without URL scheme is deprecated and can cause kubelet errors in the future. Automatically prepending scheme "unix" to the "criSocket" with value ${JSON.stringify(criSocket)}. Please update your configuration!` })
  }
  // kubelet
  const kubelet = installedVersion(s, 'kubelet')
  if (!kubelet) {
    checks.push({ name: 'KubeletVersion', error: "couldn't get kubelet version: cannot execute 'kubelet --version': exec: \"kubelet\": executable file not found in $PATH" })
  } else if (cpVersion) {
    const kv = parseSemver(kubelet)
    const cv = parseSemver(cpVersion)
    if (kv && cv && kv.minor > cv.minor) {
      checks.push({ name: 'KubeletVersion', error: `the kubelet version is higher than the control plane version. This is not a supported version skew and may lead to a malfunctional cluster. Kubelet version: "${kubelet.slice(1)}" Control plane version: "${cpVersion.slice(1)}"` })
    } else if (kv && cv && kv.minor < cv.minor - 3) {
      checks.push({ name: 'KubeletVersion', error: `Kubelet version "${kubelet.slice(1)}" is lower than kubeadm can support. Please upgrade kubelet` })
    }
  }
  if (kubelet && s.services.kubelet?.enabled !== true) {
    checks.push({ name: 'Service-Kubelet', warning: "kubelet service is not enabled, please run 'systemctl enable kubelet.service'" })
  }
  // ip_forward (the real /proc in the lab; a file under ZXLAB_FS_ROOT in tests)
  const fwd = readText(p('/proc/sys/net/ipv4/ip_forward'))
  if (fwd === undefined) checks.push({ name: 'FileContent--proc-sys-net-ipv4-ip_forward', error: '/proc/sys/net/ipv4/ip_forward does not exist' })
  else if (fwd.trim() !== '1') checks.push({ name: 'FileContent--proc-sys-net-ipv4-ip_forward', error: '/proc/sys/net/ipv4/ip_forward contents are not set to 1' })
  // swap
  const swaps = (readText(p('/proc/swaps')) ?? '').trim().split('\n').slice(1).filter(Boolean)
  if (swaps.length) {
    checks.push({ name: 'Swap', warning: 'swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, or disable swap on the node' })
  }
  return checks
}

const fileAvailable = (abs: string): Check | undefined =>
  fs.existsSync(p(abs)) ? { name: `FileAvailable-${abs.replace(/\//g, '-')}`, error: `${abs} already exists` } : undefined

function dirAvailable(abs: string, ignore: (name: string) => boolean = () => false): Check | undefined {
  let entries: string[] = []
  try {
    entries = fs.readdirSync(p(abs)).filter((e) => !ignore(e))
  } catch {
    return undefined
  }
  return entries.length ? { name: `DirAvailable-${abs.replace(/\//g, '-')}`, error: `${abs} is not empty` } : undefined
}

// ---------------------------------------------------------------------------
// Versions

function resolveVersion(ctx: Ctx, wanted: string | undefined): string {
  if (!wanted || /^(stable|latest)(-\d+(\.\d+)?)?$/.test(wanted)) {
    const label = wanted ?? 'stable-1'
    ctx.io.err(
      `W${stamp()}    ${process.pid} version.go:109] could not fetch a Kubernetes version from the internet: unable to get URL "https://dl.k8s.io/release/${label}.txt": Get "https://dl.k8s.io/release/${label}.txt": dial tcp: lookup dl.k8s.io on 127.0.0.53:53: server misbehaving\nW${stamp()}    ${process.pid} version.go:110] falling back to the local client version: ${ctx.kubeadmVersion}\n`
    )
    return ctx.kubeadmVersion
  }
  const v = parseSemver(wanted)
  if (!v) return fail(`couldn't parse Kubernetes version ${JSON.stringify(wanted)}: could not parse pre-release/metadata (${wanted.replace(/^v?[\d.]*/, '')}) in version ${JSON.stringify(wanted)}`)
  return v.text
}

/** kubernetesVersion must be this kubeadm's minor; returns preflight checks for newer patches. */
function versionChecks(ctx: Ctx, version: string): Check[] {
  const kv = parseSemver(ctx.kubeadmVersion) as NonNullable<ReturnType<typeof parseSemver>>
  const v = parseSemver(version) as NonNullable<ReturnType<typeof parseSemver>>
  if (v.major < kv.major || (v.major === kv.major && v.minor < kv.minor)) {
    fail(`this version of kubeadm only supports deploying clusters with the control plane version >= ${kv.major}.${kv.minor}.0. Current version: ${version}`)
  }
  if (v.major > kv.major || v.minor > kv.minor) {
    return [{ name: 'KubernetesVersion', error: `Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. Kubernetes version: ${version.slice(1)}. Kubeadm version: ${kv.major}.${kv.minor}.x` }]
  }
  if (v.patch > kv.patch) {
    return [{ name: 'KubernetesVersion', warning: `Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. Kubernetes version: ${version.slice(1)}. Kubeadm version: ${kv.major}.${kv.minor}.x` }]
  }
  return []
}

function stamp(): string {
  const d = new Date()
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${pad(d.getMonth() + 1)}${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds() * 1000, 6)}`
}

// ---------------------------------------------------------------------------
// init

const INIT_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string' },
  { name: 'ignore-preflight-errors', type: 'slice' },
  { name: 'skip-token-print', type: 'bool' },
  { name: 'upload-certs', type: 'bool' },
  { name: 'skip-phases', type: 'slice' },
  { name: 'dry-run', type: 'bool' },
  { name: 'certificate-key', type: 'string' },
  { name: 'skip-certificate-key-print', type: 'bool' },
  { name: 'apiserver-advertise-address', type: 'string' },
  { name: 'apiserver-bind-port', type: 'int' },
  { name: 'pod-network-cidr', type: 'string' },
  { name: 'service-cidr', type: 'string' },
  { name: 'service-dns-domain', type: 'string' },
  { name: 'kubernetes-version', type: 'string' },
  { name: 'node-name', type: 'string' },
  { name: 'cri-socket', type: 'string' },
  { name: 'control-plane-endpoint', type: 'string' },
  { name: 'token', type: 'string' },
  { name: 'token-ttl', type: 'string' },
  { name: 'image-repository', type: 'string' },
  { name: 'cert-dir', type: 'string' },
  { name: 'apiserver-cert-extra-sans', type: 'slice' },
  { name: 'feature-gates', type: 'string' },
  { name: 'patches', type: 'string' },
]
const CONFIG_MIXABLE = new Set(['config', 'ignore-preflight-errors', 'skip-token-print', 'upload-certs', 'skip-phases', 'dry-run', 'certificate-key', 'skip-certificate-key-print', 'v', 'rootfs', 'help', 'patches'])

function mixCheck(f: Parsed) {
  if (!has(f, 'config')) return
  const bad = [...new Set(f.given.filter((g) => !CONFIG_MIXABLE.has(g)))]
  if (bad.length) fail(`can not mix '--config' with arguments [${bad.join(' ')}]`)
}

async function init(ctx: Ctx, argv: string[]): Promise<number> {
  const f = flags(argv, INIT_FLAGS)
  if (f.args.length) return fail(`unknown command ${JSON.stringify(f.args[0])} for "kubeadm init"`)
  mixCheck(f)
  if (flagBool(f, 'dry-run')) return fail('the stand-in kubeadm does not support --dry-run')
  const io = ctx.io
  let initCfg: Obj = {}
  let clusterCfg: Obj = {}
  let kubeletCfg: Obj | undefined
  let proxyCfg: Obj | undefined
  const cfgFile = flagStr(f, 'config')
  if (cfgFile) {
    const docs = parseConfig(readConfigFile(cfgFile), ['InitConfiguration', 'ClusterConfiguration'], io)
    initCfg = docs.init ?? {}
    clusterCfg = docs.cluster ?? {}
    kubeletCfg = docs.kubelet
    proxyCfg = docs.kubeProxy
  } else {
    const ep: Obj = {}
    if (flagStr(f, 'apiserver-advertise-address')) ep.advertiseAddress = flagStr(f, 'apiserver-advertise-address')
    if (flagStr(f, 'apiserver-bind-port')) ep.bindPort = Number(flagStr(f, 'apiserver-bind-port'))
    initCfg.localAPIEndpoint = ep
    const nr: Obj = {}
    if (flagStr(f, 'node-name')) nr.name = flagStr(f, 'node-name')
    if (flagStr(f, 'cri-socket')) nr.criSocket = flagStr(f, 'cri-socket')
    initCfg.nodeRegistration = nr
    if (flagStr(f, 'token')) initCfg.bootstrapTokens = [{ token: flagStr(f, 'token'), ...(flagStr(f, 'token-ttl') ? { ttl: flagStr(f, 'token-ttl') } : {}) }]
    const netw: Obj = {}
    if (flagStr(f, 'pod-network-cidr')) netw.podSubnet = flagStr(f, 'pod-network-cidr')
    if (flagStr(f, 'service-cidr')) netw.serviceSubnet = flagStr(f, 'service-cidr')
    if (flagStr(f, 'service-dns-domain')) netw.dnsDomain = flagStr(f, 'service-dns-domain')
    clusterCfg.networking = netw
    if (flagStr(f, 'kubernetes-version')) clusterCfg.kubernetesVersion = flagStr(f, 'kubernetes-version')
    if (flagStr(f, 'control-plane-endpoint')) clusterCfg.controlPlaneEndpoint = flagStr(f, 'control-plane-endpoint')
    if (flagStr(f, 'image-repository')) clusterCfg.imageRepository = flagStr(f, 'image-repository')
    if (flagStr(f, 'cert-dir')) clusterCfg.certificatesDir = flagStr(f, 'cert-dir')
    if (flagList(f, 'apiserver-cert-extra-sans').length) clusterCfg.apiServer = { certSANs: flagList(f, 'apiserver-cert-extra-sans') }
  }
  const kcmArgs = argsMap(isObj(clusterCfg.controllerManager) ? clusterCfg.controllerManager.extraArgs : undefined)
  const mask = Number(kcmArgs.get('node-cidr-mask-size') ?? kcmArgs.get('node-cidr-mask-size-ipv4') ?? 24)
  const errs = [...validateInit(initCfg, clusterCfg, Number.isInteger(mask) ? mask : 24)]
  if (errs.length) return fail(aggregate(errs))

  // defaults
  const nr = isObj(initCfg.nodeRegistration) ? initCfg.nodeRegistration : {}
  const ep = isObj(initCfg.localAPIEndpoint) ? initCfg.localAPIEndpoint : {}
  const netw = isObj(clusterCfg.networking) ? clusterCfg.networking : {}
  const advertise = str(ep.advertiseAddress) || hostAddresses().find((a) => !a.startsWith('127.')) || '127.0.0.1'
  const bindPort = typeof ep.bindPort === 'number' ? ep.bindPort : 6443
  const nodeName = (str(nr.name) || hostname()).toLowerCase()
  const criSocket = str(nr.criSocket) || CONTAINERD_SOCKET
  const podSubnet = str(netw.podSubnet) || undefined
  const serviceSubnet = str(netw.serviceSubnet) || DEFAULT_SERVICE_SUBNET
  const dnsDomain = str(netw.dnsDomain) || 'cluster.local'
  const certsDir = str(clusterCfg.certificatesDir) || '/etc/kubernetes/pki'
  const repo = str(clusterCfg.imageRepository) || 'registry.k8s.io'
  const clusterName = str(clusterCfg.clusterName) || 'kubernetes'
  const cpe = str(clusterCfg.controlPlaneEndpoint) || undefined
  const version = resolveVersion(ctx, str(clusterCfg.kubernetesVersion))
  const vChecks = versionChecks(ctx, version)
  const taints = Array.isArray(nr.taints) ? (nr.taints as { key: string; value?: string; effect: string }[]) : [{ key: CP_TAINT, effect: 'NoSchedule' }]
  const kubeletErrs = validateKubelet(kubeletCfg)

  io.out(`[init] Using Kubernetes version: ${version}\n`)
  const ignore = ignoredSet(flagList(f, 'ignore-preflight-errors'), nr.ignorePreflightErrors)
  const checks: Check[] = [...vChecks]
  const nCpu = cpus()
  if (nCpu < 2) checks.push({ name: 'NumCPU', error: `the number of available CPUs ${nCpu} is less than the required 2` })
  const memMB = Math.floor(memoryBytes() / 1024 / 1024)
  if (memMB < 1700) checks.push({ name: 'Mem', error: `the system RAM (${memMB} MB) is less than the minimum 1700 MB` })
  checks.push(...(await portChecks([bindPort, 10259, 10257])))
  for (const m of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) {
    const c = fileAvailable(`${MANIFESTS}/${m}.yaml`)
    if (c) checks.push(c)
  }
  checks.push(...(await portChecks([10250, 2379, 2380])))
  const etcdDir = dirAvailable('/var/lib/etcd', (e) => e.startsWith('zxlab-cluster.json.') && e.endsWith('.lock'))
  if (etcdDir) checks.push(etcdDir)
  checks.push(...commonChecks(ctx, criSocket, version))
  runChecks(io, checks, ignore)
  io.out(
    "[preflight] Pulling images required for setting up a Kubernetes cluster\n[preflight] This might take a minute or two, depending on the speed of your internet connection\n[preflight] You can also perform this action beforehand using 'kubeadm config images pull'\n"
  )

  // certs
  io.out(`[certs] Using certificateDir folder "${certsDir}"\n`)
  const pki = (n: string) => p(path.join(certsDir, n))
  let ca: Pem
  const existingCA = readText(pki('ca.crt'))
  const existingKey = readText(pki('ca.key'))
  if (existingCA && existingKey) {
    io.out('[certs] Using existing ca certificate authority\n')
    ca = { cert: existingCA, key: existingKey }
  } else {
    io.out('[certs] Generating "ca" certificate and key\n')
    ca = newCA()
    writeAtomic(pki('ca.crt'), ca.cert, 0o644)
    writeAtomic(pki('ca.key'), ca.key, 0o600)
  }
  const sans = [`kubernetes`, 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${dnsDomain}`, nodeName]
  const apiserverCert = newLeaf(ca, { cn: 'kube-apiserver', usage: 'server', dnsNames: sans, ips: [firstServiceIP(serviceSubnet), advertise] })
  io.out('[certs] Generating "apiserver" certificate and key\n')
  io.out(`[certs] apiserver serving cert is signed for DNS names [${sans.join(' ')}] and IPs [${firstServiceIP(serviceSubnet)} ${advertise}]\n`)
  writeAtomic(pki('apiserver.crt'), apiserverCert.cert, 0o644)
  writeAtomic(pki('apiserver.key'), apiserverCert.key, 0o600)
  for (const n of ['apiserver-kubelet-client', 'front-proxy-ca', 'front-proxy-client', 'etcd/ca', 'etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client']) {
    io.out(`[certs] Generating "${n}" certificate and key\n`)
  }
  if (!readText(pki('sa.key'))) {
    const sa = newLeaf(ca, { cn: 'service-accounts' })
    writeAtomic(pki('sa.key'), sa.key, 0o600)
    writeAtomic(pki('sa.pub'), sa.cert, 0o644)
  }
  io.out('[certs] Generating "sa" key and public key\n')

  // kubeconfigs
  const server = `https://${advertise}:${bindPort}`
  const endpoint = cpe ? (cpe.includes(':') ? cpe : `${cpe}:${bindPort}`) : `${advertise}:${bindPort}`
  io.out('[kubeconfig] Using kubeconfig folder "/etc/kubernetes"\n')
  const kubeconfigs: [string, string, string[]][] = [
    ['admin.conf', 'kubernetes-admin', ['kubeadm:cluster-admins']],
    ['super-admin.conf', 'kubernetes-super-admin', ['system:masters']],
    ['kubelet.conf', `system:node:${nodeName}`, ['system:nodes']],
    ['controller-manager.conf', 'system:kube-controller-manager', []],
    ['scheduler.conf', 'system:kube-scheduler', []],
  ]
  for (const [file, user, orgs] of kubeconfigs) {
    const target = p(`/etc/kubernetes/${file}`)
    const existing = readText(target)
    if (existing !== undefined) {
      const caData = /certificate-authority-data:\s*(\S+)/.exec(existing)?.[1]
      if (!caData || unb64(caData).replace(/\s+/g, '') !== ca.cert.replace(/\s+/g, '')) {
        return phaseFail(`kubeconfig/${file.replace('.conf', '')}`, `a kubeconfig file ${JSON.stringify(`/etc/kubernetes/${file}`)} exists already but has got the wrong CA cert`)
      }
      io.out(`[kubeconfig] Using existing kubeconfig file: ${JSON.stringify(`/etc/kubernetes/${file}`)}\n`)
      continue
    }
    io.out(`[kubeconfig] Writing ${JSON.stringify(file)} kubeconfig file\n`)
    const leaf = newLeaf(ca, { cn: user, orgs })
    writeAtomic(target, makeKubeconfig({ server: file === 'admin.conf' || file === 'super-admin.conf' ? `https://${endpoint}` : server, caCert: ca.cert, user, cert: leaf.cert, key: leaf.key, clusterName }), 0o600)
  }

  // static pods
  const manifests = staticPodManifests({ advertiseAddress: advertise, bindPort, version, repo, ...(podSubnet ? { podSubnet } : {}), serviceSubnet, clusterName, cluster: clusterCfg, certsDir, nodeName })
  io.out(`[etcd] Creating static Pod manifest for local etcd in "${MANIFESTS}"\n[control-plane] Using manifest folder "${MANIFESTS}"\n`)
  const statics: StaticPod[] = []
  for (const [n, pod] of Object.entries(manifests)) {
    if (n !== 'etcd') io.out(`[control-plane] Creating static Pod manifest for ${JSON.stringify(n)}\n`)
    writeAtomic(p(`${MANIFESTS}/${n}.yaml`), toYaml(pod), 0o600)
    const stored = clone(pod)
    applyDefaults(stored)
    statics.push({ node: nodeName, file: `${MANIFESTS}/${n}.yaml`, pod: stored })
  }

  // kubelet
  const kubeletConfig = kubeletConfiguration(kubeletCfg, dnsDomain, serviceSubnet)
  writeKubeletFiles(io, kubeletConfig, criSocket, nr.kubeletExtraArgs)
  updateNodeState((s) => {
    s.services.kubelet = { enabled: false, ...s.services.kubelet, active: true }
  })
  io.out('[kubelet-start] Starting the kubelet\n')
  io.out(`[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "${MANIFESTS}"\n`)
  io.out('[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s\n')
  if (kubeletErrs.length) {
    io.out('[kubelet-check] The kubelet is not healthy after 4m0.000304878s\n\nUnfortunately, an error has occurred, likely caused by:\n\t- The kubelet is not running\n\t- The kubelet is unhealthy due to a misconfiguration of the node in some way (required cgroups disabled)\n\n')
    return phaseFail('wait-control-plane', `failed while waiting for the kubelet to start: The HTTP call equal to 'curl -sSL http://127.0.0.1:10248/healthz' returned error: Get "http://127.0.0.1:10248/healthz": dial tcp 127.0.0.1:10248: connect: connection refused (kubelet: ${kubeletErrs.join('; ')})`)
  }
  io.out('[kubelet-check] The kubelet is healthy after 501.234567ms\n')
  io.out('[control-plane-check] Waiting for healthy control plane components. This can take up to 4m0s\n')
  // on a real host the kubelet is systemd's: it starts the kube-apiserver static pod, which must answer
  if (networkMode() && hostAddresses().includes(advertise)) {
    restartKubelet()
    const why = await waitLivez(advertise, bindPort, 120_000)
    if (why) {
      io.out(`[control-plane-check] kube-apiserver is not healthy after 2m0s\n`)
      return phaseFail('wait-control-plane', `failed while waiting for the control plane to start: kube-apiserver check failed at https://${advertise}:${bindPort}/livez: Get "https://${advertise}:${bindPort}/livez?timeout=10s": ${why}`)
    }
  }
  io.out(`[control-plane-check] Checking kube-apiserver at https://${advertise}:${bindPort}/livez\n[control-plane-check] Checking kube-controller-manager at https://127.0.0.1:10257/healthz\n[control-plane-check] Checking kube-scheduler at https://127.0.0.1:10259/livez\n`)
  const crashTroubleshoot = `\nA control plane component may have crashed or exited when started by the container runtime.\nTo troubleshoot, list all containers using your preferred container runtimes CLI.\nHere is one example how you may list all running Kubernetes containers by using crictl:\n\t- 'crictl --runtime-endpoint ${criSocket} ps -a | grep kube | grep -v pause'\n\tOnce you have found the failing container, you can inspect its logs with:\n\t- 'crictl --runtime-endpoint ${criSocket} logs CONTAINERID'\n\n`
  if (!hostAddresses().includes(advertise)) {
    io.out(`[control-plane-check] kube-apiserver is not healthy after 4m0.000651241s\n${crashTroubleshoot}`)
    return phaseFail('wait-control-plane', `failed while waiting for the control plane to start: kube-apiserver check failed at https://${advertise}:${bindPort}/livez: Get "https://${advertise}:${bindPort}/livez?timeout=10s": dial tcp ${advertise}:${bindPort}: connect: no route to host (the kube-apiserver container exits: listen tcp ${advertise}:${bindPort}: bind: cannot assign requested address)`)
  }
  const kcmProblem = controllerManagerProblem(clusterCfg)
  if (kcmProblem) {
    io.out(`[control-plane-check] kube-controller-manager is not healthy after 4m0.000512837s\n${crashTroubleshoot}`)
    return phaseFail('wait-control-plane', `failed while waiting for the control plane to start: kube-controller-manager check failed at https://127.0.0.1:10257/healthz: Get "https://127.0.0.1:10257/healthz": dial tcp 127.0.0.1:10257: connect: connection refused (the kube-controller-manager container exits: ${kcmProblem})`)
  }
  io.out('[control-plane-check] kube-controller-manager is healthy after 1.503215s\n[control-plane-check] kube-scheduler is healthy after 2.001237s\n[control-plane-check] kube-apiserver is healthy after 3.500621s\n')

  // the cluster
  const self = selfHost()
  const storeFile = storeFileOf({ root: '/' })
  const info: ClusterInfo = {
    name: clusterName,
    endpoint,
    advertiseAddress: advertise,
    bindPort,
    controlPlaneHost: self,
    caCert: ca.cert,
    caKey: ca.key,
    kubernetesVersion: version,
    ...(podSubnet ? { podSubnet } : {}),
    serviceSubnet,
    dnsDomain,
    nodeCidrMaskSize: Number.isInteger(mask) ? mask : 24,
    ...(cpe ? { controlPlaneEndpoint: cpe } : {}),
    createdAt: nowIso(),
    // on a real host the kubelets run elsewhere and reach the cluster only over the network
    ...(networkMode() ? { kubeletsPost: true as const } : {}),
  }
  const store = newStore(info)
  ;(store.internal as { staticPods?: StaticPod[] }).staticPods = statics
  const clusterYaml = toYaml(sortKeys(defaultedClusterConfig(clusterCfg, { version, podSubnet, serviceSubnet, dnsDomain, certsDir, repo, clusterName, cpe })))
  const kubeletYaml = toYaml(kubeletConfig)
  const clusterInfoKubeconfig = toYaml({ apiVersion: 'v1', clusters: [{ cluster: { 'certificate-authority-data': b64(ca.cert), server: `https://${endpoint}` }, name: '' }], contexts: null, 'current-context': '', kind: 'Config', preferences: {}, users: null })
  io.out('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace\n')
  io.out('[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the kubelets in the cluster\n')
  for (const o of addonObjects(store, {
    clusterConfigYaml: clusterYaml,
    kubeletConfigYaml: kubeletYaml,
    kubeProxyYaml: toYaml({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: podSubnet ?? '', mode: '', ...(proxyCfg ?? {}) }),
    clusterInfoKubeconfig,
    dnsDisabled: isObj(clusterCfg.dns) && clusterCfg.dns.disabled === true,
    proxyDisabled: isObj(clusterCfg.proxy) && clusterCfg.proxy.disabled === true,
  })) {
    putObj(store, o)
  }
  io.out(flagBool(f, 'upload-certs') ? '[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n' : '[upload-certs] Skipping phase. Please see --upload-certs\n')
  registerNode(store, { name: nodeName, host: self, criSocket, taints, controlPlane: true, kubeletVersion: installedVersion(ctx.state, 'kubelet') ?? version, ...containerdVersion(ctx.state) })
  io.out(`[mark-control-plane] Marking the node ${nodeName} as control-plane by adding the labels: [node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]\n`)
  if (taints.length) io.out(`[mark-control-plane] Marking the node ${nodeName} as control-plane by adding the taints [${taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(' ')}]\n`)
  const tokens = Array.isArray(initCfg.bootstrapTokens) && initCfg.bootstrapTokens.length ? (initCfg.bootstrapTokens as Obj[]) : [{}]
  let firstToken = ''
  for (const t of tokens) {
    const tok = str(t.token) ?? newToken()
    firstToken ||= tok
    const ttl = str(t.ttl) ? (parseDuration(String(t.ttl)) ?? 86_400_000) : 86_400_000
    putObj(store, tokenSecret(tok, ttl, str(t.description) ?? "The default bootstrap token generated by 'kubeadm init'.", Array.isArray(t.usages) ? t.usages.map(String) : undefined, Array.isArray(t.groups) ? t.groups.map(String) : undefined))
  }
  io.out(`[bootstrap-token] Using token: ${firstToken}\n`)
  io.out(
    '[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles\n[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes\n[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get long term certificate credentials\n[bootstrap-token] Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a Node Bootstrap Token\n[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client certificates in the cluster\n[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace\n[kubelet-finalize] Updating "/etc/kubernetes/kubelet.conf" to point to a rotatable kubelet client certificate and key\n'
  )
  reconcile(store)
  openUpStoreDir(p(path.dirname('/var/lib/etcd/zxlab-cluster.json')))
  fs.mkdirSync(p('/var/lib/etcd/member'), { recursive: true })
  writeStore(storeFile, store)
  if (!(isObj(clusterCfg.dns) && clusterCfg.dns.disabled === true)) io.out('[addons] Applied essential addon: CoreDNS\n')
  if (!(isObj(clusterCfg.proxy) && clusterCfg.proxy.disabled === true)) io.out('[addons] Applied essential addon: kube-proxy\n')
  io.out(
    `\nYour Kubernetes control-plane has initialized successfully!\n\nTo start using your cluster, you need to run the following as a regular user:\n\n  mkdir -p $HOME/.kube\n  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n  sudo chown $(id -u):$(id -g) $HOME/.kube/config\n\nAlternatively, if you are the root user, you can run:\n\n  export KUBECONFIG=/etc/kubernetes/admin.conf\n\nYou should now deploy a pod network to the cluster.\nRun "kubectl apply -f [podnetwork].yaml" with one of the options listed at:\n  https://kubernetes.io/docs/concepts/cluster-administration/addons/\n\n`
  )
  const hash = caCertHash(ca.cert)
  const tokenShown = flagBool(f, 'skip-token-print') ? '<value withheld>' : firstToken
  const hashShown = flagBool(f, 'skip-token-print') ? '<value withheld>' : hash
  if (cpe) {
    io.out(`You can now join any number of control-plane nodes by copying certificate authorities\nand service account keys on each node and then running the following as root:\n\n  kubeadm join ${endpoint} --token ${tokenShown} \\\n\t--discovery-token-ca-cert-hash ${hashShown} \\\n\t--control-plane \n\n`)
  }
  io.out(`Then you can join any number of worker nodes by running the following on each as root:\n\nkubeadm join ${endpoint} --token ${tokenShown} \\\n\t--discovery-token-ca-cert-hash ${hashShown} \n`)
  return 0
}

const firstServiceIP = (cidr: string) => {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)/.exec(cidr)
  return m ? `${m[1]}.${m[2]}.${m[3]}.${Number(m[4]) + 1}` : '10.96.0.1'
}

const containerdVersion = (s: NodeState) => {
  const v = (s.packages.containerd ?? s.packages['containerd.io'])?.version
  return v ? { containerdVersion: v.replace(/^\d+:/, '').replace(/-[^-]*$/, '') } : {}
}

/** Flags kube-controller-manager 1.36 refuses (the ones the playbooks could get wrong). */
const KCM_DURATION_FLAGS = new Set([
  'horizontal-pod-autoscaler-downscale-stabilization',
  'horizontal-pod-autoscaler-sync-period',
  'horizontal-pod-autoscaler-initial-readiness-delay',
  'horizontal-pod-autoscaler-cpu-initialization-period',
  'node-monitor-grace-period',
  'node-monitor-period',
  'node-startup-grace-period',
  'pod-eviction-timeout',
  'terminated-pod-gc-threshold',
  'min-resync-period',
  'route-reconciliation-period',
  'namespace-sync-period',
  'resource-quota-sync-period',
  'attach-detach-reconcile-sync-period',
  'cluster-signing-duration',
  'leader-elect-lease-duration',
  'leader-elect-renew-deadline',
  'leader-elect-retry-period',
])
const KCM_FLAGS = new Set([
  ...KCM_DURATION_FLAGS,
  ...'allocate-node-cidrs authentication-kubeconfig authorization-kubeconfig bind-address client-ca-file cluster-cidr cluster-name cluster-signing-cert-file cluster-signing-key-file controllers kubeconfig leader-elect requestheader-client-ca-file root-ca-file service-account-private-key-file service-cluster-ip-range use-service-account-credentials node-cidr-mask-size node-cidr-mask-size-ipv4 node-cidr-mask-size-ipv6 horizontal-pod-autoscaler-tolerance concurrent-deployment-syncs concurrent-replicaset-syncs concurrent-service-syncs concurrent-namespace-syncs concurrent-gc-syncs concurrent-horizontal-pod-autoscaler-syncs configure-cloud-routes cloud-provider feature-gates v vmodule profiling secure-port kube-api-qps kube-api-burst large-cluster-size-threshold unhealthy-zone-threshold node-eviction-rate secondary-node-eviction-rate terminated-pod-gc-threshold flex-volume-plugin-dir enable-hostpath-provisioner enable-garbage-collector logging-format tls-cert-file tls-private-key-file tls-cipher-suites tls-min-version permit-address-sharing permit-port-sharing requestheader-allowed-names requestheader-extra-headers-prefix requestheader-group-headers requestheader-username-headers authentication-skip-lookup authorization-always-allow-paths authentication-tolerate-lookup-failure cluster-signing-kubelet-serving-cert-file cluster-signing-kubelet-serving-key-file cluster-signing-kubelet-client-cert-file cluster-signing-kubelet-client-key-file cluster-signing-kube-apiserver-client-cert-file cluster-signing-kube-apiserver-client-key-file cluster-signing-legacy-unknown-cert-file cluster-signing-legacy-unknown-key-file master kube-api-content-type'.split(' '),
])

function controllerManagerProblem(cluster: Obj): string | undefined {
  const cm = isObj(cluster.controllerManager) ? cluster.controllerManager : {}
  for (const [k, v] of argsMap(cm.extraArgs)) {
    if (!KCM_FLAGS.has(k)) return `unknown flag: --${k}`
    if (KCM_DURATION_FLAGS.has(k) && k !== 'terminated-pod-gc-threshold' && parseDuration(v) === undefined) {
      const unit = /^\d+(\.\d+)?([a-zA-Z]+)$/.exec(v)?.[2]
      return `invalid argument ${JSON.stringify(v)} for "--${k}" flag: time: ${unit ? `unknown unit ${JSON.stringify(unit)} in` : /^\d+$/.test(v) ? 'missing unit in' : 'invalid'} duration ${JSON.stringify(v)}`
    }
    if (k.startsWith('node-cidr-mask-size') && !/^\d+$/.test(v)) return `invalid argument ${JSON.stringify(v)} for "--${k}" flag: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`
  }
  return undefined
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (!isObj(v)) return v
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])])
  )
}

function defaultedClusterConfig(c: Obj, d: { version: string; podSubnet: string | undefined; serviceSubnet: string; dnsDomain: string; certsDir: string; repo: string; clusterName: string; cpe: string | undefined }): Obj {
  const out = clone(c)
  out.apiVersion = KUBEADM_API
  out.kind = 'ClusterConfiguration'
  out.kubernetesVersion = d.version
  out.networking = { ...(isObj(c.networking) ? c.networking : {}), dnsDomain: d.dnsDomain, serviceSubnet: d.serviceSubnet, ...(d.podSubnet ? { podSubnet: d.podSubnet } : {}) }
  out.certificatesDir = d.certsDir
  out.imageRepository = d.repo
  out.clusterName = d.clusterName
  out.encryptionAlgorithm ??= 'RSA-2048'
  out.caCertificateValidityPeriod ??= '87600h0m0s'
  out.certificateValidityPeriod ??= '8760h0m0s'
  out.etcd ??= { local: { dataDir: '/var/lib/etcd' } }
  for (const k of ['apiServer', 'controllerManager', 'scheduler', 'dns', 'proxy']) out[k] ??= {}
  if (d.cpe) out.controlPlaneEndpoint = d.cpe
  return out
}

function kubeletConfiguration(k: Obj | undefined, dnsDomain: string, serviceSubnet: string): Obj {
  const dns = (() => {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)/.exec(serviceSubnet)
    return m ? `${m[1]}.${m[2]}.${m[3]}.${Number(m[4]) + 10}` : '10.96.0.10'
  })()
  return sortKeys({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    authentication: { anonymous: { enabled: false }, webhook: { cacheTTL: '0s', enabled: true }, x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' } },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    cgroupDriver: 'systemd',
    clusterDNS: [dns],
    clusterDomain: dnsDomain,
    containerRuntimeEndpoint: '',
    cpuManagerReconcilePeriod: '0s',
    crashLoopBackOff: {},
    evictionPressureTransitionPeriod: '0s',
    fileCheckFrequency: '0s',
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    httpCheckFrequency: '0s',
    imageMaximumGCAge: '0s',
    imageMinimumGCAge: '0s',
    kind: 'KubeletConfiguration',
    logging: { flushFrequency: 0, options: { json: { infoBufferSize: '0' }, text: { infoBufferSize: '0' } }, verbosity: 0 },
    memorySwap: {},
    nodeStatusReportFrequency: '0s',
    nodeStatusUpdateFrequency: '0s',
    rotateCertificates: true,
    runtimeRequestTimeout: '0s',
    shutdownGracePeriod: '0s',
    shutdownGracePeriodCriticalPods: '0s',
    staticPodPath: MANIFESTS,
    streamingConnectionIdleTimeout: '0s',
    syncFrequency: '0s',
    volumeStatsAggPeriod: '0s',
    ...(k ?? {}),
  }) as Obj
}

function writeKubeletFiles(io: IO, kubeletConfig: Obj, criSocket: string, extraArgs: unknown) {
  io.out(`[kubelet-start] Writing kubelet environment file with flags to file "${KUBELET_DIR}/kubeadm-flags.env"\n`)
  const args = [`--container-runtime-endpoint=${criSocket.startsWith('unix://') ? criSocket : `unix://${criSocket}`}`, `--pod-infra-container-image=${PAUSE_IMAGE}`]
  for (const [k, v] of argsMap(extraArgs)) args.push(`--${k}=${v}`)
  writeAtomic(p(`${KUBELET_DIR}/kubeadm-flags.env`), `KUBELET_KUBEADM_ARGS="${args.join(' ')}"\n`, 0o644)
  io.out(`[kubelet-start] Writing kubelet configuration to file "${KUBELET_DIR}/config.yaml"\n`)
  writeAtomic(p(`${KUBELET_DIR}/config.yaml`), toYaml(kubeletConfig), 0o644)
}

// ---------------------------------------------------------------------------
// join

const JOIN_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string' },
  { name: 'token', type: 'string' },
  { name: 'discovery-token', type: 'string' },
  { name: 'tls-bootstrap-token', type: 'string' },
  { name: 'discovery-token-ca-cert-hash', type: 'slice' },
  { name: 'discovery-token-unsafe-skip-ca-verification', type: 'bool' },
  { name: 'discovery-file', type: 'string' },
  { name: 'node-name', type: 'string' },
  { name: 'cri-socket', type: 'string' },
  { name: 'ignore-preflight-errors', type: 'slice' },
  { name: 'control-plane', type: 'bool' },
  { name: 'certificate-key', type: 'string' },
  { name: 'apiserver-advertise-address', type: 'string' },
  { name: 'apiserver-bind-port', type: 'int' },
  { name: 'skip-phases', type: 'slice' },
  { name: 'dry-run', type: 'bool' },
  { name: 'patches', type: 'string' },
]
const JOIN_MIXABLE = new Set(['config', 'ignore-preflight-errors', 'skip-phases', 'dry-run', 'v', 'rootfs', 'help', 'patches'])

async function join(ctx: Ctx, argv: string[]): Promise<number> {
  const io = ctx.io
  const f = flags(argv, JOIN_FLAGS)
  if (has(f, 'config')) {
    const bad = [...new Set(f.given.filter((g) => !JOIN_MIXABLE.has(g)))]
    if (bad.length || f.args.length) return fail(`can not mix '--config' with arguments [${[...(f.args.length ? ['discovery-token-apiserver'] : []), ...bad].join(' ')}]`)
  }
  if (f.args.length > 1) return fail(`accepts at most 1 arg(s), received ${f.args.length}`)
  let cfg: Obj = {}
  const cfgFile = flagStr(f, 'config')
  if (cfgFile) {
    const docs = parseConfig(readConfigFile(cfgFile), ['JoinConfiguration'], io)
    if (!docs.join) return fail('no JoinConfiguration kind was found in the YAML file')
    cfg = docs.join
  } else {
    const tok = flagStr(f, 'discovery-token') ?? flagStr(f, 'token')
    cfg = {
      discovery: {
        bootstrapToken: {
          ...(f.args[0] ? { apiServerEndpoint: f.args[0] } : {}),
          ...(tok ? { token: tok } : {}),
          caCertHashes: flagList(f, 'discovery-token-ca-cert-hash'),
          unsafeSkipCAVerification: flagBool(f, 'discovery-token-unsafe-skip-ca-verification'),
        },
        ...(flagStr(f, 'tls-bootstrap-token') ?? tok ? { tlsBootstrapToken: flagStr(f, 'tls-bootstrap-token') ?? tok } : {}),
      },
      nodeRegistration: { ...(flagStr(f, 'node-name') ? { name: flagStr(f, 'node-name') } : {}), ...(flagStr(f, 'cri-socket') ? { criSocket: flagStr(f, 'cri-socket') } : {}) },
      ...(flagBool(f, 'control-plane') ? { controlPlane: {} } : {}),
    }
  }
  const disc = isObj(cfg.discovery) ? cfg.discovery : {}
  const bt = isObj(disc.bootstrapToken) ? disc.bootstrapToken : undefined
  const nr = isObj(cfg.nodeRegistration) ? cfg.nodeRegistration : {}
  const errs: string[] = []
  validateNodeRegistration(nr, 'nodeRegistration', errs)
  if (!bt && !isObj(disc.file)) errs.push('discovery: Invalid value: "": bootstrapToken or file must be set')
  const endpointStr = str(bt?.apiServerEndpoint) ?? ''
  const tokenStr = str(bt?.token) ?? ''
  const hashes = Array.isArray(bt?.caCertHashes) ? (bt.caCertHashes as unknown[]).map(String) : []
  if (bt) {
    if (!tokenStr) errs.push('discovery.bootstrapToken.token: Invalid value: "": the bootstrap token is invalid')
    else if (!TOKEN_RE.test(tokenStr)) errs.push(`discovery.bootstrapToken.token: Invalid value: ${JSON.stringify(tokenStr)}: the bootstrap token is invalid`)
    if (!endpointStr) errs.push('discovery.bootstrapToken.apiServerEndpoint: Invalid value: "": discovery.bootstrapToken.apiServerEndpoint must be specified')
    if (hashes.length === 0 && bt.unsafeSkipCAVerification !== true) {
      errs.push('discovery.bootstrapToken.caCertHashes: Invalid value: []string(nil): using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue')
    }
    for (const h of hashes) {
      const m = /^sha256:([0-9a-fA-F]*)$/.exec(h)
      if (!m) errs.push(`discovery.bootstrapToken.caCertHashes: Invalid value: ${JSON.stringify(h)}: invalid hash ${JSON.stringify(h)}, expected "format:hex-value"`)
      else if ((m[1] as string).length !== 64) errs.push(`discovery.bootstrapToken.caCertHashes: Invalid value: ${JSON.stringify(h)}: invalid hash ${JSON.stringify(h)}, expected a 32 byte SHA-256 hash, found ${Math.floor((m[1] as string).length / 2)} bytes`)
    }
  }
  if (errs.length) return fail(aggregate(errs))
  if (flagBool(f, 'dry-run')) return fail('the stand-in kubeadm does not support --dry-run')

  const nodeName = (str(nr.name) || hostname()).toLowerCase()
  const criSocket = str(nr.criSocket) || CONTAINERD_SOCKET
  const ignore = ignoredSet(flagList(f, 'ignore-preflight-errors'), nr.ignorePreflightErrors)
  const checks: Check[] = []
  const manifests = dirAvailable(MANIFESTS)
  if (manifests) checks.push(manifests)
  for (const file of ['/etc/kubernetes/kubelet.conf', '/etc/kubernetes/bootstrap-kubelet.conf']) {
    const c = fileAvailable(file)
    if (c) checks.push(c)
  }
  checks.push(...(await portChecks([10250])))
  const ca = fileAvailable('/etc/kubernetes/pki/ca.crt')
  if (ca) checks.push(ca)
  checks.push(...commonChecks(ctx, criSocket))
  runChecks(io, checks, ignore)

  // discovery
  const m = /^([^:]+):(\d+)$/.exec(endpointStr)
  const hostPart = m?.[1] ?? endpointStr
  const port = Number(m?.[2] ?? 6443)
  // v1beta4's timeouts.discovery (default 5m0s): how long discovery retries an unreachable server
  const discoveryMs = parseDuration(String(dig(cfg, 'timeouts', 'discovery') ?? '5m0s')) ?? 300_000
  if (networkMode()) return joinOverNetwork(ctx, { endpointStr, hostPart, port, tokenStr, hashes, unsafe: bt?.unsafeSkipCAVerification === true, nodeName, criSocket, nr, controlPlane: cfg.controlPlane !== undefined, discoveryMs })
  const clusterInfoUrl = `https://${hostPart}:${port}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s`
  const host = hostByAddress(hostPart)
  const discoveryFail = (why: string) => phaseFail('preflight', `couldn't validate the identity of the API Server: ${why}`)
  if (!host) return discoveryFail(`Get "${clusterInfoUrl}": dial tcp ${hostPart}:${port}: connect: no route to host`)
  const storeFile = storeFileOf(host)
  const pre = readStore(storeFile)
  if (!pre || pre.cluster.bindPort !== port || !fs.existsSync(p(path.join(pre.cluster.controlPlaneHost.root, MANIFESTS, 'kube-apiserver.yaml')))) {
    return discoveryFail(`Get "${clusterInfoUrl}": dial tcp ${hostPart}:${port}: connect: connection refused`)
  }
  if (cfg.controlPlane !== undefined) {
    if (!pre.cluster.controlPlaneEndpoint) {
      return phaseFail('preflight', "\nOne or more conditions for hosting a new control plane instance is not satisfied.\n\nunable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address\n\nPlease ensure that:\n* The cluster has a stable controlPlaneEndpoint address.\n* The certificates that must be shared among control plane instances are provided.\n")
    }
    return fail('the stand-in kubeadm cannot join control-plane nodes (only workers)')
  }
  const [tokenId, tokenSecretStr] = tokenStr.split('.') as [string, string]
  let result: { kubeletYaml: string; version: string; caCert: string } | undefined
  let error: string | undefined
  updateStore(storeFile, (s) => {
    reconcile(s)
    const ci = getObj(s, '', 'ConfigMap', 'kube-public', 'cluster-info')
    const data = isObj(ci?.data) ? ci.data : {}
    const jws = str(data[`jws-kubeconfig-${tokenId}`])
    if (!jws) {
      error = `could not find a JWS signature in the cluster-info ConfigMap for token ID ${JSON.stringify(tokenId)}`
      error = `token id ${JSON.stringify(tokenId)} is invalid for this cluster or it has expired. Use "kubeadm token create" on the control-plane node to create a new valid token`
      return
    }
    if (jwsDetached(String(data.kubeconfig ?? ''), tokenId, tokenSecretStr) !== jws) {
      error = "failed to verify JWS signature of received cluster info object, can't trust this API Server"
      return
    }
    const hash = caCertHash(s.cluster.caCert)
    if (bt?.unsafeSkipCAVerification !== true && !hashes.map((h) => h.toLowerCase()).includes(hash)) {
      error = `cluster CA found in cluster-info ConfigMap is invalid: none of the public keys ${JSON.stringify(hash)} are pinned`
      return
    }
    const admitted = admitNode(s, { name: nodeName, host: selfHost(), criSocket, taints: Array.isArray(nr.taints) ? (nr.taints as { key: string; effect: string }[]) : [], ...(installedVersion(ctx.state, 'kubelet') ? { kubeletVersion: installedVersion(ctx.state, 'kubelet') as string } : {}), ...containerdVersion(ctx.state) })
    if ('error' in admitted) error = admitted.error
    else result = admitted.grant
  })
  if (error) {
    if (error.startsWith('kubelet-start: ')) return phaseFail('kubelet-start', error.slice('kubelet-start: '.length))
    return discoveryFail(error)
  }
  if (!result) return discoveryFail(`Get "${clusterInfoUrl}": dial tcp ${hostPart}:${port}: connect: connection refused`)
  const r = result as { kubeletYaml: string; version: string; caCert: string }
  const caKey = readStore(storeFile)?.cluster.caKey as string
  const leaf = newLeaf({ cert: r.caCert, key: caKey }, { cn: `system:node:${nodeName}`, orgs: ['system:nodes'] })
  finishJoin(io, endpointStr, criSocket, nr, { ...r, ...leaf })
  // the new kubelet registers: let the controllers see it
  updateStore(storeFile, (s) => reconcile(s))
  return joined(io)
}

/** The node's side once the cluster admitted it: the CA, the kubelet's config and kubeconfig, the kubelet started. */
function finishJoin(io: IO, endpointStr: string, criSocket: string, nr: Obj, g: JoinGrant) {
  io.out('[preflight] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...\n')
  io.out("[preflight] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.\n")
  writeAtomic(p('/etc/kubernetes/pki/ca.crt'), g.caCert, 0o644)
  writeKubeletFiles(io, (g.kubeletYaml ? (toObj(g.kubeletYaml) ?? {}) : {}) as Obj, criSocket, nr.kubeletExtraArgs)
  writeAtomic(p('/etc/kubernetes/kubelet.conf'), makeKubeconfig({ server: `https://${endpointStr}`, caCert: g.caCert, user: 'default-auth', cert: g.cert, key: g.key, clusterName: 'default-cluster' }), 0o600)
  updateNodeState((s) => {
    s.services.kubelet = { enabled: false, ...s.services.kubelet, active: true }
  })
  if (networkMode()) restartKubelet()
}

/** On a real host (network mode): `systemctl restart kubelet`, as kubeadm's kubelet-start phase does. */
function restartKubelet() {
  if (process.env.ZXLAB_REAL_HOST === '1') spawnSync('systemctl', ['restart', 'kubelet'], { stdio: 'ignore' })
}

/** Poll https://address:port/livez (TLS unchecked, as kubeadm's check) until it answers 200; the last failure otherwise. */
async function waitLivez(address: string, port: number, ms: number): Promise<string | undefined> {
  const t: Target = { server: `https://${address}:${port}`, host: address, port, hostport: `${address}:${port}`, insecure: true }
  const until = Date.now() + ms
  let why = 'no answer'
  while (Date.now() < until) {
    try {
      const r = await request(t, 'GET', '/livez', undefined, { timeoutMs: 10_000, connectTimeoutMs: 10_000 })
      if (r.status === 200) return undefined
      why = `HTTP ${r.status}`
    } catch (e) {
      why = netError(e as NodeJS.ErrnoException, t).text
    }
    await new Promise((r) => setTimeout(r, 1000))
  }
  return why
}

function joined(io: IO): number {
  io.out(
    '[kubelet-start] Starting the kubelet\n[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s\n[kubelet-check] The kubelet is healthy after 1.001459ms\n[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n\nThis node has joined the cluster:\n* Certificate signing request was sent to apiserver and a response was received.\n* The Kubelet was informed of the new secure connection details.\n\nRun \'kubectl get nodes\' on the control-plane to see this node join the cluster.\n\n'
  )
  return 0
}

type JoinArgs = { endpointStr: string; hostPart: string; port: number; tokenStr: string; hashes: string[]; unsafe: boolean; nodeName: string; criSocket: string; nr: Obj; controlPlane: boolean; discoveryMs: number }

/** kubeadm's pause between two tries to fetch cluster-info (constants.DiscoveryRetryInterval). */
const DISCOVERY_RETRY_MS = 5_000

/**
 * Token discovery over the network, as kubeadm does it: cluster-info fetched without trusting
 * the server, its JWS signature checked with the token, the CA inside it checked against the
 * pinned hashes; then, trusting only that CA, the node admitted with the token as credential.
 */
async function joinOverNetwork(ctx: Ctx, j: JoinArgs): Promise<number> {
  const hostport = `${j.hostPart}:${j.port}`
  const clusterInfoUrl = `https://${hostport}${CLUSTER_INFO_PATH}?timeout=10s`
  const discoveryFail = (why: string) => phaseFail('preflight', `couldn't validate the identity of the API Server: ${why}`)
  const t: Target = { server: `https://${hostport}`, host: j.hostPart, port: j.port, hostport, insecure: true }
  const netFail = (e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ZXLAB_TIMEOUT' ? 'net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)' : netError(e as NodeJS.ErrnoException, t).text
    return discoveryFail(`Get "${clusterInfoUrl}": ${why}`)
  }
  // as kubeadm: an unreachable server is asked again every 5 s until the discovery timeout; the last error is the one shown
  const deadline = Date.now() + j.discoveryMs
  let reply: Reply
  for (;;) {
    const left = Math.max(1, deadline - Date.now())
    try {
      reply = await request(t, 'GET', CLUSTER_INFO_PATH, undefined, { timeoutMs: Math.min(10_000, left), connectTimeoutMs: Math.min(10_000, left) })
      break
    } catch (e) {
      if (Date.now() + DISCOVERY_RETRY_MS >= deadline) return netFail(e)
      await sleep(DISCOVERY_RETRY_MS)
    }
  }
  const [tokenId, tokenSecret] = j.tokenStr.split('.') as [string, string]
  const cm = (reply.status === 200 ? JSON.parse(reply.body) : {}) as Obj
  const data = (isObj(cm.data) ? cm.data : {}) as Record<string, unknown>
  const jws = str(data[`jws-kubeconfig-${tokenId}`])
  if (!jws) return discoveryFail(`token id ${JSON.stringify(tokenId)} is invalid for this cluster or it has expired. Use "kubeadm token create" on the control-plane node to create a new valid token`)
  if (jwsDetached(String(data.kubeconfig ?? ''), tokenId, tokenSecret) !== jws) return discoveryFail("failed to verify JWS signature of received cluster info object, can't trust this API Server")
  const kc = (load(String(data.kubeconfig)) ?? {}) as Obj
  const caData = dig(kc, 'clusters', 0, 'cluster', 'certificate-authority-data')
  const ca = typeof caData === 'string' ? unb64(caData) : ''
  let hash = ''
  try {
    hash = caCertHash(ca)
  } catch {
    return discoveryFail('the cluster-info ConfigMap holds no valid CA certificate')
  }
  if (!j.unsafe && !j.hashes.map((h) => h.toLowerCase()).includes(hash)) return discoveryFail(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys ${JSON.stringify(hash)} are pinned`)
  if (j.controlPlane) return fail('the stand-in kubeadm cannot join control-plane nodes (only workers)')
  // from here on the server must prove it holds a certificate from that CA
  const trusted: Target = { ...t, insecure: false, ca, token: j.tokenStr }
  const req: JoinRequest = { name: j.nodeName, host: selfHost(), criSocket: j.criSocket, taints: Array.isArray(j.nr.taints) ? (j.nr.taints as { key: string; effect: string }[]) : [], ...(installedVersion(ctx.state, 'kubelet') ? { kubeletVersion: installedVersion(ctx.state, 'kubelet') as string } : {}), ...containerdVersion(ctx.state) }
  try {
    reply = await request(trusted, 'POST', '/zxlab/v1/join', req, { timeoutMs: 60_000, connectTimeoutMs: 10_000 })
  } catch (e) {
    return netFail(e)
  }
  if (reply.status === 401) return phaseFail('preflight', 'unable to fetch the kubeadm-config ConfigMap: failed to get config map: Unauthorized')
  if (reply.status !== 200) return phaseFail('preflight', `unable to fetch the kubeadm-config ConfigMap: ${reply.body}`)
  const r = JSON.parse(reply.body) as { grant: JoinGrant } | { error: string }
  if ('error' in r) {
    if (r.error.startsWith('kubelet-start: ')) return phaseFail('kubelet-start', r.error.slice('kubelet-start: '.length))
    return discoveryFail(r.error)
  }
  finishJoin(ctx.io, j.endpointStr, j.criSocket, j.nr, r.grant)
  return joined(ctx.io)
}

/** kubeadm token create/list/delete at the API server admin.conf (or --kubeconfig) names. */
async function tokenOverNetwork(ctx: Ctx, argv: string[], rest: string[]): Promise<number> {
  const f = flags(rest, TOKEN_FLAGS)
  const kc = flagStr(f, 'kubeconfig') ?? '/etc/kubernetes/admin.conf'
  if (!fs.existsSync(userPath(kc))) return fail(`failed to load admin kubeconfig: open ${kc}: no such file or directory`)
  try {
    return await sendCall(kubeconfigTarget({ kubeconfig: kc }), { tool: 'kubeadm', argv, files: [], stdin: '' }, ctx.io)
  } catch (e) {
    if (e instanceof ConnectError) return fail(e.message.replace(/^error: /, ''))
    throw e
  }
}

function toObj(yaml: string): Obj | undefined {
  try {
    const docs = parseKubeadmConfig(yaml, [])
    return docs.kubelet
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------
// reset

const RESET_FLAGS: FlagSpec[] = [
  { name: 'force', short: 'f', type: 'bool' },
  { name: 'cri-socket', type: 'string' },
  { name: 'cert-dir', type: 'string' },
  { name: 'cleanup-tmp-dir', type: 'bool' },
  { name: 'ignore-preflight-errors', type: 'slice' },
  { name: 'kubeconfig', type: 'string' },
  { name: 'skip-phases', type: 'slice' },
  { name: 'dry-run', type: 'bool' },
  { name: 'config', type: 'string' },
]

function reset(ctx: Ctx, argv: string[]): number {
  const io = ctx.io
  const f = flags(argv, RESET_FLAGS)
  if (f.args.length) return fail(`unknown command ${JSON.stringify(f.args[0])} for "kubeadm reset"`)
  let force = flagBool(f, 'force')
  const cfgFile = flagStr(f, 'config')
  if (cfgFile) {
    const docs = parseConfig(readConfigFile(cfgFile), ['ResetConfiguration'], io)
    if (docs.reset?.force === true) force = true
  }
  if (flagBool(f, 'dry-run')) return fail('the stand-in kubeadm does not support --dry-run')
  if (!force) {
    io.out("[reset] Reading configuration from the \"kubeadm-config\" ConfigMap in namespace \"kube-system\"...\n[reset] WARNING: Changes made to this host by 'kubeadm init' or 'kubeadm join' will be reverted.\n[reset] Are you sure you want to proceed? [y/N]: ")
    const answer = io.stdin().split('\n')[0]?.trim().toLowerCase() ?? ''
    if (answer !== 'y' && answer !== 'yes') return fail('aborted reset operation')
  }
  io.out('[preflight] Running pre-flight checks\n')
  // a control plane's store lives in /var/lib/etcd and goes with it
  const etcd = p('/var/lib/etcd')
  if (fs.existsSync(etcd)) {
    for (const e of fs.readdirSync(etcd)) fs.rmSync(path.join(etcd, e), { recursive: true, force: true })
    io.out('[reset] Deleted contents of the etcd data directory: /var/lib/etcd\n')
  }
  io.out('[reset] Stopping the kubelet service\n')
  updateNodeState((s) => {
    if (s.services.kubelet) s.services.kubelet = { ...s.services.kubelet, active: false }
  })
  // on a real host systemd runs the kubelet (and, through it, the API server): stop it as kubeadm does
  if (process.env.ZXLAB_REAL_HOST === '1') spawnSync('systemctl', ['stop', 'kubelet'], { stdio: 'ignore' })
  io.out('[reset] Unmounting mounted directories in "/var/lib/kubelet"\n')
  const dirs = [MANIFESTS, KUBELET_DIR, flagStr(f, 'cert-dir') ?? '/etc/kubernetes/pki']
  for (const d of dirs) {
    const real = p(d)
    if (!fs.existsSync(real)) continue
    for (const e of fs.readdirSync(real)) fs.rmSync(path.join(real, e), { recursive: true, force: true })
  }
  io.out(`[reset] Deleting contents of directories: [${dirs.join(' ')}]\n`)
  const files = ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'bootstrap-kubelet.conf', 'controller-manager.conf', 'scheduler.conf'].map((x) => `/etc/kubernetes/${x}`)
  for (const file of files) fs.rmSync(p(file), { force: true })
  io.out(`[reset] Deleting files: [${files.join(' ')}]\n`)
  io.out(
    '\nThe reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d\n\nThe reset process does not reset or clean up iptables rules or IPVS tables.\nIf you wish to reset iptables, you must do so manually by using the "iptables" command.\n\nIf your cluster was setup to utilize IPVS, run ipvsadm --clear (or similar)\nto reset your system\'s IPVS tables.\n\nThe reset process does not clean your kubeconfig files and you must remove them manually.\nPlease, check the contents of the $HOME/.kube/config file.\n'
  )
  return 0
}

// ---------------------------------------------------------------------------
// token

const TOKEN_FLAGS: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string' },
  { name: 'dry-run', type: 'bool' },
  { name: 'print-join-command', type: 'bool' },
  { name: 'ttl', type: 'string' },
  { name: 'description', type: 'string' },
  { name: 'usages', type: 'slice' },
  { name: 'groups', type: 'slice' },
  { name: 'certificate-key', type: 'string' },
  { name: 'config', type: 'string' },
  { name: 'output', short: 'o', type: 'string' },
]

function adminConnection(f: Parsed) {
  const kc = flagStr(f, 'kubeconfig') ?? '/etc/kubernetes/admin.conf'
  // a call the API server runs: the caller's kubeconfig stayed with the caller, its certificate was checked
  const call = serverCall()
  if (call) {
    if (!isAdmin(call.user)) fail(`secrets is forbidden: User ${JSON.stringify(call.user.name)} cannot create resource "secrets" in API group "" in the namespace "kube-system"`)
    return connect()
  }
  if (!fs.existsSync(userPath(kc))) fail(`failed to load admin kubeconfig: open ${kc}: no such file or directory`)
  try {
    return connect({ kubeconfig: kc })
  } catch (e) {
    if (e instanceof ConnectError) return fail(e.message.replace(/^error: /, ''))
    throw e
  }
}

function token(ctx: Ctx, argv: string[]): number {
  const io = ctx.io
  const f = flags(argv, TOKEN_FLAGS)
  const [sub, ...args] = f.args
  switch (sub) {
    case 'generate':
      io.out(`${newToken()}\n`)
      return 0
    case 'create': {
      const conn = adminConnection(f)
      const tok = args[0] ?? newToken()
      if (!TOKEN_RE.test(tok)) return fail(`the bootstrap token ${JSON.stringify(tok)} was not of the form ${JSON.stringify(TOKEN_RE.source)}`)
      const ttlStr = flagStr(f, 'ttl') ?? '24h0m0s'
      const ttl = parseDuration(ttlStr)
      if (ttl === undefined) return fail(`invalid argument ${JSON.stringify(ttlStr)} for "--ttl" flag: time: invalid duration ${JSON.stringify(ttlStr)}`)
      let endpoint = ''
      let hash = ''
      const res = updateStore(conn.storeFile, (s: Store) => {
        reconcile(s)
        const [id] = tok.split('.')
        if (getObj(s, '', 'Secret', 'kube-system', `bootstrap-token-${id}`)) return `a token with id ${JSON.stringify(id)} already exists`
        putObj(s, tokenSecret(tok, ttl, flagStr(f, 'description'), flagList(f, 'usages').length ? flagList(f, 'usages') : undefined, flagList(f, 'groups').length ? flagList(f, 'groups') : undefined))
        reconcile(s)
        endpoint = s.cluster.endpoint
        hash = caCertHash(s.cluster.caCert)
        return undefined
      })
      if (res?.result) return fail(`failed to create or update bootstrap token with name bootstrap-token-${tok.split('.')[0]}: secrets "bootstrap-token-${tok.split('.')[0]}" already exists`)
      io.out(flagBool(f, 'print-join-command') ? `kubeadm join ${endpoint} --token ${tok} --discovery-token-ca-cert-hash ${hash} \n` : `${tok}\n`)
      return 0
    }
    case 'list': {
      const conn = adminConnection(f)
      const res = updateStore(conn.storeFile, (s: Store) => {
        reconcile(s)
        return listObjs(s, '', 'Secret', 'kube-system').filter((x) => x.type === 'bootstrap.kubernetes.io/token')
      })
      const rows = (res?.result ?? []).map((sec) => {
        const d = (isObj(sec.data) ? sec.data : {}) as Record<string, string>
        const get = (k: string) => (d[k] ? unb64(d[k]) : '')
        const exp = get('expiration')
        const left = exp ? Date.parse(exp) - clock.now() : 0
        const ttl = !exp ? '<forever>' : left > 3_600_000 ? `${Math.floor(left / 3_600_000)}h` : left > 60_000 ? `${Math.floor(left / 60_000)}m` : `${Math.max(0, Math.floor(left / 1000))}s`
        const usages = Object.keys(d)
          .filter((k) => k.startsWith('usage-bootstrap-') && get(k) === 'true')
          .map((k) => k.slice('usage-bootstrap-'.length))
          .sort()
        return [`${get('token-id')}.${get('token-secret')}`, ttl, exp || '<never>', usages.join(','), get('description') || '<none>', get('auth-extra-groups')]
      })
      const header = ['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
      const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] as number) + 3))).join('').trimEnd() + '\n'
      io.out(line(header) + rows.map(line).join(''))
      return 0
    }
    case 'delete': {
      if (args.length === 0) return fail('missing subcommand; \'token delete\' is missing token of form ["^([a-z0-9]{6})$" "^([a-z0-9]{6})\\\\.([a-z0-9]{16})$"]')
      const conn = adminConnection(f)
      for (const a of args) {
        const id = a.split('.')[0] as string
        const res = updateStore(conn.storeFile, (s: Store) => {
          const sec = getObj(s, '', 'Secret', 'kube-system', `bootstrap-token-${id}`)
          if (!sec) return false
          deleteObj(s, sec)
          reconcile(s)
          return true
        })
        if (!res?.result) return fail(`failed to delete bootstrap token with name bootstrap-token-${id}: secrets "bootstrap-token-${id}" not found`)
        io.out(`bootstrap token ${JSON.stringify(id)} deleted\n`)
      }
      return 0
    }
    default:
      return sub ? fail(`unknown command ${JSON.stringify(sub)} for "kubeadm token"`) : fail('missing subcommand; "token" is not meant to be run on its own')
  }
}

// ---------------------------------------------------------------------------
// version, config

function version(ctx: Ctx, argv: string[]): number {
  const f = flags(argv, [{ name: 'output', short: 'o', type: 'string' }])
  const v = ctx.kubeadmVersion
  const sv = parseSemver(v) as NonNullable<ReturnType<typeof parseSemver>>
  const info = { major: String(sv.major), minor: String(sv.minor), gitVersion: v, gitCommit: '6c1cd990aa4c4d9d1e4a1f4b1ef1e0e6a6d3c3a1', gitTreeState: 'clean', buildDate: '2026-10-14T12:00:00Z', goVersion: 'go1.25.3', compiler: 'gc', platform: 'linux/amd64' }
  switch (flagStr(f, 'output')) {
    case 'short':
      ctx.io.out(`${v}\n`)
      return 0
    case 'json':
      ctx.io.out(`${JSON.stringify({ clientVersion: info }, null, 2)}\n`)
      return 0
    case 'yaml':
      ctx.io.out(toYaml({ clientVersion: info }))
      return 0
    case undefined:
    case '':
      ctx.io.out(
        `kubeadm version: &version.Info{Major:"${info.major}", Minor:"${info.minor}", EmulationMajor:"", EmulationMinor:"", MinCompatibilityMajor:"", MinCompatibilityMinor:"", GitVersion:"${v}", GitCommit:"${info.gitCommit}", GitTreeState:"clean", BuildDate:"${info.buildDate}", GoVersion:"${info.goVersion}", Compiler:"gc", Platform:"linux/amd64"}\n`
      )
      return 0
    default:
      return fail(`invalid output format: ${flagStr(f, 'output')}`)
  }
}

function config(ctx: Ctx, argv: string[]): number {
  const f = flags(argv, [
    { name: 'kubernetes-version', type: 'string' },
    { name: 'config', type: 'string' },
    { name: 'image-repository', type: 'string' },
    { name: 'kubeconfig', type: 'string' },
    { name: 'output', short: 'o', type: 'string' },
    { name: 'feature-gates', type: 'string' },
    { name: 'allow-experimental-api', type: 'bool' },
    { name: 'allow-missing-template-keys', type: 'bool' },
    { name: 'show-managed-fields', type: 'bool' },
    { name: 'component-configs', type: 'slice' },
  ])
  const [sub, sub2, ...more] = f.args
  if (sub === 'images' && (sub2 === 'list' || sub2 === 'pull') && more.length === 0) {
    let wanted = flagStr(f, 'kubernetes-version')
    let repo = flagStr(f, 'image-repository') ?? 'registry.k8s.io'
    const cfgFile = flagStr(f, 'config')
    if (cfgFile) {
      if (has(f, 'kubernetes-version')) return fail("can not mix '--config' with arguments [kubernetes-version]")
      const docs = parseConfig(readConfigFile(cfgFile), ['InitConfiguration', 'ClusterConfiguration'], ctx.io)
      wanted = str(docs.cluster?.kubernetesVersion)
      repo = str(docs.cluster?.imageRepository) ?? repo
    }
    const v = resolveVersion(ctx, wanted)
    for (const c of versionChecks(ctx, v)) if (c.error) return fail(c.error)
    const images = controlPlaneImages(v, repo)
    if (sub2 === 'pull') {
      if (ctx.state.services.containerd?.active !== true) return fail(`failed to pull image ${JSON.stringify(images[0])}: output: validate service connection: validate CRI v1 image API for endpoint "unix:///var/run/containerd/containerd.sock": rpc error: code = Unavailable desc = connection error, error: exit status 1`)
      for (const i of images) ctx.io.out(`[config/images] Pulled ${i}\n`)
      return 0
    }
    ctx.io.out(images.map((i) => `${i}\n`).join(''))
    return 0
  }
  if (sub === 'print' && (sub2 === 'init-defaults' || sub2 === 'join-defaults' || sub2 === 'reset-defaults') && more.length === 0) {
    ctx.io.out(printDefaults(sub2, ctx.kubeadmVersion))
    return 0
  }
  if (sub === 'validate' && !sub2) {
    const cfgFile = flagStr(f, 'config')
    if (!cfgFile) return fail('the --config flag is mandatory')
    const docs = parseConfig(readConfigFile(cfgFile), ['InitConfiguration', 'ClusterConfiguration', 'JoinConfiguration', 'ResetConfiguration'], ctx.io)
    const errs = [...validateInit(docs.init ?? {}, docs.cluster ?? {}, 24), ...validateKubelet(docs.kubelet)]
    if (errs.length) return fail(aggregate(errs))
    ctx.io.out('ok\n')
    return 0
  }
  return fail(`unknown command ${JSON.stringify([sub, sub2].filter(Boolean).join(' ') || 'config')} for "kubeadm config"`)
}

function printDefaults(which: string, kubeadmVersion: string): string {
  const timeouts = { controlPlaneComponentHealthCheck: '4m0s', discovery: '5m0s', etcdAPICall: '2m0s', kubeletHealthCheck: '4m0s', kubernetesAPICall: '1m0s', tlsBootstrap: '5m0s', upgradeManifests: '5m0s' }
  const nodeRegistration = { criSocket: CONTAINERD_SOCKET, imagePullPolicy: 'IfNotPresent', imagePullSerial: true, name: 'node', taints: null }
  if (which === 'join-defaults') {
    return toYaml({ apiVersion: KUBEADM_API, caCertPath: '/etc/kubernetes/pki/ca.crt', discovery: { bootstrapToken: { apiServerEndpoint: 'kube-apiserver:6443', token: 'abcdef.0123456789abcdef', unsafeSkipCAVerification: true }, tlsBootstrapToken: 'abcdef.0123456789abcdef' }, kind: 'JoinConfiguration', nodeRegistration: { ...nodeRegistration, taints: null }, timeouts })
  }
  if (which === 'reset-defaults') {
    return toYaml({ apiVersion: KUBEADM_API, certificatesDir: '/etc/kubernetes/pki', criSocket: CONTAINERD_SOCKET, kind: 'ResetConfiguration' })
  }
  const sv = parseSemver(kubeadmVersion) as NonNullable<ReturnType<typeof parseSemver>>
  const init = toYaml({
    apiVersion: KUBEADM_API,
    bootstrapTokens: [{ groups: ['system:bootstrappers:kubeadm:default-node-token'], token: 'abcdef.0123456789abcdef', ttl: formatDuration(86_400_000), usages: ['signing', 'authentication'] }],
    kind: 'InitConfiguration',
    localAPIEndpoint: { advertiseAddress: '1.2.3.4', bindPort: 6443 },
    nodeRegistration,
    timeouts,
  })
  const cluster = toYaml({
    apiServer: {},
    apiVersion: KUBEADM_API,
    caCertificateValidityPeriod: '87600h0m0s',
    certificateValidityPeriod: '8760h0m0s',
    certificatesDir: '/etc/kubernetes/pki',
    clusterName: 'kubernetes',
    controllerManager: {},
    dns: {},
    encryptionAlgorithm: 'RSA-2048',
    etcd: { local: { dataDir: '/var/lib/etcd' } },
    imageRepository: 'registry.k8s.io',
    kind: 'ClusterConfiguration',
    kubernetesVersion: `${sv.major}.${sv.minor}.0`,
    networking: { dnsDomain: 'cluster.local', serviceSubnet: DEFAULT_SERVICE_SUBNET },
    proxy: {},
    scheduler: {},
  })
  return `${init}---\n${cluster}`
}

// started by the API server for one call, or by the user
if (isEntry(import.meta.url)) process.exitCode = isServerCallChild() ? await runServerCall(main) : await main(process.argv.slice(2))

export type { HostRef }
