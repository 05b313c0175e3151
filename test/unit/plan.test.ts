import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PatternError, UsageError } from '../../lib/base/errors.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { plan, type Selection } from '../../lib/engine/plan.ts'
import { playbook, task } from '../../lib/engine/playbook.ts'
import { errorOf } from './_helpers.ts'

const inv = parseInventory(
  `
all:
  children:
    web: {hosts: {web1: {address: 10.0.0.1}, web2: {address: 10.0.0.2}}}
    db: {hosts: {db1: {address: 10.0.0.3}}}
`,
  'inventory.yaml'
)

const run = () => {}
const playbooks = [
  playbook({
    name: 'Prepare hosts',
    hosts: 'all',
    tasks: [
      task('facts are fresh', { tags: ['always'] }, run),
      task('packages are installed', { tags: ['packages'] }, run),
      task('swap is off', run),
    ],
  }),
  playbook({
    name: 'Install Postgres',
    hosts: 'db',
    tags: ['db'],
    tasks: [task('postgres is installed', { tags: ['packages'] }, run), task('postgres is running', run)],
  }),
  playbook({
    name: 'Web servers',
    hosts: 'web',
    tasks: [task('nginx is installed', { tags: ['packages', 'web'] }, run), task('Site Is Deployed', { tags: ['deploy'] }, run)],
  }),
]

/** selection → one line per playbook: `id [hosts]: task, task` */
const _ = (sel: Partial<Selection>, expected: string[]) => () =>
  assert.equal(
    plan(playbooks, inv, { tags: [], skipTags: [], ...sel }).map(
      (p) => `${p.playbook.id} [${p.hosts.map((h) => h.name).join(' ')}]: ${p.tasks.map((t) => t.name).join(', ')}`
    ),
    expected
  )

const ALL = [
  'prepare-hosts [web1 web2 db1]: facts are fresh, packages are installed, swap is off',
  'install-postgres [db1]: postgres is installed, postgres is running',
  'web-servers [web1 web2]: nginx is installed, Site Is Deployed',
]

test('everything', _({}, ALL))
test('a tag; always-tagged tasks too', _({ tags: ['web'] }, ['prepare-hosts [web1 web2 db1]: facts are fresh', 'install-postgres [db1]: ', 'web-servers [web1 web2]: nginx is installed']))
test('a tag shared by several tasks', _({ tags: ['packages'] }, ['prepare-hosts [web1 web2 db1]: facts are fresh, packages are installed', 'install-postgres [db1]: postgres is installed', 'web-servers [web1 web2]: nginx is installed']))
test('a playbook-level tag selects all its tasks', _({ tags: ['db'] }, ['prepare-hosts [web1 web2 db1]: facts are fresh', 'install-postgres [db1]: postgres is installed, postgres is running', 'web-servers [web1 web2]: ']))
test('two tags: either', _({ tags: ['db', 'deploy'] }, ['prepare-hosts [web1 web2 db1]: facts are fresh', 'install-postgres [db1]: postgres is installed, postgres is running', 'web-servers [web1 web2]: Site Is Deployed']))
test('untagged: tasks without tags, incl. the playbook’s', _({ tags: ['untagged'] }, ['prepare-hosts [web1 web2 db1]: facts are fresh, swap is off', 'install-postgres [db1]: ', 'web-servers [web1 web2]: ']))
test('only always', _({ tags: ['always'] }, ['prepare-hosts [web1 web2 db1]: facts are fresh', 'install-postgres [db1]: ', 'web-servers [web1 web2]: ']))
test('skip-tags', _({ skipTags: ['packages'] }, ['prepare-hosts [web1 web2 db1]: facts are fresh, swap is off', 'install-postgres [db1]: postgres is running', 'web-servers [web1 web2]: Site Is Deployed']))
test('skip-tags by playbook tag', _({ skipTags: ['db'] }, [ALL[0]!, 'install-postgres [db1]: ', ALL[2]!]))
test('skip-tags always skips always', _({ skipTags: ['always'] }, ['prepare-hosts [web1 web2 db1]: packages are installed, swap is off', ALL[1]!, ALL[2]!]))
test('skip-tags wins over tags', _({ tags: ['packages'], skipTags: ['web'] }, ['prepare-hosts [web1 web2 db1]: facts are fresh, packages are installed', 'install-postgres [db1]: postgres is installed', 'web-servers [web1 web2]: ']))
test('limit intersects each playbook’s hosts', _({ limit: 'web1:db1' }, ['prepare-hosts [web1 db1]: facts are fresh, packages are installed, swap is off', 'install-postgres [db1]: postgres is installed, postgres is running', 'web-servers [web1]: nginx is installed, Site Is Deployed']))
test('limit outside a playbook’s hosts leaves it none', _({ limit: 'db' }, ['prepare-hosts [db1]: facts are fresh, packages are installed, swap is off', ALL[1]!, 'web-servers []: nginx is installed, Site Is Deployed']))
test('start-at a playbook id', _({ startAt: 'install-postgres' }, [ALL[1]!, ALL[2]!]))
test('start-at a playbook name, any case', _({ startAt: 'web SERVERS' }, [ALL[2]!]))
test('start-at the first playbook', _({ startAt: 'prepare-hosts' }, ALL))
test('start-at a task, any case', _({ startAt: 'site is deployed' }, ['web-servers [web1 web2]: Site Is Deployed']))
test('start-at a task mid-playbook', _({ startAt: 'Packages are installed' }, ['prepare-hosts [web1 web2 db1]: packages are installed, swap is off', ALL[1]!, ALL[2]!]))
test('start-at with tags', _({ startAt: 'postgres is running', tags: ['packages'] }, ['install-postgres [db1]: ', 'web-servers [web1 web2]: nginx is installed']))

/** selection → the error's class and message */
const fails = (sel: Partial<Selection>, type: typeof UsageError | typeof PatternError, message: string) => () => {
  const e = errorOf(() => plan(playbooks, inv, { tags: [], skipTags: [], ...sel }))
  assert.instance(e, type)
  assert.is(e.message, message)
}

test('unknown tag lists the known ones', fails({ tags: ['pkgs'] }, UsageError, "unknown tag 'pkgs': the selected playbooks have always, db, deploy, packages, web (and all, always, never, tagged, untagged)"))
test('unknown skip-tag too', fails({ skipTags: ['nope'] }, UsageError, "unknown tag 'nope': the selected playbooks have always, db, deploy, packages, web (and all, always, never, tagged, untagged)"))
test('unknown tag, no tags at all', () => {
  const e = errorOf(() => plan([playbook({ name: 'x', hosts: 'all', tasks: [task('t', run)] })], inv, { tags: ['a'], skipTags: [] }))
  assert.is(e.message, "unknown tag 'a': the selected playbooks have no tags (and all, always, never, tagged, untagged)")
})
test('limit matching nothing', fails({ limit: 'cache*' }, PatternError, "host pattern 'cache*': no host or group matches 'cache*'"))
test('limit excluding everything', fails({ limit: 'all:!web:!db' }, PatternError, "host pattern 'all:!web:!db': matches no hosts"))
test('empty limit is not all hosts', fails({ limit: '' }, PatternError, "host pattern '': empty pattern (expected all, a host or group name, or a glob like web*)"))
test('start-at matching nothing', fails({ startAt: 'deploy' }, UsageError, "--start-at 'deploy' names no playbook or task in prepare-hosts, install-postgres, web-servers"))

test('a playbook whose hosts match nothing is a PatternError', () => {
  const pb = playbook({ name: 'Caches', hosts: 'cache', tasks: [task('t', run)] })
  assert.instance(
    errorOf(() => plan([pb], inv, { tags: [], skipTags: [] })),
    PatternError
  )
})

test.run()
