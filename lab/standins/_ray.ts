// What a rayproject/ray container does in the stand-in cluster. Its command runs through the
// stand-in shell; `ray start` is checked against Ray 2.x's options (click's wording), starts a
// head (GCS + dashboard + raylet) or a worker that must reach a head's GCS through cluster DNS /
// Service variables / a pod IP, and keeps running only with --block (or a following daemon such
// as `sleep infinity`). Inside the container: `ray status`, `ray --version`, `wget` against the
// node's own health endpoints (what KubeRay-style probes call), and `python FILE` as a simulated
// CPU-heavy Ray job (scenario: /etc/zxplay-standin/ray-job.json on the control-plane host) that
// loads the cluster's workers while it runs (from its start, or workerLoadAfterSeconds later). Simplified: startup is instant, a worker retries
// an unreachable GCS for RETRY_MS before it exits, resources are estimates from the container's
// limits, and `python` does not run the script — it only checks that it exists.
import { createHash } from 'node:crypto'
import { readText } from './_io.ts'
import { onHost } from './_k8s-host.ts'
import { arr, dig, isObj, objOr, parseIPv4, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { containerKey, containerRecords, podReady, recordOf } from './_container.ts'
import type { ContainerRecord } from './_container.ts'
import { parseQuantity, selectorMatches } from './_schema.ts'
import { normPath } from './_shell.ts'
import type { Effect, Fs, Program, ProgramResult, Programs } from './_shell.ts'
import { getObj, listObjs, metaOf } from './_store.ts'
import type { Store } from './_store.ts'

export const isRayImage = (image: unknown) => /(^|\/)rayproject\/ray(:|@|$)/.test(String(image ?? ''))
export const rayVersion = (image: unknown) => /:(\d+\.\d+\.\d+)/.exec(String(image ?? ''))?.[1] ?? '2.52.0'

/** How long a worker's `ray start` keeps retrying an unreachable GCS before it exits. */
export const RETRY_MS = 30_000
export const SCENARIO_FILE = '/etc/zxplay-standin/ray-job.json'

/** What a container's Ray node is (kept in its ContainerRecord.proc). */
export type RayNode = {
  kind: 'ray'
  role: 'head' | 'worker'
  up: boolean
  nodeId: string
  ip: string
  gcsPort: number
  dashboardPort?: number
  agentPort: number
  cpus: number
  gpus: number
  memory: number
  objectStore: number
  /** worker: the head container it joined (record key) and that head's instance (startedAt) */
  head?: { key: string; instance: number }
  address?: string
}

/** start/end: when the exec began and ends; loadFrom: when its tasks reach the workers (start + workerLoadAfterSeconds). */
export type RayJob = { ns: string; headKey: string; instance: number; start: number; end: number; loadFrom: number; worker: number | 'limit'; after: number; script: string }

/** The cluster context a Ray container's programs see. */
export type RayCtx = { s: Store; pod: Obj; c: Obj; rec: ContainerRecord; node: Obj | undefined; now: number }

const nsOf = (o: Obj) => str(metaOf(o).namespace) ?? 'default'
const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '').replace('.', ',')
export const rayNodeOf = (rec: ContainerRecord | undefined): RayNode | undefined => (rec?.proc && rec.proc.kind === 'ray' ? (rec.proc as unknown as RayNode) : undefined)

export function rayJobs(s: Store): RayJob[] {
  const internal = s.internal as { rayJobs?: RayJob[] }
  internal.rayJobs ??= []
  return internal.rayJobs
}

// ---------------------------------------------------------------------------
// `ray start` options (Ray 2.x, python/ray/scripts/scripts.py) and click's parsing

type OptType = 'flag' | 'int' | 'float' | 'str' | 'bool'
const OPTIONS: Record<string, OptType> = {
  'node-ip-address': 'str', address: 'str', port: 'int', 'object-manager-port': 'int', 'node-manager-port': 'int', 'gcs-server-port': 'int',
  'min-worker-port': 'int', 'max-worker-port': 'int', 'worker-port-list': 'str', 'ray-client-server-port': 'int', memory: 'int', 'object-store-memory': 'int',
  'num-cpus': 'int', 'num-gpus': 'int', resources: 'str', head: 'flag', 'include-dashboard': 'bool', 'dashboard-host': 'str', 'dashboard-port': 'int',
  'dashboard-agent-listen-port': 'int', 'dashboard-agent-grpc-port': 'int', 'dashboard-grpc-port': 'int', 'runtime-env-agent-port': 'int', 'metrics-export-port': 'int',
  block: 'flag', 'plasma-directory': 'str', 'object-spilling-directory': 'str', 'autoscaling-config': 'str', 'no-redirect-output': 'flag', 'plasma-store-socket-name': 'str',
  'raylet-socket-name': 'str', 'temp-dir': 'str', 'system-config': 'str', 'enable-object-reconstruction': 'flag', 'no-monitor': 'flag', 'tracing-startup-hook': 'str',
  'ray-debugger-external': 'flag', 'disable-usage-stats': 'flag', labels: 'str', 'labels-file': 'str', 'include-log-monitor': 'bool', 'enable-resource-isolation': 'flag',
  'cgroup-path': 'str', 'system-reserved-cpu': 'float', 'system-reserved-memory': 'int', 'node-name': 'str', 'log-style': 'str', 'log-color': 'str', verbose: 'flag',
  storage: 'str',
  // hidden options Ray 2.x still accepts (an external Redis for GCS fault tolerance); KubeRay passes --redis-password
  'redis-username': 'str', 'redis-password': 'str', 'redis-shard-ports': 'str', 'redis-max-memory': 'int',
}
const HEAD_ONLY = ['port', 'redis-shard-ports', 'include-dashboard']

const CLICK_USAGE = "Usage: ray start [OPTIONS]\nTry 'ray start --help' for help.\n\n"
const clickError = (msg: string): ProgramResult => ({ code: 2, err: `${CLICK_USAGE}Error: ${msg}\n` })

/** difflib.SequenceMatcher(None, a, b).ratio() (Ratcliff/Obershelp), for click's suggestions. */
function similarity(a: string, b: string): number {
  const matches = (alo: number, ahi: number, blo: number, bhi: number): number => {
    let best = { i: alo, j: blo, k: 0 }
    for (let i = alo; i < ahi; i++) {
      for (let j = blo; j < bhi; j++) {
        let k = 0
        while (i + k < ahi && j + k < bhi && a[i + k] === b[j + k]) k++
        if (k > best.k) best = { i, j, k }
      }
    }
    if (!best.k) return 0
    return best.k + matches(alo, best.i, blo, best.j) + matches(best.i + best.k, ahi, best.j + best.k, bhi)
  }
  return (2 * matches(0, a.length, 0, b.length)) / (a.length + b.length || 1)
}

const BOOL_TRUE = ['1', 'true', 't', 'yes', 'y', 'on']
const BOOL_FALSE = ['0', 'false', 'f', 'no', 'n', 'off']
const pyRepr = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

export type StartArgs = Record<string, string | number | boolean>

/** click's parsing of `ray start` argv (after "start"): the options, or click's error. */
export function parseRayStart(args: string[]): { opts: StartArgs } | { error: ProgramResult } {
  const opts: StartArgs = {}
  const extra: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === '--') {
      extra.push(...args.slice(i + 1))
      break
    }
    if (a === '-v') {
      opts.verbose = true
      continue
    }
    if (!a.startsWith('--') || a === '--') {
      if (a.startsWith('-') && a.length > 1) return { error: clickError(`No such option: ${a}`) }
      extra.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq)
    const type = OPTIONS[name]
    if (!type) {
      // difflib.get_close_matches(n=3, cutoff=0.6) over every long option, as click does
      const close = [...Object.keys(OPTIONS), 'help']
        .map((o) => ({ o: `--${o}`, r: similarity(`--${name}`, `--${o}`) }))
        .filter((x) => x.r >= 0.6)
        .sort((x, y) => y.r - x.r || (x.o < y.o ? 1 : x.o > y.o ? -1 : 0))
        .slice(0, 3)
        .map((x) => x.o)
      const hint = close.length === 1 ? ` Did you mean ${close[0]}?` : close.length ? ` (Possible options: ${close.sort().join(', ')})` : ''
      return { error: clickError(`No such option: --${name}${hint}`) }
    }
    if (type === 'flag') {
      if (eq >= 0) return { error: clickError(`Option '--${name}' does not take a value.`) }
      opts[name] = true
      continue
    }
    let value: string
    if (eq >= 0) value = a.slice(eq + 1)
    else {
      if (i + 1 >= args.length) return { error: clickError(`Option '--${name}' requires an argument.`) }
      value = args[++i] as string
    }
    if (type === 'int') {
      if (!/^\s*[+-]?\d+\s*$/.test(value)) return { error: clickError(`Invalid value for '--${name}': ${pyRepr(value)} is not a valid integer.`) }
      opts[name] = Number(value)
    } else if (type === 'float') {
      if (value.trim() === '' || !Number.isFinite(Number(value))) return { error: clickError(`Invalid value for '--${name}': ${pyRepr(value)} is not a valid float.`) }
      opts[name] = Number(value)
    } else if (type === 'bool') {
      const v = value.trim().toLowerCase()
      if (!BOOL_TRUE.includes(v) && !BOOL_FALSE.includes(v)) return { error: clickError(`Invalid value for '--${name}': ${pyRepr(value)} is not a valid boolean.`) }
      opts[name] = BOOL_TRUE.includes(v)
    } else opts[name] = value
  }
  if (extra.length) return { error: clickError(`Got unexpected extra argument${extra.length > 1 ? 's' : ''} (${extra.join(' ')})`) }
  return { opts }
}

// ---------------------------------------------------------------------------
// Reaching a head: cluster DNS, Service variables' IPs, pod IPs

/** Is cluster DNS answering (kube-dns has a ready endpoint)? */
function dnsUp(s: Store): boolean {
  const svc = getObj(s, '', 'Service', 'kube-system', 'kube-dns')
  return !!svc && endpoints(s, svc).length > 0
}

const endpoints = (s: Store, svc: Obj) => {
  const sel = objOr(dig(svc, 'spec', 'selector'))
  if (!Object.keys(sel).length) return []
  return listObjs(s, '', 'Pod', nsOf(svc)).filter((p) => selectorMatches({ matchLabels: sel }, objOr(metaOf(p).labels)) && podReady(p))
}

/** The Ray head listening for GCS on `port` in this pod, if up. */
function headIn(s: Store, pod: Obj, port: number): { key: string; rec: ContainerRecord; node: RayNode } | undefined {
  for (const c of arr(dig(pod, 'spec', 'containers'))) {
    const cname = String(dig(c, 'name'))
    const rec = recordOf(s, pod, cname)
    const node = rayNodeOf(rec)
    if (rec && node && node.role === 'head' && node.up && node.gcsPort === port) return { key: containerKey(pod, cname), rec, node }
  }
  return undefined
}

type Reach = { ok: true; key: string; instance: number; node: RayNode } | { ok: false; why: 'dns' | 'refused' | 'malformed' }

/** Resolve HOST:PORT from a pod in namespace ns the way its cluster networking would. */
export function reachHead(s: Store, ns: string, address: string): Reach {
  const m = /^(.+):(\d+)$/.exec(address.trim())
  if (!m) return { ok: false, why: 'malformed' }
  const host = (m[1] as string).toLowerCase()
  const port = Number(m[2])
  const viaService = (svc: Obj): Reach => {
    const headless = dig(svc, 'spec', 'clusterIP') === 'None'
    const sp = arr(dig(svc, 'spec', 'ports')).find((x) => dig(x, 'port') === port)
    if (!sp && !headless) return { ok: false, why: 'refused' }
    for (const pod of endpoints(s, svc)) {
      let target: unknown = headless ? port : (dig(sp, 'targetPort') ?? port)
      if (typeof target === 'string') {
        const named = arr(dig(pod, 'spec', 'containers'))
          .flatMap((c) => arr(dig(c, 'ports')))
          .find((x) => dig(x, 'name') === target)
        target = dig(named, 'containerPort')
      }
      const h = typeof target === 'number' ? headIn(s, pod, target) : undefined
      if (h) return { ok: true, key: h.key, instance: h.rec.startedAt, node: h.node }
    }
    return { ok: false, why: 'refused' }
  }
  if (parseIPv4(host) !== undefined) {
    const svc = listObjs(s, '', 'Service').find((x) => dig(x, 'spec', 'clusterIP') === host)
    if (svc) return viaService(svc)
    const pod = listObjs(s, '', 'Pod').find((p) => dig(p, 'status', 'podIP') === host)
    const h = pod ? headIn(s, pod, port) : undefined
    return h ? { ok: true, key: h.key, instance: h.rec.startedAt, node: h.node } : { ok: false, why: 'refused' }
  }
  if (!dnsUp(s)) return { ok: false, why: 'dns' }
  const domain = s.cluster.dnsDomain || 'cluster.local'
  const parts = host.replace(/\.$/, '').split('.')
  let svcName: string | undefined
  let svcNs = ns
  if (parts.length === 1) svcName = parts[0]
  else if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc') || parts.slice(2).join('.') === `svc.${domain}`) {
    svcName = parts[0]
    svcNs = parts[1] as string
  }
  const svc = svcName ? getObj(s, '', 'Service', svcNs, svcName) : undefined
  return svc ? viaService(svc) : { ok: false, why: 'dns' }
}

// ---------------------------------------------------------------------------
// ray start

const nodeIdFor = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 56)

function resourcesOf(ctx: RayCtx, opts: StartArgs): Pick<RayNode, 'cpus' | 'gpus' | 'memory' | 'objectStore'> {
  const lim = (r: string) => parseQuantity(dig(ctx.c, 'resources', 'limits', r)) ?? parseQuantity(dig(ctx.node, 'status', 'allocatable', r))
  const cpus = typeof opts['num-cpus'] === 'number' ? opts['num-cpus'] : Math.max(1, Math.ceil((lim('cpu') ?? 1000) / 1000))
  const total = (lim('memory') ?? 2 * 1024 ** 3 * 1000) / 1000
  const objectStore = typeof opts['object-store-memory'] === 'number' ? opts['object-store-memory'] : Math.floor(total * 0.3)
  const memory = typeof opts.memory === 'number' ? opts.memory : Math.floor(total - objectStore)
  return { cpus, gpus: typeof opts['num-gpus'] === 'number' ? opts['num-gpus'] : 0, memory, objectStore }
}

const USAGE_STATS = 'Usage stats collection is enabled. To disable this, add `--disable-usage-stats` to the command that starts the cluster, or run the following command: `ray disable-usage-stats` before starting the cluster. See https://docs.ray.io/en/master/cluster/usage-stats.html for more details.\n\n'
const BLOCK_TEXT = '--block\n  This command will now block forever until terminated by a signal.\n  Running subprocesses are monitored and a message will be printed if any of them terminate unexpectedly. Subprocesses exit with SIGTERM will be treated as graceful, thus NOT reported.\n'

/** `ray start …` as the container's process: validates, then starts a node (an effect) or fails. */
function rayStart(ctx: RayCtx, args: string[], main: boolean): ProgramResult {
  if (!main) return { code: 1, err: 'zxlab: ray start inside kubectl exec is not modelled (the container already runs its node)\n' }
  const parsed = parseRayStart(args)
  if ('error' in parsed) return parsed.error
  const o = parsed.opts
  const head = o.head === true
  const ip = str(o['node-ip-address']) || String(dig(ctx.pod, 'status', 'podIP') ?? '127.0.0.1')
  let out = head && o['disable-usage-stats'] !== true ? USAGE_STATS : ''
  let err = o['gcs-server-port'] !== undefined ? '`--gcs-server-port` is deprecated and ignored. Use --port to specify GCS server port on head node.\n' : ''
  const abort = (msg: string): ProgramResult => ({ code: 1, out, err: `${err}${msg}\n` })
  if (typeof o.resources === 'string') {
    try {
      JSON.parse(o.resources)
    } catch {
      return abort('`--resources` is not a valid JSON string.\nValid values look like this: `--resources=\'{"CustomResource3": 1, "CustomResource2": 2}\'`')
    }
  }
  if (!head) {
    if (typeof o.address !== 'string') return abort('`--address` is a required flag unless starting a head node with `--head`.')
    for (const f of HEAD_ONLY) if (o[f] !== undefined) return abort(`\`--${f}\` should only be specified when starting head node with \`--head\`.`)
  } else if (typeof o.address === 'string') {
    return abort(`Specifying --address for external Redis address is deprecated. Please specify environment variable RAY_REDIS_ADDRESS=${o.address} instead.\nzxlab: an external Redis for the GCS is not modelled by the stand-in`)
  }
  const res = resourcesOf(ctx, o)
  const base = {
    kind: 'ray' as const,
    ip,
    gcsPort: head ? (typeof o.port === 'number' ? o.port : 6379) : 0,
    agentPort: typeof o['dashboard-agent-listen-port'] === 'number' ? o['dashboard-agent-listen-port'] : 52365,
    nodeId: nodeIdFor(`${String(metaOf(ctx.pod).uid)}/${String(ctx.c.name)}/${ctx.rec.startedAt}`),
    ...res,
  }
  out += `Local node IP: ${ip}\n`
  const block = o.block === true
  if (head) {
    const dashboardPort = o['include-dashboard'] === false ? undefined : typeof o['dashboard-port'] === 'number' ? o['dashboard-port'] : 8265
    const node: RayNode = { ...base, role: 'head', up: true, ...(dashboardPort ? { dashboardPort } : {}) }
    const init = o['node-ip-address'] ? `_node_ip_address='${ip}'` : ''
    const dash = dashboardPort ? `${ip}:${dashboardPort}` : ''
    out += `\n--------------------\nRay runtime started.\n--------------------\n\nNext steps\n  To add another node to this Ray cluster, run\n    ray start --address='${ip}:${node.gcsPort}'\n\n  To connect to this Ray cluster:\n    import ray\n    ray.init(${init})\n`
    if (dash) out += `\n  To submit a Ray job using the Ray Jobs CLI:\n    RAY_ADDRESS='http://${dash}' ray job submit --working-dir . -- python my_script.py\n\n  See https://docs.ray.io/en/latest/cluster/running-applications/job-submission/index.html \n  for more information on submitting Ray jobs to the Ray cluster.\n`
    out += '\n  To terminate the Ray runtime, run\n    ray stop\n\n  To view the status of the cluster, use\n    ray status\n'
    if (dash) out += `\n  To monitor and debug Ray, view the dashboard at \n    ${dash}\n\n  If connection to the dashboard fails, check your firewall settings and network configuration.\n`
    if (block) out += `\n${BLOCK_TEXT}`
    return { code: 0, out, err, blocked: block, effects: [{ kind: 'ray-node', node }] }
  }
  // a worker: reach the GCS (sticky while that head lives)
  const address = o.address as string
  const prev = rayNodeOf(ctx.rec)
  if (prev?.head) {
    const hrec = containerRecords(ctx.s)[prev.head.key]
    const hnode = rayNodeOf(hrec)
    if (hrec && hnode?.up && hrec.startedAt === prev.head.instance) return { code: 0, out: out + workerStarted(block), err, blocked: block, effects: [{ kind: 'ray-node', node: { ...prev } }] }
    return { code: 1, out: out + workerStarted(block), err: `${err}\nSome Ray subprocesses exited unexpectedly:\n  raylet [exit code=1]\n\nRemaining processes will be killed.\n` }
  }
  const r = reachHead(ctx.s, nsOf(ctx.pod), address)
  if (r.ok) {
    const node: RayNode = { ...base, role: 'worker', up: true, head: { key: r.key, instance: r.instance }, address }
    return { code: 0, out: out + workerStarted(block), err, blocked: block, effects: [{ kind: 'ray-node', node }] }
  }
  if (r.why === 'malformed') return abort(`Cannot canonicalize address \`--address=${address}\`.`)
  const warn = `${ts(ctx.rec.startedAt + 2000)}\tWARNING utils.py:1280 -- Unable to connect to GCS (ray head) at ${address}. Check that (1) Ray with matching version started successfully at the specified address, (2) this node can reach the specified address, and (3) there is no firewall setting preventing access.\n`
  const dns = r.why === 'dns' ? `${ts(ctx.rec.startedAt + 1000)}\tWARNING utils.py:1280 -- Failed to resolve ${address.split(':')[0]}: [Errno -2] Name or service not known\n` : ''
  if (ctx.now - ctx.rec.startedAt < RETRY_MS) {
    // still retrying: the process runs, the node is not up
    const node: RayNode = { ...base, role: 'worker', up: false, address }
    return { code: 0, out, err: err + dns + warn, blocked: true, effects: [{ kind: 'ray-node', node }] }
  }
  err += dns + warn
  return { code: 1, out, err: `${err}ConnectionError: Could not read 'session_name' from GCS at ${address}. Did GCS start successfully?\n` }
}

const workerStarted = (block: boolean) => `\n--------------------\nRay runtime started.\n--------------------\n\nTo terminate the Ray runtime, run\n  ray stop\n${block ? `\n${BLOCK_TEXT}` : ''}`

// ---------------------------------------------------------------------------
// The cluster a container belongs to: ray status, the demo job

/** The head this container's node belongs to (itself when it is the head), if up. */
function clusterHead(ctx: RayCtx): { key: string; rec: ContainerRecord; node: RayNode } | undefined {
  const me = rayNodeOf(ctx.rec)
  if (!me?.up) return undefined
  if (me.role === 'head') return { key: containerKey(ctx.pod, String(ctx.c.name)), rec: ctx.rec, node: me }
  if (!me.head) return undefined
  const rec = containerRecords(ctx.s)[me.head.key]
  const node = rayNodeOf(rec)
  return rec && node?.up && rec.startedAt === me.head.instance ? { key: me.head.key, rec, node } : undefined
}

/** The live nodes of a head's cluster: the head, then the workers joined to this instance of it. */
export function clusterNodes(s: Store, headKey: string): { key: string; node: RayNode }[] {
  const recs = containerRecords(s)
  const hrec = recs[headKey]
  const head = rayNodeOf(hrec)
  if (!hrec || !head?.up) return []
  const out = [{ key: headKey, node: head }]
  for (const [key, rec] of Object.entries(recs).sort(([a], [b]) => a.localeCompare(b))) {
    const n = rayNodeOf(rec)
    if (n?.role === 'worker' && n.up && n.head?.key === headKey && n.head.instance === hrec.startedAt) out.push({ key, node: n })
  }
  return out
}

const NO_RAY = 'ConnectionError: Could not find any running Ray instance. Please specify the one to connect to by setting `--address` flag or `RAY_ADDRESS` environment variable.\n'

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)}GiB`

function runningJob(s: Store, headKey: string, instance: number, now: number): RayJob | undefined {
  return rayJobs(s).find((j) => j.headKey === headKey && j.instance === instance && j.start <= now && now < j.end)
}

function rayStatus(ctx: RayCtx): ProgramResult {
  const h = clusterHead(ctx)
  if (!h) return { code: 1, err: NO_RAY }
  const nodes = clusterNodes(ctx.s, h.key)
  const cpus = nodes.reduce((a, n) => a + n.node.cpus, 0)
  const gpus = nodes.reduce((a, n) => a + n.node.gpus, 0)
  const mem = nodes.reduce((a, n) => a + n.node.memory, 0)
  const store = nodes.reduce((a, n) => a + n.node.objectStore, 0)
  const busy = runningJob(ctx.s, h.key, h.rec.startedAt, ctx.now) ? cpus : 0
  const rule = '-'.repeat(63)
  const out = [
    `======== Autoscaler status: ${ts(ctx.now).replace(',', '.')}000 ========`,
    'Node status',
    rule,
    'Active:',
    ...nodes.map((n) => ` 1 node_${n.node.nodeId}`),
    'Pending:',
    ' (no pending nodes)',
    'Recent failures:',
    ' (no failures)',
    '',
    'Resources',
    rule,
    'Usage:',
    ` ${busy.toFixed(1)}/${cpus.toFixed(1)} CPU`,
    ...(gpus ? [` 0.0/${gpus.toFixed(1)} GPU`] : []),
    ` 0B/${gib(mem)} memory`,
    ` 0B/${gib(store)} object_store_memory`,
    '',
    'Demands:',
    ' (no resource demands)',
  ]
  return { code: 0, out: `${out.join('\n')}\n` }
}

/** workerLoadAfterSeconds: the workers stay idle that long after the start (a job that runs its
 * first part in one task on the head, as the app did before its one Ray graph). */
type Scenario = { jobSeconds: number; workerMillicores: number | 'limit'; afterMillicores: number; workerLoadAfterSeconds: number }

/** The demo job's scenario from the control-plane host (defaults when the file is absent). */
export function readScenario(s: Store): Scenario | string {
  const text = readText(onHost(s.cluster.controlPlaneHost, SCENARIO_FILE))
  const def: Scenario = { jobSeconds: 30, workerMillicores: 'limit', afterMillicores: 0, workerLoadAfterSeconds: 0 }
  if (text === undefined) return def
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    return `${SCENARIO_FILE}: not JSON (${(e as Error).message})`
  }
  if (!isObj(v)) return `${SCENARIO_FILE}: expected an object like {"jobSeconds": 30, "workerMillicores": "limit", "afterMillicores": 0}`
  const out = { ...def, ...v } as Record<string, unknown>
  if (typeof out.jobSeconds !== 'number' || !(out.jobSeconds > 0)) return `${SCENARIO_FILE}: jobSeconds must be a number of seconds > 0`
  if (out.workerMillicores !== 'limit' && !(typeof out.workerMillicores === 'number' && out.workerMillicores >= 0)) return `${SCENARIO_FILE}: workerMillicores must be "limit" or millicores >= 0`
  if (!(typeof out.afterMillicores === 'number' && out.afterMillicores >= 0)) return `${SCENARIO_FILE}: afterMillicores must be millicores >= 0`
  if (!(typeof out.workerLoadAfterSeconds === 'number' && out.workerLoadAfterSeconds >= 0 && out.workerLoadAfterSeconds <= out.jobSeconds)) return `${SCENARIO_FILE}: workerLoadAfterSeconds must be seconds from 0 to jobSeconds`
  return out as Scenario
}

function python(ctx: RayCtx, argv: string[], fs: Fs): ProgramResult {
  const name = argv[0] ?? 'python'
  const args = argv.slice(1)
  const file = args[0]
  if (file === undefined || file.startsWith('-')) return { code: 2, err: `zxlab: ${name}: only \`${name} FILE [ARGS…]\` is modelled by the stand-in\n` }
  const abs = file.startsWith('/') ? normPath(file) : normPath(`/home/ray/${file}`)
  if (fs.kind(abs) !== 'file') return { code: 2, err: `${name}: can't open file '${abs}': [Errno 2] No such file or directory\n` }
  const h = clusterHead(ctx)
  if (!h) return { code: 1, err: `Traceback (most recent call last):\n  File "${abs}", line 1, in <module>\n${NO_RAY}` }
  const sc = readScenario(ctx.s)
  if (typeof sc === 'string') return { code: 1, err: `zxlab: ${sc}\n` }
  const nodes = clusterNodes(ctx.s, h.key)
  const cpus = nodes.reduce((a, n) => a + n.node.cpus, 0)
  const err = `${ts(ctx.now)}\tINFO worker.py:1832 -- Connecting to existing Ray cluster at address: ${h.node.ip}:${h.node.gcsPort}...\n${ts(ctx.now + 40)}\tINFO worker.py:2003 -- Connected to Ray cluster.${h.node.dashboardPort ? ` View the dashboard at \x1b[1m\x1b[32m${h.node.ip}:${h.node.dashboardPort} \x1b[39m\x1b[22m` : ''}\n`
  const out = [`Ray cluster: ${nodes.length} node(s), ${cpus.toFixed(1)} CPUs`, `${[abs, ...args.slice(1)].join(' ')}: DAG finished in ${sc.jobSeconds.toFixed(1)} s (zxlab: simulated CPU-heavy job)`, 'Results match!']
  const job: Effect = { kind: 'ray-job', ns: nsOf(ctx.pod), headKey: h.key, instance: h.rec.startedAt, seconds: sc.jobSeconds, loadAfter: sc.workerLoadAfterSeconds, worker: sc.workerMillicores, after: sc.afterMillicores, script: abs }
  return { code: 0, out: `${out.join('\n')}\n`, err, ms: sc.jobSeconds * 1000, effects: [job] }
}

/** Record a job the demo `python` started (the caller applies the effect when the exec begins). */
export function startJob(s: Store, e: Effect, now: number) {
  const jobs = rayJobs(s)
  jobs.push({ ns: String(e.ns), headKey: String(e.headKey), instance: Number(e.instance), start: now, end: now + Number(e.seconds) * 1000, loadFrom: now + Number(e.loadAfter ?? 0) * 1000, worker: e.worker === 'limit' ? 'limit' : Number(e.worker), after: Number(e.after), script: String(e.script) })
  if (jobs.length > 20) jobs.splice(0, jobs.length - 20)
}

// ---------------------------------------------------------------------------
// wget against the node's own endpoints (what KubeRay-style probes call)

function wget(ctx: RayCtx, argv: string[]): ProgramResult {
  let quiet = false
  let target: string | undefined
  let url: string | undefined
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '-q' || a === '--quiet') quiet = true
    else if (a === '-O' || a === '--output-document') target = argv[++i]
    else if (a.startsWith('-O') && a.length > 2) target = a.slice(2)
    else if (a.startsWith('--output-document=')) target = a.slice(a.indexOf('=') + 1)
    else if (a === '--tries' || a === '-t' || a === '-T' || a === '--timeout') i++
    else if (/^--(tries|timeout)=/.test(a) || /^-[tT]\d+$/.test(a)) continue
    else if (a.startsWith('-')) return { code: 2, err: `zxlab: wget: option ${a} is not modelled by the stand-in\n` }
    else url = a
  }
  if (!url) return { code: 1, err: "wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n" }
  if (target !== '-') return { code: 1, err: 'zxlab: wget: writing files is not modelled by the stand-in (use -O-)\n' }
  const m = /^http:\/\/([^/:]+)(?::(\d+))?(\/[^?#]*)?/.exec(url)
  if (!m) return { code: 1, err: `${url}: Unsupported scheme.\n` }
  const host = m[1] as string
  const port = Number(m[2] ?? 80)
  const path = m[3] ?? '/'
  const local = ['localhost', '127.0.0.1', '0.0.0.0', String(dig(ctx.pod, 'status', 'podIP') ?? '')].includes(host)
  const progress = quiet ? '' : `--${ts(ctx.now).slice(0, 19)}--  ${url}\n`
  if (!local) return { code: 4, err: `${progress}zxlab: wget: only this container's own Ray endpoints are modelled by the stand-in (${host})\n` }
  const node = rayNodeOf(ctx.rec)
  const refused = { code: 4, err: quiet ? '' : `${progress}Connecting to ${host} (${host})|127.0.0.1|:${port}... failed: Connection refused.\n` }
  if (!node?.up) return refused
  const notFound = { code: 8, err: quiet ? '' : `${progress}HTTP request sent, awaiting response... 404 Not Found\n${ts(ctx.now).slice(0, 19)} ERROR 404: Not Found.\n\n` }
  if (port === node.agentPort) return path === '/api/local_raylet_healthz' ? { code: 0, out: 'success' } : notFound
  if (node.role === 'head' && port === node.dashboardPort) return path === '/api/gcs_healthz' ? { code: 0, out: 'success' } : notFound
  return refused
}

// ---------------------------------------------------------------------------

/** The programs of a rayproject/ray container. */
export function rayPrograms(ctx: RayCtx, fs: Fs): Programs {
  const version = rayVersion(ctx.c.image)
  const ray: Program = (argv, pctx) => {
    const sub = argv[1]
    if (sub === '--version' || sub === 'version') return { code: 0, out: `ray, version ${version}\n` }
    if (sub === 'start') return rayStart(ctx, argv.slice(2), pctx.mode === 'main')
    if (sub === 'status') return rayStatus(ctx)
    if (sub === undefined || sub === '--help') return { code: 0, out: 'Usage: ray [OPTIONS] COMMAND [ARGS]...\n' }
    if (['stop', 'job', 'list', 'summary', 'memory', 'timeline', 'logs', 'submit', 'up', 'down', 'attach', 'exec', 'health-check', 'debug', 'metrics', 'microbenchmark', 'kuberay-autoscaler', 'disable-usage-stats', 'enable-usage-stats', 'get', 'drain-node', 'cluster-dump', 'dashboard', 'init', 'install-nightly', 'global-gc', 'cpp', 'rsync-down', 'rsync-up', 'get-head-ip', 'get-worker-ips', 'monitor', 'kill-random-node', 'stack', 'check-open-ports', 'project', 'timeline'].includes(sub)) {
      return { code: 1, err: `zxlab: ray ${sub} is not modelled by the stand-in (ray start, status and --version are)\n` }
    }
    return { code: 2, err: `Usage: ray [OPTIONS] COMMAND [ARGS]...\nTry 'ray --help' for help.\n\nError: No such command '${sub}'.\n` }
  }
  const py: Program = (argv) => python(ctx, argv, fs)
  return { ray, python: py, python3: py, wget: (argv) => wget(ctx, argv) }
}

/** The environment the rayproject/ray image itself sets (before the pod's). */
export const RAY_IMAGE_ENV = { PATH: '/home/ray/anaconda3/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/home/ray' }

// ---------------------------------------------------------------------------
// CPU the demo job puts on the workers (what metrics-server reports for them)

/** Millicores a pod's Ray worker uses because of a job, or undefined (idle: the default). */
export function rayWorkerCpu(s: Store, pod: Obj, now: number): number | undefined {
  if (!podReady(pod)) return undefined
  for (const c of arr(dig(pod, 'spec', 'containers'))) {
    const rec = recordOf(s, pod, String(dig(c, 'name')))
    const node = rayNodeOf(rec)
    if (!node?.up || node.role !== 'worker' || !node.head) continue
    const jobs = rayJobs(s).filter((j) => j.headKey === node.head?.key && j.instance === node.head.instance && j.start <= now)
    const last = jobs.at(-1)
    if (!last) return undefined
    if (now < last.end) {
      if (now < last.loadFrom) return undefined // its tasks have not reached the workers yet
      if (last.worker !== 'limit') return last.worker
      // busy on every CPU Ray schedules on, as far as the cgroup allows
      return Math.min(parseQuantity(dig(c, 'resources', 'limits', 'cpu')) ?? Infinity, node.cpus * 1000)
    }
    return last.after > 0 ? last.after : undefined
  }
  return undefined
}
