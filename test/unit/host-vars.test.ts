// Connection variables: each one honoured, accepted-and-said-unused, or refused by name (that this
// covers every variable ansible-doc lists is judged in test/compat/host-vars-ansible.test.ts).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { parseSshArgs } from '../../lib/inventory/host-vars.ts'
import { parseInventory, type Host } from '../../lib/inventory/inventory.ts'
import { zxplayInProcess } from './_cli.ts'
import { errorOf } from './_helpers.ts'

const FILE = '/srv/infra/inventory.yaml'
const hostWith = (vars: Record<string, unknown>): Host => parseInventory(JSON.stringify({ all: { hosts: { web1: vars } } }), FILE).hosts[0]!
const problem = (vars: Record<string, unknown>) => {
  const e = errorOf(() => hostWith(vars))
  assert.instance(e, InventoryError)
  return e.message
}

test('no ansible_host: the inventory name is the address', () => {
  assert.is(hostWith({}).address, 'web1')
})

test('ansible_password and its older names set the ssh password; too short is refused', () => {
  for (const k of ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password']) assert.is(hostWith({ [k]: 'sekrit-pw' }).password, 'sekrit-pw', k)
  assert.match(problem({ ansible_password: 'abc' }), 'all.hosts.web1.ansible_password: expected a password of at least 4 characters')
  assert.not.match(problem({ ansible_password: 'abc' }), "'abc'")
})

test('become: method sudo or su, password by any of its names; other methods are refused', () => {
  const h = hostWith({ ansible_become: 'yes', ansible_become_method: 'su', ansible_su_user: 'app', ansible_become_pass: 'root-pw' })
  assert.equal([h.become, h.becomeMethod, h.becomeUser, h.becomePassword], [true, 'su', 'app', 'root-pw'])
  assert.is(hostWith({}).becomeMethod, 'sudo')
  assert.match(problem({ ansible_become_method: 'doas' }), "all.hosts.web1.ansible_become_method: expected 'sudo' or 'su' (the become methods zxplay runs), got 'doas'")
})

test('ansible_host_key_checking: false turns checking off; our host_key_checking keeps its words', () => {
  assert.is(hostWith({ ansible_host_key_checking: false }).hostKeyChecking, 'off')
  assert.is(hostWith({ ansible_host_key_checking: 'yes' }).hostKeyChecking, 'strict')
  assert.match(problem({ ansible_host_key_checking: 'maybe' }), 'ansible_host_key_checking: expected true or false')
})

test('ansible_connection: ssh, local, paramiko (as ssh); others refused', () => {
  assert.is(hostWith({ ansible_connection: 'paramiko' }).connection, 'ssh')
  assert.is(hostWith({ ansible_connection: 'local' }).connection, 'local')
  assert.match(problem({ ansible_connection: 'winrm' }), "ansible_connection: expected 'ssh', 'local' or 'paramiko' (zxplay's two transports), got 'winrm'")
})

test('accepted, unused keys are said so (at -v), with why', () => {
  assert.equal(hostWith({ ansible_python_interpreter: '/usr/bin/python3' }).unused, ['ansible_python_interpreter: accepted, unused (zxplay runs no Python on hosts)'])
})

/** zxplay (in this process) with an inventory (and other files) written to a temp dir; its log goes there too. */
async function zxplay(inventory: string, args: string[], files: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-host-vars-'))
  try {
    const inv = path.join(dir, 'inventory.yaml')
    for (const [name, text] of Object.entries({ ...files, 'inventory.yaml': inventory })) fs.writeFileSync(path.join(dir, name), text.replaceAll('{dir}', dir))
    const r = await zxplayInProcess([...args, '-i', inv, '--log-dir', dir])
    return { ...r, status: r.code }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

test('zxplay -v says which accepted keys are unused, and why; without -v it says nothing', async () => {
  const inv = 'all:\n  hosts:\n    here:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n'
  const verbose = await zxplay(inv, ['ping', '-v'])
  assert.is(verbose.status, 0, verbose.stdout + verbose.stderr)
  assert.match(verbose.stdout, 'ansible_python_interpreter: accepted, unused (zxplay runs no Python on hosts)')
  assert.not.match((await zxplay(inv, ['ping'])).stdout, 'ansible_python_interpreter')
})

test('an ssh config option zxplay cannot honour is bad input (exit 5), named with its file and line, before anything connects', async () => {
  const inv = `all:\n  vars:\n    ansible_ssh_common_args: -F {dir}/ssh_config\n  hosts:\n    h1:\n    h2:\n`
  const r = await zxplay(inv, ['ping'], { ssh_config: 'Host h*\n  ForwardAgent yes\n' })
  assert.is(r.status, 5, r.stdout + r.stderr)
  assert.match(r.stderr, /ssh_config:2: ssh option 'forwardagent yes' is not supported by zxplay; remove it for this host .*\(for h1, h2\)/)
})

test('refused keys name the key and say what to do', () => {
  assert.match(problem({ ansible_become_exe: '/opt/sudo' }), "all.hosts.web1.ansible_become_exe: 'ansible_become_exe' is not supported: zxplay runs sudo or su from the PATH; remove it")
  assert.match(problem({ ansible_ssh_executable: 'myssh' }), "'ansible_ssh_executable' is not supported: zxplay connects with its own SSH client")
})

test('ssh args: -o Key=Value, -o "Key Value", -oKey=Value, -J, -p, -l, -i, -F, -C as ssh reads them', () => {
  const parsed = parseSshArgs(`-C -o ProxyCommand="ssh -W %h:%p bastion" -o 'Port 2200' -oUser=deploy -J 'jump@b:22' -F ~/cfg -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null`, 'ansible_ssh_common_args')
  assert.ok('options' in parsed)
  assert.equal(
    parsed.options.map((o) => [o.keyword, o.args.join(' ')]),
    [
      ['proxycommand', 'ssh -W %h:%p bastion'],
      ['port', '2200'],
      ['user', 'deploy'],
      ['proxyjump', 'jump@b:22'],
      ['stricthostkeychecking', 'no'],
      ['userknownhostsfile', '/dev/null'],
    ]
  )
  assert.is(parsed.configFile, '~/cfg')
})

test('ssh args zxplay cannot honour are refused by name', () => {
  assert.match(problem({ ansible_ssh_common_args: '-o ForwardAgent=yes' }), "all.hosts.web1.ansible_ssh_common_args: ssh option 'forwardagent yes' is not supported by zxplay")
  assert.match(problem({ ansible_ssh_extra_args: '-A' }), "all.hosts.web1.ansible_ssh_extra_args: ssh argument '-A' is not supported by zxplay")
  assert.match(problem({ ansible_ssh_common_args: "-o 'ProxyCommand=x" }), 'cannot split')
  // a harmless value of a refused keyword is fine
  assert.is(hostWith({ ansible_ssh_common_args: '-o ForwardAgent=no' }).sshOptions[0]?.keyword, 'forwardagent')
})

test.run()
