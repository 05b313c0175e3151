// SSH as users meet it: one connection per host, host keys, agent, encrypted keys, ~/.ssh/config,
// ProxyJump, timeouts, and connection: local.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { labDown, labUp, linkDown, linkUp, regenerateHostKeys, type Lab } from '../../lab/netns/lab.ts'
import { derivedInventory, playbookFile, runCli, runJson, tmpDir } from './helpers.ts'

const test = suite('ssh on the lab')
let lab: Lab

test.before(async () => {
  lab = await labUp({ hosts: 3 })
})
test.after(async () => {
  await labDown()
})

const fromLines = (stdout: string, host: string) => [...stdout.matchAll(new RegExp(`^${host}\\s+· from (\\S+)$`, 'gm'))].map((m) => m[1])

test('every task on a host reuses one connection (same client port), hosts have their own', async () => {
  const r = await runCli(['run', playbookFile('connection'), '-i', lab.inventory])
  assert.is(r.code, 0, r.stdout + r.stderr)
  const ports = ['node1', 'node2', 'node3'].map((h) => fromLines(r.stdout, h))
  for (const p of ports) {
    assert.is(p.length, 3)
    assert.is(new Set(p).size, 1, `one connection: ${p}`)
  }
  assert.is(new Set(ports.map((p) => p[0])).size, 3)
})

test('a changed host key aborts that host with a clear error; the others run', async () => {
  await regenerateHostKeys(lab, 'node2')
  try {
    const r = await runCli(['ping', '-i', lab.inventory])
    assert.is(r.code, 4)
    assert.match(r.stdout, /node2\s+unreachable/)
    assert.match(r.stdout, /HOST KEY CHANGED for 10\.77\.0\.12: it now offers SHA256:/)
    assert.match(r.stdout, /node1\s+ok/)
  } finally {
    // put the lab's known_hosts back in line with node2's new keys
    const keys = fs.readdirSync(path.join(lab.hosts[1]!.root, 'ssh')).filter((f) => f.endsWith('.pub'))
    const lines = fs.readFileSync(lab.knownHosts, 'utf8').split('\n').filter((l) => l && !l.startsWith('10.77.0.12 '))
    for (const k of keys) {
      const [type, blob] = fs.readFileSync(path.join(lab.hosts[1]!.root, 'ssh', k), 'utf8').split(' ')
      lines.push(`10.77.0.12 ${type} ${blob}`)
    }
    fs.writeFileSync(lab.knownHosts, lines.join('\n') + '\n')
  }
  const again = await runCli(['ping', '-i', lab.inventory])
  assert.is(again.code, 0, again.stdout)
})

test('an unknown host is refused by default; accept-new records it, and then it is known', async () => {
  const kh = path.join(tmpDir(), 'known_hosts')
  fs.writeFileSync(kh, '')
  const strict = derivedInventory(lab, (i) => (i.all.vars.known_hosts = kh))
  const r = await runCli(['ping', '-i', strict])
  assert.is(r.code, 4)
  assert.match(r.stdout, /is not in .*known_hosts; add it \(ssh-keyscan\) or set host_key_checking: accept-new/)
  const acceptNew = derivedInventory(lab, (i) => Object.assign(i.all.vars, { known_hosts: kh, host_key_checking: 'accept-new' }))
  assert.is((await runCli(['ping', '-i', acceptNew])).code, 0)
  const recorded = fs.readFileSync(kh, 'utf8').trim().split('\n')
  assert.is(recorded.length, 3)
  assert.ok(recorded.every((l) => /^10\.77\.0\.1[123] \S+ \S+$/.test(l)), recorded.join('\n'))
  const r2 = await runCli(['ping', '-i', strict])
  assert.is(r2.code, 0, r2.stdout)
})

test('ssh-agent: a key held by the agent is enough', async () => {
  const dir = tmpDir()
  const sock = path.join(dir, 'agent.sock')
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' })
  try {
    for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20))
    execFileSync('ssh-add', [lab.key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' })
    const noKey = derivedInventory(lab, (i) => delete i.all.vars.key)
    const r = await runCli(['ping', '-i', noKey], { env: { SSH_AUTH_SOCK: sock, HOME: dir } })
    assert.is(r.code, 0, r.stdout + r.stderr)
    const without = await runCli(['ping', '-i', noKey, '--limit', 'node1'], { env: { SSH_AUTH_SOCK: '', HOME: dir } })
    assert.is(without.code, 4)
    assert.match(without.stdout, /authentication failed/)
  } finally {
    agent.kill()
  }
})

test('an encrypted key: its passphrase is asked once, a wrong one is a clear error', async () => {
  const dir = tmpDir()
  const key = path.join(dir, 'id_enc')
  fs.copyFileSync(lab.key, key)
  fs.chmodSync(key, 0o600)
  execFileSync('ssh-keygen', ['-q', '-p', '-N', 'open sesame', '-f', key])
  assert.match(fs.readFileSync(key, 'utf8'), /BEGIN OPENSSH PRIVATE KEY/)
  const encInv = derivedInventory(lab, (i) => (i.all.vars.key = key))
  // three hosts, one key: asked once (only one line on stdin)
  const r = await runCli(['ping', '-i', encInv], { input: 'open sesame\n' })
  assert.is(r.code, 0, r.stdout + r.stderr)
  const wrong = await runCli(['ping', '-i', encInv, '--limit', 'node1'], { input: 'nope\n' })
  assert.is(wrong.code, 4)
  assert.match(wrong.stdout, /wrong passphrase for key .*id_enc/)
})

/** An ssh config file, given to every host as Ansible users do: ansible_ssh_common_args: -F FILE. */
function withConfig(text: string, change: (inv: any) => void = () => {}): string {
  const file = path.join(tmpDir(), 'ssh_config')
  fs.writeFileSync(file, text)
  return derivedInventory(lab, (i) => {
    i.all.vars.ansible_ssh_common_args = `-F ${file}`
    change(i)
  })
}

test('an ssh config supplies HostName, User, Port and IdentityFile for an alias', async () => {
  const aliasInv = withConfig(`Host lab-two\n  HostName 10.77.0.12\n  User zxlab\n  Port 22\n  IdentityFile ${lab.key}\n`, (i) => {
    delete i.all.vars.user
    delete i.all.vars.key
    i.all.children.workers.hosts = { node2: { address: 'lab-two' } }
    i.all.children.control_plane.hosts = {}
  })
  const r = await runCli(['ping', '-i', aliasInv], { env: { SSH_AUTH_SOCK: '' } })
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /node2\s+ok\s+host answers \(node2, .* user zxlab\)/)
})

test('ProxyJump: a host is reached through a jump host', async () => {
  const jumpInv = withConfig(`Host 10.77.0.13\n  ProxyJump zxlab@10.77.0.11\n\nHost 10.77.0.11\n  IdentityFile ${lab.key}\n`)
  const r = await runCli(['run', playbookFile('connection'), '-i', jumpInv, '--limit', 'node3'], { env: { SSH_AUTH_SOCK: '' } })
  assert.is(r.code, 0, r.stdout + r.stderr)
  // node3 sees the connection coming from node1, not from this machine's bridge address
  assert.equal(fromLines(r.stdout, 'node3')[0]?.split(':')[0], '10.77.0.11')
  const direct = await runCli(['run', playbookFile('connection'), '-i', lab.inventory, '--limit', 'node3'])
  assert.equal(fromLines(direct.stdout, 'node3')[0]?.split(':')[0], '10.77.0.1')
})

test('ansible_ssh_common_args -J and -o ProxyCommand: through node1, as Ansible passes them to ssh', async () => {
  const cfg = path.join(tmpDir(), 'ssh_config')
  fs.writeFileSync(cfg, `Host 10.77.0.11\n  IdentityFile ${lab.key}\n`)
  const proxy = `ssh -F /dev/null -i ${lab.key} -o UserKnownHostsFile=${lab.knownHosts} -o BatchMode=yes -W %h:%p zxlab@10.77.0.11`
  for (const args of [`-F ${cfg} -J zxlab@10.77.0.11`, `-o ProxyCommand="${proxy}"`]) {
    const inv = derivedInventory(lab, (i) => (i.all.vars.ansible_ssh_common_args = args))
    const r = await runCli(['run', playbookFile('connection'), '-i', inv, '--limit', 'node3'], { env: { SSH_AUTH_SOCK: '' } })
    assert.is(r.code, 0, args + r.stdout + r.stderr)
    assert.equal(fromLines(r.stdout, 'node3')[0]?.split(':')[0], '10.77.0.11', args)
  }
  const broken = derivedInventory(lab, (i) => (i.all.vars.ansible_ssh_common_args = '-o ProxyCommand="sh -c \'echo no way through >&2; exit 1\'"'))
  const r = await runCli(['ping', '-i', broken, '--limit', 'node3'])
  assert.is(r.code, 4, r.stdout)
  assert.match(r.stdout, /via ProxyCommand: .*\(ProxyCommand exited with 1, saying: no way through\)/)
})

test('ansible_password and -k: password authentication, the password never shown', async () => {
  const pw = lab.becomePass
  const base = (i: any) => {
    delete i.all.vars.key
    i.all.vars.user = 'zxlabpw'
  }
  const inv = derivedInventory(lab, (i) => {
    base(i)
    i.all.vars.ansible_password = pw
  })
  const r = await runCli(['sh', 'node1', '-i', inv, '-v', '--', 'id -un; echo "$0"'], { env: { SSH_AUTH_SOCK: '' } })
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /zxlabpw/)
  assert.not.ok((r.stdout + r.stderr).includes(pw), 'the password is not shown')
  const asked = derivedInventory(lab, base)
  const k = await runCli(['ping', '-i', asked, '-k', '--limit', 'node1'], { input: `${pw}\n`, env: { SSH_AUTH_SOCK: '' } })
  assert.is(k.code, 0, k.stdout + k.stderr)
  const wrong = await runCli(['ping', '-i', asked, '-k', '--limit', 'node1'], { input: 'not-the-password\n', env: { SSH_AUTH_SOCK: '' } })
  assert.is(wrong.code, 4)
  assert.match(wrong.stdout, /authentication failed/)
})

test('ansible_become_method: su, with ansible_become_password; without one, a clear error', async () => {
  const su = (pw?: string) =>
    derivedInventory(lab, (i) => Object.assign(i.all.vars, { ansible_become_method: 'su', ansible_become_user: 'zxlabpw' }, pw ? { ansible_become_password: pw } : {}))
  const r = await runCli(['sh', 'node1', '-i', su(lab.becomePass), '-b', '-v', '--', 'id -un; cat'], { env: { SSH_AUTH_SOCK: '' } })
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /zxlabpw/)
  assert.not.ok((r.stdout + r.stderr).includes(lab.becomePass), 'the password is not shown')
  const none = await runCli(['sh', 'node1', '-i', su(), '-b', '--', 'id -un'])
  assert.is(none.code, 2, none.stdout)
  assert.match(none.stdout, /su to zxlabpw on node1 asks for a password: set ansible_become_password or run again with --ask-become-pass \(-K\)/)
  const wrong = await runCli(['sh', 'node1', '-i', su('wrong-password'), '-b', '--', 'id -un'])
  assert.is(wrong.code, 2, wrong.stdout)
  assert.match(wrong.stdout, /su to zxlabpw on node1 refused the become password/)
})

test('a host whose network is cut: the connect timeout fires, no hang, the others run', async () => {
  await linkDown(lab, 'node3')
  try {
    const r = await runJson(['ping', '-i', lab.inventory, '-T', '2'], { timeoutMs: 20_000 })
    assert.is(r.code, 4)
    assert.is(r.report.hosts.node3!.unreachable, 1)
    assert.is(r.report.hosts.node1!.ok, 1)
    assert.ok(r.ms < 8000, `took ${r.ms}ms`)
    const text = await runCli(['ping', '-i', lab.inventory, '-T', '2', '--limit', 'node3'])
    assert.match(text.stdout, /connect timed out after 2s/)
  } finally {
    await linkUp(lab, 'node3')
  }
})

test('connection: local runs on this machine with the same task API', async () => {
  const local = path.join(tmpDir(), 'inventory.yaml')
  fs.writeFileSync(local, 'all:\n  hosts:\n    here:\n      connection: local\n')
  const r = await runCli(['ping', '-i', local])
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, new RegExp(`here\\s+ok\\s+host answers \\(${os.hostname()},`))
  const dir = tmpDir()
  const demo = await runJson(['run', playbookFile('demo'), '-i', local, '-e', `demo_dir=${dir}/d`, '-e', 'greeting=local'])
  assert.is(demo.code, 0, demo.stderr)
  assert.is(fs.readFileSync(`${dir}/d/greeting`, 'utf8'), 'hello local\n')
  const again = await runJson(['run', playbookFile('demo'), '-i', local, '-e', `demo_dir=${dir}/d`, '-e', 'greeting=local'])
  assert.is(again.report.hosts.here!.changed, 0)
})

test.run()
