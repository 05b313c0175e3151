// Vars are checked and derived once per run: each family once per host, before anything connects,
// and every task of every playbook reads the vars kept then (lib/inventory/vars-spec.ts, lib/engine/run.ts).
import fs from 'node:fs'
import path from 'node:path'
import { dump } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { parseInventory, type Host, type Vars } from '../../lib/inventory/inventory.ts'
import { plan } from '../../lib/engine/plan.ts'
import { task, type Playbook } from '../../lib/engine/playbook.ts'
import { runPlan } from '../../lib/engine/run.ts'
import { Secrets } from '../../lib/output/secrets.ts'
import { VarsTable, type VarsSpec } from '../../lib/inventory/vars-spec.ts'
import { awsRoleSpec } from '../../playbooks/support/aws-role.ts'
import { errorOf, localHosts, tempDir } from './_helpers.ts'

const { dir: tmp, remove } = tempDir('vars-spec')
test.after(remove)

/** A counter per `family host`. */
const counter = () => {
  const n = new Map<string, number>()
  return { n, add: (key: string) => n.set(key, (n.get(key) ?? 0) + 1) }
}

test("a playbook's own derive runs once per host, however many tasks and hosts read its vars", async () => {
  const on = localHosts('a', 'b', 'c')
  const calls = counter()
  const seen: unknown[] = []
  const pb = (id: string) =>
    ({
      id,
      name: id,
      hosts: 'all',
      vars: { size: 1 },
      derive: (v: Vars, h: Host) => (calls.add(`${id} ${h.name}`), { double: Number(v.size) * 2 }),
      tasks: [1, 2, 3].map((i) => task(`t${i}`, (ctx) => void seen.push(ctx.vars.double, ...Object.values(ctx.hostvars).map((h) => h.vars.double)))),
    }) as Playbook
  const playbooks = [pb('p0'), pb('p1')]
  await runPlan(
    playbooks.map((p) => ({ playbook: p, hosts: on.hosts, tasks: p.tasks })),
    on.sessions,
    { check: true, diff: false, verbose: false, forks: 5, taskTimeoutMs: 10_000, templatesDir: '/tmp', secrets: new Secrets(), emit: () => {} }
  )
  for (const s of on.sessions.values()) await s.close()
  assert.is(seen.length, 2 * 3 * 3 * 4, 'every task on every host read its vars and every host’s')
  assert.ok(seen.every((x) => x === 2))
  assert.equal(Object.fromEntries(calls.n), { 'p0 a': 1, 'p0 b': 1, 'p0 c': 1, 'p1 a': 1, 'p1 b': 1, 'p1 c': 1 })
})

test('families: each checked and derived once per host for a multi-playbook run; tasks get the derived vars', async () => {
  const on = localHosts('a', 'b', 'c')
  const checks = counter()
  const derives = counter()
  const spec = (name: string, defaults: Vars): VarsSpec => ({
    name,
    defaults,
    check: (_v, h) => (checks.add(`${name} ${h.name}`), []),
    derive: (v, h) => (derives.add(`${name} ${h.name}`), { [`${name}_host`]: `${name}@${h.name}`, [`${name}_seen`]: Object.keys(v).filter((k) => k in defaults) }),
  })
  const base = spec('base', { x: 1 })
  const extra = spec('extra', { y: 2 })
  const got: Record<string, unknown>[] = []
  const read = task('read', (ctx) => void got.push({ ...ctx.vars }))
  const playbooks = [
    { id: 'p0', name: 'p0', hosts: 'all', specs: [base], tasks: [read, read] },
    { id: 'p1', name: 'p1', hosts: 'all', specs: [base, extra], tasks: [read, read] },
    { id: 'p2', name: 'p2', hosts: 'all', specs: [base, extra], tasks: [read] },
  ] as Playbook[]
  const table = new VarsTable(playbooks, { hosts: on.hosts, groups: new Map() })
  table.check() // what the CLI does before anything connects
  const expected = Object.fromEntries(['base', 'extra'].flatMap((f) => ['a', 'b', 'c'].map((h) => [`${f} ${h}`, 1])))
  assert.equal(Object.fromEntries(checks.n), expected, 'checked once per family per host before the run')
  await runPlan(
    playbooks.map((p) => ({ playbook: p, hosts: on.hosts, tasks: p.tasks })),
    on.sessions,
    { check: true, diff: false, verbose: false, forks: 5, taskTimeoutMs: 10_000, templatesDir: '/tmp', secrets: new Secrets(), emit: () => {}, vars: table }
  )
  for (const s of on.sessions.values()) await s.close()
  assert.equal(Object.fromEntries(checks.n), expected, 'not checked again while the tasks ran')
  assert.equal(Object.fromEntries(derives.n), expected, 'derived once per family per host')
  assert.is(got.length, 5 * 3)
  const p1a = got.find((v) => v.extra_host === 'extra@a')!
  assert.is(p1a.base_host, 'base@a')
  assert.equal([p1a.x, p1a.y], [1, 2])
  assert.ok(got.some((v) => v.base_host && v.extra_host === undefined && v.y === undefined), "p0 sees only its family's vars")
})

test('every bad var of every family on every host in one error, each line once', () => {
  const inv = parseInventory(dump({ all: { vars: { n: 'x' }, hosts: { a: {}, b: { m: 0 } } } }), path.join(tmp, 'inv.yaml'))
  const positive = (key: string): VarsSpec => ({ name: key, defaults: { [key]: 1 }, check: (v) => (typeof v[key] === 'number' && v[key] > 0 ? [] : [{ key, message: `expected a positive number, got ${JSON.stringify(v[key])}` }]) })
  const pbs = [{ id: 'p', name: 'p', hosts: 'all', specs: [positive('n'), positive('m')], tasks: [] }] as Playbook[]
  const e = errorOf(() => new VarsTable(pbs, inv).check())
  assert.instance(e, InventoryError)
  const file = path.join(tmp, 'inv.yaml')
  assert.is(e.message, [`${file}: n: expected a positive number, got "x"`, `${file}: m: expected a positive number, got 0`].join('\n'))
})

test('the real playbooks: a 3-host site and the demo, each family checked once per host (iamroles.txt read once per host)', async () => {
  const site = (await import('../../playbooks/site.mts')).default as Playbook[]
  const demo = (await import('../../playbooks/shap-demo.mts')).default as Playbook
  fs.writeFileSync(path.join(tmp, 'iamroles.txt'), 'arn:aws:iam::123456789012:role/ray\n')
  fs.writeFileSync(path.join(tmp, 'wine.csv'), 'a;b\n1;2\n')
  const file = path.join(tmp, 'three.yaml')
  const children = { control_plane: { hosts: { cp1: { address: '192.0.2.10' } } }, workers: { hosts: { w1: { address: '192.0.2.11' }, w2: { address: '192.0.2.12' } } } }
  fs.writeFileSync(file, dump({ all: { vars: { demo: { data_file: 'wine.csv' } }, children } }))
  const inv = parseInventory(fs.readFileSync(file, 'utf8'), file)
  const playbooks = [...site, demo]
  const specs = [...new Set(playbooks.flatMap((p) => p.specs ?? []))]
  assert.equal(specs.map((s) => s.name), ['cluster', 'ray', 'hpa', 'aws', 'aws role', 'demo'])
  const calls = counter()
  const restore = specs.map((s) => {
    const { check, derive } = s
    s.check = check && ((v, h, i) => (calls.add(`check ${s.name} ${h.name}`), check(v, h, i)))
    s.derive = derive && ((v, h) => (calls.add(`derive ${s.name} ${h.name}`), derive(v, h)))
    return () => Object.assign(s, { check, derive })
  })
  const reads = counter()
  const readFileSync = fs.readFileSync
  fs.readFileSync = ((f: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (String(f).endsWith('iamroles.txt')) reads.add(String(f))
    return (readFileSync as (...a: unknown[]) => unknown)(f, ...rest)
  }) as typeof fs.readFileSync
  try {
    const planned = plan(playbooks, inv, { tags: [], skipTags: [] })
    const table = new VarsTable(planned.map((p) => p.playbook), inv)
    table.check()
    // every task on every host of its playbook, and every host's vars through hostvars
    for (const { playbook, hosts, tasks } of planned) for (const _ of tasks) for (const _h of hosts) for (const h of inv.hosts) table.varsFor(playbook, h)
  } finally {
    fs.readFileSync = readFileSync
    for (const r of restore) r()
  }
  const over = [...calls.n].filter(([, n]) => n > 1)
  assert.equal(over, [], 'at most once per family per host')
  assert.is(calls.n.get('check cluster w2'), 1)
  assert.is(calls.n.get('check aws role cp1'), 1)
  assert.equal(Object.fromEntries(reads.n), { [path.join(tmp, 'iamroles.txt')]: 3 }, 'iamroles.txt read once per host (3 hosts)')
})

test('awsRoleSpec: a configured role file that cannot be read is a problem naming that key; none configured is none', () => {
  const v = (aws: Vars) => ({ inventory_dir: tmp, inventory_file: path.join(tmp, 'inv.yaml'), aws: { role_arn: '', iamroles_file: 'iamroles.txt', ...aws } })
  const h = parseInventory('all: {hosts: {a: {}}}', '/tmp/x.yaml').hosts[0]!
  const inv = { hosts: [h], groups: new Map() }
  assert.equal(awsRoleSpec.check!(v({ iamroles_file: 'missing.txt' }), h, inv).map((p) => p.key), ['aws.iamroles_file'])
  fs.writeFileSync(path.join(tmp, 'roles.txt'), 'not an arn\n')
  assert.equal(awsRoleSpec.check!(v({ iamroles_file: 'roles.txt' }), h, inv).map((p) => [p.file, p.key]), [[path.join(tmp, 'roles.txt'), 'line 1']])
  assert.equal(awsRoleSpec.check!({ ...v({}), inventory_dir: path.join(tmp, 'nowhere') }, h, inv), [], 'no role configured: nothing to read')
})

test.run()
