// ~/.ssh/config as OpenSSH reads it: every case is judged by `ssh -F FILE -G HOST` itself.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { configFiles, resolveOptions, SshConfigError, targetOf, tildeExpand, type SshOption } from '../../lib/base/ssh-config.ts'
import { errorOf, tempDir } from './_helpers.ts'

const { dir, remove } = tempDir('ssh-config')
process.env.ZXPLAY_TEST_DIR = dir // ssh -G inherits it
test.after(remove)

const write = (name: string, text: string) => {
  const file = path.join(dir, name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return file
}

write('conf.d/10-db.conf', 'Host db*\n  User dbadmin\n  Port 5022\n')
write('conf.d/20-all.conf', 'Host *\n  ConnectTimeout 9\n')
write('conf.d/.hidden.conf', 'Host *\n  User hidden\n')
const CONFIG = write(
  'config',
  `# first value wins; Host patterns: * any run, ? exactly one character, ! excludes
Host web?
  User webuser
  Port 2200

Host bastion
  HostName %h.example.com
  User=jumper
  Port = 2022

Host *.lab !skip.lab
  ProxyCommand ssh -W %h:%p jump-%r
  IdentityFile ~/.ssh/id_%h
  UserKnownHostsFile ~/.ssh/kh_%h %d/kh_%u \${ZXPLAY_TEST_DIR}/kh
  StrictHostKeyChecking accept-new

Host inner
  ProxyJump bastion,zx@other:2201
  ProxyCommand nc %h %p

Host outer
  ProxyCommand sh -c 'exec  nc "%h" %p'
  ProxyJump bastion

Host alias
  HostName 10.0.0.7
Match host 10.0.0.7
  User matched
Match originalhost alias user root
  Port 7007

Host QUOTED
  IdentityFile "/keys/with space"

Match all
Include ${dir}/conf.d/*.conf
Host QUOTED
  Include ${dir}/conf.d/*.conf

Host *
  User fallback
  Port 22
  IdentityFile ~/.ssh/default
  StrictHostKeyChecking yes
`
)

/** What `ssh -G` prints for the options zxplay reads, each keyword → its values. */
function sshG(host: string, given: string[] = [], file = CONFIG): Record<string, string[]> {
  const out = execFileSync('ssh', ['-F', file, '-G', ...given.flatMap((o) => ['-o', o]), host], { encoding: 'utf8' })
  const seen: Record<string, string[]> = {}
  for (const line of out.split('\n')) {
    const [k, ...v] = line.split(' ')
    if (k) (seen[k] ??= []).push(v.join(' '))
  }
  return seen
}

/** The same options as zxplay resolves them, in ssh -G's words (its own defaults where nothing is set). */
function ours(host: string, given: string[] = [], file = CONFIG): Record<string, string[]> {
  const opts: SshOption[] = given.map((g) => {
    const [k, v] = g.split('=')
    return { keyword: k!.toLowerCase(), args: [v!], where: `-o ${g}` }
  })
  const resolved = resolveOptions(host, opts, [file])
  const t = targetOf(host, host, resolved)
  const raw = (k: string) => resolved.get(k)?.[0]?.args.join(' ')
  const strict = raw('stricthostkeychecking')
  const home = os.userInfo().homedir
  return {
    hostname: [t.hostname],
    user: [t.user],
    port: [String(t.port)],
    connecttimeout: [t.connectTimeoutMs === undefined ? 'none' : String(t.connectTimeoutMs / 1000)],
    stricthostkeychecking: [strict === undefined ? 'ask' : ({ yes: 'true', no: 'false', off: 'false' } as Record<string, string>)[strict] ?? strict],
    userknownhostsfile: [(t.knownHosts ?? [`${home}/.ssh/known_hosts`, `${home}/.ssh/known_hosts2`]).join(' ')],
    // ssh -G prints these two as written
    ...(raw('proxycommand') ? { proxycommand: [raw('proxycommand')!] } : {}),
    ...(resolved.get('identityfile') ? { identityfile: resolved.get('identityfile')!.map((o) => o.args.join(' ')) } : {}),
    ...(t.proxyJump ? { proxyjump: [t.proxyJump] } : {}),
  }
}

const CASES: [string, string[]?][] = [
  ['web'], // `Host web?` needs one more character (the npm ssh-config parser matched it)
  ['web1'],
  ['webby'],
  ['bastion'],
  ['x.lab'],
  ['skip.lab'],
  ['inner'],
  ['outer'],
  ['alias'],
  ['QUOTED'],
  ['dbserver'],
  ['other'],
  ['db1.lab'],
  ['Web1'],
  ['x.lab', ['User=given', 'Port=9', 'StrictHostKeyChecking=no']],
  ['alias', ['User=someone']],
  ['bastion', ['ProxyJump=hop']],
]

for (const [host, given] of CASES) {
  test(`ssh -G ${given?.map((g) => `-o ${g} `).join('') ?? ''}${host}: the same options`, () => {
    const want = sshG(host, given)
    const got = ours(host, given)
    for (const [k, v] of Object.entries(got)) assert.equal(v, want[k], `${host}: ${k}`)
    for (const k of ['proxycommand', 'proxyjump']) assert.is(k in got, k in want, `${host}: ${k} set`)
  })
}

test('a keyword zxplay cannot honour is refused by name and place, only for the hosts it applies to', () => {
  const file = write('refuse', 'Host fwd\n  LocalForward 8080 localhost:80\n  ForwardAgent no\nHost *\n  User u\n')
  const e = errorOf(() => targetOf('fwd', 'fwd', resolveOptions('fwd', [], [file])))
  assert.instance(e, SshConfigError)
  assert.match(e.message, `${file}:2: ssh option 'localforward 8080 localhost:80' is not supported by zxplay`)
  // ForwardAgent no: harmless; and another host is not concerned
  assert.is(targetOf('other', 'other', resolveOptions('other', [], [file])).user, 'u')
})

test('Match exec is refused (a lookup never runs commands from the config), and so is an unknown token', () => {
  const exec = write('exec', 'Match exec "touch /tmp/zxplay-canary"\n  User x\n')
  assert.match(errorOf(() => resolveOptions('h', [], [exec])).message, `${exec}:1: 'Match exec' is not supported by zxplay`)
  const token = write('token', 'Host h\n  UserKnownHostsFile /kh/%C\n')
  assert.match(errorOf(() => targetOf('h', 'h', resolveOptions('h', [], [token]))).message, `${token}:2: token %C in userknownhostsfile is not supported`)
})

test('~ is the home directory from the password database, not $HOME (as OpenSSH)', () => {
  const saved = process.env.HOME
  process.env.HOME = '/nonexistent-home'
  try {
    assert.is(tildeExpand('~/.ssh/id'), path.join(os.userInfo().homedir, '.ssh/id'))
    assert.is(configFiles()[0], path.join(os.userInfo().homedir, '.ssh/config'))
  } finally {
    process.env.HOME = saved
  }
})

test.run()
