// zxplay's inventory judged by Ansible's: every inventory in ../shared/data/ansible-inventories/
// (real projects' and Ansible's own) and a fixture per feature are loaded by zxplay and by Debian's
// `ansible-inventory`; hosts, groups, membership and every variable must be the same
// (`--list`, `--graph`). No expected value is written here: Ansible's output is the expectation.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadInventory, type LoadOptions } from '../../lib/inventory/inventory.ts'
import { graphInventory, listInventory } from '../../lib/inventory/inventory-list.ts'
import { tempDir } from '../unit/_helpers.ts'
import { ansibleInventory } from './_ansible.ts'

const run = promisify(execFile)
const REPO = path.resolve(import.meta.dirname, '../..')
const SHARED = path.resolve(REPO, '../shared/data/ansible-inventories')
const FIXTURES = path.join(REPO, 'test/fixtures/inventories')
// Ansible runs in an empty folder with an empty home: no ansible.cfg or ANSIBLE_* setting of this machine counts.
const home = tempDir('ansible-home')
// A source Ansible cannot parse is an error, not a warning and an empty inventory that zxplay would "agree" with.
const ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: home.dir,
  ANSIBLE_NOCOLOR: '1',
  ANSIBLE_INVENTORY_UNPARSED_FAILED: '1',
  ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: '1',
  LC_ALL: 'C.UTF-8',
}
test.after(home.remove)

type Case = { name: string; sources: string[]; playbookDir?: string }

function sharedCases(): Case[] {
  const cases: Case[] = []
  for (const folder of fs.readdirSync(SHARED).sort()) {
    const dir = path.join(SHARED, folder)
    if (!fs.statSync(dir).isDirectory()) continue
    for (const f of fs.readdirSync(dir).sort()) {
      if (fs.statSync(path.join(dir, f)).isFile()) cases.push({ name: `${folder}/${f}`, sources: [path.join(dir, f)] })
    }
  }
  return cases
}

const fixture = (...p: string[]) => path.join(FIXTURES, ...p)
const CASES: Case[] = [
  ...sharedCases(),
  { name: 'INI grammar', sources: [fixture('ini-grammar/hosts.ini')] },
  { name: 'YAML 1.1 scalars, merge keys, !unsafe', sources: [fixture('yaml11/inventory.yml')] },
  { name: 'a folder: every file in Ansible\'s order, its group_vars/ and host_vars/', sources: [fixture('folder')] },
  { name: 'group_vars/ and host_vars/ beside the file: NAME.json, a NAME/ folder, no extension', sources: [fixture('beside-files/inventory.yaml')] },
  { name: 'several -i merged in order, with a host list', sources: [fixture('several/a.yml'), fixture('several/b.ini'), 'h4,h1:2200,'] },
  { name: 'a host list alone', sources: ['one.example.com,two.example.com:2222,[2001:db8::5]:22,'] },
  { name: 'group_vars/ beside the playbooks (--playbook-dir)', sources: [fixture('playbook-dir/inventory.yml')], playbookDir: fixture('playbook-dir') },
  { name: 'ansible_group_priority', sources: [fixture('priority.yml')] },
  { name: 'host ranges, host:port, [v6]:port', sources: [fixture('ports-and-names.yml')] },
  { name: "a section given as one name (hosts: web1)", sources: [fixture('short-forms.yml')] },
  { name: 'a host under ungrouped: and another group; empty sections', sources: [fixture('ungrouped.yml')] },
]

async function ansible(c: Case, mode: string[]): Promise<string> {
  const args = [...c.sources.flatMap((s) => ['-i', s]), ...(c.playbookDir ? ['--playbook-dir', c.playbookDir] : []), ...mode]
  return ansibleInventory(args, { env: ENV, cwd: home.dir })
}

async function zxplay(c: Case) {
  const opts: LoadOptions = c.playbookDir ? { playbookDir: c.playbookDir } : {}
  return loadInventory(c.sources, opts)
}

// --list has everything: groups, their direct hosts and children in order, every host's variables.
for (const c of CASES) {
  test(`ansible-inventory --list agrees: ${c.name}`, async () => {
    const [list, inv] = await Promise.all([ansible(c, ['--list']), zxplay(c)])
    assert.equal(JSON.parse(JSON.stringify(listInventory(inv))), JSON.parse(list))
  })
}

// The command itself: several -i in order, --list and --graph as the user types them.
test('zxplay inventory -i A -i B -i LIST --list / --graph print what ansible-inventory prints', async () => {
  const c = CASES.find((c) => c.name.startsWith('several -i'))!
  const zx = (mode: string) =>
    run(process.execPath, [path.join(REPO, 'bin/zxplay.mjs'), 'inventory', ...c.sources.flatMap((s) => ['-i', s]), mode], { cwd: home.dir, env: { ...process.env, NODE_OPTIONS: '' } })
  const [list, graph, zxList, zxGraph] = await Promise.all([ansible(c, ['--list']), ansible(c, ['--graph']), zx('--list'), zx('--graph')])
  assert.equal(JSON.parse(zxList.stdout), JSON.parse(list))
  assert.is(zxGraph.stdout, graph)
})

// --graph draws the same tree; a few deep or wide ones (each ansible-inventory run costs a second).
for (const [name, group] of [['ansible-docs/usa.yml', 'all'], ['ansible-docs/usa.yml', 'southeast'], ['ansible-docs/complex.ini', 'all'], ['kubespray/hosts.yaml', 'all']] as const) {
  test(`ansible-inventory --graph ${group} agrees: ${name}`, async () => {
    const c = { name, sources: [path.join(SHARED, name)] }
    assert.fixture(graphInventory(await zxplay(c), group), (await ansible(c, ['--graph', group])).trimEnd())
  })
}

test.run()
