// A host's vars as a playbook sees them: the playbook's defaults under the inventory's, then what it derives.
import type { Host, Vars } from './inventory.ts'

/** What a playbook adds to a host's vars (PlaybookDef's `vars` and `derive`). */
export type VarsSource = {
  vars?: Vars
  derive?: (vars: Vars, host: Host) => Vars
}

/** A host's vars as a playbook sees them: its defaults, the inventory's, then what it derives. */
export function playbookVars(pb: VarsSource, host: Host): Vars {
  const merged = withDefaults(host.vars, pb.vars ?? {})
  const derived = pb.derive?.(merged, host) ?? {}
  return { ...Object.fromEntries(Object.entries(derived).filter(([k]) => merged[k] === undefined)), ...merged }
}

const isPlainMap = (v: unknown): v is Vars => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * `vars` over `defaults`, key by key inside nested maps: an inventory that sets only
 * `aws.endpoint` keeps the default `aws.region`.
 */
export function withDefaults(vars: Vars, defaults: Vars): Vars {
  const out: Vars = { ...defaults }
  for (const [k, v] of Object.entries(vars)) out[k] = isPlainMap(v) && isPlainMap(defaults[k]) ? withDefaults(v, defaults[k]) : v
  return out
}
