// Connection variables: each one honoured, accepted-and-said-unused, or refused by name (that this
// covers every variable ansible-doc lists is judged in test/compat/host-vars-ansible.test.ts).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { checkSetting, connectionKeyOf, connectionKeyTypo, parseSshArgs, refusedKey, resolveConnection, type ConnectionKey } from '../../lib/inventory/host-vars.ts'
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

// The checks one by one, as pure calls: what each connection key accepts, how it reads it, and
// the refusal a user sees (inventory.ts prefixes it with the file and the key's path).
const DIR = '/srv/infra'
const ok = (name: ConnectionKey, value: unknown, spelled: string = name) => {
  const c = checkSetting(name, spelled, value, DIR)
  if ('problem' in c) throw new Error(`${spelled}: ${show(value)}: ${c.problem}`)
  return c.value
}
const refusal = (name: ConnectionKey, value: unknown, spelled: string = name) => {
  const c = checkSetting(name, spelled, value, DIR)
  if (!('problem' in c)) throw new Error(`${spelled}: ${show(value)} was accepted as ${show(c.value)}`)
  return c.problem
}
const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : String(v))

test('every Ansible spelling of a connection key is read as ours; our plain names too, but not a plain name Ansible owns', () => {
  const spellings: Record<string, string[]> = {
    address: ['address', 'ansible_host', 'ansible_ssh_host', 'ansible_paramiko_host'],
    port: ['port', 'ansible_port', 'ansible_ssh_port'],
    user: ['user', 'ansible_user', 'ansible_ssh_user', 'ansible_paramiko_user'],
    key: ['key', 'ansible_ssh_private_key_file', 'ansible_private_key_file'],
    become: ['become', 'ansible_become'],
    become_user: ['become_user', 'ansible_become_user', 'ansible_sudo_user', 'ansible_su_user'],
    connection: ['connection', 'ansible_connection'],
    known_hosts: ['known_hosts'],
    host_key_checking: ['host_key_checking', 'ansible_host_key_checking', 'ansible_ssh_host_key_checking', 'ansible_paramiko_host_key_checking'],
    ansible_password: ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password', 'ansible_paramiko_pass', 'ansible_paramiko_password'],
    ansible_become_password: ['ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass', 'ansible_su_pass'],
    ansible_become_method: ['ansible_become_method'],
    ansible_ssh_args: ['ansible_ssh_args'],
    ansible_ssh_common_args: ['ansible_ssh_common_args'],
    ansible_ssh_extra_args: ['ansible_ssh_extra_args'],
    ansible_ssh_timeout: ['ansible_ssh_timeout'],
    zxplay_persistent_shell: ['zxplay_persistent_shell'],
  }
  for (const [ours, names] of Object.entries(spellings)) for (const n of names) assert.is(connectionKeyOf(n), ours, n)
  // ordinary variables: Ansible's names without their prefix, and anything else
  for (const n of ['password', 'become_password', 'become_method', 'ssh_args', 'ssh_timeout', 'persistent_shell', 'ansible_python_interpreter', 'ansible_become_exe', 'app_port', 'constructor', 'toString']) {
    assert.is(connectionKeyOf(n), undefined, n)
  }
})

test('refusedKey: each refused key says what to do; any other key is not refused', () => {
  assert.is(refusedKey('ansible_ssh_pkcs11_provider'), "'ansible_ssh_pkcs11_provider' is not supported: zxplay cannot use PKCS#11 tokens; put the key in ssh-agent instead")
  for (const k of ['ansible_become_exe', 'ansible_sudo_exe', 'ansible_su_exe']) assert.is(refusedKey(k), `'${k}' is not supported: zxplay runs sudo or su from the PATH; remove it`)
  for (const k of ['ansible_become_flags', 'ansible_sudo_flags', 'ansible_su_flags']) assert.is(refusedKey(k), `'${k}' is not supported: zxplay chooses the sudo and su flags itself; remove it`)
  for (const k of ['ansible_host', 'ansible_python_interpreter', 'become_exe', 'x']) assert.is(refusedKey(k), undefined, k)
})

test('connectionKeyTypo: a near miss of a connection key is named; known keys and short ordinary names are not', () => {
  assert.is(connectionKeyTypo('ansible_hots'), 'ansible_host')
  assert.is(connectionKeyTypo('ansbile_user'), 'ansible_user')
  assert.is(connectionKeyTypo('ansible_python_interpeter'), 'ansible_python_interpreter') // unused keys are known too
  assert.is(connectionKeyTypo('ansible_become_ex'), 'ansible_become_exe') // and refused ones
  assert.is(connectionKeyTypo('prot'), 'port') // short: one edit (a swap)
  assert.is(connectionKeyTypo('usr'), 'user')
  assert.is(connectionKeyTypo('keys'), 'key')
  assert.is(connectionKeyTypo('ports'), 'port') // five letters: two edits allowed
  assert.is(connectionKeyTypo('bcome'), 'become')
  assert.is(connectionKeyTypo('ansble_usr'), 'ansible_user') // two edits
  assert.is(connectionKeyTypo('bcme'), undefined) // four letters, two edits from 'become'
  for (const k of ['ansible_host', 'port', 'ansible_python_interpreter', 'ansible_become_exe', 'zxplay_persistent_shell', 'dev', 'host', 'app', 'role', 'http_port']) assert.is(connectionKeyTypo(k), undefined, k)
})

test('address: host names, IPv4 and IPv6 addresses; empty, non-strings and shell, control or direction characters refused', () => {
  for (const a of ['web1', 'web-1.example.com', '10.77.0.5', '::1', 'fe80::1%eth0', 'xn--bcher-kva.example', 'bücher.example']) assert.is(ok('address', a, 'ansible_host'), a)
  assert.is(refusal('address', '', 'ansible_host'), "expected a host name or IP address, got ''")
  assert.is(refusal('address', 5, 'ansible_host'), 'expected a host name or IP address, got 5')
  assert.is(refusal('address', 'a b'), "expected a host name or IP address without spaces or shell characters, got 'a b'")
  for (const c of [' ', '\t', '\n', ';', '&', '|', '$', '`', "'", '"', '<', '>', '(', ')', '{', '}', '[', ']', '*', '?', '!', '#', '\\', '\u0000', '\u001b', '\u001f', '\u007f', '\u0085', '\u009f', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\ufeff', '\u00a0', '\u2029']) {
    assert.match(refusal('address', `web${c}1`), 'without spaces or shell characters', JSON.stringify(c))
  }
  // neighbours of the refused ranges stay allowed
  for (const c of ['-', '_', '%', '\u00e9', '\u200d', '\u2065', '\u206a', '\u2070']) assert.is(ok('address', `web${c}1`), `web${c}1`, JSON.stringify(c))
})

test('port: 1 to 65535, as a number or digits (spaces around allowed); anything else refused', () => {
  for (const [v, want] of [[22, 22], [1, 1], [65535, 65535], ['2222', 2222], [' 22 ', 22], ['022', 22]] as const) assert.is(ok('port', v, 'ansible_port'), want, String(v))
  for (const v of [0, 65536, -22, 22.5, '0', '65536', '22a', '-22', '2 2', '', '0x16', true, null, [22]]) assert.match(refusal('port', v, 'ansible_port'), /^expected a port number from 1 to 65535, got /, JSON.stringify(v))
  assert.is(refusal('port', '0x16'), "expected a port number from 1 to 65535, got '0x16'")
})

test('become and zxplay_persistent_shell read booleans as Ansible does (true/false, yes/no, on/off, any case); others refused', () => {
  for (const name of ['become', 'zxplay_persistent_shell'] as const) {
    for (const v of [true, 'yes', 'Yes', 'TRUE', 'true', 'on', 'On']) assert.is(ok(name, v), true, `${name} ${v}`)
    for (const v of [false, 'no', 'NO', 'False', 'false', 'off', 'OFF']) assert.is(ok(name, v), false, `${name} ${v}`)
    for (const v of ['maybe', '', 'yess', 'of', null, [true]]) assert.match(refusal(name, v), /^expected true or false, got /, `${name} ${v}`)
  }
  assert.is(refusal('become', 'sure', 'ansible_become'), "expected true or false, got 'sure'")
})

test('connection: ssh and local in both spellings; paramiko, paramiko_ssh and smart only in Ansible\'s (as ssh)', () => {
  for (const spelled of ['connection', 'ansible_connection']) for (const v of ['ssh', 'local']) assert.is(ok('connection', v, spelled), v)
  for (const v of ['paramiko', 'paramiko_ssh', 'smart']) {
    assert.is(ok('connection', v, 'ansible_connection'), 'ssh')
    assert.is(refusal('connection', v, 'connection'), `expected 'ssh', 'local' or 'paramiko' (zxplay's two transports), got '${v}'`)
  }
  for (const v of ['SSH', 'docker', '', true]) assert.match(refusal('connection', v, 'ansible_connection'), /^expected 'ssh', 'local' or 'paramiko'/)
})

test("host_key_checking: ours takes 'strict' or 'accept-new'; Ansible's takes those or a boolean (false: off)", () => {
  for (const spelled of ['host_key_checking', 'ansible_host_key_checking', 'ansible_ssh_host_key_checking', 'ansible_paramiko_host_key_checking']) {
    for (const v of ['strict', 'accept-new']) assert.is(ok('host_key_checking', v, spelled), v, spelled)
  }
  for (const v of [false, 'no', 'False', 'off']) assert.is(ok('host_key_checking', v, 'ansible_host_key_checking'), 'off', String(v))
  for (const v of [true, 'yes', 'True', 'on']) assert.is(ok('host_key_checking', v, 'ansible_ssh_host_key_checking'), 'strict', String(v))
  assert.is(refusal('host_key_checking', false, 'host_key_checking'), "expected 'strict' or 'accept-new', got false")
  assert.is(refusal('host_key_checking', 'off', 'host_key_checking'), "expected 'strict' or 'accept-new', got 'off'")
  assert.is(refusal('host_key_checking', 'ask', 'ansible_host_key_checking'), "expected true or false, got 'ask'")
})

test('passwords: text or a number of at least 4 characters, read as text; the refusal never shows the value', () => {
  for (const name of ['ansible_password', 'ansible_become_password'] as const) {
    assert.is(ok(name, 'abcd'), 'abcd')
    assert.is(ok(name, 1234), '1234')
    assert.is(ok(name, 'pa ss;$word'), 'pa ss;$word')
    for (const v of ['abc', '', 123, true, null, ['abcdef'], { pw: 'abcdef' }]) assert.is(refusal(name, v, name === 'ansible_password' ? 'ansible_ssh_pass' : 'ansible_become_pass'), 'expected a password of at least 4 characters', JSON.stringify(v))
  }
})

test('ansible_become_method: sudo or su, nothing else', () => {
  for (const v of ['sudo', 'su']) assert.is(ok('ansible_become_method', v), v)
  for (const v of ['doas', 'SUDO', '', 1]) assert.match(refusal('ansible_become_method', v), /^expected 'sudo' or 'su' \(the become methods zxplay runs\), got /)
})

test('ansible_ssh_timeout: whole seconds from 1, as a number or digits', () => {
  for (const [v, want] of [[10, 10], [1, 1], ['30', 30], [' 5 ', 5]] as const) assert.is(ok('ansible_ssh_timeout', v), want)
  for (const v of [0, -1, 1.5, '0', '1.5', '-3', '10s', '', true, '0x10', '1e3', 'x10', '10 s']) assert.match(refusal('ansible_ssh_timeout', v), /^expected a whole number of seconds, got /, JSON.stringify(v))
})

test('key and known_hosts: a path from the inventory\'s directory; ~ and ~/ are the home directory; ~user is not expanded', () => {
  for (const name of ['key', 'known_hosts'] as const) {
    assert.is(ok(name, 'keys/id_ed25519'), '/srv/infra/keys/id_ed25519')
    assert.is(ok(name, '/etc/ssh/k'), '/etc/ssh/k')
    assert.is(ok(name, '../k'), '/srv/k')
    assert.is(ok(name, '~/.ssh/id'), path.join(os.homedir(), '.ssh/id'))
    assert.is(ok(name, '~'), os.homedir())
    assert.is(ok(name, '~other/k'), '/srv/infra/~other/k')
    assert.is(ok(name, 'a~/k'), '/srv/infra/a~/k')
    for (const v of ['', 5, true, null]) assert.match(refusal(name, v), /^expected a file path, got /)
  }
})

test('user and become_user: POSIX names, user@domain, DOMAIN\\user, a trailing $; nothing a shell would read', () => {
  for (const name of ['user', 'become_user'] as const) {
    for (const v of ['deploy', 'app_1', 'a.b', '_svc', '1user', 'alice@example.com', 'CORP\\alice', 'host$', 'x-y', 'Admin', 'Zed', 'zed', '0day', '9lives', '.x', 'xAZaz09']) assert.is(ok(name, v), v, v)
    for (const v of ['', '-rf', '@x', 'a b', 'a;b', 'a$b', '$', 'a$$', 'ro`ot`', "o'neil", 'a\nb', 'é', 5, null]) {
      assert.match(refusal(name, v), /^expected a user name \(letters, digits, '\.', '_', '-', '@'\), got /, JSON.stringify(v))
    }
  }
})

test('ansible_ssh_*_args: one string, checked as ssh would read it; the value is kept as written', () => {
  for (const k of ['ansible_ssh_args', 'ansible_ssh_common_args', 'ansible_ssh_extra_args'] as const) {
    assert.is(ok(k, '-o ConnectTimeout=5 -C'), '-o ConnectTimeout=5 -C')
    assert.is(refusal(k, ['-C']), 'expected ssh arguments as one string, got a list')
    assert.match(refusal(k, '-A'), "ssh argument '-A' is not supported by zxplay")
  }
})

test('ssh args: each flag is read as ssh -G reads it', () => {
  const args = `-p 2200 -l deploy -J jump@b -i /etc/hostname -oConnectTimeout=7 -o 'ServerAliveInterval 5'`
  const parsed = parseSshArgs(args, 'ansible_ssh_extra_args')
  assert.ok('options' in parsed, JSON.stringify(parsed))
  const ssh = execFileSync('sh', ['-c', `exec ssh -F /dev/null -G ${args} h`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')
  assert.is(parsed.options.length, 6)
  for (const o of parsed.options) assert.ok(ssh.includes(`${o.keyword} ${o.args.join(' ')}`), `${o.keyword} ${o.args.join(' ')} not in ssh -G's output`)
})

test('ssh args: compact flags, where each option came from, -F as the config file (the first one kept), -C skipped', () => {
  const parsed = parseSshArgs('-p2200 -lroot -Jj -i k -o Port=2 -F cfg -F other -C', 'ansible_ssh_args')
  assert.ok('options' in parsed)
  assert.equal(
    parsed.options.map((o) => [o.keyword, o.args, o.where]),
    [
      ['port', ['2200'], 'ansible_ssh_args (-p2200)'],
      ['user', ['root'], 'ansible_ssh_args (-lroot)'],
      ['proxyjump', ['j'], 'ansible_ssh_args (-Jj)'],
      ['identityfile', ['k'], 'ansible_ssh_args (-i k)'],
      ['port', ['2'], 'ansible_ssh_args (-o Port=2)'],
    ]
  )
  assert.is(parsed.configFile, 'other') // as ssh: the last -F on the line
  assert.equal(parseSshArgs('', 'k'), { options: [], configFile: undefined })
  assert.equal(parseSshArgs('-C', 'k'), { options: [], configFile: undefined })
})

test('ssh args: a flag without its value, an option without a value, Host/Match/Include and bad values are refused by name', () => {
  const p = (t: string) => {
    const r = parseSshArgs(t, 'ansible_ssh_common_args')
    return 'problem' in r ? r.problem : `accepted: ${JSON.stringify(r)}`
  }
  for (const f of ['-o', '-F', '-J', '-p', '-l', '-i']) assert.is(p(`-C ${f}`), `ssh argument '${f}' needs a value`)
  assert.is(p('-o Port'), "ssh option 'Port' is not Key=Value")
  assert.is(p('-o ='), "ssh option '=' is not Key=Value")
  for (const k of ['Host', 'Match', 'include']) assert.is(p(`-o ${k}=x`), `ssh option '${k}' cannot be given with -o`)
  assert.is(p('-p 22x'), "port must be a whole number, got '22x'")
  assert.match(p('-o StrictHostKeyChecking=maybe'), 'StrictHostKeyChecking must be yes, no, ask or accept-new')
  for (const f of ['-v', '-A', '-X', '-4', '-Cv', '--', 'Port=22', '-R 80:h:80']) assert.match(p(f), /^ssh argument '.*' is not supported by zxplay \(it reads -o Key=Value, -F, -J, -p, -l, -i and -C\); remove it$/, f)
  assert.match(p('-o "a'), /^cannot split '-o "a' as a shell would: \S/)
})

test('resolveConnection: the defaults, none of them written into vars, and no optional setting present', () => {
  const vars = {}
  const { settings, problem } = resolveConnection('web1', vars)
  assert.is(problem, undefined)
  assert.equal(settings, {
    connection: 'ssh',
    address: 'web1',
    port: 22,
    hostKeyChecking: 'strict',
    become: false,
    becomeUser: 'root',
    becomeMethod: 'sudo',
    sshOptions: [],
    unused: [],
  })
  assert.equal(vars, {})
})

test('resolveConnection: every setting read from vars; null settings dropped from vars (defaults apply)', () => {
  const vars: Record<string, unknown> = {
    address: '10.0.0.5',
    port: 2222,
    user: 'deploy',
    key: '/k',
    known_hosts: '/kh',
    host_key_checking: 'off',
    become: true,
    become_user: 'app',
    ansible_become_method: 'su',
    ansible_password: 'pw-1234',
    ansible_become_password: 'pw-5678',
    ansible_ssh_timeout: 9,
    zxplay_persistent_shell: false,
    ansible_pipelining: true,
    other: 1,
  }
  const { settings } = resolveConnection('web1', vars)
  assert.equal(settings, {
    connection: 'ssh',
    address: '10.0.0.5',
    port: 2222,
    hostKeyChecking: 'off',
    become: true,
    becomeUser: 'app',
    becomeMethod: 'su',
    sshOptions: [],
    unused: ['ansible_pipelining: accepted, unused (zxplay always sends commands over its one connection)'],
    user: 'deploy',
    key: '/k',
    knownHosts: '/kh',
    password: 'pw-1234',
    becomePassword: 'pw-5678',
    connectTimeout: 9,
    persistentShell: false,
  })
  const nulls: Record<string, unknown> = { port: null, become: null, user: null, ansible_ssh_timeout: null, other: null }
  const r = resolveConnection('web1', nulls)
  assert.equal([r.settings.port, r.settings.become, 'user' in r.settings, 'connectTimeout' in r.settings], [22, false, false, false])
  assert.equal(nulls, { other: null }) // only connection keys are dropped
})

test('resolveConnection: local is reached at localhost; a name that cannot be an address needs ansible_host', () => {
  assert.is(resolveConnection('here', { connection: 'local' }).settings.address, 'localhost')
  assert.is(resolveConnection('here', { connection: 'local', address: '10.0.0.1' }).settings.address, '10.0.0.1')
  const bad = resolveConnection('web 1', {})
  assert.is(bad.problem, "host 'web 1' has no ansible_host, and its name cannot be used as the address: expected a host name or IP address without spaces or shell characters, got 'web 1'; set ansible_host")
  assert.is(bad.settings.address, '')
  assert.is(resolveConnection('web 1', { address: '10.0.0.1' }).problem, undefined)
  assert.is(resolveConnection('web 1', { connection: 'local' }).problem, undefined)
  // an address that is not text (a value already reported) is left empty
  assert.is(resolveConnection('web1', { address: 5 }).settings.address, '')
})

test('resolveConnection: ssh options in Ansible\'s order (ssh_args, common, extra); -F from the first that has one, ~ expanded', () => {
  const { settings } = resolveConnection('web1', {
    ansible_ssh_extra_args: '-o ConnectTimeout=3 -F ~/extra',
    ansible_ssh_common_args: '-o ServerAliveInterval=4 -F ~/common',
    ansible_ssh_args: '-o ServerAliveCountMax=5',
  })
  assert.equal(settings.sshOptions.map((o) => o.keyword), ['serveralivecountmax', 'serveraliveinterval', 'connecttimeout'])
  assert.is(settings.sshConfigFile, path.join(os.userInfo().homedir, 'common'))
  // args already reported as bad, or not text, add nothing
  const r = resolveConnection('web1', { ansible_ssh_args: '-A', ansible_ssh_common_args: 5, ansible_ssh_extra_args: '-p 2200' })
  assert.equal(r.settings.sshOptions.map((o) => o.keyword), ['port'])
  assert.not.ok('sshConfigFile' in r.settings)
})

test('settings of the wrong type (already reported where written) are left out, not passed on', () => {
  const { settings } = resolveConnection('web1', { user: 5, key: 5, known_hosts: 5, ansible_password: 5, ansible_become_password: 5, ansible_ssh_timeout: '9', zxplay_persistent_shell: 'no' })
  for (const k of ['user', 'key', 'knownHosts', 'password', 'becomePassword', 'connectTimeout', 'persistentShell']) assert.not.ok(k in settings, k)
})

test('two spellings of one setting on one host: the same value is fine, different values are refused naming both', () => {
  assert.is(hostWith({ ansible_password: 'sekrit-pw', ansible_ssh_pass: 'sekrit-pw' }).password, 'sekrit-pw')
  assert.match(problem({ ansible_password: 'sekrit-pw', ansible_ssh_pass: 'other-pw' }), "all.hosts.web1.ansible_ssh_pass: 'ansible_password' and 'ansible_ssh_pass' set the same thing to different values; keep one")
  assert.match(problem({ ansible_host: '10.0.0.1', ansible_ssh_host: '10.0.0.2' }), "'ansible_host' and 'ansible_ssh_host' set the same thing")
  assert.match(problem({ ansible_port: '22', port: 2222 }), "'ansible_port' and 'port' set the same thing")
  assert.is(hostWith({ ansible_port: '2222', port: 2222 }).port, 2222) // the same port, once read
})

test('a bad value is refused naming the file, the key as written and what was expected; the value is shown, a password never', () => {
  assert.match(problem({ ansible_ssh_port: 'http' }), "all.hosts.web1.ansible_ssh_port: expected a port number from 1 to 65535, got 'http'")
  assert.match(problem({ ansible_ssh_user: 'a b' }), "all.hosts.web1.ansible_ssh_user: expected a user name")
  assert.match(problem({ ansible_host: 'a;b' }), "all.hosts.web1.ansible_host: expected a host name or IP address without spaces or shell characters, got 'a;b'")
  assert.match(problem({ ansible_host: 'a;b' }), FILE)
  const e = problem({ ansible_become_pass: 'no' })
  assert.match(e, 'all.hosts.web1.ansible_become_pass: expected a password of at least 4 characters')
  assert.not.match(e, "'no'")
})

test('each accepted, unused key is said so with its reason', () => {
  const reasons: Record<string, string> = {
    ansible_python_interpreter: 'zxplay runs no Python on hosts',
    ansible_pipelining: 'zxplay always sends commands over its one connection',
    ansible_ssh_pipelining: 'zxplay always sends commands over its one connection',
    ansible_control_path: 'zxplay keeps one connection per host for the whole run',
    ansible_control_path_dir: 'zxplay keeps one connection per host for the whole run',
    ansible_sshpass_prompt: 'zxplay answers password authentication itself, without sshpass',
    ansible_ssh_use_tty: 'zxplay asks for no terminal: sudo and su are answered over stdin',
    ansible_ssh_retries: 'zxplay does not retry a connection: a host that cannot be reached is reported unreachable',
    ansible_paramiko_use_rsa_sha2_algorithms: 'ssh2 negotiates rsa-sha2 itself',
    ansible_su_prompt_l10n: "zxplay recognises su's password prompt by its 'assword:' ending",
  }
  for (const k of ['ansible_scp_executable', 'ansible_scp_extra_args', 'ansible_scp_if_ssh', 'ansible_sftp_batch_mode', 'ansible_sftp_executable', 'ansible_sftp_extra_args', 'ansible_ssh_transfer_method']) {
    reasons[k] = 'zxplay copies files over its own connection, not with scp or sftp'
  }
  const vars = Object.fromEntries(Object.keys(reasons).map((k) => [k, 'x']))
  assert.equal(resolveConnection('web1', vars).settings.unused.sort(), Object.entries(reasons).map(([k, why]) => `${k}: accepted, unused (${why})`).sort())
  for (const k of Object.keys(reasons)) assert.is(connectionKeyTypo(k), undefined, k)
})

test.run()
