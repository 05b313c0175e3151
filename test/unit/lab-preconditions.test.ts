// What `npm run lab:up` refuses before it creates anything: facts in, problems out (the machine's
// side, run for real, is lab/hosts/test/preconditions.test.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BRIDGE, type Dist } from '../../lab/hosts/config.ts'
import { HOST_BYTES, labProblems, overlaps, ROOTFS_BYTES, type LabFacts } from '../../lab/hosts/preconditions.ts'

const GB = 2 ** 30
// this machine as it was on 2026-12-03, with the namespace lab up and debian-12 cached
const fit: LabFacts = {
  uid: 0,
  missingTools: [],
  links: [
    { name: 'lo', cidrs: ['127.0.0.1/8'] },
    { name: 'eth0', cidrs: ['192.0.2.2/24'] },
    { name: 'zxlab0', cidrs: ['10.77.0.1/24'] },
  ],
  routes: [
    { dst: '192.0.2.0/24', dev: 'eth0' },
    { dst: '10.77.0.0/24', dev: 'zxlab0' },
    { dst: '127.0.0.0/8', dev: 'lo' },
  ],
  ours: false,
  disk: { cache: { dev: 1, free: 78 * GB }, run: { dev: 1, free: 78 * GB } },
  cachedDists: ['debian-12'],
  aptCached: true,
}
const want: { hosts: number; dists: Dist[] } = { hosts: 3, dists: ['debian-12'] }
const problems = (change: Partial<LabFacts>, w = want) => labProblems({ ...fit, ...change }, w)
const one = (change: Partial<LabFacts>, re: RegExp, w = want) => {
  const p = problems(change, w)
  assert.is(p.length, 1, p.join('\n'))
  assert.match(p[0]!, re)
}

test('a fit machine: no problem', () => {
  assert.equal(problems({}), [])
})

test('not root: said, with what to do', () => {
  one({ uid: 1000 }, /^not root: .*systemd-nspawn.*sudo/)
})

test('a missing program names the Debian package to install', () => {
  one({ missingTools: ['systemd-nspawn'] }, /^missing systemd-nspawn: apt-get install systemd-container$/)
  one({ missingTools: ['mmdebstrap', 'apt-cacher-ng'] }, /^missing mmdebstrap, apt-cacher-ng: apt-get install mmdebstrap apt-cacher-ng$/)
})

test("a link with the bridge's name that is not a lab of ours", () => {
  one({ links: [...fit.links, { name: BRIDGE, cidrs: [] }] }, new RegExp(`^a link named ${BRIDGE} exists and is not this lab's .*ip link del ${BRIDGE}`))
  // a lab of ours is up: lab up replaces it, its bridge and addresses are no problem
  assert.equal(problems({ ours: true, links: [...fit.links, { name: BRIDGE, cidrs: ['10.78.0.1/24'] }], routes: [...fit.routes, { dst: '10.78.0.0/24', dev: BRIDGE }] }), [])
})

test('the address range in use: an address on another link, or a route elsewhere', () => {
  one({ links: [...fit.links, { name: 'br-docker', cidrs: ['10.78.0.5/16'] }], routes: [...fit.routes, { dst: '10.78.0.0/16', dev: 'br-docker' }] }, /^the lab's address range 10\.78\.0\.1\/24 is in use: 10\.78\.0\.5\/16 on br-docker$/)
  one({ routes: [...fit.routes, { dst: '10.0.0.0/8', dev: 'tun0' }] }, /is routed elsewhere: 10\.0\.0\.0\/8 via tun0$/)
  one({ routes: [...fit.routes, { dst: '10.78.0.77', dev: 'wg0' }] }, /routed elsewhere: 10\.78\.0\.77 via wg0$/)
  // the neighbours are not the range
  assert.equal(problems({ links: [...fit.links, { name: 'x', cidrs: ['10.78.1.1/24', '10.79.0.1/24'] }], routes: [...fit.routes, { dst: '10.78.1.0/24', dev: 'x' }] }), [])
})

test('disk: the hosts, and the rootfs when it is to be built; one filesystem or two', () => {
  const tight = 3 * HOST_BYTES - 1
  one({ disk: { cache: { dev: 1, free: tight }, run: { dev: 1, free: tight } } }, /^not enough disk for .*: 1536 MB needed \(3 host\(s\) × 512 MB\), 1536 MB free$/)
  assert.equal(problems({ disk: { cache: { dev: 1, free: 3 * HOST_BYTES }, run: { dev: 1, free: 3 * HOST_BYTES } } }), [])
  // a distribution not cached yet adds its rootfs
  one({ disk: { cache: { dev: 1, free: 3 * HOST_BYTES }, run: { dev: 1, free: 3 * HOST_BYTES } } }, /the debian-13 rootfs to build/, { hosts: 3, dists: ['debian-12', 'debian-13'] })
  // apart: the cache's filesystem needs the rootfs, the runtime's the hosts
  one({ disk: { cache: { dev: 1, free: ROOTFS_BYTES - 1 }, run: { dev: 2, free: 100 * GB } } }, /^not enough disk for \/var\/cache\/zxplay-lab: 400 MB needed \(the debian-13 rootfs to build\)/, { hosts: 3, dists: ['debian-13'] })
  one({ disk: { cache: { dev: 1, free: 100 * GB }, run: { dev: 2, free: HOST_BYTES } } }, /^not enough disk for \/var\/lib\/zxplay-reallab: 1536 MB needed/)
})

test('every problem at once, not the first alone', () => {
  const p = problems({ uid: 1000, missingTools: ['mmdebstrap'], links: [...fit.links, { name: BRIDGE, cidrs: [] }] })
  assert.is(p.length, 3, p.join('\n'))
})

test('overlaps: IPv4 networks and bare addresses', () => {
  assert.ok(overlaps('10.78.0.1/24', '10.78.0.200/32'))
  assert.ok(overlaps('10.78.0.0/24', '10.0.0.0/8'))
  assert.ok(overlaps('10.78.0.9', '10.78.0.0/24'))
  assert.ok(overlaps('0.0.0.0/0', '10.78.0.0/24'))
  assert.not.ok(overlaps('10.78.1.0/24', '10.78.0.0/24'))
  assert.not.ok(overlaps('10.79.0.0/16', '10.78.0.0/24'))
  assert.not.ok(overlaps('fe80::1/64', '10.78.0.0/24'))
})

test.run()
