// ctx.ensure's operations on their own (lib/engine/ops.ts), replayed in a one-task playbook: the
// variants the project's playbooks do not use, --diff with a secret, and the refusals.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { playbook, task, type Context } from '../../../lib/index.ts'
import { replay, type World } from './replay.ts'

const one = (run: (ctx: Context) => Promise<unknown>) => playbook({ name: 'ops', hosts: 'all', become: true, tasks: [task('t', async (ctx) => void (await run(ctx)))] })
const play = (run: (ctx: Context) => Promise<unknown>, world: World = {}) => replay(one(run), 't', world)

test('service: running only → systemctl start; enabled only → enable; asked for nothing → refused', async () => {
  const start = await play((c) => c.ensure.service('app', { running: true }), { hosts: { cp1: { commands: [['systemctl is-active --quiet app', 3]] } } })
  assert.equal([start.status, start.changes], ['changed', ['systemctl start app']])
  const up = await play((c) => c.ensure.service('app', { running: true }), { hosts: { cp1: { commands: [['systemctl is-active --quiet app', 0]] } } })
  assert.equal([up.status, up.reason, up.changes], ['ok', 'active', []])
  const none = await play((c) => c.ensure.service('app', {}))
  assert.match(`${none.status} ${none.reason}`, /^failed ensure.service\(app\): say enabled and\/or running/)
})

test('packages: without a version, installed ones are left alone; missing ones installed without apt-get update', async () => {
  const q = "dpkg-query -W -f=$'${Package} ${Version}\\n' curl jq"
  const half = await play((c) => c.ensure.packages(['curl', 'jq']), { hosts: { cp1: { commands: [[q, { stdout: 'curl 8.14.1-2\njq \n', exit: 1 }]] } } })
  assert.equal(half.changes, ['DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl jq'])
  const all = await play((c) => c.ensure.packages(['curl', 'jq']), { hosts: { cp1: { commands: [[q, 'curl 8.14.1-2\njq 1.7.1-6\n']] } } })
  assert.equal([all.status, all.reason, all.changes], ['ok', 'curl 8.14.1-2, jq 1.7.1-6', []])
})

test('file: a secret file changes with its diff hidden and its content in no event; under --check nothing is written', async () => {
  const secret = `token-${process.pid}-${Date.now()}`
  const r = await play((c) => c.ensure.file('/etc/app/token', `${secret}\n`, { mode: '0600', secret: true }), { diff: true, hosts: { cp1: { files: { '/etc/app/token': { content: 'old-token\n', mode: '600' } } } } })
  assert.equal([r.status, r.changes, r.diffs], ['changed', ['upload /etc/app/token (mode 600)'], [{ file: '/etc/app/token', diff: '(content of /etc/app/token is secret: diff hidden)' }]])
  assert.not.match(JSON.stringify(r.events), new RegExp(`${secret}|old-token`))
  const check = await play((c) => c.ensure.file('/etc/app/conf', 'a=1\n'), { check: true })
  assert.equal([check.status, check.uploads, check.executed, check.changes], ['changed', [], [], ['upload /etc/app/conf (mode 644)']])
})

test("replaced: '|' in the expression is refused (it is sed's delimiter here), nothing run", async () => {
  const r = await play((c) => c.ensure.replaced('/etc/fstab', 'a|b', 'c'))
  assert.match(`${r.status} ${r.reason}`, /^failed ensure.replaced: '\|' is sed's delimiter/)
  assert.equal(r.received, [])
})

test('the ok reason lists what each operation found already so', async () => {
  const r = await play(
    async (c) => {
      await c.ensure.directory('/srv/app')
      await c.ensure.held(['kubelet'])
    },
    { hosts: { cp1: { commands: [['[ -d /srv/app ]', 0], ['apt-mark showhold', 'kubelet\n']] } } }
  )
  assert.equal([r.status, r.reason], ['ok', '/srv/app exists; held'])
})

test.run()
