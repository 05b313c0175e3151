// kubeadm's configuration API (v1beta4) as the stand-in reads it: multi-document YAML, the
// kinds kubeadm knows, strict decoding (unknown fields, Go JSON type errors) and kubeadm's own
// validation of the values. Errors read like kubeadm 1.36's.
import { cidrsOverlap, isObj, loadYamlDocs, parseCidr, parseDuration, parseIPv4, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'

export const KUBEADM_GROUP = 'kubeadm.k8s.io'
export const KUBEADM_API = 'kubeadm.k8s.io/v1beta4'
const OLD_APIS: Record<string, string> = {
  'kubeadm.k8s.io/v1alpha1': 'v1.11',
  'kubeadm.k8s.io/v1alpha2': 'v1.12',
  'kubeadm.k8s.io/v1alpha3': 'v1.14',
  'kubeadm.k8s.io/v1beta1': 'v1.15',
  'kubeadm.k8s.io/v1beta2': 'v1.22',
}
const SCHEME = 'k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31'

export class ConfigError extends Error {}

// ---------------------------------------------------------------------------
// The v1beta4 types, for strict decoding

type T = 'string' | 'int' | 'bool' | 'duration' | 'any' | 'map' | { struct: string; fields: Record<string, T> } | { list: T }
const S = (struct: string, fields: Record<string, T>): T => ({ struct, fields })
const L = (t: T): T => ({ list: t })

const Arg = S('Arg', { name: 'string', value: 'string' })
const EnvVar = S('EnvVar', { name: 'string', value: 'string', valueFrom: 'any' })
const HostPathMount = S('HostPathMount', { name: 'string', hostPath: 'string', mountPath: 'string', readOnly: 'bool', pathType: 'string' })
const componentFields: Record<string, T> = { extraArgs: L(Arg), extraVolumes: L(HostPathMount), extraEnvs: L(EnvVar) }
const ControlPlaneComponent = S('ControlPlaneComponent', componentFields)
const APIServer = S('APIServer', { ...componentFields, certSANs: L('string') })
const Taint = S('Taint', { key: 'string', value: 'string', effect: 'string', timeAdded: 'string' })
const NodeRegistration = S('NodeRegistrationOptions', {
  name: 'string',
  criSocket: 'string',
  taints: L(Taint),
  kubeletExtraArgs: L(Arg),
  ignorePreflightErrors: L('string'),
  imagePullPolicy: 'string',
  imagePullSerial: 'bool',
})
const APIEndpoint = S('APIEndpoint', { advertiseAddress: 'string', bindPort: 'int' })
const BootstrapToken = S('BootstrapToken', { token: 'string', description: 'string', ttl: 'duration', expires: 'string', usages: L('string'), groups: L('string') })
const Timeouts = S('Timeouts', {
  controlPlaneComponentHealthCheck: 'duration',
  kubeletHealthCheck: 'duration',
  kubernetesAPICall: 'duration',
  etcdAPICall: 'duration',
  tlsBootstrap: 'duration',
  discovery: 'duration',
  upgradeManifests: 'duration',
})
const Patches = S('Patches', { directory: 'string' })
const Etcd = S('Etcd', {
  local: S('LocalEtcd', { imageRepository: 'string', imageTag: 'string', dataDir: 'string', extraArgs: L(Arg), extraEnvs: L(EnvVar), serverCertSANs: L('string'), peerCertSANs: L('string') }),
  external: S('ExternalEtcd', { endpoints: L('string'), caFile: 'string', certFile: 'string', keyFile: 'string' }),
})

const KINDS: Record<string, Record<string, T>> = {
  InitConfiguration: {
    bootstrapTokens: L(BootstrapToken),
    dryRun: 'bool',
    nodeRegistration: NodeRegistration,
    localAPIEndpoint: APIEndpoint,
    certificateKey: 'string',
    skipPhases: L('string'),
    patches: Patches,
    timeouts: Timeouts,
  },
  ClusterConfiguration: {
    etcd: Etcd,
    networking: S('Networking', { serviceSubnet: 'string', podSubnet: 'string', dnsDomain: 'string' }),
    kubernetesVersion: 'string',
    controlPlaneEndpoint: 'string',
    apiServer: APIServer,
    controllerManager: ControlPlaneComponent,
    scheduler: ControlPlaneComponent,
    dns: S('DNS', { imageRepository: 'string', imageTag: 'string', disabled: 'bool' }),
    proxy: S('Proxy', { disabled: 'bool' }),
    certificatesDir: 'string',
    imageRepository: 'string',
    featureGates: 'map',
    clusterName: 'string',
    encryptionAlgorithm: 'string',
    certificateValidityPeriod: 'duration',
    caCertificateValidityPeriod: 'duration',
  },
  JoinConfiguration: {
    dryRun: 'bool',
    nodeRegistration: NodeRegistration,
    caCertPath: 'string',
    discovery: S('Discovery', {
      bootstrapToken: S('BootstrapTokenDiscovery', { token: 'string', apiServerEndpoint: 'string', caCertHashes: L('string'), unsafeSkipCAVerification: 'bool' }),
      file: S('FileDiscovery', { kubeConfigPath: 'string' }),
      tlsBootstrapToken: 'string',
    }),
    controlPlane: S('JoinControlPlane', { localAPIEndpoint: APIEndpoint, certificateKey: 'string' }),
    skipPhases: L('string'),
    patches: Patches,
    timeouts: Timeouts,
  },
  ResetConfiguration: {
    cleanupTmpDir: 'bool',
    certificatesDir: 'string',
    criSocket: 'string',
    dryRun: 'bool',
    force: 'bool',
    ignorePreflightErrors: L('string'),
    skipPhases: L('string'),
    unmountFlags: L('string'),
  },
  UpgradeConfiguration: { apply: 'any', diff: 'any', node: 'any', plan: 'any', timeouts: Timeouts },
}

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v)
const goType = (t: T): string => {
  if (typeof t === 'string') return { string: 'string', int: 'int32', bool: 'bool', duration: 'string', any: 'interface {}', map: 'map[string]bool' }[t]
  if ('list' in t) return `[]${typeof t.list === 'object' && 'struct' in t.list ? `v1beta4.${t.list.struct}` : goType(t.list)}`
  return `v1beta4.${t.struct}`
}

/** Strict decode of one document's fields: unknown fields and JSON type mismatches. */
function decode(kind: string, doc: Obj): { unknown: string[]; typeError?: string } {
  const unknown: string[] = []
  let typeError: string | undefined
  const walk = (v: unknown, t: T, struct: string, path: string) => {
    if (typeError || v === null || v === undefined || t === 'any') return
    const fail = () => {
      typeError ??= `json: cannot unmarshal ${jsonType(v)} into Go struct field ${struct}.${path} of type ${goType(t)}`
    }
    if (t === 'string' || t === 'duration') {
      if (typeof v !== 'string') return fail()
      if (t === 'duration' && parseDuration(v) === undefined) typeError ??= `time: invalid duration ${JSON.stringify(v)}`
      return
    }
    if (t === 'int') return void (typeof v === 'number' && Number.isInteger(v) ? undefined : fail())
    if (t === 'bool') return void (typeof v === 'boolean' ? undefined : fail())
    if (t === 'map') return void (isObj(v) ? undefined : fail())
    if ('list' in t) {
      if (!Array.isArray(v)) return fail()
      for (const item of v) walk(item, t.list, struct, path)
      return
    }
    if (!isObj(v)) return fail()
    for (const [key, val] of Object.entries(v)) {
      const ft = t.fields[key]
      const sub = path ? `${path}.${key}` : key
      if (!ft) unknown.push(sub)
      else walk(val, ft, t.struct, sub)
    }
  }
  const fields = KINDS[kind] as Record<string, T>
  for (const [key, val] of Object.entries(doc)) {
    if (key === 'apiVersion' || key === 'kind') continue
    const ft = fields[key]
    if (!ft) unknown.push(key)
    else walk(val, ft, kind, key)
  }
  return { unknown, ...(typeError ? { typeError } : {}) }
}

const gvk = (apiVersion: string, kind: string) => {
  const i = apiVersion.indexOf('/')
  const group = i < 0 ? '' : apiVersion.slice(0, i)
  const version = i < 0 ? apiVersion : apiVersion.slice(i + 1)
  return `schema.GroupVersionKind{Group:${JSON.stringify(group)}, Version:${JSON.stringify(version)}, Kind:${JSON.stringify(kind)}}`
}

export type KubeadmDocs = {
  init?: Obj
  cluster?: Obj
  join?: Obj
  reset?: Obj
  kubelet?: Obj
  kubeProxy?: Obj
  warnings: string[]
}

/**
 * Parse a kubeadm --config file. `use` says which kubeadm kinds this command reads; other
 * known kubeadm kinds are ignored with kubeadm's warning.
 */
export function parseKubeadmConfig(text: string, use: ('InitConfiguration' | 'ClusterConfiguration' | 'JoinConfiguration' | 'ResetConfiguration')[]): KubeadmDocs {
  let docs: unknown[]
  try {
    docs = loadYamlDocs(text)
  } catch (e) {
    throw new ConfigError(`error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`)
  }
  const out: KubeadmDocs = { warnings: [] }
  const seen = new Set<string>()
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue
    if (!isObj(doc)) throw new ConfigError('error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }')
    const apiVersion = str(doc.apiVersion) ?? ''
    const kind = str(doc.kind) ?? ''
    if (!apiVersion || !kind) {
      throw new ConfigError(`invalid configuration for GroupVersionKind ${apiVersion}, Kind=${kind}: kind and apiVersion is mandatory information that must be specified`)
    }
    if (seen.has(kind)) throw new ConfigError(`invalid configuration: kind "${kind}" is specified twice in YAML file`)
    seen.add(kind)
    if (apiVersion.startsWith(`${KUBEADM_GROUP}/`)) {
      const old = OLD_APIS[apiVersion]
      if (old) {
        throw new ConfigError(
          `your configuration file uses an old API spec: ${JSON.stringify(apiVersion)} (kind: ${JSON.stringify(kind)}). Please use kubeadm ${old} instead and run 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.`
        )
      }
      if (apiVersion !== KUBEADM_API || !(kind in KINDS)) {
        throw new ConfigError(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme ${JSON.stringify(SCHEME)}`)
      }
      const { unknown, typeError } = decode(kind, doc)
      if (typeError) throw new ConfigError(`error unmarshaling configuration ${gvk(apiVersion, kind)}: ${typeError}`)
      if (unknown.length) {
        throw new ConfigError(`error unmarshaling configuration ${gvk(apiVersion, kind)}: strict decoding error: ${unknown.map((u) => `unknown field ${JSON.stringify(u)}`).join(', ')}`)
      }
      if (!(use as string[]).includes(kind)) {
        out.warnings.push(`[config] WARNING: Ignored configuration document with GroupVersionKind ${apiVersion}, Kind=${kind}`)
        continue
      }
      if (kind === 'InitConfiguration') out.init = doc
      else if (kind === 'ClusterConfiguration') out.cluster = doc
      else if (kind === 'JoinConfiguration') out.join = doc
      else if (kind === 'ResetConfiguration') out.reset = doc
      continue
    }
    if (apiVersion === 'kubelet.config.k8s.io/v1beta1' && kind === 'KubeletConfiguration') {
      out.kubelet = doc
      continue
    }
    if (apiVersion === 'kubeproxy.config.k8s.io/v1alpha1' && kind === 'KubeProxyConfiguration') {
      out.kubeProxy = doc
      continue
    }
    if (apiVersion.startsWith('kubelet.config.k8s.io/') || apiVersion.startsWith('kubeproxy.config.k8s.io/')) {
      throw new ConfigError(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "k8s.io/kubernetes/cmd/kubeadm/app/componentconfigs/scheme.go:28"`)
    }
    throw new ConfigError(`unknown configuration ${gvk(apiVersion, kind)}`)
  }
  return out
}

// ---------------------------------------------------------------------------
// Validation (kubeadm's apis/kubeadm/validation)

export type FieldErr = string

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
export const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute']

function validateArgs(list: unknown, path: string, errs: FieldErr[]) {
  if (!Array.isArray(list)) return
  list.forEach((a, i) => {
    if (!isObj(a) || !str(a.name)) errs.push(`${path}[${i}].name: Required value: argument name cannot be empty`)
  })
}

export function validateNodeRegistration(nr: Obj | undefined, path: string, errs: FieldErr[]) {
  if (!nr) return
  const name = str(nr.name)
  if (name !== undefined && name !== '' && (!DNS1123_SUBDOMAIN.test(name) || name.length > 253)) {
    errs.push(`${path}.name: Invalid value: ${JSON.stringify(name)}: ${SUBDOMAIN_MSG}`)
  }
  const cri = str(nr.criSocket)
  if (cri !== undefined && cri !== '' && !cri.startsWith('unix://') && !cri.startsWith('/')) {
    errs.push(`${path}.criSocket: Invalid value: ${JSON.stringify(cri)}: path is not absolute`)
  }
  validateArgs(nr.kubeletExtraArgs, `${path}.kubeletExtraArgs`, errs)
  const ipp = str(nr.imagePullPolicy)
  if (ipp !== undefined && ipp !== '' && !['Always', 'IfNotPresent', 'Never'].includes(ipp)) {
    errs.push(`${path}.imagePullPolicy: Unsupported value: ${JSON.stringify(ipp)}: supported values: "Always", "IfNotPresent", "Never"`)
  }
  if (Array.isArray(nr.taints)) {
    nr.taints.forEach((t, i) => {
      const eff = str((t as Obj).effect)
      if (!str((t as Obj).key)) errs.push(`${path}.taints[${i}].key: Required value`)
      if (!eff || !TAINT_EFFECTS.includes(eff)) errs.push(`${path}.taints[${i}].effect: Unsupported value: ${JSON.stringify(eff ?? '')}: supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`)
    })
  }
}

export const DEFAULT_SERVICE_SUBNET = '10.96.0.0/12'

export function validateInit(init: Obj, cluster: Obj, nodeCidrMask: number): FieldErr[] {
  const errs: FieldErr[] = []
  const ep = isObj(init.localAPIEndpoint) ? init.localAPIEndpoint : {}
  const adv = str(ep.advertiseAddress)
  if (adv !== undefined && adv !== '' && parseIPv4(adv) === undefined) errs.push(`localAPIEndpoint.advertiseAddress: Invalid value: ${JSON.stringify(adv)}: cannot parse IP address`)
  const port = ep.bindPort
  if (typeof port === 'number' && (port < 1 || port > 65535)) errs.push(`localAPIEndpoint.bindPort: Invalid value: ${port}: port number is not valid`)
  validateNodeRegistration(isObj(init.nodeRegistration) ? init.nodeRegistration : undefined, 'nodeRegistration', errs)
  if (Array.isArray(init.bootstrapTokens)) {
    init.bootstrapTokens.forEach((t, i) => {
      const tok = str((t as Obj).token)
      if (tok !== undefined && !TOKEN_RE.test(tok)) errs.push(`bootstrapTokens[${i}].token: Invalid value: ${JSON.stringify(tok)}: the bootstrap token is invalid`)
    })
  }

  const net = isObj(cluster.networking) ? cluster.networking : {}
  const svc = str(net.serviceSubnet) ?? DEFAULT_SERVICE_SUBNET
  const pod = str(net.podSubnet)
  const svcCidr = parseCidr(svc)
  if (!svcCidr) errs.push(`networking.serviceSubnet: Invalid value: ${JSON.stringify(svc)}: couldn't parse subnet`)
  else if (svcCidr.bits < 12) errs.push(`networking.serviceSubnet: Invalid value: ${JSON.stringify(svc)}: specified service subnet is too large; for 32-bit addresses, the mask must be >= 12`)
  if (pod !== undefined && pod !== '') {
    const podCidr = parseCidr(pod)
    if (!podCidr) errs.push(`networking.podSubnet: Invalid value: ${JSON.stringify(pod)}: couldn't parse subnet`)
    else {
      if (podCidr.bits > nodeCidrMask) errs.push(`networking.podSubnet: Invalid value: ${JSON.stringify(pod)}: the size of pod subnet with mask ${podCidr.bits} is smaller than the size of node subnet with mask ${nodeCidrMask}`)
      if (nodeCidrMask - podCidr.bits > 16) errs.push(`networking.podSubnet: Invalid value: ${JSON.stringify(pod)}: the difference between the pod subnet mask (${podCidr.bits}) and the node mask (${nodeCidrMask}) must be no more than 16`)
      if (svcCidr && cidrsOverlap(podCidr, svcCidr)) errs.push(`networking.podSubnet: Invalid value: ${JSON.stringify(pod)}: the pod subnet overlaps with the service subnet ${svc}`)
    }
  }
  const dns = str(net.dnsDomain)
  if (dns !== undefined && dns !== '' && !DNS1123_SUBDOMAIN.test(dns)) errs.push(`networking.dnsDomain: Invalid value: ${JSON.stringify(dns)}: ${SUBDOMAIN_MSG}`)
  const cpe = str(cluster.controlPlaneEndpoint)
  if (cpe !== undefined && cpe !== '') {
    const m = /^(.+?)(?::(\d+))?$/.exec(cpe)
    const host = m?.[1] ?? ''
    const p = m?.[2]
    if (!(parseIPv4(host) !== undefined || DNS1123_SUBDOMAIN.test(host)) || (p !== undefined && (Number(p) < 1 || Number(p) > 65535))) {
      errs.push(`controlPlaneEndpoint: Invalid value: ${JSON.stringify(cpe)}: invalid port or host`)
    }
  }
  for (const comp of ['apiServer', 'controllerManager', 'scheduler']) {
    const c = cluster[comp]
    if (isObj(c)) validateArgs(c.extraArgs, `${comp}.extraArgs`, errs)
  }
  const enc = str(cluster.encryptionAlgorithm)
  if (enc !== undefined && !['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384'].includes(enc)) {
    errs.push(`encryptionAlgorithm: Unsupported value: ${JSON.stringify(enc)}: supported values: "ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096"`)
  }
  const fg = cluster.featureGates
  if (isObj(fg)) {
    for (const key of Object.keys(fg)) {
      if (!['ControlPlaneKubeletLocalMode', 'NodeLocalCRISocket', 'WaitForAllControlPlaneComponents', 'PublicKeysECDSA', 'RootlessControlPlane', 'EtcdLearnerMode'].includes(key)) {
        errs.push(`featureGates: Invalid value: map[string]bool{${JSON.stringify(key)}:${String(fg[key])}}: ${JSON.stringify(key)} is not a valid feature name.`)
      }
    }
  }
  return errs
}

export function validateKubelet(k: Obj | undefined): FieldErr[] {
  const errs: FieldErr[] = []
  if (!k) return errs
  const cd = k.cgroupDriver
  if (cd !== undefined && cd !== 'systemd' && cd !== 'cgroupfs') {
    errs.push(`invalid configuration: cgroupDriver (--cgroup-driver) ${JSON.stringify(cd)} must be one of: "systemd", "cgroupfs"`)
  }
  return errs
}

/** "[a, b]" as kubeadm aggregates several validation errors; the error alone when one. */
export const aggregate = (errs: string[]) => (errs.length === 1 ? (errs[0] as string) : `[${errs.join(', ')}]`)

/** The extraArgs list as name → value (later duplicates win, as kubeadm's flags do). */
export function argsMap(list: unknown): Map<string, string> {
  const m = new Map<string, string>()
  if (Array.isArray(list)) for (const a of list) if (isObj(a) && str(a.name)) m.set(String(a.name), String(a.value ?? ''))
  return m
}
