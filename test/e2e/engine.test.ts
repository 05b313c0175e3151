// The engine against a lab of real sshd hosts: parallel runs, uploads, become, --check, selection,
// failures, unreachable hosts, the log, idempotence and quoting.
import fs from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostPath, labDown, labUp, onHost, startSshd, stopSshd, type Lab } from '../../lab/netns/lab.ts'
import { derivedInventory, newestLog, playbookFile, runCli, runJson, statusOf, tmpDir } from './helpers.ts'

const test = suite('engine on the lab')
let lab: Lab
const DEMO = ['-e', 'demo_dir=/tmp/zxplay-demo', '-e', 'greeting=world']
const inv = () => ['-i', lab.inventory]

test.before(async () => {
  lab = await labUp({ hosts: 3 })
})
test.after(async () => {
  await labDown()
})
const clean = async () => {
  for (const h of lab.hosts) await onHost(lab, h.name, 'rm -rf /tmp/zxplay-demo /tmp/pwned /etc/kubernetes/zxplay-demo.txt')
}

test('ping connects to every host and reports its own hostname', async () => {
  const r = await runCli(['ping', ...inv()])
  assert.is(r.code, 0, r.stdout + r.stderr)
  for (const h of ['node1', 'node2', 'node3']) assert.match(r.stdout, new RegExp(`${h}\\s+ok\\s+host answers \\(${h},`))
})

test('tasks run on all hosts in parallel, one connection each', async () => {
  const r = await runJson(['run', playbookFile('parallel'), ...inv(), '--tags', 'always,untagged'])
  assert.is(r.code, 0, r.stderr)
  const sleep = r.report.tasks.filter((t) => t.task === 'sleeps one second')
  assert.is(sleep.length, 3)
  // three one-second sleeps, side by side: well under the 3 s they would take in a row
  assert.ok(Math.max(...sleep.map((t) => t.ms)) < 1900, JSON.stringify(sleep))
})

test('first run changes, second run reports 0 changed (idempotent sample)', async () => {
  await clean()
  const first = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO])
  assert.is(first.code, 0, first.stderr)
  for (const h of ['node1', 'node2', 'node3']) {
    assert.is(statusOf(first.report, h, 'work dir exists'), 'changed')
    assert.is(statusOf(first.report, h, 'config is rendered and uploaded'), 'changed')
    assert.is(statusOf(first.report, h, 'node file is owned by root'), 'skipped')
    const conf = fs.readFileSync(hostPath(lab, h, '/tmp/zxplay-demo/app.conf'), 'utf8')
    assert.match(conf, `rendered for ${h}`)
    assert.is((fs.statSync(hostPath(lab, h, '/tmp/zxplay-demo/app.conf')).mode & 0o777).toString(8), '640')
  }
  const second = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO])
  assert.is(second.code, 0)
  for (const h of ['node1', 'node2', 'node3']) assert.is(second.report.hosts[h]!.changed, 0, JSON.stringify(second.report.hosts[h]))
})

test('upload: a changed file is rewritten and diffed, an equal one is not touched', async () => {
  await clean()
  await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO])
  const file = hostPath(lab, 'node2', '/tmp/zxplay-demo/app.conf')
  const before = fs.statSync(file).ino
  const same = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--tags', 'files'])
  assert.is(statusOf(same.report, 'node2', 'config is rendered and uploaded'), 'ok')
  assert.is(fs.statSync(file).ino, before, 'an equal file is not rewritten')
  fs.appendFileSync(file, 'drift\n')
  const r = await runCli(['run', playbookFile('demo'), ...inv(), ...DEMO, '--tags', 'files', '--diff'])
  assert.match(r.stdout, /node2\s+changed\s+config is rendered and uploaded/)
  assert.match(r.stdout, /-drift/)
  assert.not.match(fs.readFileSync(file, 'utf8'), 'drift')
  // mode drift alone is a change too
  fs.chmodSync(file, 0o644)
  const m = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--tags', 'files'])
  assert.is(statusOf(m.report, 'node2', 'config is rendered and uploaded'), 'changed')
  assert.is((fs.statSync(file).mode & 0o777).toString(8), '640')
})

test('--check runs no mutation: the hosts are untouched, the plan lists the commands', async () => {
  await clean()
  const r = await runCli(['run', playbookFile('demo'), ...inv(), ...DEMO, '--check', '--become'])
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /would run: mkdir -p \/tmp\/zxplay-demo/)
  assert.match(r.stdout, /would run: upload \/etc\/kubernetes\/zxplay-demo.txt/)
  for (const h of lab.hosts) {
    assert.not.ok(fs.existsSync(hostPath(lab, h.name, '/tmp/zxplay-demo')), `${h.name} was changed`)
    assert.not.ok(fs.existsSync(hostPath(lab, h.name, '/etc/kubernetes/zxplay-demo.txt')))
  }
})

test('become: sudo writes a root-owned file in a node directory', async () => {
  await clean()
  const r = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--become'])
  assert.is(r.code, 0, r.stderr)
  const f = hostPath(lab, 'node3', '/etc/kubernetes/zxplay-demo.txt')
  assert.is(fs.statSync(f).uid, 0)
  assert.is((fs.statSync(f).mode & 0o777).toString(8), '600')
  const again = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--become'])
  assert.is(statusOf(again.report, 'node3', 'node file is owned by root'), 'ok')
})

test('become with a password: without -K it fails fast and clearly, with -K it works', async () => {
  const pwInv = derivedInventory(lab, (i) => (i.all.vars.user = 'zxlabpw'))
  const no = await runCli(['run', playbookFile('parallel'), '-i', pwInv, '--tags', 'become', '--limit', 'node1'], { timeoutMs: 20_000 })
  assert.is(no.code, 2)
  assert.match(no.stdout, /asks for a password: run again with --ask-become-pass/)
  assert.ok(no.ms < 15_000)
  const yes = await runJson(['run', playbookFile('parallel'), '-i', pwInv, '--tags', 'become', '-K'], { input: `${lab.becomePass}\n` })
  assert.is(yes.code, 0, yes.stdout + yes.stderr)
  assert.not.match(yes.stdout + yes.stderr, lab.becomePass)
  const log = fs.readFileSync(newestLog(path.join(process.cwd(), 'logs')), 'utf8')
  assert.not.match(log, lab.becomePass)
  const wrong = await runCli(['run', playbookFile('parallel'), '-i', pwInv, '--tags', 'become', '-K', '--limit', 'node1'], { input: 'not-the-password\n', timeoutMs: 30_000 })
  assert.is(wrong.code, 2)
  assert.match(wrong.stdout, /refused|incorrect|Sorry/)
})

test('--tags, --skip-tags, --limit and --start-at select what runs', async () => {
  await clean()
  const tags = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--tags', 'files'])
  assert.equal([...new Set(tags.report.tasks.map((t) => t.task))], ['work dir exists', 'config is rendered and uploaded'])
  const skip = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--skip-tags', 'files,become'])
  assert.equal([...new Set(skip.report.tasks.map((t) => t.task))], ['greeting line is present'])
  const limit = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--limit', 'workers:!node3'])
  assert.equal([...new Set(limit.report.tasks.map((t) => t.host))], ['node2'])
  const start = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--start-at', 'greeting line is present'])
  assert.is(start.report.tasks[0]!.task, 'greeting line is present')
  const bad = await runCli(['run', playbookFile('demo'), ...inv(), '--tags', 'nope'])
  assert.is(bad.code, 5)
  assert.match(bad.stderr, /unknown tag 'nope'/)
  const badLimit = await runCli(['run', playbookFile('demo'), ...inv(), '--limit', 'nodeX'])
  assert.is(badLimit.code, 5)
  assert.match(badLimit.stderr, /nodeX/)
})

test('a failing task: that host stops, the others go on; the block names host, task, command, exit code, stderr', async () => {
  const r = await runCli(['run', playbookFile('failing'), ...inv()])
  assert.is(r.code, 2)
  assert.match(r.stdout, /node2\s+failed\s+fails on node2 only/)
  assert.match(r.stdout, /✗ node2 › failing › fails on node2 only/)
  assert.match(r.stdout, /exit code: 3/)
  assert.match(r.stdout, /disk on fire/)
  assert.match(r.stdout, /\$ echo "disk on fire" >&2; exit 3/)
  assert.match(r.stdout, /node1\s+ok\s+runs after the failure/)
  assert.not.match(r.stdout, /node2\s+\S+\s+runs after the failure/)
  assert.match(r.stdout, /node2\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=1\s+skipped=0\s+rescued=0\s+ignored=0/)
})

test('an unreachable host (sshd stopped) is reported as such; the others converge', async () => {
  await stopSshd(lab, 'node3')
  try {
    const r = await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO])
    assert.is(r.code, 4)
    assert.is(r.report.hosts.node3!.unreachable, 1)
    assert.is(r.report.hosts.node1!.failed + r.report.hosts.node1!.unreachable, 0)
    const text = await runCli(['run', playbookFile('demo'), ...inv(), ...DEMO])
    assert.match(text.stdout, /node3\s+unreachable\s+work dir exists/)
    assert.match(text.stdout, /10\.77\.0\.13:22: connection refused/)
  } finally {
    await startSshd(lab, 'node3')
  }
})

test('a hung command is ended by the task time limit and reported', async () => {
  const r = await runCli(['run', playbookFile('hang'), ...inv(), '--limit', 'node1'], { timeoutMs: 20_000 })
  assert.is(r.code, 2)
  assert.match(r.stdout, /timed out after 1\.5s/)
  assert.ok(r.ms < 10_000)
  const left = await onHost(lab, 'node1', 'pgrep -fx "sleep 600" || true')
  assert.is(left.stdout.trim(), '', 'the remote command was killed')
})

test('the log holds every command and result, and no secret; secrets never reach output or argv', async () => {
  await clean()
  await runJson(['run', playbookFile('demo'), ...inv(), ...DEMO, '--tags', 'files'])
  const token = 'tok-3f9d2c81-SECRET'
  const logDir = tmpDir()
  // watch every host's process list while the run goes on
  const seen: string[] = []
  let watching = true
  const watcher = (async () => {
    while (watching) {
      for (const h of lab.hosts) seen.push((await onHost(lab, h.name, 'ps -eo args')).stdout)
    }
  })()
  // the token comes from a vars file: on the command line it would be in this machine's process list
  const varsFile = path.join(logDir, 'secret-vars.yaml')
  fs.writeFileSync(varsFile, `api_token: ${token}\n`, { mode: 0o600 })
  const r = await runCli(['run', playbookFile('secret'), ...inv(), ...DEMO, '-e', `@${varsFile}`, '--log-dir', logDir, '-v'])
  watching = false
  await watcher
  assert.is(r.code, 2, r.stdout + r.stderr) // the last task fails on purpose
  const log = fs.readFileSync(newestLog(logDir), 'utf8')
  assert.match(log, /cat > \/tmp\/zxplay-demo\/token.copy/)
  assert.match(log, /exit=0/)
  assert.match(log, /failed secret › a failing command echoes it/)
  const places = { stdout: r.stdout, stderr: r.stderr, log, 'process lists': seen.join('\n') }
  for (const [where, text] of Object.entries(places)) assert.not.ok(text.includes(token), `the token leaked into ${where}`)
  assert.ok(seen.length > 3, 'process lists were sampled during the run')
  assert.match(r.stdout, /\*\*\*\*\*\*\*\*/)
  for (const h of lab.hosts) {
    const f = hostPath(lab, h.name, '/tmp/zxplay-demo/token')
    assert.is(fs.readFileSync(f, 'utf8'), token)
    assert.is((fs.statSync(f).mode & 0o777).toString(8), '600')
  }
  assert.is((fs.statSync(newestLog(logDir)).mode & 0o777).toString(8), '600')
})

test("a hostile inventory value is quoted: x'; touch /tmp/pwned; ' runs nothing", async () => {
  await clean()
  const hostile = `x'; touch /tmp/pwned; '`
  const hostileInv = derivedInventory(lab, (i) => (i.all.vars.greeting = hostile))
  const r = await runJson(['run', playbookFile('demo'), '-i', hostileInv, '-e', 'demo_dir=/tmp/zxplay-demo'])
  assert.is(r.code, 0, r.stdout + r.stderr)
  for (const h of lab.hosts) {
    assert.not.ok(fs.existsSync(hostPath(lab, h.name, '/tmp/pwned')), `code ran on ${h.name}`)
    assert.is(fs.readFileSync(hostPath(lab, h.name, '/tmp/zxplay-demo/greeting'), 'utf8'), `hello ${hostile}\n`)
    assert.match(fs.readFileSync(hostPath(lab, h.name, '/tmp/zxplay-demo/app.conf'), 'utf8'), `greeting: ${JSON.stringify(hostile)}`)
  }
  const again = await runJson(['run', playbookFile('demo'), '-i', hostileInv, '-e', 'demo_dir=/tmp/zxplay-demo'])
  assert.is(again.report.hosts.node1!.changed, 0)
})

test('zxplay sh runs an ad-hoc command on a group and shows output per host', async () => {
  const r = await runCli(['sh', 'workers', ...inv(), '--', 'hostname'])
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stdout, /node2\s+· node2/)
  assert.match(r.stdout, /node3\s+· node3/)
  assert.not.match(r.stdout, /node1/)
})

test('npx zx runs a playbook file alone, with flags', async () => {
  const { $ } = await import('zx')
  const r = await $({ nothrow: true, quiet: true, cwd: process.cwd(), env: { ...process.env, NO_COLOR: '1' } })`npx zx ${playbookFile('parallel')} -i ${lab.inventory} --list-tasks`
  assert.is(r.exitCode, 0, r.stderr)
  assert.match(r.stdout, /sleeps one second/)
  assert.match(r.stdout, /whoami with become {2}\[tags: become\]/)
})

test('once + register, retries/until, when, and anyErrorsFatal', async () => {
  const r = await runJson(['run', playbookFile('semantics'), ...inv()])
  const runs = (task: string) => r.report.tasks.filter((t) => t.task === task)
  assert.equal(runs('a token is made once').map((t) => t.host), ['node1'])
  assert.equal(runs('every host sees the token').map((t) => t.status), ['ok', 'ok', 'ok'])
  assert.equal(runs('succeeds on the third attempt').map((t) => t.status), ['ok', 'ok', 'ok'])
  assert.equal(runs('gives up after its retries').map((t) => `${t.host}:${t.status}`), ['node1:skipped', 'node2:skipped', 'node3:failed'])
  assert.equal(runs('only on workers').map((t) => `${t.host}:${t.status}`), ['node1:skipped', 'node2:ok'])
  // the fatal playbook: node1 fails, so nobody runs the next task
  assert.equal(runs('fails on node1').map((t) => t.host), ['node1', 'node2'])
  assert.equal(runs('never runs'), [])
  assert.is(r.code, 2)
  const text = await runCli(['run', playbookFile('semantics'), ...inv(), '--limit', 'node2'])
  assert.match(text.stdout, /node2\s+· token=made-on-node2/)
  assert.match(text.stdout, /node2\s+· attempt 1\/4 failed: condition not met after attempt 1\/4; retrying/)
})

test('-v streams output; --list-hosts and --list-tasks connect to nothing; no colour without a terminal', async () => {
  const v = await runCli(['run', playbookFile('parallel'), ...inv(), '-v', '--limit', 'node1', '--skip-tags', 'become'], { env: { NO_COLOR: '' } })
  assert.match(v.stdout, /node1\s+\$ sleep 1; hostname; id -un/)
  assert.match(v.stdout, /node1\s+\| zxlab/)
  assert.not.match(v.stdout, /\x1b\[/)
  await stopSshd(lab, 'node1')
  try {
    const hosts = await runCli(['run', playbookFile('demo'), ...inv(), '--list-hosts', '--limit', 'control_plane'])
    assert.is(hosts.code, 0)
    assert.is(hosts.stdout.trim(), 'demo: Demo: an idempotent sample [all]\n  node1')
    const tasks = await runCli(['run', playbookFile('demo'), ...inv(), '--list-tasks', '--tags', 'lines'])
    assert.is(tasks.stdout.trim(), 'demo: Demo: an idempotent sample [all]\n  greeting line is present  [tags: lines]')
  } finally {
    await startSshd(lab, 'node1')
  }
})

test('npx zx runs a project playbook alone (Node 20 through the tsx loader), and site.mts lists them all', async () => {
  const { $ } = await import('zx')
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env.FORCE_COLOR
  const zx = await $({ nothrow: true, quiet: true, env })`npx zx playbooks/00-preflight.mts -i ${lab.inventory} --tags facts`
  assert.is(zx.exitCode, 0, zx.stdout + zx.stderr)
  assert.match(zx.stdout, /==> 00-preflight: Preflight/)
  assert.match(zx.stdout, /node3\s+ok\s+facts are gathered \(node3: debian 12/)
  const list = await $({ nothrow: true, quiet: true, env })`npx zx playbooks/site.mts -i ${lab.inventory} --list-tasks`
  assert.is(list.exitCode, 0, list.stderr)
  for (const id of ['00-preflight', '10-runtime', '20-control-plane', '30-cni-cleanup', '40-flannel', '50-join', '60-untaint', '70-metrics-server']) assert.match(list.stdout, `${id}: `)
})

test.run()
