// Bad input: each case runs the real CLI against the lab with one mistake in the inventory, the
// flags or a template, and expects a non-zero exit, a message naming the file (or flag), the key
// and what was expected, no SSH connection to any lab host, and no log or lock left behind.
import fs from 'node:fs'
import path from 'node:path'
import * as assert from 'uvu/assert'
import type { Lab } from '../../lab/netns/lab.ts'
import { derivedInventory, FIXTURES, runCli, tmpDir } from '../e2e/helpers.ts'
import type { Case } from './harness.ts'
import { acceptedConnections, connectedHosts, filesUnder } from './probes.ts'

type Inv = any

/** One mistake: the command line (with `{inv}` for the inventory made by `change`), and what the message must say. */
type Mistake = {
  name: string
  args: string[]
  /** a change to a copy of the lab inventory, or the raw text of an inventory file */
  change?: ((i: Inv) => void) | string
  /** the exit code (default 5, bad input) */
  code?: number
  /** the message must contain each: the file (or flag), the key, what was expected */
  says: (string | RegExp)[]
}

const cp = (i: Inv) => i.all.children.control_plane
const workers = (i: Inv) => i.all.children.workers
const vars = (i: Inv) => i.all.vars
const setVar = (key: string, value: unknown) => (i: Inv) => void (vars(i)[key] = value)
const setNested = (block: string, key: string, value: unknown) => (i: Inv) => void (vars(i)[block] = { ...(vars(i)[block] ?? {}), [key]: value })

const SITE = ['run', 'site', '-i', '{inv}']
const SITE_CHECK = [...SITE, '--check']
const DEMO = ['run', path.join(FIXTURES, 'playbooks/demo.mts'), '-i', '{inv}', '-e', 'demo_dir=/tmp/zxfault-demo', '-e', 'greeting=hi']

const MISTAKES: Mistake[] = [
  // YAML and the inventory's shape
  { name: 'malformed YAML: the error names line and column', args: SITE, change: 'all:\n  vars:\n    user: zxlab\n  children: [\n', says: ['{inv}', /line \d+, column \d+/] },
  {
    name: 'a YAML alias bomb in the inventory (9 levels of 9 aliases)',
    args: ['run', '85-ray', '-i', '{inv}', '--check'],
    change: `all:\n  vars:\n    user: zxlab\n${['a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]', ...'bcdefghi'.split('').map((x, i) => `${x}: &${x} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].map((l) => `    ${l}`).join('\n')}\n    ray: {namespace: *i}\n  children:\n    control_plane:\n      hosts:\n        node1: {address: 10.77.0.11}\n`,
    says: ['{inv}', 'its aliases expand to more than 100000 values'],
  },
  { name: 'an unterminated quoted string', args: SITE, change: 'all:\n  hosts:\n    node1: { address: "10.77.0.11 }\n', says: ['{inv}', /line \d+, column \d+/] },
  { name: 'a host listed twice in one map (duplicated key)', args: SITE, change: 'all:\n  hosts:\n    node1: { address: 10.77.0.11 }\n    node1: { address: 10.77.0.12 }\n', says: ['{inv}', "duplicated mapping key 'node1'", /line 4/] },
  { name: 'two YAML documents in the inventory', args: SITE, change: 'all:\n  hosts: {}\n---\nall:\n  hosts: {}\n', says: ['{inv}', 'expected one YAML document'] },
  { name: 'an unknown key in a group', args: SITE, change: (i) => (workers(i).hostz = { node4: { address: '10.77.0.14' } }), says: ['{inv}', 'all.children.workers.hostz', 'expected hosts, vars or children'] },
  { name: 'a misspelt connection key on a host (adress)', args: SITE, change: (i) => (workers(i).hosts.node2 = { adress: '10.77.0.12' }), says: ['{inv}', 'all.children.workers.hosts.node2.adress', "did you mean 'address'"] },
  { name: 'a duplicate host with a different address', args: SITE, change: (i) => (cp(i).hosts.node2 = { address: '10.77.0.99' }), says: ['{inv}', "duplicate host 'node2' with different addresses"] },
  { name: 'a malformed host range', args: SITE, change: (i) => (workers(i).hosts['node[01:3]'] = null), says: ['{inv}', 'all.children.workers.hosts.node[01:3]', 'invalid host range', 'the same length'] },
  { name: 'a become method zxplay does not run (doas)', args: SITE, change: setVar('ansible_become_method', 'doas'), says: ['{inv}', 'all.vars.ansible_become_method', "expected 'sudo' or 'su'"] },
  { name: 'an ssh argument zxplay does not honour (-A)', args: SITE, change: setVar('ansible_ssh_common_args', '-A'), says: ['{inv}', 'all.vars.ansible_ssh_common_args', "ssh argument '-A' is not supported"] },
  { name: 'an invalid host name', args: SITE, change: (i) => (workers(i).hosts['node 4'] = { address: '10.77.0.14' }), says: ['{inv}', "invalid host name 'node 4'", 'letters, digits'] },
  { name: 'a group with the same name as a host', args: SITE, change: (i) => (i.all.children.node2 = { hosts: { node9: { address: '10.77.0.19' } } }), says: ['{inv}', "group 'node2' has the same name as the host"] },
  { name: 'a cycle in children', args: SITE, change: (i) => (workers(i).children = { control_plane: { children: { workers: null } } }), says: ['{inv}', 'cycle in children'] },
  // connection settings
  { name: 'an address with shell characters', args: SITE, change: (i) => (workers(i).hosts.node2.address = '10.77.0.12; touch /tmp/zxcanary-addr'), says: ['{inv}', 'all.children.workers.hosts.node2.address', 'expected a host name or IP address without spaces or shell characters'] },
  { name: 'a port out of range (70000)', args: SITE, change: (i) => (workers(i).hosts.node2.port = 70000), says: ['{inv}', 'node2.port', 'expected a port number from 1 to 65535'] },
  { name: 'a port that is not a number', args: SITE, change: (i) => (workers(i).hosts.node3.ansible_port = 'ssh'), says: ['{inv}', 'node3.ansible_port', 'expected a port number from 1 to 65535'] },
  { name: 'port 0', args: SITE, change: (i) => (vars(i).port = 0), says: ['{inv}', 'all.vars.port', 'expected a port number'] },
  { name: 'become that is not a boolean', args: SITE, change: setVar('become', 'maybe'), says: ['{inv}', 'all.vars.become', 'expected true or false'] },
  { name: 'a connection type that does not exist', args: SITE, change: setVar('connection', 'telnet'), says: ['{inv}', 'all.vars.connection', "expected 'ssh', 'local' or 'paramiko'"] },
  { name: 'a key file that does not exist', args: DEMO, change: setVar('key', '/nonexistent/id_ed25519'), says: ['{inv}', 'key', '/nonexistent/id_ed25519', 'no such file', 'expected a readable private key file'] },
  { name: 'a known_hosts file that does not exist', args: DEMO, change: setVar('known_hosts', '/nonexistent/known_hosts'), says: ['{inv}', 'known_hosts', '/nonexistent/known_hosts', 'no such file', 'host_key_checking: accept-new'] },
  { name: 'the inventory file does not exist', args: ['run', 'site', '-i', '/nonexistent/inventory.yaml'], says: ['/nonexistent/inventory.yaml', 'cannot read the inventory', 'no such file'] },
  // the cluster's topology and networks
  { name: 'no control-plane host', args: SITE_CHECK, change: (i) => (cp(i).hosts = {}), says: ['{inv}', 'all.children.control_plane', 'expected exactly one host in the group control_plane, found none'] },
  { name: 'two control-plane hosts (HA is not supported)', args: SITE_CHECK, change: (i) => ((cp(i).hosts.node2 = workers(i).hosts.node2), delete workers(i).hosts.node2), says: ['{inv}', 'all.children.control_plane', 'found 2 (node1, node2)', 'highly available control plane is not supported'] },
  { name: 'pod_subnet that is not a CIDR (/33)', args: SITE_CHECK, change: setVar('pod_subnet', '10.244.0.0/33'), says: ['{inv}', 'pod_subnet', "expected an IPv4 network like '10.244.0.0/16'"] },
  { name: 'pod_subnet with host bits set', args: SITE_CHECK, change: setVar('pod_subnet', '10.244.1.0/16'), says: ['{inv}', 'pod_subnet', 'host bits are set (the network is 10.244.0.0/16)'] },
  { name: 'pod_subnet with no room for a /24 per node', args: SITE_CHECK, change: setVar('pod_subnet', '10.244.0.0/24'), says: ['{inv}', 'pod_subnet', 'room for a /24 per node (3 node(s)'] },
  { name: 'pod_subnet overlapping service_subnet', args: SITE_CHECK, change: setVar('pod_subnet', '10.96.0.0/16'), says: ['{inv}', 'pod_subnet', 'overlaps service_subnet 10.96.0.0/12'] },
  { name: "pod_subnet containing the hosts' own addresses", args: SITE_CHECK, change: setVar('pod_subnet', '10.77.0.0/16'), says: ['{inv}', 'pod_subnet', "contains node1's own address 10.77.0.11"] },
  { name: "service_subnet containing a host's own address", args: SITE_CHECK, change: setVar('service_subnet', '10.64.0.0/12'), says: ['{inv}', 'service_subnet', "contains node2's own address 10.77.0.12"] },
  { name: 'service_subnet that is not a CIDR', args: SITE_CHECK, change: setVar('service_subnet', '10.96.0.0'), says: ['{inv}', 'service_subnet', "expected an IPv4 network like '10.96.0.0/12'"] },
  { name: 'service_subnet larger than /12', args: SITE_CHECK, change: setVar('service_subnet', '172.0.0.0/8'), says: ['{inv}', 'service_subnet', 'expected a network from /12'] },
  { name: 'advertise_address that is not an IPv4 address', args: SITE_CHECK, change: (i) => (cp(i).hosts.node1.advertise_address = '10.77.0.256'), says: ['{inv}', 'advertise_address', 'expected an IPv4 address'] },
  { name: 'a host name that is not a Kubernetes node name', args: SITE_CHECK, change: (i) => ((workers(i).hosts.node_3 = workers(i).hosts.node3), delete workers(i).hosts.node3), says: ['{inv}', 'node_3.node_name', 'not a valid Kubernetes node name'] },
  // versions, durations and other cluster vars
  { name: 'kubernetes_version without a patch number', args: SITE_CHECK, change: setVar('kubernetes_version', '1.36'), says: ['{inv}', 'kubernetes_version', "expected a Kubernetes release like '1.36.2'"] },
  { name: 'metric_resolution that is not a duration', args: SITE_CHECK, change: setVar('metric_resolution', '15 seconds'), says: ['{inv}', 'metric_resolution', "expected a duration like '15s'"] },
  { name: 'cri_socket that is not a unix socket URL', args: SITE_CHECK, change: setVar('cri_socket', '/run/containerd/containerd.sock'), says: ['{inv}', 'cri_socket', 'expected a unix socket URL'] },
  { name: 'a flannel_manifest file that does not exist', args: SITE_CHECK, change: setVar('flannel_manifest', 'nonexistent-flannel.yaml'), says: ['{inv}', 'flannel_manifest', 'does not exist', 'an http:// or https:// URL, or a local file'] },
  { name: 'wait_timeout that is negative', args: SITE_CHECK, change: setVar('wait_timeout', -5), says: ['{inv}', 'wait_timeout', 'expected whole seconds from 1 to 86400'] },
  { name: 'an image tag with a space', args: SITE_CHECK, change: setVar('flannel_version', 'v0.28.9 latest'), says: ['{inv}', 'flannel_version', 'expected an image tag'] },
  // Ray and the HPA
  { name: 'an invalid CPU quantity (ray.head_cpu: lots)', args: SITE_CHECK, change: setNested('ray', 'head_cpu', 'lots'), says: ['{inv}', 'ray.head_cpu', 'a CPU quantity'] },
  { name: 'a CPU quantity of zero (ray.worker_cpu)', args: SITE_CHECK, change: setNested('ray', 'worker_cpu', '0'), says: ['{inv}', 'ray.worker_cpu', 'above zero'] },
  { name: 'an invalid memory quantity (ray.worker_memory: 1GB)', args: SITE_CHECK, change: setNested('ray', 'worker_memory', '1GB'), says: ['{inv}', 'ray.worker_memory', 'a memory quantity'] },
  { name: 'HPA min_replicas below 1', args: SITE_CHECK, change: setNested('hpa', 'min_replicas', 0), says: ['{inv}', 'hpa.min_replicas', 'at least 1'] },
  { name: 'HPA min_replicas above max_replicas', args: SITE_CHECK, change: (i) => (vars(i).hpa = { min_replicas: 4, max_replicas: 2 }), says: ['{inv}', 'hpa.max_replicas', 'at least hpa.min_replicas (4)'] },
  // AWS (playbooks/80-aws-credentials.mts)
  { name: 'iamroles.txt missing', args: ['run', '80-aws-credentials', '-i', '{inv}'], change: (i) => Object.assign(vars(i).aws, { role_arn: '', iamroles_file: 'no-such-iamroles.txt' }), says: ['aws.iamroles_file', 'no-such-iamroles.txt', 'no such file', 'role ARN on its first line'] },
  { name: 'iamroles.txt whose first line is not a role ARN', args: ['run', '80-aws-credentials', '-i', '{inv}'], change: (i) => Object.assign(vars(i).aws, { role_arn: '', iamroles_file: 'bad-iamroles.txt' }), says: ['bad-iamroles.txt', 'line 1', 'expected an IAM role ARN'] },
  { name: 'aws.duration_seconds out of range (60)', args: ['run', '80-aws-credentials', '-i', '{inv}'], change: (i) => (vars(i).aws.duration_seconds = 60), says: ['{inv}', 'aws.duration_seconds', 'from 900 to 43200'] },
  // flags, patterns, playbooks, templates
  { name: '--limit that names no host or group', args: [...DEMO, '--limit', 'nodeX'], says: ["host pattern 'nodeX'", "no host or group named 'nodeX'", "did you mean 'node1'"] },
  { name: '--limit glob that matches nothing', args: [...DEMO, '--limit', 'db*'], says: ["host pattern 'db*'", "no host or group matches 'db*'"] },
  { name: 'an empty --limit', args: [...DEMO, '--limit', ''], says: ["host pattern ''", 'empty pattern'] },
  { name: 'a pattern that selects no host (node1:&workers)', args: ['sh', 'node1:&workers', '-i', '{inv}', '--', 'true'], says: ["host pattern 'node1:&workers'", 'matches no hosts'] },
  { name: 'an unknown tag', args: [...DEMO, '--tags', 'nope'], says: ["unknown tag 'nope'", 'the selected playbooks have'] },
  { name: 'an unknown playbook', args: ['run', 'no-such-playbook', '-i', '{inv}'], says: ["no playbook 'no-such-playbook'", 'there are:'] },
  { name: 'an unknown flag', args: [...DEMO, '--chekc'], says: ["unknown flag '--chekc'", 'zxplay --help'] },
  { name: 'a flag without its value', args: [...DEMO, '--forks'], says: ["flag '--forks' needs a value"] },
  { name: '--forks 0', args: [...DEMO, '--forks', '0'], says: ["flag '--forks' needs a whole number ≥ 1, got '0'"] },
  { name: '--start-at that names nothing', args: [...DEMO, '--start-at', 'no such task'], says: ["--start-at 'no such task' names no playbook or task"] },
  { name: '-e without key=value', args: [...DEMO, '-e', 'greeting'], says: ["-e 'greeting'", 'expected key=value'] },
  { name: '-e @file that does not exist', args: [...DEMO, '-e', '@/nonexistent/vars.yaml'], says: ['-e @/nonexistent/vars.yaml', 'no such file'] },
  { name: 'an unknown command', args: ['deploy', '-i', '{inv}'], says: ["unknown command 'deploy'", 'use run, ping, sh, render or inventory'] },
  { name: 'a template variable that is missing', args: ['render', path.join(FIXTURES, 'faults/missing-var.yaml'), '--host', 'node1', '-i', '{inv}', '-e', '{"app": {"replicas": 2}}'], says: ['missing-var.yaml:3', "missing variable 'app.replicaz'", "did you mean 'app.replicas'"] },
  { name: 'render for a host that is not in the inventory', args: ['render', 'kubeadm/kubeadm-config.yaml', '--host', 'node9', '-i', '{inv}'], says: ["no host 'node9'", '{inv}', 'hosts: node1, node2, node3'] },
]

export function badInputCases(lab: () => Lab, lockDir: string): Case[] {
  return MISTAKES.map((m) => ({
    group: 'bad input' as const,
    name: m.name,
    async run() {
      const inv = inventoryFor(lab(), m.change)
      const logDir = path.join(tmpDir(), 'logs')
      const [command, ...rest] = m.args.map((a) => a.replace('{inv}', inv))
      const before = acceptedConnections(lab())
      const r = await runCli([command!, '--log-dir', logDir, ...rest], { timeoutMs: 30_000 })
      const after = acceptedConnections(lab())
      const out = r.stderr + r.stdout
      assert.is.not(r.code, 0, `exit code 0:\n${out}`)
      assert.is(r.code, m.code ?? 5, `exit code ${r.code}, expected ${m.code ?? 5}:\n${out}`)
      for (const s of m.says.map((x) => (typeof x === 'string' ? x.replace('{inv}', inv) : x))) {
        assert.ok(typeof s === 'string' ? out.includes(s) : s.test(out), `the message does not say ${s}:\n${out}`)
      }
      assert.equal(connectedHosts(before, after), [], `lab hosts saw a connection: ${JSON.stringify({ before, after })}\n${out}`)
      assert.equal(filesUnder(logDir), [], 'a log was written')
      assert.equal(filesUnder(lockDir), [], 'a lock was left')
      return `exit ${r.code}: ${(r.stderr.split('\n').find((l) => l.trim()) ?? '').replace(inv, '<inv>').slice(0, 90)}`
    },
  }))
}

function inventoryFor(lab: Lab, change: Mistake['change']): string {
  if (typeof change === 'string') {
    const file = path.join(tmpDir(), 'inventory.yaml')
    fs.writeFileSync(file, change)
    return file
  }
  const file = derivedInventory(lab, change ?? (() => {}))
  // files an inventory may name, beside it
  fs.writeFileSync(path.join(path.dirname(file), 'bad-iamroles.txt'), 'arn:aws:iam::12345:role/too-short-account\n')
  return file
}
