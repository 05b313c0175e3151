// What runs inside a container of the stand-in cluster: the image's programs (the base
// commands everywhere, Ray's for rayproject/ray images), the environment of the running
// instance, its files, and how a command is started in it — by `kubectl exec`, by an exec
// probe, or as the container's own process.
import { containerArgv, containerFs } from './_container.ts'
import type { ContainerRecord } from './_container.ts'
import type { HostFacts } from './_host-facts.ts'
import { withShells } from './_coreutils.ts'
import { dig, isObj, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { isRayImage, RAY_IMAGE_ENV, rayPrograms } from './_ray.ts'
import type { RayNode } from './_ray.ts'
import { outcome, programName, runProgram } from './_shell.ts'
import type { Fs, Mode, Outcome, Programs } from './_shell.ts'
import { metaOf } from './_store.ts'
import type { Store } from './_store.ts'

// What the controllers pass a container's behaviour, and what it answers (the controllers run
// them; they live here so that this module needs nothing from the controllers).
export type Env = {
  s: Store
  now: number
  startMs: number
  facts: Map<string, HostFacts>
  factsOf(node: string): HostFacts | undefined
  /** Files written on hosts (CNI installers): a change a pass makes outside the store. */
  hostWrites: number
}

export type RunResult = { state: 'ok' | 'crash' | 'unready'; log: string[]; exitCode?: number; reason?: string }

export type Behavior = {
  /** Is this container one of ours? */
  matches(c: Obj, pod: Obj): boolean
  /** What it does on this node: crash (with logs, exit code), run but never become ready, or run. */
  run(c: Obj, pod: Obj, env: Env, node: Obj, rec: ContainerRecord): RunResult
  /** A process with state: once it exited it only comes back through a restart (else re-evaluated each pass). */
  restartsOnly?: boolean
}

const DEFAULT_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' }

export type Runtime = { programs: Programs; fs: Fs; env: Record<string, string> }

/** The programs, files and environment of a running container instance. */
export function runtimeOf(s: Store, pod: Obj, c: Obj, rec: ContainerRecord, node: Obj | undefined, now: number): Runtime {
  const fs = containerFs(s, pod, c)
  const ray = isRayImage(c.image)
  const extra = ray ? rayPrograms({ s, pod, c, rec, node, now }, fs) : {}
  const hostname = str(dig(pod, 'spec', 'hostname')) ?? String(metaOf(pod).name)
  return { programs: withShells(extra), fs, env: { ...(ray ? RAY_IMAGE_ENV : DEFAULT_ENV), HOSTNAME: hostname, ...rec.env } }
}

/** Start argv in the container (no shell unless argv[0] is one); notFound when there is no such executable. */
export function startIn(rt: Runtime, argv: string[], mode: Mode, stdin: Buffer = Buffer.alloc(0)): Outcome & { notFound?: boolean } {
  const name = argv[0] ?? ''
  const prog = rt.programs[programName(name)]
  if (!prog || (name.includes('/') && !name.startsWith('/'))) return { ...outcome({ code: 127 }), notFound: true }
  return runProgram(prog, argv, rt.env, stdin, rt.programs, rt.fs, mode)
}

/** containerd's words when an exec'd or started executable does not exist. */
export const notFoundText = (name: string) => `exec: "${name}": executable file not found in $PATH: unknown`

export type ProbeResult = { pass: boolean; output: string }

/**
 * One run of an exec probe (httpGet / tcpSocket / grpc probes are not modelled and pass).
 * Fails on a non-zero exit, a missing executable, or a command that outlasts timeoutSeconds.
 */
export function runProbe(rt: Runtime, probe: unknown): ProbeResult {
  const cmd = dig(probe, 'exec', 'command')
  if (!isObj(dig(probe, 'exec')) || !Array.isArray(cmd)) return { pass: true, output: '' }
  const o = startIn(rt, cmd.map(String), 'exec')
  if (o.notFound) return { pass: false, output: `OCI runtime exec failed: exec failed: unable to start container process: ${notFoundText(String(cmd[0]))}` }
  const timeout = Number(dig(probe, 'timeoutSeconds') ?? 1) * 1000
  if (o.blocked || o.ms > timeout) return { pass: false, output: `command timed out after ${timeout / 1000}s` }
  return { pass: o.code === 0, output: (o.out.toString('utf8') + o.err).trim() }
}

/**
 * A rayproject/ray container: its command runs through the stand-in shell with Ray's programs.
 * While the process runs (`ray start --block`, or a daemon after it) the container runs and its
 * Ray node is what `ray start` started; when it exits the container exits with its code.
 */
export const rayBehavior: Behavior = {
  restartsOnly: true,
  matches: (c) => isRayImage(c.image),
  run(c, pod, env, node, rec) {
    const rt = runtimeOf(env.s, pod, c, rec, node, env.now)
    const argv = containerArgv(c, rec.env)
    // the image's default command is bash: with no terminal it reads nothing and exits
    const o = startIn(rt, argv.length ? argv : ['bash'], 'main')
    if (o.notFound) return { state: 'crash', exitCode: 128, reason: 'StartError', log: [`failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${notFoundText(String(argv[0]))}`] }
    const text = o.out.toString('utf8') + o.err
    const log = text ? text.replace(/\n$/, '').split('\n') : []
    if (!o.blocked) {
      delete rec.proc
      return { state: 'crash', exitCode: o.code, log }
    }
    const started = o.effects.find((e) => e.kind === 'ray-node')
    if (started) rec.proc = started.node as RayNode & Obj
    else delete rec.proc
    return { state: 'ok', log }
  },
}
