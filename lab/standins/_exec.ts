// `kubectl exec`: pick the pod (POD, pod/NAME, or TYPE/NAME → the most active pod of that
// workload, as kubectl's GetFirstPod does), check it the way kubectl, the API server and the
// kubelet do (their error wording), then run the command in the container's runtime: its
// environment from container start, its volume files now, the image's programs. A command that
// takes time (the demo Ray job) holds the exec for that long on the stand-in clock.
import { clock } from './_clock.ts'
import { containerRecords, containerKey, podReady } from './_container.ts'
import { FlagError, flagBool, flagStr, parseFlags } from './_flags.ts'
import type { FlagSpec, Parsed } from './_flags.ts'
import type { IO } from './_io.ts'
import { authorize } from './_kubeconfig.ts'
import type { Connection } from './_kubeconfig.ts'
import { arr, dig, objOr, parseDuration, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { readNodeState } from './_node.ts'
import { startJob } from './_ray.ts'
import { CliError, labelsOf, resolveType } from './_resources.ts'
import { notFoundText, runtimeOf, startIn } from './_runtime.ts'
import { ApiError, resourceGroup, selectorMatches } from './_schema.ts'
import { getObj, listObjs, metaOf } from './_store.ts'
import type { Store } from './_store.ts'

export const EXEC_FLAGS: FlagSpec[] = [
  { name: 'container', short: 'c', type: 'string' },
  { name: 'stdin', short: 'i', type: 'bool' },
  { name: 'tty', short: 't', type: 'bool' },
  { name: 'quiet', short: 'q', type: 'bool' },
  { name: 'pod-running-timeout', type: 'string' },
  { name: 'filename', short: 'f', type: 'array' },
]

export type ExecInput = {
  io: IO
  /** the whole argv kubectl got (to see where `--` is) */
  argv: string[]
  /** argv parsed with the global and exec flags; args without the "exec" word */
  f: Parsed
  globalFlags: FlagSpec[]
  conn: Connection
  ns: string
  onCluster: <T>(conn: Connection, fn: (s: Store) => T) => T
}

const GO_TYPES: Record<string, string> = { ConfigMap: '*v1.ConfigMap', Secret: '*v1.Secret', Node: '*v1.Node', Namespace: '*v1.Namespace', ServiceAccount: '*v1.ServiceAccount', CronJob: '*v1.CronJob' }

/** The pods a TYPE/NAME stands for (its selector), or the reason it has none. */
function selectorOf(obj: Obj): unknown {
  if (obj.kind === 'Service' || obj.kind === 'ReplicationController') {
    const sel = objOr(dig(obj, 'spec', 'selector'))
    return Object.keys(sel).length ? { matchLabels: sel } : undefined
  }
  return dig(obj, 'spec', 'selector')
}

/** kubectl's ActivePods order, most active first: scheduled, Running, Ready (longest), fewest restarts, oldest. */
function mostActiveFirst(a: Obj, b: Obj): number {
  const assigned = (p: Obj) => (dig(p, 'spec', 'nodeName') ? 1 : 0)
  const phase = (p: Obj) => ({ Pending: 0, Unknown: 1, Running: 2 })[String(dig(p, 'status', 'phase'))] ?? 0
  const readySince = (p: Obj) => Date.parse(String(dig(arr(dig(p, 'status', 'conditions')).find((c) => dig(c, 'type') === 'Ready'), 'lastTransitionTime') ?? '')) || 0
  const restarts = (p: Obj) => arr(dig(p, 'status', 'containerStatuses')).reduce((n: number, c) => n + Number(dig(c, 'restartCount') ?? 0), 0)
  return (
    assigned(b) - assigned(a) ||
    phase(b) - phase(a) ||
    Number(podReady(b)) - Number(podReady(a)) ||
    (podReady(a) && podReady(b) ? readySince(a) - readySince(b) : 0) ||
    restarts(a) - restarts(b) ||
    String(metaOf(a).creationTimestamp).localeCompare(String(metaOf(b).creationTimestamp))
  )
}

/** The pod for POD / TYPE/NAME now, or undefined while the workload has none. */
function findPod(s: Store, ns: string, target: string): Obj | undefined {
  const slash = target.indexOf('/')
  if (slash < 0) {
    const pod = getObj(s, '', 'Pod', ns, target)
    if (!pod) throw new ApiError('NotFound', `pods "${target}" not found`)
    return pod
  }
  const type = target.slice(0, slash)
  const name = target.slice(slash + 1)
  const info = resolveType(s, type)
  if (!info) throw new CliError(`error: the server doesn't have a resource type "${type}"`)
  const obj = getObj(s, info.group, info.kind, info.namespaced ? ns : undefined, name)
  if (!obj) throw new ApiError('NotFound', `${resourceGroup(info)} "${name}" not found`)
  if (info.kind === 'Pod') return obj
  if (!['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'Service', 'ReplicationController'].includes(info.kind)) {
    const t = GO_TYPES[info.kind] ?? `*${info.group ? `${info.group.split('.')[0]}.` : 'v1.'}${info.kind}`
    throw new CliError(`error: cannot attach to ${t}: selector for ${t} not implemented`)
  }
  const sel = selectorOf(obj)
  if (!sel) throw new CliError(`error: cannot attach to ${info.kind}: it has no selector`)
  return listObjs(s, '', 'Pod', ns)
    .filter((p) => selectorMatches(sel, labelsOf(p)))
    .sort(mostActiveFirst)[0]
}

type Picked = { pod: string; container: string; note: string }

/** The checks kubectl, the API server and the kubelet make before anything runs. */
function pick(s: Store, x: ExecInput, target: string): Picked | undefined {
  const pod = findPod(s, x.ns, target)
  if (!pod) return undefined
  const podName = String(metaOf(pod).name)
  const denied = authorize(x.conn.user, 'create', 'pods/exec', '', x.ns)
  if (denied) throw new CliError(denied.replace('pods/exec is forbidden', `pods "${podName}" is forbidden`))
  const phase = str(dig(pod, 'status', 'phase'))
  if (phase === 'Succeeded' || phase === 'Failed') throw new CliError(`error: cannot exec into a container in a completed pod; current phase is ${phase}`)
  const names = arr(dig(pod, 'spec', 'containers')).map((c) => String(dig(c, 'name')))
  const inits = arr(dig(pod, 'spec', 'initContainers')).map((c) => String(dig(c, 'name')))
  let container = flagStr(x.f, 'container')
  let note = ''
  if (!container) {
    const annotated = str(objOr(metaOf(pod).annotations)['kubectl.kubernetes.io/default-container'])
    container = annotated && names.includes(annotated) ? annotated : (names[0] as string)
    if (!annotated && names.length > 1 && !flagBool(x.f, 'quiet')) note = `Defaulted container "${container}" out of: ${[...names, ...inits.map((i) => `${i} (init)`)].join(', ')}\n`
  }
  if (!names.includes(container) && !inits.includes(container)) throw new ApiError('BadRequest', `container ${container} is not valid for pod ${podName}`)
  const nodeName = str(dig(pod, 'spec', 'nodeName'))
  if (!nodeName) throw new ApiError('BadRequest', `pod ${podName} does not have a host assigned`)
  const host = s.internal.hosts[nodeName]
  if (host && readNodeState(host).services.kubelet?.active !== true) throw new CliError(`Error from server: error dialing backend: dial tcp ${host.address}:10250: connect: connection refused`)
  const st = arr(dig(pod, 'status', 'containerStatuses')).find((c) => dig(c, 'name') === container)
  if (!dig(st, 'state', 'running')) throw new CliError(`error: unable to upgrade connection: container not found ("${container}")`)
  return { pod: podName, container, note }
}

const execId = (seed: string) => Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64)

export async function runExec(x: ExecInput): Promise<number> {
  // what came after `--` is the command; the first argument before it the pod
  const dash = x.argv.indexOf('--')
  let before: string[]
  try {
    before = dash < 0 ? x.f.args : parseFlags(x.argv.slice(0, dash), [...x.globalFlags, ...EXEC_FLAGS]).args.slice(1)
  } catch (e) {
    if (e instanceof FlagError) throw new CliError(`error: ${e.message}`)
    throw e
  }
  if (dash < 0 && x.f.args.length > 1) throw new CliError("error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples")
  const command = dash < 0 ? [] : x.f.args.slice(before.length)
  const target = before[0]
  if (!target) throw new CliError(`error: pod, type/name or --filename must be specified\nSee 'kubectl exec -h' for help and examples`)
  if (x.f.flags.has('filename')) throw new CliError('error: the zxlab kubectl stand-in does not implement kubectl exec -f')
  if (!command.length) throw new CliError("error: you must specify at least one command for the container\nSee 'kubectl exec -h' for help and examples")
  const timeoutArg = flagStr(x.f, 'pod-running-timeout') ?? '1m0s'
  const timeout = parseDuration(timeoutArg)
  if (timeout === undefined || timeout <= 0) throw new CliError(`error: --pod-running-timeout must be higher than zero`)
  if (flagBool(x.f, 'tty') && flagBool(x.f, 'stdin') && !flagBool(x.f, 'quiet')) x.io.err('Unable to use a TTY - input is not a terminal or the right kind of file\n')
  const stdin = flagBool(x.f, 'stdin') ? Buffer.from(x.io.stdin(), 'utf8') : Buffer.alloc(0)

  // wait (real time) for the workload to have a pod, as kubectl does
  const deadline = Date.now() + timeout
  let picked: Picked | undefined
  for (;;) {
    picked = x.onCluster(x.conn, (s) => pick(s, x, target))
    if (picked || Date.now() >= deadline) break
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(10, deadline - Date.now()))))
  }
  if (!picked) throw new CliError('error: timed out waiting for the condition')
  const p = picked
  if (p.note) x.io.err(p.note)

  // run it against the cluster as it is now; a job starting is recorded at once
  const o = x.onCluster(x.conn, (s) => {
    const pod = getObj(s, '', 'Pod', x.ns, p.pod) as Obj
    const rec = containerRecords(s)[containerKey(pod, p.container)]
    if (!rec) throw new CliError(`error: unable to upgrade connection: container not found ("${p.container}")`)
    const node = getObj(s, '', 'Node', undefined, String(dig(pod, 'spec', 'nodeName')))
    const now = clock.now()
    const c = [...arr(dig(pod, 'spec', 'containers')), ...arr(dig(pod, 'spec', 'initContainers'))].find((k) => dig(k, 'name') === p.container) as Obj
    const out = startIn(runtimeOf(s, pod, c, rec, node, now), command, 'exec', stdin)
    if (!out.notFound && !out.blocked) for (const e of out.effects) if (e.kind === 'ray-job') startJob(s, e, now)
    return out
  })
  if (o.notFound) throw new CliError(`error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "${execId(`${p.pod}/${command.join(' ')}`)}": OCI runtime exec failed: exec failed: unable to start container process: ${notFoundText(command[0] as string)}`)
  if (o.blocked) throw new CliError(`zxlab: "${command.join(' ')}" keeps running in the container (it would never return); the stand-in does not hold an exec open forever`)
  if (o.ms > 0) await clock.sleep(o.ms)
  if (o.out.length) x.io.out(o.out.toString('utf8'))
  if (o.err) x.io.err(o.err)
  if (o.code !== 0) {
    x.io.err(`command terminated with exit code ${o.code}\n`)
    return o.code
  }
  return 0
}
