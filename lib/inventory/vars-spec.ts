// A playbook's vars, declared: each family (cluster, aws, ray…) is one spec with its defaults, a
// pure check listing every problem at once, and a pure derive. A run checks and derives each family
// once per host, before anything connects, and its tasks read the vars kept then. Pure.
import { InventoryError } from '../base/errors.ts'
import type { Host, Inventory, Vars } from './inventory.ts'

/** One bad var: its key (e.g. `ray.image`) and what was expected. */
export type Problem = { key: string; message: string; /** when the bad value is in another file than the inventory (iamroles.txt) */ file?: string }

/** What a family's check may look at besides the vars: every host and group of the inventory. */
export type InventoryView = Pick<Inventory, 'hosts' | 'groups'>

export type VarsSpec = {
  /** the family, as errors and counters name it */
  name: string
  /** below everything the inventory sets, key by key inside nested maps (Ansible's role defaults) */
  defaults: Vars
  /** every problem of these vars (defaults merged in) for this host; [] when they are good */
  check?: (vars: Vars, host: Host, inventory: InventoryView) => Problem[]
  /** vars computed from checked vars, for keys the inventory leaves unset */
  derive?: (vars: Vars, host: Host) => Vars
}

/** What a playbook declares about its vars (PlaybookDef's fields). */
export type DeclaredVars = { specs?: readonly VarsSpec[]; vars?: Vars; derive?: (vars: Vars, host: Host) => Vars }

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

/** Derived vars under the merged ones: a key the inventory (or a default) sets wins. */
const under = (merged: Vars, derived: Vars): Vars => ({ ...Object.fromEntries(Object.entries(derived).filter(([k]) => merged[k] === undefined)), ...merged })

const defaultsOf = (specs: readonly VarsSpec[]) => specs.reduce<Vars>((acc, s) => withDefaults(s.defaults, acc), {})

/** One family's verdict for one host. */
type Verdict = { problems: Problem[]; derived: Vars }

/**
 * Every host's vars for a set of playbooks, each family checked and derived once per host and kept.
 * `check()` throws every problem at once; `varsFor` gives a playbook's view.
 */
export class VarsTable {
  private readonly verdicts = new Map<Host, Map<VarsSpec, Verdict>>()
  private readonly views = new Map<DeclaredVars, Map<Host, Vars>>()
  private readonly all: VarsSpec[]
  private readonly inventory: InventoryView

  constructor(playbooks: readonly DeclaredVars[], inventory: InventoryView) {
    this.all = [...new Set(playbooks.flatMap((p) => p.specs ?? []))]
    this.inventory = inventory
  }

  private verdict(spec: VarsSpec, host: Host): Verdict {
    const byHost = this.verdicts.get(host) ?? new Map<VarsSpec, Verdict>()
    this.verdicts.set(host, byHost)
    let v = byHost.get(spec)
    if (!v) {
      // every family of the run merged: a family's check may read the keys of the families it builds on
      const merged = withDefaults(host.vars, defaultsOf(this.all))
      const problems = spec.check?.(merged, host, this.inventory) ?? []
      v = { problems, derived: problems.length || !spec.derive ? {} : spec.derive(merged, host) }
      byHost.set(spec, v)
    }
    return v
  }

  /** Every problem of every family on every host, as `file: key: message` lines, in order, each once. */
  problems(hosts: readonly Host[] = this.inventory.hosts): string[] {
    return [...this.found(hosts).keys()]
  }

  /** Throws one InventoryError listing every problem of every family on every host; else returns. */
  check(hosts: readonly Host[] = this.inventory.hosts): void {
    // each problem carries its file (the host's inventory, or the one it names): the fallback is unused
    throwProblems('the inventory', [...this.found(hosts).values()])
  }

  private found(hosts: readonly Host[]): Map<string, Problem & { file: string }> {
    const out = new Map<string, Problem & { file: string }>()
    for (const spec of this.all) {
      for (const host of hosts) {
        const file = String(host.vars.inventory_file ?? 'the inventory')
        for (const p of this.verdict(spec, host).problems) out.set(line(file, p), { ...p, file: p.file ?? file })
      }
    }
    return out
  }

  /** The vars `pb`'s tasks see on `host`: its specs' defaults and derived vars under the inventory's. Throws on bad vars. */
  varsFor(pb: DeclaredVars, host: Host): Vars {
    const byHost = this.views.get(pb) ?? new Map<Host, Vars>()
    this.views.set(pb, byHost)
    const kept = byHost.get(host)
    if (kept) return kept
    const specs = pb.specs ?? []
    const merged = withDefaults(host.vars, withDefaults(pb.vars ?? {}, defaultsOf(specs)))
    const problems = specs.flatMap((s) => this.verdict(s, host).problems)
    throwProblems(String(merged.inventory_file ?? 'the inventory'), problems)
    const fromSpecs = Object.assign({}, ...specs.map((s) => this.verdict(s, host).derived)) as Vars
    const vars = under(merged, { ...fromSpecs, ...(pb.derive?.(merged, host) ?? {}) })
    byHost.set(host, vars)
    return vars
  }
}

/** Throws one InventoryError for `problems` (named after the first, its message every line); else returns. */
export function throwProblems(file: string, problems: readonly Problem[]): void {
  const [first] = problems
  if (!first) return
  const err = new InventoryError(first.file ?? file, first.key, first.message)
  err.message = [...new Set(problems.map((p) => line(file, p)))].join('\n')
  throw err
}

const line = (file: string, p: Problem) => `${p.file ?? file}: ${p.key}: ${p.message}`
