// playbooks/support/packages.ts: which apt version of kubelet/kubeadm/kubectl 10-runtime installs, from
// `apt-cache madison` output as apt prints it for the v1.36 repository (1.36.2 is published only
// as 1.36.2-2.1), and lib/base/debian-version.ts's order judged by dpkg itself.
import { spawnSync } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { compareVersions } from '../../lib/base/debian-version.ts'
import { kubePackageVersion, parseMadison } from '../../playbooks/support/packages.ts'
import { errorOf } from './_helpers.ts'

const REPO = 'https://pkgs.k8s.io/core:/stable:/v1.36/deb/'
const INDEX = 'https://pkgs.k8s.io/core:/stable:/v1.36/deb  Packages'
const madison = (rows: Record<string, string[]>) =>
  Object.entries(rows)
    .flatMap(([name, versions]) => versions.map((v) => `${name.padStart(10)} | ${v.padStart(10)} | ${INDEX}`))
    .join('\n')
const ALL = ['1.36.4-1.1', '1.36.3-1.1', '1.36.2-2.1', '1.36.1-1.2', '1.36.1-1.1', '1.36.0-1.1']
const V136 = madison({ kubelet: ALL, kubeadm: ALL, kubectl: ALL })
const pin = (version: string, revision = '') => ({ version, revision, repo: REPO, file: '/x/inventory.yaml' })

test('madison output: versions per package, as listed', () => {
  const m = parseMadison(`${V136}\n   kubelet | 1.36.4-1.1 | ${INDEX}\n`)
  assert.equal(m.get('kubelet'), ALL)
  assert.equal([...m.keys()], ['kubelet', 'kubeadm', 'kubectl'])
})

test('the pinned release at the revision the repository has: 1.36.2 → 1.36.2-2.1', () => {
  assert.is(kubePackageVersion(V136, pin('1.36.2')), '1.36.2-2.1')
})

test('several revisions of the release: the newest (1.36.1-1.2); an override picks its own', () => {
  assert.is(kubePackageVersion(V136, pin('1.36.1')), '1.36.1-1.2')
  assert.is(kubePackageVersion(V136, pin('1.36.1', '1.1')), '1.36.1-1.1')
})

test('a release the repository lacks: one error naming the key and every version it has', () => {
  const e = errorOf(() => kubePackageVersion(V136, pin('1.36.9')))
  assert.is(e.message, `/x/inventory.yaml: kubernetes_version: ${REPO} has no kubelet/kubeadm/kubectl 1.36.9: it has 1.36.0-1.1, 1.36.1-1.1, 1.36.1-1.2, 1.36.2-2.1, 1.36.3-1.1, 1.36.4-1.1`)
})

test('a revision override the repository lacks: the error names the key and the revisions it has', () => {
  const e = errorOf(() => kubePackageVersion(V136, pin('1.36.2', '1.1')))
  assert.match(e.message, /^\/x\/inventory\.yaml: kubernetes_package_revision: .* has no kubelet\/kubeadm\/kubectl 1\.36\.2-1\.1: it has /)
  assert.match(e.message, 'for 1.36.2 it has 1.36.2-2.1 (leave kubernetes_package_revision empty for the newest)')
})

test('a release only some of the three packages have is not chosen', () => {
  const partly = madison({ kubelet: ['1.36.3-1.1', '1.36.2-2.1'], kubeadm: ['1.36.2-2.1'], kubectl: ['1.36.3-1.1', '1.36.2-2.1'] })
  assert.is(kubePackageVersion(partly, pin('1.36.2')), '1.36.2-2.1')
  assert.match(errorOf(() => kubePackageVersion(partly, pin('1.36.3'))).message, 'has no kubelet/kubeadm/kubectl 1.36.3: it has 1.36.2-2.1')
})

test('nothing listed (the repository is not fetched): the error says which package and what to do', () => {
  const e = errorOf(() => kubePackageVersion(madison({ kubectl: ['1.36.2-2.1'] }), pin('1.36.2')))
  assert.is(e.message, `${REPO} offers no kubelet, kubeadm to this host (its package lists hold none of them); run \`apt-get update\` or check the repository`)
})

test("Debian's version order agrees with dpkg --compare-versions", () => {
  const pairs = [
    ['1.36.2-2.1', '1.36.2-1.1'],
    ['1.36.10-1.1', '1.36.9-1.1'],
    ['1.36.1-1.2', '1.36.1-1.10'],
    ['1:1.0-1', '2.0-1'],
    ['1.0~rc1-1', '1.0-1'],
    ['7.88.1-10+deb12u14', '7.88.1-10+deb12u5'],
    ['1.7.24-1', '1.7.24-1'],
  ]
  for (const [a, b] of pairs) {
    const dpkg = (op: string) => spawnSync('dpkg', ['--compare-versions', a!, op, b!]).status === 0
    const ours = Math.sign(compareVersions(a!, b!))
    assert.is(ours, dpkg('gt') ? 1 : dpkg('lt') ? -1 : 0, `${a} vs ${b}`)
  }
})

test.run()
