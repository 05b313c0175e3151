// The API server's type system for the kubectl stand-in: which kinds exist (group, versions,
// resource names, short names, scope), decoding and validation against the API server's own
// OpenAPI documents (_openapi.ts: types, required fields, strict unknown-field detection; a CRD's
// schema for its custom resources), the server-side validation rules the schemas do not carry,
// and server-side defaults. Add a kind: one line in KINDS.
import { arr, dig, isObj, parseCidr, parseIPv4, cidrContains, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { checkBuiltin, checkCustom } from './_openapi.ts'

export type KindInfo = {
  group: string // '' for core
  versions: string[] // served versions, preferred first
  kind: string
  plural: string
  singular: string
  short: string[]
  namespaced: boolean
  categories?: string[]
  /** A CRD-defined kind. */
  custom?: boolean
  /** A CRD's openAPIV3Schema by version. */
  schemas?: Record<string, Obj>
}

function k(group: string, kind: string, plural: string, namespaced: boolean, short: string[], versions: string[], categories?: string[]): KindInfo {
  return { group, versions, kind, plural, singular: kind.toLowerCase(), short, namespaced, ...(categories ? { categories } : {}) }
}

export const KINDS: KindInfo[] = [
  k('', 'Namespace', 'namespaces', false, ['ns'], ['v1']),
  k('', 'Node', 'nodes', false, ['no'], ['v1']),
  k('', 'Pod', 'pods', true, ['po'], ['v1'], ['all']),
  k('', 'Service', 'services', true, ['svc'], ['v1'], ['all']),
  k('', 'ConfigMap', 'configmaps', true, ['cm'], ['v1']),
  k('', 'Secret', 'secrets', true, [], ['v1']),
  k('', 'ServiceAccount', 'serviceaccounts', true, ['sa'], ['v1']),
  k('', 'Endpoints', 'endpoints', true, ['ep'], ['v1']),
  k('', 'Event', 'events', true, ['ev'], ['v1']),
  k('', 'LimitRange', 'limitranges', true, ['limits'], ['v1']),
  k('', 'ResourceQuota', 'resourcequotas', true, ['quota'], ['v1']),
  k('', 'PersistentVolume', 'persistentvolumes', false, ['pv'], ['v1']),
  k('', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, ['pvc'], ['v1']),
  k('apps', 'Deployment', 'deployments', true, ['deploy'], ['v1'], ['all']),
  k('apps', 'DaemonSet', 'daemonsets', true, ['ds'], ['v1'], ['all']),
  k('apps', 'ReplicaSet', 'replicasets', true, ['rs'], ['v1'], ['all']),
  k('apps', 'StatefulSet', 'statefulsets', true, ['sts'], ['v1'], ['all']),
  k('apps', 'ControllerRevision', 'controllerrevisions', true, [], ['v1']),
  k('batch', 'Job', 'jobs', true, [], ['v1'], ['all']),
  k('batch', 'CronJob', 'cronjobs', true, ['cj'], ['v1'], ['all']),
  k('autoscaling', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['hpa'], ['v2', 'v1'], ['all']),
  k('rbac.authorization.k8s.io', 'ClusterRole', 'clusterroles', false, [], ['v1']),
  k('rbac.authorization.k8s.io', 'ClusterRoleBinding', 'clusterrolebindings', false, [], ['v1']),
  k('rbac.authorization.k8s.io', 'Role', 'roles', true, [], ['v1']),
  k('rbac.authorization.k8s.io', 'RoleBinding', 'rolebindings', true, [], ['v1']),
  k('policy', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb'], ['v1']),
  k('networking.k8s.io', 'Ingress', 'ingresses', true, ['ing'], ['v1']),
  k('networking.k8s.io', 'IngressClass', 'ingressclasses', false, [], ['v1']),
  k('networking.k8s.io', 'NetworkPolicy', 'networkpolicies', true, ['netpol'], ['v1']),
  k('storage.k8s.io', 'StorageClass', 'storageclasses', false, ['sc'], ['v1']),
  k('storage.k8s.io', 'CSIDriver', 'csidrivers', false, [], ['v1']),
  k('scheduling.k8s.io', 'PriorityClass', 'priorityclasses', false, ['pc'], ['v1']),
  k('admissionregistration.k8s.io', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false, [], ['v1']),
  k('admissionregistration.k8s.io', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false, [], ['v1']),
  k('apiextensions.k8s.io', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds'], ['v1']),
  k('apiregistration.k8s.io', 'APIService', 'apiservices', false, [], ['v1']),
  k('coordination.k8s.io', 'Lease', 'leases', true, [], ['v1']),
  k('discovery.k8s.io', 'EndpointSlice', 'endpointslices', true, [], ['v1']),
  k('node.k8s.io', 'RuntimeClass', 'runtimeclasses', false, [], ['v1']),
  k('certificates.k8s.io', 'CertificateSigningRequest', 'certificatesigningrequests', false, ['csr'], ['v1']),
]

export const splitApiVersion = (apiVersion: string): { group: string; version: string } => {
  const i = apiVersion.indexOf('/')
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) }
}

export const apiVersionOf = (info: KindInfo, version = info.versions[0] as string) => (info.group ? `${info.group}/${version}` : version)

/** kind.group as kubectl prints it (deployment.apps, namespace). */
export const kindGroup = (info: KindInfo) => (info.group ? `${info.kind.toLowerCase()}.${info.group}` : info.kind.toLowerCase())
/** resource.group as the API server names it in errors (deployments.apps, pods). */
export const resourceGroup = (info: KindInfo) => (info.group ? `${info.plural}.${info.group}` : info.plural)

/** The kinds CustomResourceDefinitions in the store add. */
export function customKinds(crds: Obj[]): KindInfo[] {
  const out: KindInfo[] = []
  for (const crd of crds) {
    const spec = dig(crd, 'spec') as Obj | undefined
    const names = dig(spec, 'names') as Obj | undefined
    const kind = str(dig(names, 'kind'))
    const group = str(dig(spec, 'group'))
    const plural = str(dig(names, 'plural'))
    if (!kind || !group || !plural) continue
    const served = arr(dig(spec, 'versions')).filter((x) => dig(x, 'served') !== false)
    const versions = served.map((x) => String(dig(x, 'name')))
    const schemas = Object.fromEntries(served.flatMap((x) => (isObj(dig(x, 'schema', 'openAPIV3Schema')) ? [[String(dig(x, 'name')), dig(x, 'schema', 'openAPIV3Schema') as Obj]] : [])))
    out.push({
      group,
      versions,
      kind,
      plural,
      singular: str(dig(names, 'singular')) ?? kind.toLowerCase(),
      short: arr(dig(names, 'shortNames')).map(String),
      namespaced: dig(spec, 'scope') !== 'Cluster',
      custom: true,
      schemas,
    })
  }
  return out
}

// ---------------------------------------------------------------------------
// Validation

export type FieldError = {
  path: string
  type: 'Required value' | 'Invalid value' | 'Unsupported value' | 'Duplicate value' | 'Not found' | 'Forbidden'
  value?: unknown
  /** the value as the API server prints it, where that is not goValue's rendering */
  shown?: string
  detail?: string
}

/** The API server's refusal of an object. */
export class ApiError extends Error {
  status: 'BadRequest' | 'Invalid' | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Forbidden'
  constructor(status: ApiError['status'], message: string) {
    super(message)
    this.status = status
  }
}

/** Go's %#v-ish rendering of a value inside "Invalid value: …". */
export function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (v === null || v === undefined) return 'null'
  if (isObj(v) && Object.values(v).every((x) => typeof x === 'string')) {
    return `map[string]string{${Object.entries(v)
      .map(([a, b]) => `${JSON.stringify(a)}:${JSON.stringify(b)}`)
      .join(', ')}}`
  }
  return JSON.stringify(v)
}

export function formatFieldError(e: FieldError): string {
  let s = `${e.path}: ${e.type}`
  if (e.type === 'Required value') return e.detail ? `${s}: ${e.detail}` : s
  if ('value' in e) s += `: ${e.shown ?? goValue(e.value)}`
  return e.detail ? `${s}: ${e.detail}` : s
}

/** "The Deployment "x" is invalid: a: Required value" (one) or "[a, b]" (several). */
export function invalidError(kind: string, name: string, errs: FieldError[]): ApiError {
  const list = errs.map(formatFieldError)
  const body = list.length === 1 ? list[0] : `[${list.join(', ')}]`
  return new ApiError('Invalid', `The ${kind} "${name}" is invalid: ${body}`)
}

/**
 * Decoding and schema validation of an object as the API server does it: decode errors (a wrong
 * type, a bad quantity or base64 value), unknown fields (strict field validation), and field
 * errors (required fields; a custom resource's structural-schema rules).
 */
export function schemaCheck(info: KindInfo, version: string, obj: Obj): { decode: string[]; fields: FieldError[]; unknown: string[] } {
  const problems = info.custom ? checkCustom(info.schemas?.[version], obj) : (checkBuiltin(info.group, version, info.kind, obj) ?? [])
  const out = { decode: [] as string[], fields: [] as FieldError[], unknown: [] as string[] }
  for (const p of problems) {
    if (p.at === 'decode') out.decode.push(p.message)
    // status is the controllers' to write; the stand-in's carries fields of its own
    else if (p.at === 'unknown') {
      if (!p.path.startsWith('status')) out.unknown.push(p.path)
    } else out.fields.push({ path: p.path, type: p.type, ...('value' in p ? { value: p.value } : {}), ...(p.detail ? { detail: p.detail } : {}) })
  }
  return out
}

export type Admission = {
  /** 'creating', 'patching', 'replacing': the words kubectl's error starts with */
  verbing: string
  /** the file kubectl read the object from ("STDIN", a path) */
  source: string
  /** kubectl --validate: strict (default), warn, ignore */
  validation?: 'strict' | 'warn' | 'ignore'
  /** the object as stored, on update (immutable fields) */
  before?: Obj
  serviceSubnet?: string
}

/**
 * The API server's verdict on an object it is asked to write: the error kubectl prints (decode,
 * strict unknown fields, then field validation), or none; and the warnings of --validate=warn.
 */
export function admission(info: KindInfo, version: string, obj: Obj, a: Admission): { error?: ApiError; warnings: string[] } {
  const chk = schemaCheck(info, version, obj)
  const handled = `${info.kind} in version "${version}" cannot be handled as a ${info.kind}`
  if (chk.decode.length) return { error: new ApiError('BadRequest', `error when ${a.verbing} "${a.source}": ${handled}: ${chk.decode[0] as string}`), warnings: [] }
  const mode = a.validation ?? 'strict'
  if (chk.unknown.length && mode === 'strict') {
    return { error: new ApiError('BadRequest', `error when ${a.verbing} "${a.source}": ${handled}: strict decoding error: ${chk.unknown.map((u) => `unknown field "${u}"`).join(', ')}`), warnings: [] }
  }
  const warnings = mode === 'warn' ? chk.unknown.map((u) => `Warning: unknown field "${u}"\n`) : []
  const errs: FieldError[] = [...chk.fields, ...semanticCheck(obj, a.serviceSubnet ? { serviceSubnet: a.serviceSubnet } : {})]
  if (a.before) errs.push(...immutableCheck(info.kind, a.before, obj))
  if (!errs.length) return { warnings }
  const seen = new Set<string>()
  const unique = errs.filter((e) => !seen.has(formatFieldError(e)) && !!seen.add(formatFieldError(e)))
  return { error: invalidError(info.kind, String(dig(obj, 'metadata', 'name') ?? ''), unique), warnings }
}

/** The built-in kind of an object (by apiVersion and kind), or undefined. */
export function builtinKind(obj: Obj): { info: KindInfo; version: string } | undefined {
  const { group, version } = splitApiVersion(String(obj.apiVersion ?? ''))
  const info = KINDS.find((k) => k.group === group && k.kind === obj.kind && k.versions.includes(version))
  return info && { info, version }
}

/** What the API server answers when asked to create this built-in object: its refusal, as kubectl prints it, or undefined. */
export function refusal(obj: Obj, source = 'STDIN'): string | undefined {
  const k = builtinKind(obj)
  if (!k) return `error: resource mapping not found: no matches for kind "${String(obj.kind)}" in version "${String(obj.apiVersion)}"`
  const { error } = admission(k.info, k.version, obj, { verbing: 'creating', source })
  return error && (error.status === 'Invalid' ? error.message : `Error from server (${error.status}): ${error.message}`)
}

/** An object the stand-ins write themselves (kubeadm's): an error naming what the API server would refuse. */
export function assertAdmissible(obj: Obj, who: string): void {
  const r = refusal(obj, who)
  if (r) throw new Error(`zxlab: ${who} wrote an object the API server refuses: ${r}`)
}

// -- server-side rules the OpenAPI schemas do not express -------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

/** The name rule per kind, as the API server's ValidateObjectMeta name functions apply it (default: a DNS-1123 subdomain). */
const NAME_RULES: Record<string, { re: RegExp; max: number; msg: string }> = {
  Namespace: { re: DNS1123_LABEL, max: 63, msg: LABEL_MSG },
  Service: { re: DNS1035_LABEL, max: 63, msg: DNS1035_MSG },
}
const SUBDOMAIN_RULE = { re: DNS1123_SUBDOMAIN, max: 253, msg: SUBDOMAIN_MSG }

/** validation.IsValidPortName: one message per broken rule. */
export function portNameProblems(name: string): string[] {
  const out: string[] = []
  if (name.length > 15) out.push('must be no more than 15 characters')
  if (!/^[-a-z0-9]+$/.test(name)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
  if (!/[a-z]/.test(name)) out.push('must contain at least one letter (a-z)')
  if (name.includes('--')) out.push('must not contain consecutive hyphens')
  if (name.startsWith('-') || name.endsWith('-')) out.push('must not begin or end with a hyphen')
  return out
}

/** A probe's or lifecycle hook's port by name: the name's syntax (that a container declares it is the kubelet's concern, not the API server's). */
function checkHandlerPorts(c: Obj, cp: string, errs: FieldError[]) {
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    for (const action of ['httpGet', 'tcpSocket']) {
      const port = dig(c, probe, action, 'port')
      if (typeof port === 'string') for (const msg of portNameProblems(port)) errs.push({ path: `${cp}.${probe}.${action}.port`, type: 'Invalid value', value: port, detail: msg })
    }
  }
}

const PATH_SEGMENT_NAMES = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'])

function checkName(kind: string, name: string, errs: FieldError[]) {
  if (PATH_SEGMENT_NAMES.has(kind)) {
    if (name === '.' || name === '..') errs.push({ path: 'metadata.name', type: 'Invalid value', value: name, detail: `may not be '${name}'` })
    for (const ch of ['/', '%']) if (name.includes(ch)) errs.push({ path: 'metadata.name', type: 'Invalid value', value: name, detail: `may not contain '${ch}'` })
    return
  }
  const rule = NAME_RULES[kind] ?? SUBDOMAIN_RULE
  if (name.length > rule.max) errs.push({ path: 'metadata.name', type: 'Invalid value', value: name, detail: `must be no more than ${rule.max} characters` })
  if (!rule.re.test(name)) errs.push({ path: 'metadata.name', type: 'Invalid value', value: name, detail: rule.msg })
}

function checkLabels(labels: unknown, path: string, errs: FieldError[]) {
  if (!isObj(labels)) return
  for (const [key, val] of Object.entries(labels)) {
    const slash = key.lastIndexOf('/')
    const nm = slash >= 0 ? key.slice(slash + 1) : key
    const prefix = slash >= 0 ? key.slice(0, slash) : ''
    if (!QUALIFIED_NAME.test(nm) || nm.length > 63 || (prefix && !DNS1123_SUBDOMAIN.test(prefix))) {
      errs.push({ path, type: 'Invalid value', value: key, detail: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" })
    }
    if (typeof val === 'string' && (!LABEL_VALUE.test(val) || val.length > 63)) {
      errs.push({ path, type: 'Invalid value', value: val, detail: "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" })
    }
  }
}

/** Milli-units of a quantity ("500m" → 500, "1" → 1000, "2Gi" → bytes*1000). */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return q * 1000
  if (typeof q !== 'string') return undefined
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/.exec(q.trim())
  if (!m) return undefined
  const n = Number(m[1])
  const suf = m[2] ?? ''
  const mult: Record<string, number> = { '': 1, m: 0.001, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6 }
  const f = suf.startsWith('e') || suf.startsWith('E') ? 10 ** Number(suf.slice(1)) : (mult[suf] ?? 1)
  return Math.round(n * f * 1000)
}

function checkPodSpec(spec: unknown, path: string, errs: FieldError[], owner: 'pod' | 'workload' | 'job') {
  if (!isObj(spec)) return
  const volumes = arr(spec.volumes)
  const volNames = new Set<string>()
  volumes.forEach((vol, i) => {
    const n = str(dig(vol, 'name'))
    if (!n) return
    if (volNames.has(n)) errs.push({ path: `${path}.volumes[${i}].name`, type: 'Duplicate value', value: n })
    else if (!DNS1123_LABEL.test(n)) errs.push({ path: `${path}.volumes[${i}].name`, type: 'Invalid value', value: n, detail: LABEL_MSG })
    volNames.add(n)
  })
  const containers = arr(spec.containers)
  if (containers.length === 0) errs.push({ path: `${path}.containers`, type: 'Required value' })
  const names = new Set<string>()
  const checkContainers = (list: unknown[], field: string) =>
    list.forEach((c, i) => {
      const cp = `${path}.${field}[${i}]`
      if (!isObj(c)) return
      const n = str(c.name)
      if (n !== undefined) {
        if (names.has(n)) errs.push({ path: `${cp}.name`, type: 'Duplicate value', value: n })
        else if (!DNS1123_LABEL.test(n)) errs.push({ path: `${cp}.name`, type: 'Invalid value', value: n, detail: LABEL_MSG })
        names.add(n)
      }
      if (!str(c.image)) errs.push({ path: `${cp}.image`, type: 'Required value' })
      const ipp = c.imagePullPolicy
      if (ipp !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(String(ipp))) {
        errs.push({ path: `${cp}.imagePullPolicy`, type: 'Unsupported value', value: ipp, detail: 'supported values: "Always", "IfNotPresent", "Never"' })
      }
      arr(c.ports).forEach((port, j) => {
        const cport = dig(port, 'containerPort')
        if (typeof cport === 'number' && (cport < 1 || cport > 65535)) {
          errs.push({ path: `${cp}.ports[${j}].containerPort`, type: 'Invalid value', value: cport, detail: 'must be between 1 and 65535, inclusive' })
        }
        const pn = str(dig(port, 'name'))
        if (pn) for (const msg of portNameProblems(pn)) errs.push({ path: `${cp}.ports[${j}].name`, type: 'Invalid value', value: pn, detail: msg })
      })
      checkHandlerPorts(c, cp, errs)
      arr(c.env).forEach((env, j) => {
        const en = str(dig(env, 'name'))
        if (en === undefined) return
        if (!ENV_NAME.test(en)) {
          errs.push({ path: `${cp}.env[${j}].name`, type: 'Invalid value', value: en, detail: "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')" })
        }
        const vf = dig(env, 'valueFrom')
        if (isObj(vf)) {
          const sources = Object.keys(vf).filter((key) => vf[key] !== undefined)
          if (sources.length !== 1) errs.push({ path: `${cp}.env[${j}].valueFrom`, type: 'Invalid value', value: '', detail: 'may not have more than one field specified at a time' })
          if (dig(env, 'value') !== undefined) errs.push({ path: `${cp}.env[${j}].valueFrom`, type: 'Invalid value', value: '', detail: 'may not be specified when `value` is not empty' })
          const rf = str(dig(vf, 'resourceFieldRef', 'resource'))
          if (rf && !['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage'].includes(rf) && !rf.startsWith('limits.hugepages-') && !rf.startsWith('requests.hugepages-')) {
            errs.push({ path: `${cp}.env[${j}].valueFrom.resourceFieldRef.resource`, type: 'Unsupported value', value: rf, detail: 'supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"' })
          }
        }
      })
      arr(c.volumeMounts).forEach((m, j) => {
        const vn = str(dig(m, 'name'))
        if (vn !== undefined && !volNames.has(vn)) errs.push({ path: `${cp}.volumeMounts[${j}].name`, type: 'Not found', value: vn })
      })
      const req = dig(c, 'resources', 'requests')
      const lim = dig(c, 'resources', 'limits')
      for (const [res, q] of Object.entries(isObj(req) ? req : {})) {
        const r = parseQuantity(q)
        const l = isObj(lim) ? parseQuantity(lim[res]) : undefined
        if (r !== undefined && r < 0) errs.push({ path: `${cp}.resources.requests[${res}]`, type: 'Invalid value', value: q, detail: 'must be greater than or equal to 0' })
        if (r !== undefined && l !== undefined && r > l) {
          errs.push({ path: `${cp}.resources.requests`, type: 'Invalid value', value: q, detail: `must be less than or equal to ${res} limit of ${String(isObj(lim) ? lim[res] : '')}` })
        }
      }
    })
  checkContainers(arr(spec.initContainers), 'initContainers')
  checkContainers(containers, 'containers')
  const rp = spec.restartPolicy
  if (rp !== undefined) {
    const allowed = owner === 'workload' ? ['Always'] : owner === 'job' ? ['OnFailure', 'Never'] : ['Always', 'OnFailure', 'Never']
    if (!allowed.includes(String(rp))) errs.push({ path: `${path}.restartPolicy`, type: 'Unsupported value', value: rp, detail: `supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` })
  } else if (owner === 'job') {
    errs.push({ path: `${path}.restartPolicy`, type: 'Required value', detail: 'valid values: "OnFailure", "Never"' })
  }
  const dp = spec.dnsPolicy
  if (dp !== undefined && !['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(String(dp))) {
    errs.push({ path: `${path}.dnsPolicy`, type: 'Unsupported value', value: dp, detail: 'supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"' })
  }
  arr(spec.tolerations).forEach((t, i) => {
    const op = dig(t, 'operator')
    if (op !== undefined && op !== 'Exists' && op !== 'Equal') errs.push({ path: `${path}.tolerations[${i}].operator`, type: 'Unsupported value', value: op, detail: 'supported values: "Equal", "Exists"' })
    const eff = dig(t, 'effect')
    if (eff !== undefined && eff !== '' && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(String(eff))) {
      errs.push({ path: `${path}.tolerations[${i}].effect`, type: 'Unsupported value', value: eff, detail: 'supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"' })
    }
    if (op === 'Exists' && dig(t, 'value')) errs.push({ path: `${path}.tolerations[${i}].operator`, type: 'Invalid value', value: op, detail: 'value must be empty when `operator` is \'Exists\'' })
  })
}

/** Does a label selector (matchLabels + matchExpressions) select these labels? */
export function selectorMatches(selector: unknown, labels: unknown): boolean {
  const l = isObj(labels) ? labels : {}
  const ml = dig(selector, 'matchLabels')
  if (isObj(ml)) for (const [a, b] of Object.entries(ml)) if (l[a] !== b) return false
  for (const e of arr(dig(selector, 'matchExpressions'))) {
    const key = String(dig(e, 'key'))
    const values = arr(dig(e, 'values')).map(String)
    const has = key in l
    switch (dig(e, 'operator')) {
      case 'In':
        if (!has || !values.includes(String(l[key]))) return false
        break
      case 'NotIn':
        if (has && values.includes(String(l[key]))) return false
        break
      case 'Exists':
        if (!has) return false
        break
      case 'DoesNotExist':
        if (has) return false
        break
    }
  }
  return true
}

function checkWorkload(obj: Obj, errs: FieldError[]) {
  const spec = objOrEmpty(obj.spec)
  const selector = spec.selector
  const empty = !isObj(selector) || (Object.keys(objOrEmpty(selector.matchLabels)).length === 0 && arr(selector.matchExpressions).length === 0)
  if (empty && isObj(selector)) errs.push({ path: 'spec.selector', type: 'Invalid value', value: selector, detail: 'empty selector is invalid for deployment' })
  const labels = dig(spec, 'template', 'metadata', 'labels')
  if (!empty && !selectorMatches(selector, labels)) {
    errs.push({ path: 'spec.template.metadata.labels', type: 'Invalid value', value: labels ?? {}, detail: '`selector` does not match template `labels`' })
  }
  checkLabels(labels, 'spec.template.metadata.labels', errs)
  const replicas = spec.replicas
  if (typeof replicas === 'number' && replicas < 0) errs.push({ path: 'spec.replicas', type: 'Invalid value', value: replicas, detail: 'must be greater than or equal to 0' })
  const strategy = str(dig(spec, obj.kind === 'DaemonSet' ? 'updateStrategy' : 'strategy', 'type'))
  const allowed = obj.kind === 'DaemonSet' || obj.kind === 'StatefulSet' ? ['RollingUpdate', 'OnDelete'] : ['Recreate', 'RollingUpdate']
  if (strategy !== undefined && obj.kind !== 'ReplicaSet' && !allowed.includes(strategy)) {
    errs.push({ path: obj.kind === 'DaemonSet' ? 'spec.updateStrategy.type' : 'spec.strategy.type', type: 'Unsupported value', value: strategy, detail: `supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` })
  }
  checkPodSpec(dig(spec, 'template', 'spec'), 'spec.template.spec', errs, 'workload')
}

const objOrEmpty = (x: unknown): Obj => (isObj(x) ? x : {})

export type ValidateContext = { serviceSubnet?: string }

/** Server-side validation of a whole object (create or update). */
export function semanticCheck(obj: Obj, ctx: ValidateContext = {}): FieldError[] {
  const errs: FieldError[] = []
  const kind = String(obj.kind)
  const meta = objOrEmpty(obj.metadata)
  const name = str(meta.name)
  if (!name) errs.push({ path: 'metadata.name', type: 'Required value', detail: 'name or generateName is required' })
  else if (kind === 'APIService') {
    const want = `${String(dig(obj, 'spec', 'version'))}.${String(dig(obj, 'spec', 'group'))}`
    if (dig(obj, 'spec', 'group') && name !== want) errs.push({ path: 'metadata.name', type: 'Invalid value', value: name, detail: `must be ${want}` })
  } else checkName(kind, name, errs)
  checkLabels(meta.labels, 'metadata.labels', errs)
  const spec = objOrEmpty(obj.spec)
  switch (kind) {
    case 'Pod':
      checkPodSpec(spec, 'spec', errs, 'pod')
      break
    case 'Deployment':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'StatefulSet':
      checkWorkload(obj, errs)
      break
    case 'Job':
      checkPodSpec(dig(spec, 'template', 'spec'), 'spec.template.spec', errs, 'job')
      break
    case 'CronJob':
      checkPodSpec(dig(spec, 'jobTemplate', 'spec', 'template', 'spec'), 'spec.jobTemplate.spec.template.spec', errs, 'job')
      break
    case 'Service': {
      const type = spec.type ?? 'ClusterIP'
      if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(String(type))) {
        errs.push({ path: 'spec.type', type: 'Unsupported value', value: type, detail: 'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"' })
      }
      const ports = arr(spec.ports)
      if (ports.length === 0 && spec.clusterIP !== 'None' && type !== 'ExternalName') errs.push({ path: 'spec.ports', type: 'Required value' })
      const pnames = new Set<string>()
      ports.forEach((pt, i) => {
        const port = dig(pt, 'port')
        if (typeof port === 'number' && (port < 1 || port > 65535)) errs.push({ path: `spec.ports[${i}].port`, type: 'Invalid value', value: port, detail: 'must be between 1 and 65535, inclusive' })
        const pn = str(dig(pt, 'name'))
        if (ports.length > 1 && !pn) errs.push({ path: `spec.ports[${i}].name`, type: 'Required value' })
        if (pn) {
          if (pnames.has(pn)) errs.push({ path: `spec.ports[${i}].name`, type: 'Duplicate value', value: pn })
          pnames.add(pn)
        }
        const tp = dig(pt, 'targetPort')
        // the value is an IntOrString, which the API server prints unquoted
        if (typeof tp === 'string') for (const msg of portNameProblems(tp)) errs.push({ path: `spec.ports[${i}].targetPort`, type: 'Invalid value', value: tp, shown: tp, detail: msg })
        const np = dig(pt, 'nodePort')
        if (typeof np === 'number' && (np < 30000 || np > 32767)) errs.push({ path: `spec.ports[${i}].nodePort`, type: 'Invalid value', value: np, detail: 'provided port is not in the valid range. The range of valid ports is 30000-32767' })
      })
      const cip = str(spec.clusterIP)
      if (cip && cip !== 'None' && ctx.serviceSubnet) {
        const ip = parseIPv4(cip)
        const net = parseCidr(ctx.serviceSubnet)
        if (ip === undefined) errs.push({ path: 'spec.clusterIPs[0]', type: 'Invalid value', value: cip, detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' })
        else if (net && !cidrContains(net, ip)) errs.push({ path: 'spec.clusterIPs', type: 'Invalid value', value: [cip], detail: `failed to allocate IP ${cip}: the provided IP (${cip}) is not in the valid range. The range of valid IPs is ${ctx.serviceSubnet}` })
      }
      break
    }
    case 'ConfigMap':
    case 'Secret':
      for (const field of ['data', 'stringData', 'binaryData']) {
        for (const key of Object.keys(objOrEmpty(obj[field]))) {
          if (!CONFIG_KEY.test(key) || key.length > 253) {
            errs.push({ path: `${field}[${key}]`, type: 'Invalid value', value: key, detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')" })
          }
        }
      }
      break
    case 'HorizontalPodAutoscaler': {
      const min = spec.minReplicas
      const max = spec.maxReplicas
      if (typeof min === 'number' && min < 1) errs.push({ path: 'spec.minReplicas', type: 'Invalid value', value: min, detail: 'must be greater than or equal to 1' })
      if (typeof max === 'number' && max < 1) errs.push({ path: 'spec.maxReplicas', type: 'Invalid value', value: max, detail: 'must be greater than 0' })
      if (typeof max === 'number' && max < (typeof min === 'number' ? min : 1)) errs.push({ path: 'spec.maxReplicas', type: 'Invalid value', value: max, detail: 'must be greater than or equal to `minReplicas`' })
      if (!str(dig(spec, 'scaleTargetRef', 'kind'))) errs.push({ path: 'spec.scaleTargetRef.kind', type: 'Required value' })
      if (!str(dig(spec, 'scaleTargetRef', 'name'))) errs.push({ path: 'spec.scaleTargetRef.name', type: 'Required value' })
      arr(spec.metrics).forEach((m, i) => {
        const t = dig(m, 'type')
        if (t === 'Resource') {
          const target = dig(m, 'resource', 'target')
          const tt = dig(target, 'type')
          if (tt === 'Utilization' && typeof dig(target, 'averageUtilization') !== 'number') errs.push({ path: `spec.metrics[${i}].resource.target.averageUtilization`, type: 'Required value', detail: 'must set either a target value or averageValue' })
          if (typeof dig(target, 'averageUtilization') === 'number' && (dig(target, 'averageUtilization') as number) < 1) errs.push({ path: `spec.metrics[${i}].resource.target.averageUtilization`, type: 'Invalid value', value: dig(target, 'averageUtilization'), detail: 'must be greater than 0' })
        }
      })
      break
    }
    case 'APIService': {
      const gpm = spec.groupPriorityMinimum
      if (typeof gpm === 'number' && (gpm < 1 || gpm > 20000)) errs.push({ path: 'spec.groupPriorityMinimum', type: 'Invalid value', value: gpm, detail: 'must be positive and less than 20000' })
      const vp = spec.versionPriority
      if (typeof vp === 'number' && vp < 1) errs.push({ path: 'spec.versionPriority', type: 'Invalid value', value: vp, detail: 'must be positive and less than 1000' })
      break
    }
    case 'PriorityClass': {
      const value = obj.value
      if (typeof value === 'number' && value > 1e9) errs.push({ path: 'value', type: 'Forbidden', detail: 'maximum allowed value of a user defined priority is 1000000000' })
      break
    }
  }
  return errs
}

/** Fields that may not change on update. */
export function immutableCheck(kind: string, before: Obj, after: Obj): FieldError[] {
  const errs: FieldError[] = []
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
  if (['Deployment', 'DaemonSet', 'ReplicaSet', 'StatefulSet'].includes(kind) && !same(dig(before, 'spec', 'selector'), dig(after, 'spec', 'selector'))) {
    errs.push({ path: 'spec.selector', type: 'Invalid value', value: dig(after, 'spec', 'selector'), detail: 'field is immutable' })
  }
  if (kind === 'Service' && dig(after, 'spec', 'clusterIP') !== undefined && !same(dig(before, 'spec', 'clusterIP'), dig(after, 'spec', 'clusterIP'))) {
    errs.push({ path: 'spec.clusterIPs[0]', type: 'Invalid value', value: dig(after, 'spec', 'clusterIP'), detail: 'may not change once set' })
  }
  if ((kind === 'RoleBinding' || kind === 'ClusterRoleBinding') && !same(before.roleRef, after.roleRef)) {
    errs.push({ path: 'roleRef', type: 'Invalid value', value: after.roleRef, detail: 'cannot change roleRef' })
  }
  if ((kind === 'ConfigMap' || kind === 'Secret') && before.immutable === true && (!same(before.data, after.data) || !same(before.stringData, after.stringData))) {
    errs.push({ path: 'data', type: 'Forbidden', detail: 'field is immutable when `immutable` is set' })
  }
  if (kind === 'Job' && !same(dig(before, 'spec', 'template'), dig(after, 'spec', 'template'))) {
    errs.push({ path: 'spec.template', type: 'Invalid value', value: dig(after, 'spec', 'template'), detail: 'field is immutable' })
  }
  return errs
}
