// The Kubernetes packages' revision on the lab: the lab's pkgs.k8s.io publishes 1.36.2 only as
// 1.36.2-2.1 (as the real repository does), so `site` must install that; a pinned release the
// repository lacks stops 10-runtime with one error listing what it has, and installs nothing.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { labDown, labUp, onHost, type Lab } from '../../lab/netns/lab.ts'
import { runCli, runJson } from './helpers.ts'

const test = suite('Kubernetes package revisions on the lab (1 host)')
let lab: Lab
const inv = () => ['-i', lab.inventory]
const failures = (r: { stdout: string; stderr: string }) => `${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`
const KUBE = 'kubelet kubeadm kubectl'

test.before(async () => {
  lab = await labUp({ hosts: 1 })
})
test.after(async () => {
  await labDown()
})

test('a pinned release the repository lacks: one clear error naming what it has; nothing installed', async () => {
  const r = await runCli(['run', '10-runtime', ...inv(), '-e', 'kubernetes_version=1.36.7'], { timeoutMs: 120_000 })
  assert.is.not(r.code, 0, failures(r))
  const has = 'it has 1.36.0-1.1, 1.36.1-1.1, 1.36.2-2.1, 1.36.3-1.1, 1.36.4-1.1'
  const said = `kubernetes_version: https://pkgs.k8s.io/core:/stable:/v1.36/deb/ has no kubelet/kubeadm/kubectl 1.36.7: ${has}`
  assert.ok(r.stdout.includes(said), failures(r))
  assert.is(r.stdout.split(said).length - 1, 1, 'said once, not once per package or per attempt')
  assert.not.match(r.stdout + r.stderr, 'E: Version', 'apt is never asked for a version it lacks')
  const dpkg = await onHost(lab, 'node1', `dpkg-query -W ${KUBE} 2>&1 || true`)
  assert.match(dpkg.stdout, 'no packages found matching kubelet')
})

test("site installs 1.36.2 at the repository's revision (1.36.2-2.1), held; a rerun of 10-runtime changes nothing", async () => {
  const r = await runCli(['run', 'site', ...inv()], { timeoutMs: 300_000 })
  assert.is(r.code, 0, failures(r))
  const dpkg = await onHost(lab, 'node1', `dpkg-query -W -f='\${Package}=\${Version}\\n' ${KUBE}; apt-mark showhold`)
  assert.equal(dpkg.stdout.trim().split('\n').sort(), ['kubeadm', 'kubeadm=1.36.2-2.1', 'kubectl', 'kubectl=1.36.2-2.1', 'kubelet', 'kubelet=1.36.2-2.1'])
  const again = await runJson(['run', '10-runtime', ...inv()], { timeoutMs: 120_000 })
  assert.is(again.code, 0, failures(again))
  assert.is(again.report.hosts.node1?.changed, 0, failures(again))
})

test.run()
