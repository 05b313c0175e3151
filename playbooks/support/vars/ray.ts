// The ray and hpa families of vars: the Ray cluster's image and resources, and its workers'
// HorizontalPodAutoscaler; their defaults, checks (every problem at once) and the one derived var.
// Pure.
import type { Vars, VarsSpec } from '../../../lib/index.ts'
import { showJson } from '../../../lib/base/yaml.ts'
import type { Problem } from '../../../lib/inventory/vars-spec.ts'
import { isCpuQuantity, isImageRef, isMemoryQuantity } from '../validate.ts'
import type { AwsVars } from './aws.ts'
import type { ClusterVars } from './cluster.ts'

export const rayDefaults = {
  namespace: 'ray',
  image: 'rayproject/ray:2.52.0', // the driver's Ray and Python versions must match it
  head_cpu: '1', // requests = limits; Ray advertises ceil(requests.cpu) via MY_CPU_REQUEST
  head_memory: '2Gi',
  worker_cpu: '1',
  worker_memory: '1Gi',
}

export const hpaDefaults = {
  name: 'shap-autoscaler',
  min_replicas: 1,
  max_replicas: 3,
  cpu_utilization: 50, // percent of the workers' CPU requests
  scale_down_stabilization_seconds: 15, // per HPA; the controller flag hpa_downscale_stabilization is cluster-wide
}

/** The vars the Ray playbooks' tasks see. */
export type RayVars = ClusterVars & {
  ray: typeof rayDefaults
  hpa: typeof hpaDefaults
  aws: AwsVars
  /** --refresh: assume the role again even when the credentials are still valid */
  refresh?: boolean
  /** the expiry on the Ray pod templates when there are no credentials (yet): what `zxplay render` shows */
  session_token_expires_at: string
}

const fail = (out: Problem[], key: string, expected: string, got: unknown) => void out.push({ key, message: `expected ${expected}, got ${showJson(got)}` })
const int = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x)

/** Every problem of the ray block. */
export function rayProblems(v: Vars): Problem[] {
  const out: Problem[] = []
  const ray = (v.ray ?? {}) as Record<string, unknown>
  if (typeof ray.namespace !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ray.namespace)) fail(out, 'ray.namespace', 'a namespace name (lowercase letters, digits, -)', ray.namespace)
  if (!isImageRef(ray.image)) fail(out, 'ray.image', 'an image reference like rayproject/ray:2.52.0', ray.image)
  for (const role of ['head', 'worker']) {
    const cpu = ray[`${role}_cpu`]
    if (!isCpuQuantity(cpu) || Number.parseFloat(cpu) <= 0) fail(out, `ray.${role}_cpu`, "a CPU quantity above zero like '1' or '500m' (the HPA measures against it)", cpu)
    const mem = ray[`${role}_memory`]
    if (!isMemoryQuantity(mem) || Number.parseFloat(mem) <= 0) fail(out, `ray.${role}_memory`, "a memory quantity like '1Gi' or '512Mi'", mem)
  }
  return out
}

/** Every problem of the hpa block. */
export function hpaProblems(v: Vars): Problem[] {
  const out: Problem[] = []
  const hpa = (v.hpa ?? {}) as Record<string, unknown>
  if (typeof hpa.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(hpa.name)) fail(out, 'hpa.name', 'an object name (lowercase letters, digits, - and .)', hpa.name)
  const { min_replicas: min, max_replicas: max, cpu_utilization: cpu, scale_down_stabilization_seconds: window } = hpa
  if (!int(min) || min < 1) fail(out, 'hpa.min_replicas', 'an integer of at least 1', min)
  if (!int(max) || max < Number(min)) fail(out, 'hpa.max_replicas', `an integer of at least hpa.min_replicas (${String(min)})`, max)
  if (!int(cpu) || cpu < 1) fail(out, 'hpa.cpu_utilization', 'a percentage of the CPU request, an integer of at least 1', cpu)
  if (!int(window) || window < 0 || window > 3600) fail(out, 'hpa.scale_down_stabilization_seconds', 'an integer from 0 to 3600', window)
  return out
}

export const raySpec: VarsSpec = {
  name: 'ray',
  defaults: { ray: rayDefaults },
  check: rayProblems,
  derive: () => ({ session_token_expires_at: 'none' }),
}

export const hpaSpec: VarsSpec = { name: 'hpa', defaults: { hpa: hpaDefaults }, check: hpaProblems }
