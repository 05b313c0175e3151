import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { loadInventory, parseInventory } from '../../lib/inventory/inventory.ts'
import type { Host, Inventory, Vars } from '../../lib/inventory/inventory.ts'
import { errorOf } from './_helpers.ts'

const FILE = '/srv/infra/inventory.yaml'
const parse = (yaml: string, extra?: Vars) => parseInventory(yaml, FILE, extra)

function hostOf(inv: Inventory, name: string): Host {
  const host = inv.hosts.find((h) => h.name === name)
  if (!host) throw new Error(`no host ${name} in ${inv.hosts.map((h) => h.name)}`)
  return host
}

/** The inventory fails with its first error at `keyPath`, saying `message`. */
function fails(yaml: string, keyPath: string, message: string) {
  return () => {
    const e = errorOf(() => parse(yaml))
    assert.instance(e, InventoryError)
    assert.is((e as InventoryError).file, FILE)
    assert.is((e as InventoryError).path, keyPath)
    const [first = ''] = e.message.split('\n')
    assert.ok(first.startsWith(`${FILE}${keyPath ? `: ${keyPath}` : ''}: `) && first.includes(message), e.message)
  }
}

// A Kubespray-style inventory, as an Ansible user already has it.
const ANSIBLE_INVENTORY = `
all:
  vars:
    ansible_user: deploy
    ansible_ssh_private_key_file: ~/.ssh/deploy_ed25519
    ansible_python_interpreter: /usr/bin/python3
  children:
    k8s_cluster:
      children:
        kube_control_plane:
          hosts:
            cp1:
              ansible_host: 10.0.0.10
        kube_node:
          hosts:
            node1:
              ansible_host: 10.0.0.11
              ansible_port: 2222
            node2:
              ansible_host: 10.0.0.12
              ansible_connection: paramiko
          vars:
            ansible_become: yes
            ansible_become_user: root
    local:
      hosts:
        localhost:
          ansible_connection: local
`

test('an Ansible inventory loads unchanged, its names read as ours', () => {
  const inv = parse(ANSIBLE_INVENTORY)
  assert.equal(
    inv.hosts.map((h) => h.name),
    ['cp1', 'node1', 'node2', 'localhost']
  )
  const node1 = hostOf(inv, 'node1')
  assert.equal(
    { ...node1, vars: undefined, unused: undefined },
    {
      name: 'node1',
      connection: 'ssh',
      address: '10.0.0.11',
      port: 2222,
      user: 'deploy',
      key: path.join(os.homedir(), '.ssh/deploy_ed25519'),
      hostKeyChecking: 'strict',
      become: true,
      becomeUser: 'root',
      becomeMethod: 'sudo',
      sshOptions: [],
      groups: ['all', 'k8s_cluster', 'kube_node'],
      vars: undefined,
      unused: undefined,
    }
  )
  assert.is(node1.vars.ansible_python_interpreter, '/usr/bin/python3')
  assert.is(node1.vars.address, '10.0.0.11')
  assert.is(node1.vars.ansible_host, undefined)
  assert.is(hostOf(inv, 'cp1').become, false)
  assert.is(hostOf(inv, 'cp1').port, 22)
  assert.is(hostOf(inv, 'node2').connection, 'ssh')
  assert.is(hostOf(inv, 'localhost').connection, 'local')
  assert.is(hostOf(inv, 'localhost').address, 'localhost')
  assert.equal(inv.groups.get('k8s_cluster'), { name: 'k8s_cluster', parents: ['all'], hosts: ['cp1', 'node1', 'node2'] })
  assert.equal(inv.groups.get('kube_node')?.parents, ['k8s_cluster'])
})

test('the older ansible_ssh_* names work too', () => {
  const h = parse(`all: {hosts: {a: {ansible_ssh_host: 10.0.0.1, ansible_ssh_port: 2200, ansible_ssh_user: u}}}`).hosts[0]
  assert.equal([h?.address, h?.port, h?.user], ['10.0.0.1', 2200, 'u'])
})

test('YAML merge keys work, as in PyYAML', () => {
  const yaml = `
all:
  hosts:
    a: &node {address: 10.0.0.1, port: 2222, user: ops}
    b: {<<: *node, address: 10.0.0.2}`
  const b = parse(yaml).hosts[1]
  assert.equal([b?.address, b?.port, b?.user], ['10.0.0.2', 2222, 'ops'])
})

const TREE = `
all:
  vars: {v: all, from_all: 1, cfg: {a: 1, b: 2}}
  children:
    rack:                      # deepest group, declared first: depth decides, not order
      vars: {v: rack}
    region:
      vars: {v: region, from_region: 1}
      children:
        zone:
          vars: {v: zone}
          children:
            rack:
              hosts:
                h1: {address: 10.0.0.1, v: host, cfg: {a: 9}}
                h2: {address: 10.0.0.2}
`

test('precedence: all < parent group < child group < host < extra vars', () => {
  const inv = parse(TREE)
  assert.is(hostOf(inv, 'h2').vars.v, 'rack')
  assert.is(hostOf(inv, 'h1').vars.v, 'host')
  assert.is(hostOf(inv, 'h1').vars.from_all, 1)
  assert.is(hostOf(inv, 'h1').vars.from_region, 1)
  assert.equal(hostOf(inv, 'h1').groups, ['all', 'region', 'zone', 'rack'])
  assert.is(hostOf(parse(TREE, { v: 'extra' }), 'h1').vars.v, 'extra')
})

test('zone vars beat region vars when rack has none', () => {
  const inv = parse(TREE.replace('vars: {v: rack}', 'vars: {}'))
  assert.is(hostOf(inv, 'h2').vars.v, 'zone')
})

test('a host var replaces the whole top-level key (hash_behaviour=replace)', () => {
  assert.equal(hostOf(parse(TREE), 'h1').vars.cfg, { a: 9 })
})

test('groups at the same depth apply by name: later in the alphabet wins', () => {
  const yaml = `
all:
  children:
    web: {vars: {v: web}, hosts: {x: {address: 10.0.0.1}}}
    db: {vars: {v: db}, hosts: {x: }}
    app: {vars: {v: app}, hosts: {x: }}`
  const x = hostOf(parse(yaml), 'x')
  assert.is(x.vars.v, 'web')
  assert.equal(x.groups, ['all', 'app', 'db', 'web'])
})

test('a group listed under several parents has depth of its longest path', () => {
  const yaml = `
all:
  children:
    zz: {vars: {v: zz}, hosts: {x: {address: a}}}
    prod: {children: {zz: }}
    aa: {vars: {v: aa}, children: {prod: }}`
  // zz is all→aa→prod→zz (depth 3), deeper than aa (depth 1): zz wins despite its name
  assert.is(hostOf(parse(yaml), 'x').vars.v, 'zz')
})

test('top-level groups are children of all unless another group has them (ansible-inventory --graph agrees)', () => {
  const inv = parse(`web: {hosts: {w1: {address: 10.0.0.1}}}\nprod: {children: {web: }}`)
  assert.equal(inv.groups.get('web'), { name: 'web', parents: ['prod'], hosts: ['w1'] })
  assert.equal(inv.groups.get('prod')?.parents, ['all'])
  assert.equal(inv.groups.get('all')?.hosts, ['w1'])
  assert.equal(hostOf(inv, 'w1').groups, ['all', 'prod', 'web'])
})

test('a host in two groups: entries merge, later non-empty values win', () => {
  const inv = parse(`all: {children: {a: {hosts: {x: {address: 10.0.0.1, port: 2200, v: 1}}}, b: {hosts: {x: {v: 2}}}}}`)
  const x = hostOf(inv, 'x')
  assert.equal([x.address, x.port, x.vars.v, x.groups], ['10.0.0.1', 2200, 2, ['all', 'a', 'b']])
  assert.is(inv.hosts.length, 1)
})

test("a host's vars: map holds host vars, its own keys win", () => {
  const x = parse(`all: {hosts: {x: {address: a, v: own, vars: {v: nested, w: nested, user: u}}}}`).hosts[0]
  assert.equal([x?.vars.v, x?.vars.w, x?.user], ['own', 'nested', 'u'])
})

test('key and known_hosts: ~ expanded, relative to the inventory folder', () => {
  const at = (value: string) => {
    const h = parse(`all: {hosts: {x: {address: a, key: "${value}", known_hosts: "${value}"}}}`).hosts[0]
    return [h?.key, h?.knownHosts]
  }
  assert.equal(at('keys/id_ed25519'), ['/srv/infra/keys/id_ed25519', '/srv/infra/keys/id_ed25519'])
  assert.equal(at('../id'), ['/srv/id', '/srv/id'])
  assert.equal(at('/etc/ssh/id'), ['/etc/ssh/id', '/etc/ssh/id'])
  assert.equal(at('~/.ssh/id'), [path.join(os.homedir(), '.ssh/id'), path.join(os.homedir(), '.ssh/id')])
})

test('local hosts need no address; defaults stay out of vars', () => {
  const h = parse(`all: {hosts: {me: {connection: local}}}`).hosts[0]
  assert.equal([h?.connection, h?.address, h?.port, h?.vars.address, h?.vars.port], ['local', 'localhost', 22, undefined, undefined])
})

test('settings: become from yes/no, port from "22", defaults', () => {
  const h = parse(`all: {vars: {become: "no"}, hosts: {x: {address: a, port: "2222", become: yes, host_key_checking: accept-new}}}`).hosts[0]
  assert.equal([h?.port, h?.become, h?.becomeUser, h?.hostKeyChecking], [2222, true, 'root', 'accept-new'])
})

// ---- validation: one case per line: inventory → key path, message ----

test('YAML syntax error: line and column', fails('all:\n  hosts:\n    a: [1\n', '', 'line 4, column 1: '))
test('duplicate host in one map', fails('all:\n  hosts:\n    a:\n    a:\n', '', "line 4, column 5: duplicated mapping key 'a'"))
test('empty file', fails('', '', 'expected a map with all: or group names at the top level, got nothing'))
test('top level is a list', fails('- a\n- b\n', '', 'expected a map with all: or group names at the top level, got a list'))
test('hosts: at the top level', fails('hosts: {a: }', 'hosts', "'hosts:' at the top level would be a group name; put it under all:"))
test('vars: at the top level', fails('vars: {x: 1}', 'vars', "'vars:' at the top level would be a group name; put it under all:"))
test('children: at the top level', fails('children: {web: }', 'children', "'children:' at the top level would be a group name; put it under all:"))
test('group is a list', fails('all: {children: {web: [a, b]}}', 'all.children.web', 'expected a group (a map with hosts:, vars: or children:), got a list'))
test('unknown key in a group', fails('all: {children: {web: {host: {a: }}}}', 'all.children.web.host', "unknown key 'host' in group 'web' (expected hosts, vars or children)"))
test('hosts is a list', fails('all: {hosts: [a, b]}', 'all.hosts', 'expected a map of host names (name: or name: {address: ...}), got a list'))
test('children is a list', fails('all: {children: [web]}', 'all.children', 'expected a map of group names, got a list'))
test('vars is a list', fails('all: {vars: [x]}', 'all.vars', 'expected a map of variables, got a list'))
test('host vars: is a list', fails('all: {hosts: {a: {address: a, vars: [1]}}}', 'all.hosts.a.vars', 'expected a map of variables, got a list'))
test('host entry is a string', fails('all: {hosts: {a: 10.0.0.1}}', 'all.hosts.a', "expected a map of host variables (address:, port:, ...) or nothing, got '10.0.0.1'"))
test('invalid host name', fails('all: {hosts: {"web 1": {address: a}}}', 'all.hosts.web 1', "invalid host name 'web 1' (use letters, digits, '.', '_', '-', or ':' in an IPv6 address)"))
test('malformed host range', fails('all: {hosts: {"www[01:5].example.com": }}', 'all.hosts.www[01:5].example.com', 'invalid host range: host range [01:5] must have begin and end of the same length'))
test('invalid group name', fails('all: {children: {"web&db": }}', 'all.children.web&db', "invalid group name 'web&db'"))
test('typo: adress', fails('all: {hosts: {a: {adress: 10.0.0.1}}}', 'all.hosts.a.adress', "unknown key 'adress' (did you mean 'address'?)"))
test('typo: prot', fails('all: {hosts: {a: {address: a, prot: 22}}}', 'all.hosts.a.prot', "unknown key 'prot' (did you mean 'port'?)"))
test('typo: usr', fails('all: {hosts: {a: {address: a, usr: me}}}', 'all.hosts.a.usr', "unknown key 'usr' (did you mean 'user'?)"))
test('typo: ansible_hots', fails('all: {hosts: {a: {ansible_hots: a}}}', 'all.hosts.a.ansible_hots', "unknown key 'ansible_hots' (did you mean 'ansible_host'?)"))
test('no address: the inventory name is the address, as in Ansible', () => {
  assert.is(parse('all: {hosts: {a: {port: 22}}}').hosts[0]?.address, 'a')
  assert.is(parse('all: {children: {web: {hosts: {web1.example.com: }}}}').hosts[0]?.address, 'web1.example.com')
})
test('two addresses', fails('all: {children: {a: {hosts: {x: {address: 10.0.0.1}}}, b: {hosts: {x: {ansible_host: 10.0.0.2}}}}}', 'all.children.b.hosts.x', "duplicate host 'x' with different addresses: '10.0.0.2' here, '10.0.0.1' at all.children.a.hosts.x"))
test('both address and ansible_host', fails('all: {hosts: {x: {address: a, ansible_host: b}}}', 'all.hosts.x.ansible_host', "'address' and 'ansible_host' set the same thing to different values; keep one"))
test('port word', fails('all: {hosts: {a: {address: a, port: ssh}}}', 'all.hosts.a.port', "expected a port number from 1 to 65535, got 'ssh'"))
test('port 0', fails('all: {hosts: {a: {address: a, port: 0}}}', 'all.hosts.a.port', 'expected a port number from 1 to 65535, got 0'))
test('port 65536', fails('all: {hosts: {a: {address: a, port: 65536}}}', 'all.hosts.a.port', 'got 65536'))
test('port 22.5', fails('all: {hosts: {a: {address: a, port: 22.5}}}', 'all.hosts.a.port', 'got 22.5'))
test('port in group vars', fails('all: {children: {web: {vars: {ansible_port: -1}}}}', 'all.children.web.vars.ansible_port', 'expected a port number from 1 to 65535, got -1'))
test('become not boolean', fails('all: {hosts: {a: {address: a, become: maybe}}}', 'all.hosts.a.become', "expected true or false, got 'maybe'"))
test('connection unknown', fails('all: {hosts: {a: {address: a, connection: docker}}}', 'all.hosts.a.connection', "expected 'ssh', 'local' or 'paramiko' (zxplay's two transports), got 'docker'"))
test('host_key_checking unknown', fails('all: {vars: {host_key_checking: false}}', 'all.vars.host_key_checking', "expected 'strict' or 'accept-new', got false"))
test('address with a space', fails('all: {hosts: {a: {address: "10.0.0.1 x"}}}', 'all.hosts.a.address', "expected a host name or IP address without spaces or shell characters, got '10.0.0.1 x'"))
test('an invalid address is not also reported missing', () => {
  const e = errorOf(() => parse('all: {hosts: {a: {address: "a;reboot"}}, children: {g: {hosts: {b: {adress: x}}}}}'))
  assert.is(e.message.split('\n').length, 2, e.message)
})
test('address with ;', fails('all: {hosts: {a: {address: "a;reboot"}}}', 'all.hosts.a.address', 'without spaces or shell characters'))
test('address empty', fails('all: {hosts: {a: {address: ""}}}', 'all.hosts.a.address', "expected a host name or IP address, got ''"))
test('address a number', fails('all: {hosts: {a: {address: 10}}}', 'all.hosts.a.address', 'expected a host name or IP address, got 10'))
test('key not a string', fails('all: {vars: {key: [a]}}', 'all.vars.key', 'expected a file path, got a list'))
test('group named like a host', fails('all: {children: {web: {hosts: {web: {address: a}}}}}', 'all.children.web', "group 'web' has the same name as the host at all.children.web.hosts.web"))
test('cycle in children', fails('all: {children: {a: {children: {b: {children: {a: }}}}}}', 'all.children.a.children.b.children.a', 'cycle in children: a → b → a'))
test('all as a child', fails('all: {children: {web: {children: {all: }}}}', 'all.children.web.children.all', 'cycle in children: all → web → all'))
test('invalid host name: a pattern operator first', fails('all: {hosts: {"!web": }}', 'all.hosts.!web', "invalid host name '!web'"))
test('ansible_group_priority: not a whole number', fails('all: {children: {web: {vars: {ansible_group_priority: true}}}}', 'all.children.web.vars.ansible_group_priority', 'expected a whole number, got true'))
// JavaScript's Number() reads these, Python's int() does not
test('ansible_group_priority: hexadecimal', fails('all: {children: {web: {vars: {ansible_group_priority: "0x10"}}}}', 'all.children.web.vars.ansible_group_priority', "expected a whole number, got '0x10'"))
test('ansible_group_priority: an exponent', fails('all: {children: {web: {vars: {ansible_group_priority: "5e1"}}}}', 'all.children.web.vars.ansible_group_priority', "expected a whole number, got '5e1'"))
test('ansible_group_priority: a string with blanks or a sign is read as a number (Python int())', () => {
  // same depth: by name b wins over a, unless a has the higher priority
  const v = (prio: string) => hostOf(parse(`all: {children: {a: {vars: {v: a, ansible_group_priority: "${prio}"}, hosts: {h: }}, b: {vars: {v: b}, hosts: {h: }}}}`), 'h').vars.v
  assert.equal(['5', ' 5', '5 ', '+5', '-1'].map(v), ['a', 'a', 'a', 'a', 'b'])
})
test('command-line flags are checked too, and named so', () => {
  const e = errorOf(() => parseInventory('all: {hosts: {a: {address: a}}}', FILE, {}, { cliVars: { port: 'x' } }))
  assert.is((e as InventoryError).path, 'command-line flags.port')
  assert.ok(e.message.endsWith("command-line flags.port: expected a port number from 1 to 65535, got 'x'"), e.message)
})
test('a host named all', fails('all: {hosts: {all: }}', 'all', "group 'all' has the same name as the host at all.hosts.all"))
test('a host named ungrouped', fails('all: {hosts: {ungrouped: }}', 'ungrouped', "group 'ungrouped' has the same name as the host at all.hosts.ungrouped"))
test('an inventory without vault values has no secrets to hide', () => {
  assert.equal(parse(ANSIBLE_INVENTORY).secrets, [])
})
test('a host in no group is a member of ungrouped (the pattern ungrouped selects it)', () => {
  assert.equal(parse('all: {hosts: {a: }, children: {web: {hosts: {b: }}}}').groups.get('ungrouped')?.hosts, ['a'])
})
test('extra vars are checked too', () => {
  const e = errorOf(() => parse('all: {hosts: {a: {address: a}}}', { port: 'x' }))
  assert.is((e as InventoryError).path, 'extra vars.port')
  assert.ok(e.message.endsWith("extra vars.port: expected a port number from 1 to 65535, got 'x'"), e.message)
})

test('every error is reported at once, one per line, the first one in .path', () => {
  const e = errorOf(() =>
    parse(`
all:
  hosts:
    a: {adress: 10.0.0.1}
    b: {address: 10.0.0.2, port: 99999}
  children:
    web: {hots: {c: }}
`)
  ) as InventoryError
  assert.is(e.path, 'all.hosts.a.adress')
  assert.equal(e.message.split('\n'), [
    `${FILE}: all.hosts.a.adress: unknown key 'adress' (did you mean 'address'?); a variable with this name goes under vars:`,
    `${FILE}: all.hosts.b.port: expected a port number from 1 to 65535, got 99999`,
    `${FILE}: all.children.web.hots: unknown key 'hots' in group 'web' (expected hosts, vars or children)`,
  ])
})

test('ordinary short variables are not taken for typos', () => {
  const h = parse('all: {hosts: {a: {address: a, dev: sda, host: x, ip: 1, id: 2}}}').hosts[0]
  assert.equal([h?.vars.dev, h?.vars.host], ['sda', 'x'])
})

// ---- files ----

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-inventory-'))
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }))

test('loadInventory reads the file; keys resolve against its folder', async () => {
  const file = path.join(tmp, 'inventory.yaml')
  fs.writeFileSync(file, 'all: {hosts: {a: {address: 10.0.0.1, key: id_ed25519}}}\n')
  const inv = await loadInventory(file, { extraVars: { v: 1 } })
  assert.equal([inv.file, inv.hosts[0]?.key, inv.hosts[0]?.vars.v], [file, path.join(tmp, 'id_ed25519'), 1])
})

test('loadInventory: group_vars/ beside the playbooks (playbookDir) apply; a bad value there names its file and key', async () => {
  const inv = path.join(tmp, 'pbdir', 'inventory')
  const plays = path.join(tmp, 'pbdir', 'plays')
  fs.mkdirSync(inv, { recursive: true })
  fs.mkdirSync(path.join(plays, 'group_vars'), { recursive: true })
  fs.writeFileSync(path.join(inv, 'hosts.yaml'), 'all: {hosts: {a: {address: 10.0.0.1}}}\n')
  fs.writeFileSync(path.join(plays, 'group_vars', 'all.yaml'), 'from_plays: 1\n')
  const loaded = await loadInventory(path.join(inv, 'hosts.yaml'), { playbookDir: plays })
  assert.is(loaded.hosts[0]?.vars.from_plays, 1)
  fs.writeFileSync(path.join(plays, 'group_vars', 'all.yaml'), 'ansible_port: ssh\n')
  const e = await loadInventory(path.join(inv, 'hosts.yaml'), { playbookDir: plays }).catch((e: unknown) => e)
  assert.instance(e, InventoryError)
  assert.is((e as InventoryError).message, `${path.join(plays, 'group_vars', 'all.yaml')}: ansible_port: expected a port number from 1 to 65535, got 'ssh'`)
})

test('loadInventory: a vars file that is not YAML is one more line of the refusal, naming only the file and the place', async () => {
  const dir = path.join(tmp, 'badvars')
  fs.mkdirSync(path.join(dir, 'group_vars'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'hosts.yaml'), 'all: {hosts: {a: {adress: 10.0.0.1}}}\n')
  fs.writeFileSync(path.join(dir, 'group_vars', 'all.yaml'), 'a: [1\n')
  const e = await loadInventory(path.join(dir, 'hosts.yaml')).catch((e: unknown) => e)
  assert.instance(e, InventoryError)
  const [first, second = ''] = (e as Error).message.split('\n')
  assert.is(first, `${path.join(dir, 'hosts.yaml')}: all.hosts.a.adress: unknown key 'adress' (did you mean 'address'?); a variable with this name goes under vars:`)
  assert.ok(second.startsWith(`${path.join(dir, 'group_vars', 'all.yaml')}: line 2, column 1: `), second)
})

// made once with `ansible-vault encrypt --vault-password-file` (password 'pw-for-tests') of 'api_key: vaulted value'
const VAULTED = `$ANSIBLE_VAULT;1.1;AES256
36306432323965373938623439303064303035616363323335323438343437613366656635356133
3136363139343661663136333039623764383738313737630a636631316633343434623934386464
39363866386161666435643564613734626439663236363238386334346230303131386466323939
6163613364373138650a316163653632303962373262373361323737333038393231323563633961
30353339636137396233343665333237653134633633633362653065343063313934
`
test('loadInventory: an encrypted group_vars file is read with the vault password', async () => {
  const dir = path.join(tmp, 'vaulted')
  fs.mkdirSync(path.join(dir, 'group_vars'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'hosts.yaml'), 'all: {hosts: {a: {address: 10.0.0.1}}}\n')
  fs.writeFileSync(path.join(dir, 'group_vars', 'all.yaml'), VAULTED)
  const inv = await loadInventory(path.join(dir, 'hosts.yaml'), { vaultPassword: 'pw-for-tests' })
  assert.is(inv.hosts[0]?.vars.api_key, 'vaulted value')
})

test('loadInventory: a missing file names it', async () => {
  const file = path.join(tmp, 'nope.yaml')
  const e = await loadInventory(file).catch((e: unknown) => e)
  assert.instance(e, InventoryError)
  assert.is((e as InventoryError).message, `${file}: cannot read the inventory: no such file`)
})

test.run()
