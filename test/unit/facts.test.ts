import { spawnSync } from 'node:child_process'
import os from 'node:os'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FACTS_COMMAND, parseFacts } from '../../lib/transport/facts.ts'
import { wrapCommand } from '../../lib/transport/shell.ts'

const SAMPLE = `hostname=node1
distro=debian
distroVersion=12
arch=x86_64
kernel=6.1.0-18-amd64
cpus=4
memoryKb=8148012
user=deploy
`

test('parseFacts: sample output', () =>
  assert.equal(parseFacts(SAMPLE), {
    hostname: 'node1',
    distro: 'debian',
    distroVersion: '12',
    arch: 'x86_64',
    kernel: '6.1.0-18-amd64',
    cpus: 4,
    memoryMb: 7957,
    user: 'deploy',
  }))

test('parseFacts: values may contain =', () => assert.is(parseFacts('kernel=5.15=x\n').kernel, '5.15=x'))
test('parseFacts: other lines ignored', () => assert.is(parseFacts('warning: no tty\nuser=root\n').user, 'root'))
test('parseFacts: missing facts get defaults', () =>
  assert.equal(parseFacts(''), { hostname: '', distro: 'unknown', distroVersion: 'unknown', arch: '', kernel: '', cpus: 0, memoryMb: 0, user: '' }))

test('FACTS_COMMAND on this machine, wrapped as on a host (sh → bash, strict mode)', () => {
  const r = spawnSync('sh', ['-c', wrapCommand(FACTS_COMMAND)], { encoding: 'utf8' })
  assert.is(r.status, 0, r.stderr)
  assert.is(r.stderr, '')
  const f = parseFacts(r.stdout)
  assert.is(f.hostname, os.hostname())
  assert.is(f.arch, spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim())
  assert.is(f.kernel, os.release())
  assert.is(f.user, os.userInfo().username)
  assert.ok(f.cpus >= 1 && Number.isInteger(f.cpus), String(f.cpus))
  assert.ok(f.memoryMb > 0, String(f.memoryMb))
  assert.ok(Math.abs(f.memoryMb - os.totalmem() / 2 ** 20) < 2, `${f.memoryMb} MB`)
  assert.match(f.distro, /^[a-z0-9._-]+$/)
  assert.ok(f.distroVersion.length > 0)
})

test.run()
