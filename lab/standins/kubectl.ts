// Stand-in for kubectl (1.36) on the lab hosts. It talks to "the API server": the cluster
// store of the control plane its kubeconfig names (see _kubeconfig.ts), validates every object
// against the API server's OpenAPI documents (_openapi.ts) plus the server's own rules, and runs the
// controllers (_controllers.ts) on every call so the cluster moves as a real one would.
// `exec` runs commands in the stand-in's containers (_exec.ts); `top` and the metrics API read
// what metrics-server would report (_metrics.ts).
import fs from 'node:fs'
import { allKinds, cascadeDelete, CliError, labelsOf, mapKind, matchesFieldSelector, matchesSelector, parseSelector, readSources, resolveType } from './_resources.ts'
import type { Source } from './_resources.ts'
import { argValue, podReady, reconcile, taintsOf } from './_controllers.ts'
import { clock } from './_clock.ts'
import { EXEC_FLAGS, runExec } from './_exec.ts'
import { apiServiceAvailable, metricsApi, nodeMetrics, nodeUsage, podMetrics } from './_metrics.ts'
import type { Taint } from './_controllers.ts'
import { applyDefaults } from './_defaults.ts'
import { FlagError, flagBool, flagList, flagStr, has, parseFlags } from './_flags.ts'
import type { FlagSpec, Parsed } from './_flags.ts'
import { Exit, isEntry, processIO, sleep, writeAtomic } from './_io.ts'
import type { IO } from './_io.ts'
import { readNodeState } from './_node.ts'
import { debToSemver, installedVersion, parseSemver } from './_k8s-host.ts'
import { arr, clone, deepEqual, dig, formatDuration, isObj, objOr, parseDuration, str, toYaml } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { JsonPathError, jsonpath } from './_jsonpath.ts'
import { isServerCallChild, networkMode, serverCall , runServerCall } from './_apicall.ts'
import { callFiles, kubeconfigTarget, sendCall } from './_apiclient.ts'
import { authorize, connect, ConnectError, loadKubeconfig, resolveContext, userPath } from './_kubeconfig.ts'
import type { Connection } from './_kubeconfig.ts'
import { jsonPatch, mergePatch, PatchError, strategicPatch, threeWay } from './_merge.ts'
import { forOutput, printTable, table, toJson } from './_output.ts'
import { admission, ApiError, apiVersionOf, kindGroup, KINDS, parseQuantity, resourceGroup } from './_schema.ts'
import type { KindInfo } from './_schema.ts'
import { getObj, keyOf, listObjs, metaOf, putObj, readStore, updateStore, versionInfo } from './_store.ts'
import type { Store } from './_store.ts'

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'
const KUSTOMIZE_VERSION = 'v5.7.1'
const MAX_WAIT_MS = () => Number(process.env.ZXLAB_KUBECTL_MAX_WAIT_SECONDS ?? 600) * 1000

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string' },
  { name: 'namespace', short: 'n', type: 'string' },
  { name: 'context', type: 'string' },
  { name: 'cluster', type: 'string' },
  { name: 'user', type: 'string' },
  { name: 'server', short: 's', type: 'string' },
  { name: 'request-timeout', type: 'string' },
  { name: 'v', short: 'v', type: 'string' },
  { name: 'insecure-skip-tls-verify', type: 'bool' },
  { name: 'cache-dir', type: 'string' },
  { name: 'match-server-version', type: 'bool' },
  { name: 'warnings-as-errors', type: 'bool' },
  { name: 'help', short: 'h', type: 'bool' },
]
const GLOBAL_WITH_VALUE = new Set(GLOBAL_FLAGS.filter((f) => f.type !== 'bool').flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]))

const F = {
  filename: { name: 'filename', short: 'f', type: 'array' } as FlagSpec,
  recursive: { name: 'recursive', short: 'R', type: 'bool' } as FlagSpec,
  output: { name: 'output', short: 'o', type: 'string' } as FlagSpec,
  selector: { name: 'selector', short: 'l', type: 'string' } as FlagSpec,
  allNs: { name: 'all-namespaces', short: 'A', type: 'bool' } as FlagSpec,
  dryRun: { name: 'dry-run', type: 'string' } as FlagSpec,
  timeout: { name: 'timeout', type: 'string' } as FlagSpec,
  all: { name: 'all', type: 'bool' } as FlagSpec,
  overwrite: { name: 'overwrite', type: 'bool' } as FlagSpec,
  noHeaders: { name: 'no-headers', type: 'bool' } as FlagSpec,
  fieldManager: { name: 'field-manager', type: 'string' } as FlagSpec,
  validate: { name: 'validate', type: 'string' } as FlagSpec,
  ignoreNotFound: { name: 'ignore-not-found', type: 'bool' } as FlagSpec,
}

type Ctx = { io: IO; f: Parsed; cmd: string; clientVersion: string; argv: string[] }

const usageHint = (cmd: string) => `See 'kubectl ${cmd} --help' for usage.`

export async function main(argv: string[], io: IO = processIO()): Promise<number> {
  const state = readNodeState()
  // in a call the API server runs, the client's version is the caller's
  const clientVersion = serverCall()?.clientVersion ?? installedVersion(state, 'kubectl')
  if (!clientVersion) {
    io.err('zxlab: kubectl: command not found (package kubectl is not installed on this node)\n')
    return 127
  }
  // the command path: the first words that are not flags (or global flag values)
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') break
    if (a.startsWith('-')) {
      if (GLOBAL_WITH_VALUE.has(a)) i++
      continue
    }
    words.push(a)
  }
  const cmd = words[0]
  let cmdName = cmd ?? ''
  try {
    if (!cmd) {
      io.out('kubectl controls the Kubernetes cluster manager.\n\n Find more information at: https://kubernetes.io/docs/reference/kubectl/\n')
      return 0
    }
    const handler = COMMANDS[cmd]
    if (!handler) {
      if (KNOWN_UNSUPPORTED.has(cmd)) throw new CliError(`error: the zxlab kubectl stand-in does not implement "kubectl ${cmd}"`)
      throw new CliError(`error: unknown command "${cmd}" for "kubectl"\n\nDid you mean this?\n\t${suggest(cmd)}\n`)
    }
    const sub = handler.sub && words[1] && handler.sub.includes(words[1]) ? words[1] : undefined
    cmdName = sub ? `${cmd} ${sub}` : cmd
    let f: Parsed
    try {
      f = parseFlags(argv, [...GLOBAL_FLAGS, ...handler.flags(sub)])
    } catch (e) {
      if (e instanceof FlagError) throw new CliError(`error: ${e.message}\n${usageHint(cmdName)}`)
      throw e
    }
    f.args.splice(0, sub ? 2 : 1)
    const ctx: Ctx = { io, f, cmd: cmdName, clientVersion, argv }
    if (networkMode() && !LOCAL_ONLY(cmd, f)) return await remote(ctx)
    setValidation(ctx)
    return await handler.run(ctx, sub)
  } catch (e) {
    if (e instanceof CliError || e instanceof ConnectError) {
      io.err(`${e.message}\n`)
      return 1
    }
    if (e instanceof Exit) {
      io.err(e.message)
      return e.code
    }
    if (e instanceof ApiError) {
      io.err(`${e.status === 'Invalid' ? '' : `Error from server (${e.status}): `}${e.message}\n`)
      return 1
    }
    io.err(`${(e as Error).stack ?? String(e)}\n`)
    return 1
  }
}

const KNOWN_UNSUPPORTED = new Set(['describe', 'port-forward', 'cp', 'edit', 'run', 'expose', 'autoscale', 'drain', 'cordon', 'uncordon', 'certificate', 'proxy', 'attach', 'debug', 'events', 'diff', 'kustomize', 'auth', 'plugin', 'completion', 'explain', 'set'])
const ALL_COMMANDS = ['annotate', 'api-resources', 'api-versions', 'apply', 'attach', 'auth', 'autoscale', 'certificate', 'cluster-info', 'completion', 'config', 'cordon', 'cp', 'create', 'debug', 'delete', 'describe', 'diff', 'drain', 'edit', 'events', 'exec', 'explain', 'expose', 'get', 'kustomize', 'label', 'logs', 'patch', 'plugin', 'port-forward', 'proxy', 'replace', 'rollout', 'run', 'scale', 'set', 'taint', 'top', 'uncordon', 'version', 'wait']
function suggest(cmd: string): string {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[])
    for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) (d[i] as number[])[j] = Math.min((d[i - 1] as number[])[j]! + 1, (d[i] as number[])[j - 1]! + 1, (d[i - 1] as number[])[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    return (d[a.length] as number[])[b.length] as number
  }
  return [...ALL_COMMANDS].sort((a, b) => dist(cmd, a) - dist(cmd, b))[0] as string
}

type Handler = { sub?: string[]; flags: (sub?: string) => FlagSpec[]; run: (c: Ctx, sub?: string) => Promise<number> | number }

// ---------------------------------------------------------------------------
// Over the network (ZXLAB_API=network): the command runs at the API server the kubeconfig names

/** What kubectl does without a server: its kubeconfig, its own version, help. */
const LOCAL_ONLY = (cmd: string, f: Parsed) => cmd === 'config' || (cmd === 'version' && flagBool(f, 'client')) || flagBool(f, 'help')

async function remote(c: Ctx): Promise<number> {
  const t = kubeconfigTarget({
    ...(flagStr(c.f, 'kubeconfig') ? { kubeconfig: flagStr(c.f, 'kubeconfig') as string } : {}),
    ...(flagStr(c.f, 'context') ? { context: flagStr(c.f, 'context') as string } : {}),
    ...(flagStr(c.f, 'server') ? { server: flagStr(c.f, 'server') as string } : {}),
    insecure: flagBool(c.f, 'insecure-skip-tls-verify'),
  })
  const fromFile = (v: string) => (v.includes('=') ? v.slice(v.indexOf('=') + 1) : v)
  const names = [...flagList(c.f, 'filename'), ...(flagStr(c.f, 'patch-file') ? [flagStr(c.f, 'patch-file') as string] : []), ...flagList(c.f, 'from-file').map(fromFile), ...flagList(c.f, 'from-env-file')]
  const wantsStdin = flagList(c.f, 'filename').includes('-') || (c.cmd === 'exec' && flagBool(c.f, 'stdin'))
  return sendCall(t, { tool: 'kubectl', argv: c.argv, files: callFiles(names), stdin: wantsStdin ? c.io.stdin() : '', clientVersion: c.clientVersion }, c.io)
}

// ---------------------------------------------------------------------------
// Connection and the cluster transaction

function connection(c: Ctx): Connection {
  return connect({
    ...(flagStr(c.f, 'kubeconfig') ? { kubeconfig: flagStr(c.f, 'kubeconfig') as string } : {}),
    ...(flagStr(c.f, 'context') ? { context: flagStr(c.f, 'context') as string } : {}),
    ...(flagStr(c.f, 'server') ? { server: flagStr(c.f, 'server') as string } : {}),
  })
}

/** Run fn on the cluster under the store's lock, with the controllers run before and after. */
function onCluster<T>(conn: Connection, fn: (s: Store) => T): T {
  const r = updateStore(conn.storeFile, (s) => {
    reconcile(s)
    const out = fn(s)
    reconcile(s)
    return out
  })
  if (!r) throw new ConnectError(`The connection to the server ${conn.server.replace(/^https?:\/\//, '')} was refused - did you specify the right host or port?`)
  return r.result
}

const namespaceOf = (c: Ctx, conn?: Connection) => flagStr(c.f, 'namespace') ?? conn?.namespace ?? 'default'

function authz(conn: Connection, verb: string, info: KindInfo, ns?: string, name?: string) {
  const err = authorize(conn.user, verb, info.plural, info.group, info.namespaced ? ns : undefined)
  if (err) throw new CliError(name ? err.replace(`${resourceGroup(info)} is forbidden`, `${resourceGroup(info)} "${name}" is forbidden`) : err)
}

const notFound = (info: KindInfo, name: string) => new ApiError('NotFound', `${resourceGroup(info)} "${name}" not found`)

// ---------------------------------------------------------------------------
// Object checks on write

function dryRunMode(c: Ctx): 'none' | 'client' | 'server' {
  const v = flagStr(c.f, 'dry-run')
  if (v === undefined || v === 'none') return 'none'
  if (v === 'client' || v === 'server') return v
  throw new CliError(`error: Invalid dry-run value (${v}). Must be "none", "server", or "client".`)
}

/** Decode + schema + server validation of an object about to be written; throws ApiError. */
/** kubectl --validate: strict (default, true), warn, ignore (false). */
let fieldValidation: 'strict' | 'warn' | 'ignore' = 'strict'
let warn: (s: string) => void = () => {}

function setValidation(c: Ctx) {
  const v = flagStr(c.f, 'validate') ?? 'strict'
  const m: Record<string, 'strict' | 'warn' | 'ignore'> = { strict: 'strict', true: 'strict', warn: 'warn', ignore: 'ignore', false: 'ignore' }
  const mode = m[v]
  if (!mode) throw new CliError(`error: invalid - validate option "${v}"; must be one of: strict (or true), warn, ignore (or false)`)
  fieldValidation = mode
  warn = (x) => c.io.err(x)
}

function admit(s: Store, info: KindInfo, version: string, obj: Obj, verbing: string, source: string, before?: Obj) {
  const r = admission(info, version, obj, { verbing, source, validation: fieldValidation, serviceSubnet: s.cluster.serviceSubnet, ...(before ? { before } : {}) })
  for (const w of r.warnings) warn(w)
  if (r.error) throw r.error
}

function checkNamespace(s: Store, info: KindInfo, ns: string | undefined, source: string, verbing: string) {
  if (!info.namespaced) return
  const n = getObj(s, '', 'Namespace', undefined, ns ?? 'default')
  if (!n) throw new ApiError('NotFound', `error when ${verbing} "${source}": namespaces "${ns}" not found`)
}

/** A Service's clusterIP, allocated from the service subnet. */
function allocateClusterIP(s: Store, obj: Obj) {
  if (obj.kind !== 'Service') return
  const spec = objOr(obj.spec)
  obj.spec = spec
  if (spec.type === 'ExternalName' || spec.clusterIP !== undefined) return
  const base = /^(\d+)\.(\d+)\.(\d+)\.(\d+)/.exec(s.cluster.serviceSubnet)
  if (!base) return
  const used = new Set(listObjs(s, '', 'Service').map((x) => String(dig(x, 'spec', 'clusterIP'))))
  for (;;) {
    const n = s.internal.nextServiceIP++
    const ip = `${base[1]}.${base[2]}.${Math.floor(n / 250) + Number(base[3])}.${(n % 250) + 1}`
    if (!used.has(ip)) {
      spec.clusterIP = ip
      spec.clusterIPs = [ip]
      return
    }
  }
}

const sortedJson = (v: unknown): string => {
  const norm = (x: unknown): unknown => (Array.isArray(x) ? x.map(norm) : isObj(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, norm(x[k])])) : x)
  return JSON.stringify(norm(v))
}

const outName = (info: KindInfo, obj: Obj) => `${kindGroup(info)}/${String(metaOf(obj).name)}`

function printObjects(c: Ctx, objs: Obj[], single: boolean) {
  const o = flagStr(c.f, 'output') ?? ''
  const out = objs.map(forOutput)
  const list = { apiVersion: 'v1', items: out, kind: 'List', metadata: { resourceVersion: '' } }
  const data = single && out.length === 1 ? out[0] : list
  if (o === 'json') c.io.out(toJson(data))
  else if (o === 'yaml') c.io.out(toYaml(data))
  else if (o.startsWith('jsonpath=') || o.startsWith('jsonpath-as-json=')) {
    try {
      c.io.out(jsonpath(o.slice(o.indexOf('=') + 1), data))
    } catch (e) {
      if (e instanceof JsonPathError) throw new CliError(`error: ${e.message}`)
      throw e
    }
  } else if (o === 'jsonpath') throw new CliError('error: template format specified but no template given')
  else throw new CliError(`error: unable to match a printer suitable for the output format "${o}", allowed formats are: json,jsonpath,jsonpath-as-json,jsonpath-file,name,yaml`)
}

// ---------------------------------------------------------------------------
// apply / create / replace / delete -f

type Prepared = { src: Source; info: KindInfo; version: string; obj: Obj; ns?: string }

function prepare(c: Ctx, s: Store, sources: Source[], conn: Connection, errors: string[]): Prepared[] {
  const flagNs = flagStr(c.f, 'namespace')
  const out: Prepared[] = []
  for (const src of sources) {
    const m = mapKind(s, src.obj)
    const meta = objOr(src.obj.metadata)
    if ('error' in m) {
      if (m.error.startsWith('error validating data')) {
        errors.push(`error: error validating "${src.source}": ${m.error}; if you choose to ignore these errors, turn validation off with --validate=false`)
      } else {
        errors.push(`error: resource mapping not found for name: "${String(meta.name ?? '')}" namespace: "${String(meta.namespace ?? flagNs ?? '')}" from "${src.source}": ${m.error}\nensure CRDs are installed first`)
      }
      continue
    }
    const obj = clone(src.obj)
    const om = objOr(obj.metadata)
    obj.metadata = om
    let ns: string | undefined
    if (m.info.namespaced) {
      const objNs = str(om.namespace)
      if (objNs && flagNs && objNs !== flagNs) {
        throw new CliError(`error: the namespace from the provided object "${objNs}" does not match the namespace "${flagNs}". You must pass '--namespace=${objNs}' to perform this operation.`)
      }
      ns = objNs ?? namespaceOf(c, conn)
      om.namespace = ns
    } else delete om.namespace
    out.push({ src, info: m.info, version: m.version, obj, ...(ns ? { ns } : {}) })
  }
  return out
}

const applyFlags = (): FlagSpec[] => [F.filename, F.recursive, F.output, F.selector, F.dryRun, { name: 'server-side', type: 'bool' }, { name: 'force-conflicts', type: 'bool' }, F.fieldManager, F.validate, F.overwrite, { name: 'prune', type: 'bool' }, { name: 'wait', type: 'bool' }, F.timeout, { name: 'kustomize', short: 'k', type: 'string' }, { name: 'force', type: 'bool' }, { name: 'grace-period', type: 'int' }, { name: 'show-managed-fields', type: 'bool' }, F.all, { name: 'allow-missing-template-keys', type: 'bool' }]

function filesOrFail(c: Ctx): string[] {
  const files = flagList(c.f, 'filename')
  if (has(c.f, 'kustomize')) throw new CliError('error: the zxlab kubectl stand-in does not implement -k (kustomize)')
  if (!files.length) throw new CliError(`error: must specify one of -f and -k\n\n${usageHint(c.cmd)}`)
  return files
}

function runApply(c: Ctx): number {
  const files = filesOrFail(c)
  const sources = readSources(files, c.io, flagBool(c.f, 'recursive'))
  if (has(c.f, 'prune')) throw new CliError('error: the zxlab kubectl stand-in does not implement --prune')
  const mode = dryRunMode(c)
  const serverSide = flagBool(c.f, 'server-side')
  const output = flagStr(c.f, 'output')
  const conn = connection(c)
  const errors: string[] = []
  const lines: string[] = []
  const results: Obj[] = []
  if (sources.length === 0) throw new CliError('error: no objects passed to apply')
  onCluster(conn, (s) => {
    for (const pr of prepare(c, s, sources, conn, errors)) {
      const { info, version, obj, src } = pr
      const name = String(metaOf(obj).name ?? '')
      try {
        authz(conn, 'patch', info, pr.ns, name)
        const existing = name ? getObj(s, info.group, info.kind, pr.ns, name) : undefined
        const verbing = existing ? 'patching' : 'creating'
        checkNamespace(s, info, pr.ns, src.source, verbing)
        admit(s, info, version, obj, verbing, src.source)
        const modified = clone(obj)
        const ann = objOr(metaOf(modified).annotations)
        delete ann[LAST_APPLIED]
        if (Object.keys(ann).length) metaOf(modified).annotations = ann
        else delete metaOf(modified).annotations
        let next: Obj
        const key = keyOf(obj)
        if (!existing) {
          next = clone(obj)
          if (!serverSide) metaOf(next).annotations = { ...objOr(metaOf(next).annotations), [LAST_APPLIED]: sortedJson(modified) + '\n' }
          if (src.url) metaOf(next).annotations = { ...objOr(metaOf(next).annotations), 'zxlab/source': src.url }
        } else {
          const lastText = str(objOr(metaOf(existing).annotations)[LAST_APPLIED])
          let original: Obj = {}
          if (serverSide) original = s.internal.ssa[key] ?? {}
          else if (lastText) {
            try {
              original = JSON.parse(lastText) as Obj
            } catch {
              original = {}
            }
          } else {
            c.io.err(`Warning: resource ${resourceGroup(info)}/${name} is missing the ${LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n`)
          }
          const live = clone(existing)
          delete live.status
          next = threeWay(original, modified, live) as Obj
          if (existing.status !== undefined) next.status = clone(existing.status)
          if (!serverSide) metaOf(next).annotations = { ...objOr(metaOf(next).annotations), [LAST_APPLIED]: sortedJson(modified) + '\n' }
          if (src.url) metaOf(next).annotations = { ...objOr(metaOf(next).annotations), 'zxlab/source': src.url }
          admit(s, info, version, next, verbing, src.source, existing)
        }
        if (obj.kind === 'Service') allocateClusterIP(s, next)
        applyDefaults(next)
        const changed = !existing || !deepEqual(stripVolatile(existing), stripVolatile(mergeMeta(next, existing)))
        let verb = serverSide ? 'serverside-applied' : !existing ? 'created' : changed ? 'configured' : 'unchanged'
        if (mode === 'none') {
          if (changed) putObj(s, next)
          if (serverSide) s.internal.ssa[key] = modified
        }
        if (mode !== 'none') verb += mode === 'client' ? ' (dry run)' : ' (server dry run)'
        results.push(mode === 'none' ? (getObj(s, info.group, info.kind, pr.ns, name) ?? next) : next)
        lines.push(output === 'name' ? `${outName(info, obj)}\n` : `${outName(info, obj)} ${verb}\n`)
      } catch (e) {
        if (e instanceof ApiError) errors.push(e.status === 'Invalid' ? e.message : `Error from server (${e.status}): ${e.message}`)
        else if (e instanceof CliError) errors.push(e.message)
        else throw e
      }
    }
  })
  if (output && output !== 'name') printObjects(c, results, results.length === 1)
  else c.io.out(lines.join(''))
  for (const e of errors) c.io.err(`${e}\n`)
  return errors.length ? 1 : 0
}

const stripVolatile = (o: Obj) => {
  const x = clone(o)
  const m = objOr(x.metadata)
  delete m.resourceVersion
  delete m.generation
  delete m.managedFields
  return x
}
const mergeMeta = (next: Obj, existing: Obj) => {
  const x = clone(next)
  const m = metaOf(x)
  const e = metaOf(existing)
  m.uid = e.uid
  m.creationTimestamp = e.creationTimestamp
  return x
}

function runCreateFromFiles(c: Ctx): number {
  const sources = readSources(filesOrFail(c), c.io, flagBool(c.f, 'recursive'))
  const mode = dryRunMode(c)
  const conn = connection(c)
  const errors: string[] = []
  const lines: string[] = []
  const results: Obj[] = []
  onCluster(conn, (s) => {
    for (const pr of prepare(c, s, sources, conn, errors)) {
      const { info, version, obj, src } = pr
      const name = String(metaOf(obj).name ?? '')
      try {
        authz(conn, 'create', info, pr.ns, name)
        checkNamespace(s, info, pr.ns, src.source, 'creating')
        admit(s, info, version, obj, 'creating', src.source)
        if (getObj(s, info.group, info.kind, pr.ns, name)) throw new ApiError('AlreadyExists', `error when creating "${src.source}": ${resourceGroup(info)} "${name}" already exists`)
        const next = clone(obj)
        if (flagBool(c.f, 'save-config')) {
          const modified = clone(obj)
          metaOf(next).annotations = { ...objOr(metaOf(next).annotations), [LAST_APPLIED]: sortedJson(modified) + '\n' }
        }
        allocateClusterIP(s, next)
        applyDefaults(next)
        if (mode === 'none') putObj(s, next)
        results.push(next)
        lines.push(flagStr(c.f, 'output') === 'name' ? `${outName(info, obj)}\n` : `${outName(info, obj)} created${mode === 'none' ? '' : mode === 'client' ? ' (dry run)' : ' (server dry run)'}\n`)
      } catch (e) {
        if (e instanceof ApiError) errors.push(e.status === 'Invalid' ? e.message : `Error from server (${e.status}): ${e.message}`)
        else throw e
      }
    }
  })
  const output = flagStr(c.f, 'output')
  if (output && output !== 'name') printObjects(c, results, results.length === 1)
  else c.io.out(lines.join(''))
  for (const e of errors) c.io.err(`${e}\n`)
  return errors.length ? 1 : 0
}

function runReplace(c: Ctx): number {
  const sources = readSources(filesOrFail(c), c.io, flagBool(c.f, 'recursive'))
  const conn = connection(c)
  const errors: string[] = []
  const lines: string[] = []
  onCluster(conn, (s) => {
    for (const pr of prepare(c, s, sources, conn, errors)) {
      const { info, version, obj, src } = pr
      const name = String(metaOf(obj).name ?? '')
      try {
        authz(conn, 'update', info, pr.ns, name)
        const existing = getObj(s, info.group, info.kind, pr.ns, name)
        if (!existing) throw new ApiError('NotFound', `error when replacing "${src.source}": ${resourceGroup(info)} "${name}" not found`)
        admit(s, info, version, obj, 'replacing', src.source, existing)
        const next = clone(obj)
        if (existing.status !== undefined) next.status = existing.status
        if (obj.kind === 'Service' && dig(next, 'spec', 'clusterIP') === undefined) objOr(next.spec).clusterIP = dig(existing, 'spec', 'clusterIP')
        applyDefaults(next)
        if (dryRunMode(c) === 'none') putObj(s, next)
        lines.push(`${outName(info, obj)} replaced\n`)
      } catch (e) {
        if (e instanceof ApiError) errors.push(e.status === 'Invalid' ? e.message : `Error from server (${e.status}): ${e.message}`)
        else throw e
      }
    }
  })
  c.io.out(lines.join(''))
  for (const e of errors) c.io.err(`${e}\n`)
  return errors.length ? 1 : 0
}

const PROTECTED_NS = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease'])

function deleteOne(s: Store, info: KindInfo, obj: Obj, mode: string): void {
  if (info.kind === 'Namespace' && PROTECTED_NS.has(String(metaOf(obj).name))) {
    throw new ApiError('Forbidden', `namespaces "${String(metaOf(obj).name)}" is forbidden: this namespace may not be deleted`)
  }
  if (mode === 'none') cascadeDelete(s, obj)
}

function runDelete(c: Ctx): number {
  const mode = dryRunMode(c)
  const suffix = mode === 'none' ? '' : mode === 'client' ? ' (dry run)' : ' (server dry run)'
  const ignore = flagBool(c.f, 'ignore-not-found')
  const lines: string[] = []
  const errors: string[] = []
  if (flagList(c.f, 'filename').length) {
    const sources = readSources(flagList(c.f, 'filename'), c.io, flagBool(c.f, 'recursive'))
    const conn = connection(c)
    onCluster(conn, (s) => {
      for (const pr of prepare(c, s, sources, conn, errors)) {
        const name = String(metaOf(pr.obj).name ?? '')
        try {
          authz(conn, 'delete', pr.info, pr.ns, name)
          const existing = getObj(s, pr.info.group, pr.info.kind, pr.ns, name)
          if (!existing) {
            if (!ignore) throw new ApiError('NotFound', `error when deleting "${pr.src.source}": ${resourceGroup(pr.info)} "${name}" not found`)
            continue
          }
          deleteOne(s, pr.info, existing, mode)
          lines.push(`${kindGroup(pr.info)} "${name}" deleted${suffix}\n`)
        } catch (e) {
          if (e instanceof ApiError) errors.push(`Error from server (${e.status}): ${e.message}`)
          else throw e
        }
      }
    })
  } else {
    const conn = connection(c)
    const targets = typeArgs(c, readStore(conn.storeFile))
    if (!targets.length) throw new CliError(`error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'`)
    const ns = namespaceOf(c, conn)
    const all = flagBool(c.f, 'all')
    const sel = flagStr(c.f, 'selector')
    onCluster(conn, (s) => {
      for (const t of targets) {
        const tns = t.info.namespaced ? ns : undefined
        let objs: Obj[]
        if (t.names.length) {
          objs = []
          for (const n of t.names) {
            const o = getObj(s, t.info.group, t.info.kind, tns, n)
            if (o) objs.push(o)
            else if (!ignore) errors.push(`Error from server (NotFound): ${resourceGroup(t.info)} "${n}" not found`)
          }
        } else if (all || sel) {
          objs = listObjs(s, t.info.group, t.info.kind, tns).filter((o) => !sel || matchesSelector(parseSelector(sel), labelsOf(o)))
          if (!objs.length && !ignore) c.io.err(`No resources found\n`)
        } else {
          throw new CliError('error: resource(s) were provided, but no name was specified')
        }
        for (const o of objs) {
          try {
            authz(conn, 'delete', t.info, tns, String(metaOf(o).name))
            deleteOne(s, t.info, o, mode)
            lines.push(`${kindGroup(t.info)} "${String(metaOf(o).name)}" deleted${suffix}\n`)
          } catch (e) {
            if (e instanceof ApiError) errors.push(`Error from server (${e.status}): ${e.message}`)
            else throw e
          }
        }
      }
    })
  }
  c.io.out(lines.join(''))
  for (const e of errors) c.io.err(`${e}\n`)
  return errors.length ? 1 : 0
}

// ---------------------------------------------------------------------------
// get

type Target = { info: KindInfo; names: string[] }

/** TYPE [NAME…], TYPE1,TYPE2, TYPE/NAME… */
function typeArgs(c: Ctx, s: Store | undefined): Target[] {
  const args = c.f.args
  if (!args.length) return []
  const resolve = (t: string) => {
    const info = resolveType(s, t)
    if (!info) throw new CliError(`error: the server doesn't have a resource type "${t}"`)
    return info
  }
  if (args.some((a) => a.includes('/'))) {
    const out: Target[] = []
    for (const a of args) {
      const i = a.indexOf('/')
      if (i < 0) throw new CliError(`error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'`)
      out.push({ info: resolve(a.slice(0, i)), names: [a.slice(i + 1)] })
    }
    return out
  }
  const [types, ...names] = args as [string, ...string[]]
  const expanded = types.split(',').flatMap((t) => (t === 'all' ? allKinds(s).filter((k) => k.categories?.includes('all')).map((k) => k.plural) : [t]))
  return expanded.map((t) => ({ info: resolve(t), names }))
}

const getFlags = (): FlagSpec[] => [F.output, F.selector, F.allNs, F.ignoreNotFound, F.noHeaders, F.filename, F.recursive, { name: 'show-labels', type: 'bool' }, { name: 'show-kind', type: 'bool' }, { name: 'watch', short: 'w', type: 'bool' }, { name: 'raw', type: 'string' }, { name: 'field-selector', type: 'string' }, { name: 'chunk-size', type: 'int' }, { name: 'allow-missing-template-keys', type: 'bool' }, { name: 'show-managed-fields', type: 'bool' }, { name: 'sort-by', type: 'string' }, { name: 'label-columns', short: 'L', type: 'slice' }, { name: 'subresource', type: 'string' }]

function runGet(c: Ctx): number {
  if (flagBool(c.f, 'watch')) throw new CliError('error: the zxlab kubectl stand-in does not implement --watch')
  const raw = flagStr(c.f, 'raw')
  const conn = connection(c)
  if (raw !== undefined) return getRaw(c, conn, raw)
  const output = flagStr(c.f, 'output') ?? ''
  const allNs = flagBool(c.f, 'all-namespaces')
  const ns = namespaceOf(c, conn)
  const sel = flagStr(c.f, 'selector')
  const fsel = flagStr(c.f, 'field-selector')
  const reqs = sel ? parseSelector(sel) : undefined
  const errors: string[] = []
  type Group = { info: KindInfo; objs: Obj[]; named: boolean }
  const groups: Group[] = onCluster(conn, (s) => {
    const gs: Group[] = []
    if (flagList(c.f, 'filename').length) {
      const sources = readSources(flagList(c.f, 'filename'), c.io, flagBool(c.f, 'recursive'))
      for (const pr of prepare(c, s, sources, conn, errors)) {
        const name = String(metaOf(pr.obj).name ?? '')
        authz(conn, 'get', pr.info, pr.ns, name)
        const o = getObj(s, pr.info.group, pr.info.kind, pr.ns, name)
        if (!o) {
          if (!flagBool(c.f, 'ignore-not-found')) errors.push(`Error from server (NotFound): ${resourceGroup(pr.info)} "${name}" not found`)
          continue
        }
        const last = gs.at(-1)
        if (last && last.info === pr.info) last.objs.push(o)
        else gs.push({ info: pr.info, objs: [o], named: true })
      }
      return gs
    }
    const targets = typeArgs(c, s)
    if (!targets.length) {
      throw new CliError(
        "You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples"
      )
    }
    for (const t of targets) {
      const tns = t.info.namespaced && !allNs ? ns : undefined
      if (t.names.length) {
        authz(conn, 'get', t.info, tns, t.names[0])
        const objs: Obj[] = []
        for (const n of t.names) {
          const o = getObj(s, t.info.group, t.info.kind, t.info.namespaced ? ns : undefined, n)
          if (o) objs.push(o)
          else if (!flagBool(c.f, 'ignore-not-found')) errors.push(`Error from server (NotFound): ${resourceGroup(t.info)} "${n}" not found`)
        }
        gs.push({ info: t.info, objs, named: true })
      } else {
        authz(conn, 'list', t.info, tns)
        let objs = listObjs(s, t.info.group, t.info.kind, tns)
        if (reqs) objs = objs.filter((o) => matchesSelector(reqs, labelsOf(o)))
        if (fsel) objs = objs.filter((o) => matchesFieldSelector(fsel, o))
        gs.push({ info: t.info, objs, named: false })
      }
    }
    return gs
  })
  const total = groups.reduce((n, g) => n + g.objs.length, 0)
  const singleNamed = groups.length === 1 && groups[0]?.named === true && groups[0].objs.length === 1 && (c.f.args.length <= 2 || flagList(c.f, 'filename').length > 0) && !(groups[0].named && c.f.args.length > 2)
  if (output === '' || output === 'wide' || output.startsWith('custom-columns=')) {
    if (total === 0 && errors.length === 0) {
      const anyNamespaced = groups.some((g) => g.info.namespaced)
      if (!groups.some((g) => g.named)) c.io.err(anyNamespaced && !allNs ? `No resources found in ${ns} namespace.\n` : 'No resources found\n')
    }
    const multi = groups.length > 1
    const chunks: string[] = []
    for (const g of groups) {
      if (!g.objs.length) continue
      if (output.startsWith('custom-columns=')) chunks.push(customColumns(output.slice('custom-columns='.length), g.objs, flagBool(c.f, 'no-headers')))
      else chunks.push(printTable(g.objs, g.info.kind, { wide: output === 'wide', namespaceColumn: allNs && g.info.namespaced, noHeaders: flagBool(c.f, 'no-headers'), showKind: multi || flagBool(c.f, 'show-kind'), showLabels: flagBool(c.f, 'show-labels'), info: g.info }))
    }
    c.io.out(chunks.join('\n'))
  } else if (output === 'name') {
    c.io.out(groups.flatMap((g) => g.objs.map((o) => `${outName(g.info, o)}\n`)).join(''))
  } else {
    printObjects(
      c,
      groups.flatMap((g) => g.objs),
      singleNamed
    )
  }
  for (const e of errors) c.io.err(`${e}\n`)
  return errors.length ? 1 : 0
}

function customColumns(spec: string, objs: Obj[], noHeaders: boolean): string {
  const cols = spec.split(',').map((c) => {
    const i = c.indexOf(':')
    if (i < 0) throw new CliError(`error: unexpected custom-columns spec: ${c}, expected <header>:<json-path-expr>`)
    return { header: c.slice(0, i), path: c.slice(i + 1) }
  })
  const rows = objs.map((o) => cols.map((col) => jsonpath(`{${col.path.startsWith('.') || col.path.startsWith('{') ? col.path.replace(/^\{|\}$/g, '') : `.${col.path}`}}`, o) || '<none>'))
  return table(noHeaders ? rows : [cols.map((c) => c.header), ...rows])
}

function getRaw(c: Ctx, conn: Connection, raw: string): number {
  const out = onCluster(conn, (s) => {
    const path = raw.split('?')[0] as string
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return 'ok'
    if (path === '/version') return toJson(versionInfo(s))
    const mm = /^\/apis\/metrics\.k8s\.io\/v1beta1\/(?:namespaces\/([^/]+)\/)?(nodes|pods)(?:\/([^/]+))?$/.exec(path)
    if (mm) {
      metricsGate(s)
      const [, mns, what, name] = mm
      const items = what === 'nodes' ? nodeMetrics(s, clock.now()).filter((x) => !name || x.metadata.name === name) : podMetrics(s, clock.now(), mns).filter((x) => !name || x.metadata.name === name)
      if (name) {
        if (!items.length) throw new ApiError('NotFound', `${what === 'nodes' ? 'nodemetrics' : 'podmetrics'}.metrics.k8s.io "${name}" not found`)
        return JSON.stringify(items[0])
      }
      return JSON.stringify({ kind: what === 'nodes' ? 'NodeMetricsList' : 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items })
    }
    const am = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(path)
    if (am) {
      const [, group = '', , ns, plural, name] = am
      const info = allKinds(s).find((k) => k.group === group && k.plural === plural)
      if (!info) throw new ApiError('NotFound', 'the server could not find the requested resource')
      if (name) {
        const o = getObj(s, info.group, info.kind, ns, name)
        if (!o) throw notFound(info, name)
        return JSON.stringify(forOutput(o))
      }
      return JSON.stringify({ kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(s.rv) }, items: listObjs(s, info.group, info.kind, ns).map(forOutput) })
    }
    throw new ApiError('NotFound', 'the server could not find the requested resource')
  })
  c.io.out(out.endsWith('\n') ? out : out)
  return 0
}

// ---------------------------------------------------------------------------
// Metrics

function metricsGate(s: Store) {
  const api = metricsApi(s)
  if (api === 'missing') throw new CliError('error: Metrics API not available')
  if (api === 'unavailable') throw new ApiError('ServiceUnavailable' as ApiError['status'], 'the server is currently unable to handle the request (get nodes.metrics.k8s.io)')
}

function runTop(c: Ctx, sub?: string): number {
  const conn = connection(c)
  const what = sub === 'node' || sub === 'nodes' || sub === 'no' ? 'nodes' : sub === 'pod' || sub === 'pods' || sub === 'po' ? 'pods' : undefined
  if (!what) throw new CliError(`error: unknown command "${c.f.args[0] ?? ''}" for "kubectl top"`)
  const noHeaders = flagBool(c.f, 'no-headers')
  const ns = namespaceOf(c, conn)
  const allNs = flagBool(c.f, 'all-namespaces')
  const sel = flagStr(c.f, 'selector')
  const rows = onCluster(conn, (s) => {
    metricsGate(s)
    if (what === 'nodes') {
      const nodes = listObjs(s, '', 'Node').filter((n) => (!c.f.args[0] || metaOf(n).name === c.f.args[0]) && (!sel || matchesSelector(parseSelector(sel), labelsOf(n))))
      if (c.f.args[0] && !nodes.length) throw new ApiError('NotFound', `nodemetrics.metrics.k8s.io "${c.f.args[0]}" not found`)
      return [
        ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'],
        ...nodes.map((n) => {
          const u = nodeUsage(s, n, clock.now())
          if (!u) return [String(metaOf(n).name), '<unknown>', '<unknown>', '<unknown>', '<unknown>']
          const cpuCap = parseQuantity(dig(n, 'status', 'allocatable', 'cpu')) ?? 1
          const memCap = (parseQuantity(dig(n, 'status', 'allocatable', 'memory')) ?? 1) / 1000
          return [String(metaOf(n).name), `${u.cpu}m`, `${Math.round((u.cpu / cpuCap) * 100)}%`, `${Math.round(u.memory / 1024 / 1024)}Mi`, `${Math.round((u.memory / memCap) * 100)}%`]
        }),
      ]
    }
    const pods = podMetrics(s, clock.now(), allNs ? undefined : ns).filter((m) => (!c.f.args[0] || m.metadata.name === c.f.args[0]) && (!sel || matchesSelector(parseSelector(sel), m.metadata.labels)))
    if (!pods.length) {
      if (c.f.args[0]) throw new ApiError('NotFound', `podmetrics.metrics.k8s.io "${ns}/${c.f.args[0]}" not found`)
      return undefined
    }
    const cpuM = (x: string) => Math.round(Number(x.slice(0, -1)) / 1e6)
    const miB = (x: string) => Math.round(Number(x.slice(0, -2)) / 1024)
    const header = [...(allNs ? ['NAMESPACE'] : []), 'NAME', ...(flagBool(c.f, 'containers') ? ['CONTAINER'] : []), 'CPU(cores)', 'MEMORY(bytes)']
    const body = pods.flatMap((m) => {
      if (flagBool(c.f, 'containers')) return m.containers.map((ct) => [...(allNs ? [m.metadata.namespace] : []), m.metadata.name, ct.name, `${cpuM(ct.usage.cpu)}m`, `${miB(ct.usage.memory)}Mi`])
      const cpu = m.containers.reduce((a, ct) => a + cpuM(ct.usage.cpu), 0)
      const mem = m.containers.reduce((a, ct) => a + miB(ct.usage.memory), 0)
      return [[...(allNs ? [m.metadata.namespace] : []), m.metadata.name, `${cpu}m`, `${mem}Mi`]]
    })
    return [header, ...body]
  })
  if (!rows) {
    c.io.err(allNs ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`)
    return 0
  }
  c.io.out(table(noHeaders ? rows.slice(1) : rows))
  return 0
}

// ---------------------------------------------------------------------------
// taint, label, annotate, scale, patch

type TaintSpec = { key: string; value?: string; effect?: string; remove: boolean }

function parseTaint(spec: string): TaintSpec {
  const remove = spec.endsWith('-')
  const body = remove ? spec.slice(0, -1) : spec
  const colon = body.lastIndexOf(':')
  const kv = colon >= 0 ? body.slice(0, colon) : body
  const effect = colon >= 0 ? body.slice(colon + 1) : undefined
  const eq = kv.indexOf('=')
  const key = eq >= 0 ? kv.slice(0, eq) : kv
  const value = eq >= 0 ? kv.slice(eq + 1) : undefined
  if (!key) throw new CliError(`error: invalid taint spec: ${spec}, a taint key is required`)
  if (effect !== undefined && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) throw new CliError(`error: invalid taint effect: ${effect}, unsupported taint effect`)
  if (!remove && effect === undefined) throw new CliError(`error: unknown taint spec: ${spec}`)
  return { key, ...(value !== undefined ? { value } : {}), ...(effect !== undefined ? { effect } : {}), remove }
}

const taintStr = (t: { key: string; value?: string; effect?: string }) => `${t.key}${t.value ? `=${t.value}` : ''}${t.effect ? `:${t.effect}` : ''}`

function runTaint(c: Ctx): number {
  const args = [...c.f.args]
  if (!args.length) throw new CliError(`error: at least one taint update is required\n${usageHint('taint')}`)
  let typeArg = args.shift() as string
  const names: string[] = []
  if (typeArg.includes('/')) {
    names.push(typeArg.slice(typeArg.indexOf('/') + 1))
    typeArg = typeArg.slice(0, typeArg.indexOf('/'))
  }
  if (!['node', 'nodes', 'no'].includes(typeArg.toLowerCase())) throw new CliError(`error: invalid resource type ${typeArg}, only node types are supported`)
  const specs: TaintSpec[] = []
  for (const a of args) {
    if (a.includes(':') || a.endsWith('-') || a.includes('=')) specs.push(parseTaint(a))
    else if (specs.length) throw new CliError(`error: all resources must be specified before taint changes: ${a}`)
    else names.push(a)
  }
  if (!specs.length) throw new CliError(`error: at least one taint update is required\n${usageHint('taint')}`)
  const all = flagBool(c.f, 'all')
  const sel = flagStr(c.f, 'selector')
  if (!names.length && !all && !sel) throw new CliError(`error: resource(s) were provided, but no name was specified`)
  const overwrite = flagBool(c.f, 'overwrite')
  const conn = connection(c)
  const nodeInfo = KINDS.find((k) => k.kind === 'Node') as KindInfo
  const lines: string[] = []
  const errors: string[] = []
  onCluster(conn, (s) => {
    const nodes = names.length ? names.map((n) => getObj(s, '', 'Node', undefined, n) ?? n) : listObjs(s, '', 'Node').filter((n) => !sel || matchesSelector(parseSelector(sel), labelsOf(n)))
    for (const node of nodes) {
      if (typeof node === 'string') {
        errors.push(`Error from server (NotFound): nodes "${node}" not found`)
        continue
      }
      const name = String(metaOf(node).name)
      authz(conn, 'patch', nodeInfo, undefined, name)
      const old = taintsOf(node)
      const adds = specs.filter((t) => !t.remove)
      const removes = specs.filter((t) => t.remove)
      if (!overwrite) {
        const clash = adds.filter((t) => old.some((o) => o.key === t.key && o.effect === t.effect))
        if (clash.length) {
          errors.push(`error: ${clash.map((t) => `Node '${name}' already has a taint with key (${t.key}) and effect (${String(t.effect)}), and --overwrite is false`).join(', ')}`)
          continue
        }
      }
      // kubectl's reorganizeTaints
      let next: Taint[] = adds.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect as string }))
      let added = false
      for (const o of old) {
        if (next.some((t) => t.key === o.key && t.effect === o.effect)) {
          added = true
          continue
        }
        next.push(o)
      }
      if (adds.length) added = added || adds.some((t) => !old.some((o) => o.key === t.key && o.effect === t.effect))
      const errs: string[] = []
      let deleted = false
      for (const r of removes) {
        const before = next.length
        next = next.filter((t) => !(t.key === r.key && (!r.effect || t.effect === r.effect)))
        if (next.length === before) errs.push(`taint ${JSON.stringify(taintStr(r))} not found`)
        else deleted = true
      }
      if (errs.length) {
        errors.push(`error: ${errs.join(', ')}`)
        continue
      }
      const op = (added && deleted) || overwrite ? 'modified' : added ? 'tainted' : 'untainted'
      const o = clone(node)
      const spec = objOr(o.spec)
      if (next.length) spec.taints = next
      else delete spec.taints
      o.spec = spec
      if (dryRunMode(c) === 'none') putObj(s, o)
      lines.push(`node/${name} ${op}\n`)
    }
  })
  c.io.out(lines.join(''))
  for (const e of errors) c.io.err(`${e}\n`)
  return errors.length ? 1 : 0
}

function runLabel(c: Ctx, field: 'labels' | 'annotations'): number {
  const args = [...c.f.args]
  const changes = args.filter((a) => a.includes('=') || (a.endsWith('-') && !a.includes('/')))
  const resArgs = args.filter((a) => !changes.includes(a))
  if (!changes.length) throw new CliError(`error: at least one ${field === 'labels' ? 'label' : 'annotation'} update is required\n${usageHint(c.cmd)}`)
  const conn = connection(c)
  const lines: string[] = []
  const errors: string[] = []
  const verb = field === 'labels' ? 'labeled' : 'annotated'
  onCluster(conn, (s) => {
    const sub: Ctx = { ...c, f: { ...c.f, args: resArgs } }
    const targets = typeArgs(sub, s)
    const ns = namespaceOf(c, conn)
    for (const t of targets) {
      const tns = t.info.namespaced ? ns : undefined
      const objs = t.names.length ? t.names.map((n) => getObj(s, t.info.group, t.info.kind, tns, n) ?? n) : flagBool(c.f, 'all') ? listObjs(s, t.info.group, t.info.kind, tns) : []
      for (const obj of objs) {
        if (typeof obj === 'string') {
          errors.push(`Error from server (NotFound): ${resourceGroup(t.info)} "${obj}" not found`)
          continue
        }
        const o = clone(obj)
        const m = metaOf(o)
        const map = objOr(m[field])
        let removedOnly = true
        let bad: string | undefined
        for (const ch of changes) {
          if (ch.endsWith('-') && !ch.includes('=')) {
            delete map[ch.slice(0, -1)]
            continue
          }
          removedOnly = false
          const i = ch.indexOf('=')
          const k = ch.slice(0, i)
          const v = ch.slice(i + 1)
          if (map[k] !== undefined && map[k] !== v && !flagBool(c.f, 'overwrite')) bad = `error: '${k}' already has a value (${String(map[k])}), and --overwrite is false`
          map[k] = v
        }
        if (bad) {
          errors.push(bad)
          continue
        }
        if (Object.keys(map).length) m[field] = map
        else delete m[field]
        const changed = !deepEqual(o, obj)
        if (changed && dryRunMode(c) === 'none') putObj(s, o)
        lines.push(`${outName(t.info, o)} ${changed ? (removedOnly ? `un${verb}` : verb) : `not ${verb}`}\n`)
      }
    }
  })
  c.io.out(lines.join(''))
  for (const e of errors) c.io.err(`${e}\n`)
  return errors.length ? 1 : 0
}

function runScale(c: Ctx): number {
  const rep = flagStr(c.f, 'replicas')
  if (rep === undefined || !/^\d+$/.test(rep)) throw new CliError('error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0')
  const conn = connection(c)
  const lines: string[] = []
  onCluster(conn, (s) => {
    const ns = namespaceOf(c, conn)
    for (const t of typeArgs(c, s)) {
      if (!['Deployment', 'ReplicaSet', 'StatefulSet'].includes(t.info.kind)) throw new CliError(`error: no scaler has been implemented for {"${t.info.group}" "${t.info.kind}"}`)
      for (const n of t.names) {
        const obj = getObj(s, t.info.group, t.info.kind, ns, n)
        if (!obj) throw notFound(t.info, n)
        const cur = flagStr(c.f, 'current-replicas')
        if (cur !== undefined && String(dig(obj, 'spec', 'replicas')) !== cur) throw new CliError(`error: Expected replicas to be ${cur}, was ${String(dig(obj, 'spec', 'replicas'))}`)
        const o = clone(obj)
        objOr(o.spec).replicas = Number(rep)
        putObj(s, o)
        lines.push(`${outName(t.info, o)} scaled\n`)
      }
    }
  })
  c.io.out(lines.join(''))
  return 0
}

function runPatch(c: Ctx): number {
  let patchText = flagStr(c.f, 'patch')
  const pf = flagStr(c.f, 'patch-file')
  if (pf) patchText = fs.readFileSync(userPath(pf), 'utf8')
  if (patchText === undefined) throw new CliError('error: must specify --patch or --patch-file containing the contents of the patch')
  const type = flagStr(c.f, 'type') ?? 'strategic'
  if (!['json', 'merge', 'strategic'].includes(type)) throw new CliError(`error: --type must be one of [json merge strategic], not "${type}"`)
  let patch: unknown
  try {
    patch = JSON.parse(patchText)
  } catch {
    try {
      patch = toObjYaml(patchText)
    } catch {
      throw new CliError(`error: unable to parse "${patchText}": yaml: did not find expected node content`)
    }
  }
  const conn = connection(c)
  const lines: string[] = []
  onCluster(conn, (s) => {
    const ns = namespaceOf(c, conn)
    for (const t of typeArgs(c, s)) {
      for (const n of t.names) {
        const obj = getObj(s, t.info.group, t.info.kind, t.info.namespaced ? ns : undefined, n)
        if (!obj) throw notFound(t.info, n)
        authz(conn, 'patch', t.info, ns, n)
        let next: Obj
        try {
          next = type === 'json' ? jsonPatch(obj, patch) : type === 'merge' ? (mergePatch(obj, patch) as Obj) : (strategicPatch(obj, patch) as Obj)
        } catch (e) {
          if (e instanceof PatchError) throw new ApiError('Invalid' as ApiError['status'], `The request is invalid: ${e.message}`)
          throw e
        }
        const version = String(obj.apiVersion).split('/').pop() as string
        admit(s, t.info, version, withoutStatus(next), 'patching', n, obj)
        applyDefaults(next)
        const changed = !deepEqual(next, obj)
        if (changed && dryRunMode(c) === 'none') putObj(s, next)
        lines.push(`${outName(t.info, obj)} patched${changed ? '' : ' (no change)'}\n`)
      }
    }
  })
  c.io.out(lines.join(''))
  return 0
}

const withoutStatus = (o: Obj) => {
  const x = clone(o)
  delete x.status
  return x
}

function toObjYaml(text: string): unknown {
  const docs = text.trim() ? (JSON.parse(JSON.stringify(readYaml(text))) as unknown) : {}
  return docs
}
function readYaml(text: string): unknown {
  return (readSourcesText(text)[0] ?? {}) as unknown
}
function readSourcesText(text: string): unknown[] {
  // reuse the YAML reader of the manifests (YAML 1.1 scalars)
  const io: IO = { out: () => {}, err: () => {}, stdin: () => text }
  return readSources(['-'], io).map((s) => s.obj)
}

// ---------------------------------------------------------------------------
// rollout, wait

async function poll<T>(timeoutMs: number, step: () => T, done: (t: T) => boolean, onChange: (t: T) => void): Promise<{ last: T; ok: boolean }> {
  const deadline = Date.now() + Math.min(timeoutMs, MAX_WAIT_MS())
  let last = step()
  onChange(last)
  for (;;) {
    if (done(last)) return { last, ok: true }
    if (Date.now() >= deadline) return { last, ok: false }
    await sleep(Math.max(50, Math.min(250, deadline - Date.now())))
    const next = step()
    if (JSON.stringify(next) !== JSON.stringify(last)) onChange(next)
    last = next
  }
}

function timeoutOf(c: Ctx, def: number): number {
  const t = flagStr(c.f, 'timeout')
  if (t === undefined) return def
  const ms = parseDuration(t)
  if (ms === undefined) throw new CliError(`error: invalid argument "${t}" for "--timeout" flag: time: invalid duration "${t}"`)
  return ms === 0 ? Infinity : ms
}

function rolloutMessage(obj: Obj | undefined, info: KindInfo, name: string): { msg: string; done: boolean; error?: string } {
  if (!obj) return { msg: '', done: false, error: `Error from server (NotFound): ${resourceGroup(info)} "${name}" not found` }
  const st = objOr(obj.status)
  const gen = Number(metaOf(obj).generation ?? 1)
  if (info.kind === 'Deployment') {
    if (gen > Number(st.observedGeneration ?? 0)) return { msg: 'Waiting for deployment spec update to be observed...\n', done: false }
    const prog = arr(st.conditions).find((x) => dig(x, 'type') === 'Progressing')
    if (dig(prog, 'reason') === 'ProgressDeadlineExceeded') return { msg: '', done: false, error: `error: deployment "${name}" exceeded its progress deadline` }
    const replicas = Number(dig(obj, 'spec', 'replicas') ?? 1)
    const updated = Number(st.updatedReplicas ?? 0)
    const total = Number(st.replicas ?? 0)
    const available = Number(st.availableReplicas ?? 0)
    if (updated < replicas) return { msg: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...\n`, done: false }
    if (total > updated) return { msg: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...\n`, done: false }
    if (available < updated) return { msg: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...\n`, done: false }
    return { msg: `deployment "${name}" successfully rolled out\n`, done: true }
  }
  if (info.kind === 'DaemonSet') {
    if (dig(obj, 'spec', 'updateStrategy', 'type') === 'OnDelete') return { msg: '', done: false, error: 'error: rollout status is only available for RollingUpdate strategy type' }
    if (gen > Number(st.observedGeneration ?? 0)) return { msg: 'Waiting for daemon set spec update to be observed...\n', done: false }
    const desired = Number(st.desiredNumberScheduled ?? 0)
    const updated = Number(st.updatedNumberScheduled ?? 0)
    const available = Number(st.numberAvailable ?? 0)
    if (updated < desired) return { msg: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...\n`, done: false }
    if (available < desired) return { msg: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...\n`, done: false }
    return { msg: `daemon set "${name}" successfully rolled out\n`, done: true }
  }
  const replicas = Number(dig(obj, 'spec', 'replicas') ?? 1)
  const ready = Number(st.readyReplicas ?? 0)
  if (ready < replicas) return { msg: `Waiting for ${replicas - ready} pods to be ready...\n`, done: false }
  return { msg: `partitioned roll out complete: ${replicas} new pods have been updated...\n`, done: true }
}

async function runRollout(c: Ctx, sub?: string): Promise<number> {
  if (!sub) throw new CliError(`error: unknown command "${c.f.args[0] ?? ''}" for "kubectl rollout"`)
  const conn = connection(c)
  const ns = namespaceOf(c, conn)
  const targets = typeArgs(c, readStore(conn.storeFile)).flatMap((t) => t.names.map((n) => ({ info: t.info, name: n })))
  if (!targets.length) throw new CliError(`error: required resource not specified\n${usageHint(c.cmd)}`)
  for (const t of targets) {
    if (!['Deployment', 'DaemonSet', 'StatefulSet'].includes(t.info.kind)) throw new CliError(`error: no ${sub === 'status' ? 'status viewer' : sub === 'restart' ? 'restarter' : 'history viewer'} has been implemented for ${t.info.kind}`)
  }
  if (sub === 'restart') {
    const lines: string[] = []
    onCluster(conn, (s) => {
      for (const t of targets) {
        const obj = getObj(s, t.info.group, t.info.kind, ns, t.name)
        if (!obj) throw notFound(t.info, t.name)
        const o = clone(obj)
        const tmeta = objOr(dig(o, 'spec', 'template', 'metadata'))
        tmeta.annotations = { ...objOr(tmeta.annotations), 'kubectl.kubernetes.io/restartedAt': new Date().toISOString().replace(/\.\d+Z$/, 'Z') }
        objOr(objOr(o.spec).template).metadata = tmeta
        putObj(s, o)
        lines.push(`${outName(t.info, o)} restarted\n`)
      }
    })
    c.io.out(lines.join(''))
    return 0
  }
  if (sub === 'history') {
    const out = onCluster(conn, (s) =>
      targets.map((t) => {
        const obj = getObj(s, t.info.group, t.info.kind, ns, t.name)
        if (!obj) throw notFound(t.info, t.name)
        const revs = listObjs(s, 'apps', 'ReplicaSet', ns)
          .filter((rs) => arr(metaOf(rs).ownerReferences).some((r) => dig(r, 'uid') === metaOf(obj).uid))
          .map((rs) => Number(objOr(metaOf(rs).annotations)['deployment.kubernetes.io/revision'] ?? 1))
          .sort((a, b) => a - b)
        return `${outName(t.info, obj)} \n${table([['REVISION', 'CHANGE-CAUSE'], ...(revs.length ? revs : [1]).map((r) => [String(r), '<none>'])])}\n`
      })
    )
    c.io.out(out.join(''))
    return 0
  }
  // status
  const watch = c.f.flags.get('watch') !== false
  const timeout = timeoutOf(c, Infinity)
  for (const t of targets) {
    const step = () => onCluster(conn, (s) => rolloutMessage(getObj(s, t.info.group, t.info.kind, ns, t.name), t.info, t.name))
    if (!watch) {
      const r = step()
      if (r.error) throw new CliError(r.error)
      c.io.out(r.msg)
      continue
    }
    const r = await poll(
      timeout,
      step,
      (x) => x.done || !!x.error,
      (x) => {
        if (!x.error) c.io.out(x.msg)
      }
    )
    if (r.last.error) throw new CliError(r.last.error)
    if (!r.ok) throw new CliError('error: timed out waiting for the condition')
  }
  return 0
}

async function runWait(c: Ctx): Promise<number> {
  const forArg = flagStr(c.f, 'for')
  if (!forArg) throw new CliError('error: --for must be specified')
  const conn = connection(c)
  const ns = namespaceOf(c, conn)
  const timeout = timeoutOf(c, 30_000)
  const all = flagBool(c.f, 'all')
  const sel = flagStr(c.f, 'selector')
  let check: (o: Obj | undefined) => boolean
  let label = 'condition met'
  if (forArg === 'delete') {
    check = (o) => !o
    label = 'deleted'
  } else if (forArg === 'create') {
    check = (o) => !!o
  } else if (forArg.startsWith('condition=')) {
    const [cond = '', want = 'True'] = forArg.slice('condition='.length).split('=')
    check = (o) => !!o && arr(dig(o, 'status', 'conditions')).some((x) => String(dig(x, 'type')).toLowerCase() === cond.toLowerCase() && String(dig(x, 'status')).toLowerCase() === want.toLowerCase())
  } else if (forArg.startsWith('jsonpath=')) {
    const expr = forArg.slice('jsonpath='.length)
    const m = /^(\{.*\})(?:=(.*))?$/.exec(expr) ?? /^([^=]+)(?:=(.*))?$/.exec(expr)
    if (!m) throw new CliError(`error: jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3`)
    const tpl = (m[1] as string).startsWith('{') ? (m[1] as string) : `{${m[1] as string}}`
    const want = m[2]
    check = (o) => {
      if (!o) return false
      const got = jsonpath(tpl, o)
      return want === undefined ? got !== '' : got === want
    }
  } else throw new CliError(`error: unrecognized condition: "${forArg}"`)
  const store = readStore(conn.storeFile)
  const targets = typeArgs(c, store)
  if (!targets.length) throw new CliError(`error: resource(s) were provided, but no name was specified`)
  type Item = { info: KindInfo; name: string }
  const items: Item[] = onCluster(conn, (s) =>
    targets.flatMap((t) => {
      const tns = t.info.namespaced ? ns : undefined
      if (t.names.length) return t.names.map((n) => ({ info: t.info, name: n }))
      if (!all && !sel) throw new CliError('error: resource(s) were provided, but no name was specified')
      return listObjs(s, t.info.group, t.info.kind, tns)
        .filter((o) => !sel || matchesSelector(parseSelector(sel), labelsOf(o)))
        .map((o) => ({ info: t.info, name: String(metaOf(o).name) }))
    })
  )
  if (!items.length) throw new CliError('error: no matching resources found')
  const deadline = Date.now() + Math.min(timeout, MAX_WAIT_MS())
  for (const it of items) {
    const get = () => onCluster(conn, (s) => getObj(s, it.info.group, it.info.kind, it.info.namespaced ? ns : undefined, it.name))
    if (forArg !== 'delete' && forArg !== 'create' && !get()) throw new ApiError('NotFound', `${resourceGroup(it.info)} "${it.name}" not found`)
    const r = await poll(Math.max(0, deadline - Date.now()), get, check, () => {})
    if (!r.ok) throw new CliError(`error: timed out waiting for the condition on ${it.info.plural}/${it.name}`)
    c.io.out(`${kindGroup(it.info)}/${it.name} ${label}\n`)
  }
  return 0
}

// ---------------------------------------------------------------------------
// logs

function runLogs(c: Ctx): number {
  const conn = connection(c)
  const ns = namespaceOf(c, conn)
  const arg = c.f.args[0]
  if (!arg) throw new CliError(`error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\n${usageHint('logs')}`)
  const out = onCluster(conn, (s) => {
    let pod: Obj | undefined
    if (arg.includes('/')) {
      const [type = '', name = ''] = arg.split('/')
      const info = resolveType(s, type)
      if (!info) throw new CliError(`error: the server doesn't have a resource type "${type}"`)
      const owner = getObj(s, info.group, info.kind, ns, name)
      if (!owner) throw notFound(info, name)
      if (info.kind === 'Pod') pod = owner
      else {
        const sel = objOr(dig(owner, 'spec', 'selector', 'matchLabels'))
        pod = listObjs(s, '', 'Pod', ns).find((p) => Object.entries(sel).every(([k, v]) => labelsOf(p)[k] === v))
        if (!pod) throw new CliError(`error: timed out waiting for the condition`)
      }
    } else {
      pod = getObj(s, '', 'Pod', ns, arg)
      if (!pod) throw new ApiError('NotFound', `pods "${arg}" not found`)
    }
    const containers = arr(dig(pod, 'spec', 'containers')).map((x) => String(dig(x, 'name')))
    const inits = arr(dig(pod, 'spec', 'initContainers')).map((x) => String(dig(x, 'name')))
    const podName = String(metaOf(pod).name)
    let cname = flagStr(c.f, 'container')
    let note = ''
    if (!cname) {
      cname = containers[0] as string
      if (containers.length > 1) note = `Defaulted container "${cname}" out of: ${[...containers, ...inits.map((i) => `${i} (init)`)].join(', ')}\n`
    } else if (!containers.includes(cname) && !inits.includes(cname)) {
      throw new ApiError('BadRequest', `container ${cname} is not valid for pod ${podName}`)
    }
    const st = arr(dig(pod, 'status', 'containerStatuses')).find((x) => dig(x, 'name') === cname)
    const waiting = str(dig(st, 'state', 'waiting', 'reason'))
    if (!st || (waiting && waiting !== 'CrashLoopBackOff')) {
      throw new ApiError('BadRequest', `container "${cname}" in pod "${podName}" is waiting to start: ${waiting ?? 'ContainerCreating'}`)
    }
    let lines = s.internal.logs[`${ns}/${podName}/${cname}`] ?? []
    const tail = flagStr(c.f, 'tail')
    if (tail !== undefined && Number(tail) >= 0) lines = lines.slice(-Number(tail))
    return { note, text: lines.map((l) => `${l}\n`).join('') }
  })
  if (out.note) c.io.err(out.note)
  c.io.out(out.text)
  return 0
}

// ---------------------------------------------------------------------------
// create (subcommands)

function runCreate(c: Ctx, sub?: string): number {
  if (!sub) return runCreateFromFiles(c)
  const name = c.f.args[0]
  if (!name) throw new CliError(`error: NAME is required\n${usageHint(c.cmd)}`)
  let obj: Obj
  if (sub === 'namespace' || sub === 'ns') obj = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }
  else if (sub === 'secret' || sub === 'configmap' || sub === 'cm') {
    let kind = sub === 'secret' ? 'Secret' : 'ConfigMap'
    let secretName = name
    if (sub === 'secret') {
      if (name !== 'generic') throw new CliError(`error: the zxlab kubectl stand-in implements only "create secret generic"`)
      secretName = c.f.args[1] as string
      if (!secretName) throw new CliError(`error: NAME is required\n${usageHint(c.cmd)}`)
    }
    const data: Record<string, string> = {}
    const add = (k: string, v: string) => {
      if (k in data) throw new CliError(`error: cannot add key ${k}, another key by that name already exists in ${kind === 'Secret' ? 'Data' : 'data'} for ${kind} "${secretName}"`)
      if (!/^[-._a-zA-Z0-9]+$/.test(k)) throw new CliError(`error: "${k}" is not a valid key name for a ${kind}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`)
      data[k] = v
    }
    for (const lit of flagList(c.f, 'from-literal')) {
      const i = lit.indexOf('=')
      if (i <= 0) throw new CliError(`error: invalid literal source ${lit}, expected key=value`)
      add(lit.slice(0, i), lit.slice(i + 1))
    }
    for (const ff of flagList(c.f, 'from-file')) {
      const i = ff.indexOf('=')
      const k = i > 0 ? ff.slice(0, i) : (ff.split('/').pop() as string)
      const file = i > 0 ? ff.slice(i + 1) : ff
      try {
        add(k, fs.readFileSync(userPath(file), 'utf8'))
      } catch (e) {
        if (e instanceof CliError) throw e
        throw new CliError(`error: error reading ${file}: no such file or directory`)
      }
    }
    for (const ef of flagList(c.f, 'from-env-file')) {
      let text: string
      try {
        text = fs.readFileSync(userPath(ef), 'utf8')
      } catch {
        throw new CliError(`error: open ${ef}: no such file or directory`)
      }
      for (const line of text.split('\n')) {
        const l = line.trim()
        if (!l || l.startsWith('#')) continue
        const i = l.indexOf('=')
        if (i < 0) add(l, process.env[l] ?? '')
        else add(l.slice(0, i), l.slice(i + 1))
      }
    }
    kind = sub === 'secret' ? 'Secret' : 'ConfigMap'
    obj =
      kind === 'Secret'
        ? { apiVersion: 'v1', kind, metadata: { name: secretName }, type: flagStr(c.f, 'type') ?? 'Opaque', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) }
        : { apiVersion: 'v1', kind, metadata: { name }, data }
  } else if (sub === 'deployment' || sub === 'deploy') {
    const images = flagList(c.f, 'image')
    if (!images.length) throw new CliError('error: required flag(s) "image" not set')
    const replicas = Number(flagStr(c.f, 'replicas') ?? 1)
    obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels: { app: name } },
      spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: images.map((im) => ({ name: (im.split('/').pop() as string).split(':')[0]?.replace(/[^a-z0-9-]/g, '-'), image: im, resources: {} })) } } },
      status: {},
    }
  } else throw new CliError(`error: unknown command "${sub}" for "kubectl create"`)
  const mode = dryRunMode(c)
  const output = flagStr(c.f, 'output')
  const info = KINDS.find((k) => k.kind === obj.kind) as KindInfo
  if (mode === 'client') {
    if (info.namespaced && flagStr(c.f, 'namespace')) metaOf(obj).namespace = flagStr(c.f, 'namespace')
    if (output && output !== 'name') {
      const printable = clone(obj)
      if (printable.kind !== 'Namespace' && printable.kind !== 'Deployment') metaOf(printable).creationTimestamp = null
      else metaOf(printable).creationTimestamp = null
      if (printable.kind === 'Namespace') printable.spec = {}
      if (printable.kind === 'Namespace') printable.status = {}
      printObjects({ ...c }, [printable], true)
    } else c.io.out(output === 'name' ? `${outName(info, obj)}\n` : `${outName(info, obj)} created (dry run)\n`)
    return 0
  }
  const conn = connection(c)
  const ns = namespaceOf(c, conn)
  if (info.namespaced) metaOf(obj).namespace = ns
  const created = onCluster(conn, (s) => {
    authz(conn, 'create', info, ns, String(metaOf(obj).name))
    checkNamespace(s, info, ns, String(metaOf(obj).name), 'creating')
    admit(s, info, 'v1', obj, 'creating', 'STDIN')
    if (getObj(s, info.group, info.kind, info.namespaced ? ns : undefined, String(metaOf(obj).name))) throw new ApiError('AlreadyExists', `${resourceGroup(info)} "${String(metaOf(obj).name)}" already exists`)
    const next = clone(obj)
    delete next.status
    applyDefaults(next)
    if (mode === 'none') putObj(s, next)
    return next
  })
  if (output && output !== 'name') printObjects(c, [created], true)
  else c.io.out(output === 'name' ? `${outName(info, obj)}\n` : `${outName(info, obj)} created${mode === 'server' ? ' (server dry run)' : ''}\n`)
  return 0
}

// ---------------------------------------------------------------------------
// version, cluster-info, config, api-resources


function runVersion(c: Ctx): number {
  const cv = parseSemver(c.clientVersion)
  const client = { major: String(cv?.major ?? 1), minor: String(cv?.minor ?? 36), gitVersion: c.clientVersion, gitCommit: '6c1cd990aa4c4d9d1e4a1f4b1ef1e0e6a6d3c3a1', gitTreeState: 'clean', buildDate: '2026-10-14T12:00:00Z', goVersion: 'go1.25.3', compiler: 'gc', platform: 'linux/amd64' }
  const output = flagStr(c.f, 'output')
  if (output !== undefined && output !== 'json' && output !== 'yaml') throw new CliError("error: --output must be 'yaml' or 'json'")
  const clientOnly = flagBool(c.f, 'client')
  let server: ReturnType<typeof versionInfo> | undefined
  let err: string | undefined
  if (!clientOnly) {
    try {
      const conn = connection(c)
      server = onCluster(conn, (s) => versionInfo(s))
    } catch (e) {
      if (e instanceof ConnectError || e instanceof CliError) err = e.message
      else throw e
    }
  }
  const data = { clientVersion: client, kustomizeVersion: KUSTOMIZE_VERSION, ...(server ? { serverVersion: server } : {}) }
  if (output === 'json') c.io.out(JSON.stringify(data, null, 2) + '\n')
  else if (output === 'yaml') c.io.out(toYaml(data))
  else {
    c.io.out(`Client Version: ${c.clientVersion}\nKustomize Version: ${KUSTOMIZE_VERSION}\n`)
    if (server) c.io.out(`Server Version: ${server.gitVersion}\n`)
  }
  if (server && cv) {
    const sm = Number(server.minor)
    if (Math.abs(sm - cv.minor) > 1) c.io.err(`WARNING: version difference between client (${cv.major}.${cv.minor}) and server (${server.major}.${server.minor}) exceeds the supported minor version skew of +/-1\n`)
  }
  if (err) {
    c.io.err(`${err}\n`)
    return 1
  }
  return 0
}

function runClusterInfo(c: Ctx): number {
  if (c.f.args[0] === 'dump') throw new CliError('error: the zxlab kubectl stand-in does not implement "kubectl cluster-info dump"')
  const conn = connection(c)
  const hasDns = onCluster(conn, (s) => !!getObj(s, '', 'Service', 'kube-system', 'kube-dns'))
  c.io.out(`Kubernetes control plane is running at ${conn.server}\n`)
  if (hasDns) c.io.out(`CoreDNS is running at ${conn.server}/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy\n`)
  c.io.out("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n")
  return 0
}

function runConfig(c: Ctx, sub?: string): number {
  const loaded = loadKubeconfig(flagStr(c.f, 'kubeconfig'))
  const cfg = loaded.config
  switch (sub) {
    case 'view': {
      let out: Obj = {
        apiVersion: 'v1',
        clusters: arr(cfg.clusters),
        contexts: arr(cfg.contexts),
        'current-context': cfg['current-context'] ?? '',
        kind: 'Config',
        preferences: objOr(cfg.preferences),
        users: arr(cfg.users),
      }
      if (flagBool(c.f, 'minify')) {
        const cur = flagStr(c.f, 'context') ?? str(cfg['current-context'])
        if (!cur) throw new CliError('error: current-context must exist in order to minify')
        const ctx = arr(cfg.contexts).find((x) => dig(x, 'name') === cur)
        out = { ...out, contexts: ctx ? [ctx] : [], clusters: arr(cfg.clusters).filter((x) => dig(x, 'name') === dig(ctx, 'context', 'cluster')), users: arr(cfg.users).filter((x) => dig(x, 'name') === dig(ctx, 'context', 'user')), 'current-context': cur }
      }
      if (!flagBool(c.f, 'raw')) {
        out = clone(out)
        for (const cl of arr(out.clusters)) {
          const x = objOr(dig(cl, 'cluster'))
          if (x['certificate-authority-data']) x['certificate-authority-data'] = 'DATA+OMITTED'
        }
        for (const u of arr(out.users)) {
          const x = objOr(dig(u, 'user'))
          for (const k of ['client-certificate-data', 'client-key-data']) if (x[k]) x[k] = k === 'client-key-data' ? 'DATA+OMITTED' : 'DATA+OMITTED'
          if (x.token) x.token = 'REDACTED'
        }
      }
      const o = flagStr(c.f, 'output')
      if (o === 'json') c.io.out(toJson(out))
      else if (o?.startsWith('jsonpath=')) c.io.out(jsonpath(o.slice('jsonpath='.length), out))
      else c.io.out(toYaml(out))
      return 0
    }
    case 'current-context': {
      const cur = str(cfg['current-context'])
      if (!cur) throw new CliError('error: current-context is not set')
      c.io.out(`${cur}\n`)
      return 0
    }
    case 'get-contexts': {
      const cur = str(cfg['current-context'])
      const rows = arr(cfg.contexts).map((x) => [dig(x, 'name') === cur ? '*' : '', String(dig(x, 'name')), String(dig(x, 'context', 'cluster') ?? ''), String(dig(x, 'context', 'user') ?? ''), String(dig(x, 'context', 'namespace') ?? '')])
      c.io.out(table([['CURRENT', 'NAME', 'CLUSTER', 'AUTHINFO', 'NAMESPACE'], ...rows]))
      return 0
    }
    case 'use-context':
    case 'set-context': {
      if (!loaded.path) throw new CliError('error: no kubeconfig file to modify')
      const next = clone(cfg)
      let name = c.f.args[0]
      if (sub === 'use-context') {
        if (!name || !arr(cfg.contexts).some((x) => dig(x, 'name') === name)) throw new CliError(`error: no context exists with the name: "${name ?? ''}"`)
        next['current-context'] = name
        writeAtomic(userPath(loaded.path), toYaml(next), 0o600)
        c.io.out(`Switched to context "${name}".\n`)
        return 0
      }
      if (flagBool(c.f, 'current')) name = str(cfg['current-context'])
      if (!name) throw new CliError('error: you must specify a non-empty context name or --current')
      const ctxs = arr(next.contexts) as Obj[]
      let entry = ctxs.find((x) => x.name === name)
      if (!entry) {
        entry = { name, context: {} }
        ctxs.push(entry)
      }
      const ctx = objOr(entry.context)
      entry.context = ctx
      if (flagStr(c.f, 'namespace')) ctx.namespace = flagStr(c.f, 'namespace')
      next.contexts = ctxs
      writeAtomic(userPath(loaded.path), toYaml(next), 0o600)
      c.io.out(`Context "${name}" modified.\n`)
      return 0
    }
    default:
      throw new CliError(sub ? `error: unknown command "${sub}" for "kubectl config"` : 'error: the zxlab kubectl stand-in implements config view, current-context, get-contexts, use-context, set-context')
  }
}

function runApiResources(c: Ctx): number {
  const conn = connection(c)
  const kinds = onCluster(conn, (s) => allKinds(s))
  const group = flagStr(c.f, 'api-group')
  const nsd = c.f.flags.get('namespaced')
  const list = kinds
    .filter((k) => (group === undefined || k.group === group) && (nsd === undefined || k.namespaced === nsd))
    .sort((a, b) => a.group.localeCompare(b.group) || a.plural.localeCompare(b.plural))
  if (flagStr(c.f, 'output') === 'name') {
    c.io.out(list.map((k) => `${k.group ? `${k.plural}.${k.group}` : k.plural}\n`).join(''))
    return 0
  }
  const rows = list.map((k) => [k.plural, k.short.join(','), apiVersionOf(k), String(k.namespaced), k.kind])
  c.io.out(table(flagBool(c.f, 'no-headers') ? rows : [['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND'], ...rows]))
  return 0
}

function runApiVersions(c: Ctx): number {
  const conn = connection(c)
  const kinds = onCluster(conn, (s) => allKinds(s))
  const set = new Set<string>()
  for (const k of kinds) for (const v of k.versions) set.add(k.group ? `${k.group}/${v}` : v)
  const metrics = onCluster(conn, (s) => getObj(s, 'apiregistration.k8s.io', 'APIService', undefined, 'v1beta1.metrics.k8s.io'))
  if (metrics && apiServiceAvailable(metrics)) set.add('metrics.k8s.io/v1beta1')
  c.io.out([...set].sort().map((x) => `${x}\n`).join(''))
  return 0
}

// ---------------------------------------------------------------------------

const COMMANDS: Record<string, Handler> = {
  apply: { flags: applyFlags, run: runApply },
  create: {
    sub: ['namespace', 'ns', 'secret', 'configmap', 'cm', 'deployment', 'deploy'],
    flags: () => [F.filename, F.recursive, F.output, F.dryRun, F.validate, F.fieldManager, { name: 'save-config', type: 'bool' }, { name: 'from-literal', type: 'array' }, { name: 'from-file', type: 'array' }, { name: 'from-env-file', type: 'array' }, { name: 'type', type: 'string' }, { name: 'image', type: 'array' }, { name: 'replicas', short: 'r', type: 'string' }, { name: 'port', type: 'string' }, { name: 'append-hash', type: 'bool' }, { name: 'edit', type: 'bool' }, { name: 'allow-missing-template-keys', type: 'bool' }, { name: 'show-managed-fields', type: 'bool' }],
    run: runCreate,
  },
  replace: { flags: () => [F.filename, F.recursive, F.output, F.dryRun, F.validate, { name: 'force', type: 'bool' }, { name: 'save-config', type: 'bool' }], run: runReplace },
  delete: { flags: () => [F.filename, F.recursive, F.selector, F.all, F.allNs, F.ignoreNotFound, F.dryRun, F.timeout, F.output, { name: 'wait', type: 'bool' }, { name: 'grace-period', type: 'int' }, { name: 'force', type: 'bool' }, { name: 'now', type: 'bool' }, { name: 'cascade', type: 'string' }, { name: 'field-selector', type: 'string' }], run: runDelete },
  get: { flags: getFlags, run: runGet },
  taint: { flags: () => [F.all, F.overwrite, F.selector, F.dryRun, F.output, F.validate, F.fieldManager], run: runTaint },
  label: { flags: () => [F.all, F.overwrite, F.selector, F.dryRun, F.output, F.allNs, F.filename, { name: 'list', type: 'bool' }, { name: 'local', type: 'bool' }, { name: 'resource-version', type: 'string' }], run: (c) => runLabel(c, 'labels') },
  annotate: { flags: () => [F.all, F.overwrite, F.selector, F.dryRun, F.output, F.allNs, F.filename, { name: 'list', type: 'bool' }, { name: 'local', type: 'bool' }, { name: 'resource-version', type: 'string' }], run: (c) => runLabel(c, 'annotations') },
  scale: { flags: () => [{ name: 'replicas', type: 'string' }, { name: 'current-replicas', type: 'string' }, F.selector, F.all, F.filename, F.output, F.dryRun, F.timeout, { name: 'resource-version', type: 'string' }], run: runScale },
  patch: { flags: () => [{ name: 'patch', short: 'p', type: 'string' }, { name: 'patch-file', type: 'string' }, { name: 'type', type: 'string' }, F.filename, F.output, F.dryRun, F.fieldManager, { name: 'local', type: 'bool' }, { name: 'subresource', type: 'string' }], run: runPatch },
  rollout: { sub: ['status', 'restart', 'history'], flags: () => [F.timeout, { name: 'watch', short: 'w', type: 'bool' }, { name: 'revision', type: 'int' }, F.filename, F.selector, F.output, F.fieldManager], run: runRollout },
  wait: { flags: () => [{ name: 'for', type: 'string' }, F.timeout, F.all, F.selector, F.allNs, F.filename, F.output, { name: 'field-selector', type: 'string' }, { name: 'local', type: 'bool' }], run: runWait },
  logs: { flags: () => [{ name: 'container', short: 'c', type: 'string' }, { name: 'all-containers', type: 'bool' }, { name: 'tail', type: 'string' }, { name: 'previous', short: 'p', type: 'bool' }, { name: 'follow', short: 'f', type: 'bool' }, { name: 'timestamps', type: 'bool' }, { name: 'since', type: 'string' }, F.selector, { name: 'prefix', type: 'bool' }, { name: 'ignore-errors', type: 'bool' }, { name: 'pod-running-timeout', type: 'string' }, { name: 'limit-bytes', type: 'int' }, { name: 'max-log-requests', type: 'int' }], run: runLogs },
  top: { sub: ['node', 'nodes', 'no', 'pod', 'pods', 'po'], flags: () => [F.noHeaders, F.selector, F.allNs, { name: 'containers', type: 'bool' }, { name: 'sort-by', type: 'string' }, { name: 'use-protocol-buffers', type: 'bool' }, { name: 'show-capacity', type: 'bool' }, { name: 'sum', type: 'bool' }], run: runTop },
  version: { flags: () => [{ name: 'client', type: 'bool' }, F.output], run: runVersion },
  'cluster-info': { flags: () => [], run: runClusterInfo },
  config: { sub: ['view', 'current-context', 'get-contexts', 'use-context', 'set-context'], flags: () => [{ name: 'raw', type: 'bool' }, { name: 'minify', type: 'bool' }, { name: 'flatten', type: 'bool' }, F.output, { name: 'current', type: 'bool' }, F.noHeaders, { name: 'merge', type: 'bool' }], run: runConfig },
  'api-resources': { flags: () => [{ name: 'api-group', type: 'string' }, { name: 'namespaced', type: 'bool' }, F.output, F.noHeaders, { name: 'verbs', type: 'slice' }, { name: 'sort-by', type: 'string' }, { name: 'cached', type: 'bool' }, { name: 'categories', type: 'slice' }], run: runApiResources },
  'api-versions': { flags: () => [], run: runApiVersions },
  exec: {
    flags: () => EXEC_FLAGS,
    run: (c) => {
      const conn = connection(c)
      return runExec({ io: c.io, argv: c.argv, f: c.f, globalFlags: GLOBAL_FLAGS, conn, ns: namespaceOf(c, conn), onCluster })
    },
  },
}

// started by the API server for one call, or by the user
if (isEntry(import.meta.url)) process.exitCode = isServerCallChild() ? await runServerCall(main) : await main(process.argv.slice(2))

// keep for extension: commands added later (exec, describe) reuse these
export { onCluster, connection, admit, argValue, podReady, debToSemver, formatDuration }
