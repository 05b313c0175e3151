// Injection: every hostile value (hostile.ts) goes
//   - into every inventory variable that reaches a template or a remote command, through the same
//     code the CLI runs (the inventory's checks, each playbook's derive hook, the templates): it is
//     rejected as bad input naming the key, or every template still parses to the same shape;
//   - to the lab hosts through every way a task passes a value (test/fixtures/faults/inject.mts):
//     it comes back byte for byte, or (NUL) the task refuses it;
//   - for every tenth value, into the real CLI: `run site --check` with all cluster vars set to it,
//     `become_user` and `user` set to it;
// and no canary file ever appears, on any host or here.
import fs from 'node:fs'
import path from 'node:path'
import { dump, loadAll } from 'js-yaml'
import { InventoryError } from '../../lib/base/errors.ts'
import { parseInventory, type Host, type Inventory, type Vars } from '../../lib/inventory/inventory.ts'
import { playbookVars, type Playbook } from '../../lib/engine/playbook.ts'
import { VarsTable } from '../../lib/inventory/vars-spec.ts'
import { renderFile } from '../../lib/engine/template.ts'
import { connectionVars } from '../../lib/engine/context.ts'
import { metricsServerArgs } from '../../playbooks/support/vars/cluster.ts'
import { REPO, type Lab } from '../../lab/netns/lab.ts'
import { FIXTURES, runCli, runJson, tmpDir } from '../e2e/helpers.ts'
import { failWith, type Case } from './harness.ts'
import { hostileValues, type Hostile } from './hostile.ts'
import { acceptedConnections, canaryPaths, connectedHosts, existing } from './probes.ts'

/** Where a value is put: a top-level var, a nested one (ray.namespace), or a connection setting. */
type Placement = { key: string; extra: (v: string) => Vars }

const top = (key: string): Placement => ({ key, extra: (v) => ({ [key]: v }) })
const nested = (block: string, key: string): Placement => ({ key: `${block}.${key}`, extra: (v) => ({ [block]: { [key]: v } }) })

const PLACEMENTS: Placement[] = [
  ...['kubernetes_version', 'kubernetes_package_revision', 'containerd_package', 'cri_socket', 'pod_subnet', 'service_subnet', 'hpa_downscale_stabilization', 'flannel_version', 'flannel_cni_plugin_version', 'flannel_manifest', 'metrics_server_version', 'metric_resolution', 'kubelet_insecure_tls', 'schedule_on_control_plane', 'wait_timeout'].map(top),
  ...['kubernetes_tag', 'node_name', 'advertise_address'].map(top),
  ...['namespace', 'image', 'head_cpu', 'head_memory', 'worker_cpu', 'worker_memory'].map((k) => nested('ray', k)),
  ...['name', 'min_replicas', 'max_replicas', 'cpu_utilization', 'scale_down_stabilization_seconds'].map((k) => nested('hpa', k)),
  ...['address', 'user', 'become_user'].map(top),
]

type Shared = {
  lab: Lab
  site: Playbook[]
  inventoryText: string
  templates: { file: string; shapes: string[] }[]
  /** per value: what the inject fixture found on each host */
  onHosts: Map<number, { host: string; problems: string[] }[]>
  injectRun: { code: number | null; ms: number }
}

export function injectionCases(lab: () => Lab): Case[] {
  const values = hostileValues()
  let shared: Promise<Shared> | undefined
  const setup = () => (shared ??= prepare(lab(), values))
  return values.map((h, i) => ({
    group: 'injection' as const,
    name: `value ${String(i).padStart(3, '0')} ${h.label}`,
    run: async () => checkValue(await setup(), h, i),
  }))
}

async function prepare(lab: Lab, values: Hostile[]): Promise<Shared> {
  const site = (await import('../../playbooks/site.mts')).default as Playbook[]
  const inventoryText = fs.readFileSync(lab.inventory, 'utf8')
  const base = parseInventory(inventoryText, lab.inventory)
  const vars = templateVars(site, base.hosts[0]!)
  const templates = await Promise.all(templateFiles().map(async (file) => ({ file, shapes: shapesOf(await renderFile(file, vars)) })))
  // One run of the fixture with every value: one task per value, on every host.
  const dir = tmpDir()
  const list = path.join(dir, 'values.json')
  fs.writeFileSync(list, JSON.stringify(values.map((v) => v.value)))
  const found = path.join(dir, 'results.jsonl')
  const r = await runJson(['run', path.join(FIXTURES, 'faults/inject.mts'), '-i', lab.inventory, '-e', 'inject_dir=/tmp/zxfault-inject', '--log-dir', path.join(dir, 'logs')], {
    env: { ZXFAULT_INJECT_FILE: list, ZXFAULT_INJECT_RESULTS: found },
    timeoutMs: 300_000,
  })
  const onHosts = new Map<number, { host: string; problems: string[] }[]>()
  const lines = fs.existsSync(found) ? fs.readFileSync(found, 'utf8').split('\n').filter(Boolean) : []
  for (const { i, host, problems } of lines.map((l) => JSON.parse(l) as { i: number; host: string; problems: string[] })) {
    onHosts.set(i, [...(onHosts.get(i) ?? []), { host, problems }])
  }
  return { lab, site, inventoryText, templates, onHosts, injectRun: { code: r.code, ms: r.ms } }
}

function templateFiles(): string[] {
  const root = path.join(REPO, 'templates')
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name))
      else if (/\.ya?ml$/.test(e.name)) out.push(path.join(d, e.name))
    }
  }
  walk(root)
  return out.sort()
}

/** The vars a template is rendered with: a Ray playbook's (the cluster defaults, every check), plus what tasks add. */
function templateVars(site: Playbook[], host: Host): Vars {
  const pb = site.find((p) => p.id === '85-ray') ?? site.at(-1)!
  const v = playbookVars(pb, host)
  return {
    ...connectionVars(host),
    ...v,
    advertise_address: v.advertise_address ?? host.address,
    metrics_server_args: metricsServerArgs(v as Parameters<typeof metricsServerArgs>[0]),
    session_token_expires_at: 'pending',
  }
}

/** The shape of each YAML document: maps' keys and lists' lengths, every scalar alike. */
function shapesOf(text: string): string[] {
  const shape = (x: unknown): string =>
    Array.isArray(x) ? `[${x.map(shape).join(',')}]` : x && typeof x === 'object' ? `{${Object.keys(x).sort().map((k) => `${k}:${shape((x as Vars)[k])}`).join(',')}}` : '.'
  return loadAll(text).map(shape)
}

type Tally = { placements: number; rejected: number; rendered: number; ran: number }

async function checkValue(s: Shared, h: Hostile, i: number) {
  const tally: Tally = { placements: 0, rejected: 0, rendered: 0, ran: 0 }
  const problems: string[] = []
  for (const p of PLACEMENTS) {
    tally.placements++
    const outcome = await place(s, p, h.value)
    if (outcome === 'rejected') tally.rejected++
    else if (outcome === 'rendered') tally.rendered++
    else problems.push(`${p.key}: ${outcome}`)
  }

  // on the hosts, through every way a task passes a value
  const runs = s.onHosts.get(i) ?? []
  if (runs.length !== s.lab.hosts.length) problems.push(`the inject fixture ran on ${runs.length} host(s) (exit ${s.injectRun.code})`)
  // a NUL cannot be in a shell argument: the command must be refused, not run with a shorter value
  const nul = h.value.includes('\0')
  const refused = (r: { problems: string[] }) => r.problems.length === 1 && /^error: cannot put a value with a NUL character into a command/.test(r.problems[0]!)
  for (const r of runs) if (nul ? !refused(r) : r.problems.length) problems.push(`${r.host}: ${r.problems.join('; ')}`)
  tally.placements += runs.length
  tally.rendered += runs.filter((r) => !r.problems.length).length
  tally.rejected += runs.filter((r) => nul && refused(r)).length

  // the real CLI, for every tenth value
  if (i % 10 === 0) {
    for (const p of await throughCli(s.lab, h.value)) problems.push(p)
    tally.placements += 3
  }

  const canaries = existing(canaryPaths(s.lab, h.canary).concat(path.join('/root', h.canary), path.join(REPO, h.canary)))
  tally.ran = canaries.length ? 1 : 0
  if (canaries.length) problems.push(`the payload ran: ${canaries.join(', ')}`)
  if (problems.length) throw failWith(problems.join('\n'), tally)
  return { note: `${tally.rejected} rejected, ${tally.rendered} intact`, counts: tally }
}

/** One placement in-process, as the CLI would see it before connecting: 'rejected', 'rendered', or what went wrong. */
async function place(s: Shared, p: Placement, value: string): Promise<string> {
  const rejected = (e: unknown) => {
    if (!(e instanceof InventoryError)) return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`
    const key = p.key.split('.').at(-1)!
    return e.message.includes(key) ? 'rejected' : `rejected without naming ${p.key}: ${e.message.split('\n')[0]}`
  }
  let hosts: Host[]
  let inventory: Inventory
  try {
    inventory = parseInventory(s.inventoryText, s.lab.inventory, p.extra(value))
    hosts = inventory.hosts
  } catch (e) {
    return rejected(e)
  }
  try {
    new VarsTable(s.site, inventory).check() // as the CLI does before anything connects
  } catch (e) {
    return rejected(e)
  }
  let vars: Vars
  try {
    vars = templateVars(s.site, hosts[0]!)
  } catch (e) {
    return `the templates' vars could not be made: ${(e as Error).message}`
  }
  for (const t of s.templates) {
    let text: string
    try {
      text = await renderFile(t.file, vars)
    } catch (e) {
      return `${path.basename(t.file)} did not render: ${(e as Error).message}`
    }
    let shapes: string[]
    try {
      shapes = shapesOf(text)
    } catch (e) {
      return `${path.relative(REPO, t.file)} is no longer valid YAML: ${(e as Error).message.split('\n')[0]}`
    }
    if (JSON.stringify(shapes) !== JSON.stringify(t.shapes)) return `${path.relative(REPO, t.file)} changed shape`
  }
  return 'rendered'
}

/** The value through the CLI: as every cluster var (bad input: exit 5, nothing connects), as become_user and as user. */
async function throughCli(lab: Lab, value: string): Promise<string[]> {
  const problems: string[] = []
  const dir = tmpDir()
  const varsFile = (vars: Vars) => {
    const f = path.join(dir, `vars-${Object.keys(vars)[0]}.yaml`)
    fs.writeFileSync(f, dump(vars))
    return `@${f}`
  }
  const allVars = Object.assign({}, ...PLACEMENTS.filter((p) => !['address', 'user', 'become_user'].includes(p.key)).map((p) => p.extra(value))) as Vars
  const before = acceptedConnections(lab)
  const check = await runCli(['run', 'site', '--check', '-i', lab.inventory, '-e', varsFile(allVars), '--log-dir', path.join(dir, 'logs')], { timeoutMs: 60_000 })
  if (check.code !== 5) problems.push(`run site --check with every cluster var hostile: exit ${check.code}, expected 5\n${check.stderr.slice(0, 400)}`)
  if (connectedHosts(before, acceptedConnections(lab)).length) problems.push('run site --check with hostile vars connected to a host')

  const become = await runCli(['run', path.join(FIXTURES, 'playbooks/parallel.mts'), '--tags', 'become', '--limit', 'node1', '-i', lab.inventory, '-e', varsFile({ become_user: value }), '--log-dir', path.join(dir, 'logs')], { timeoutMs: 60_000 })
  // sudo refuses a user that does not exist (2), or the inventory refuses the name (5)
  if (become.code !== 2 && become.code !== 5) problems.push(`become_user hostile: exit ${become.code}, expected 2 or 5\n${become.stdout.slice(-400)}${become.stderr.slice(0, 400)}`)

  const user = await runCli(['ping', 'node1', '-i', lab.inventory, '-e', varsFile({ user: value }), '--log-dir', path.join(dir, 'logs')], { timeoutMs: 60_000 })
  // sshd refuses the login (4), or the inventory refuses the name (5)
  if (user.code !== 4 && user.code !== 5) problems.push(`user hostile: exit ${user.code}, expected 4 or 5\n${user.stdout.slice(-400)}${user.stderr.slice(0, 400)}`)
  return problems
}
