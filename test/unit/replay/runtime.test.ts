// 10-runtime's tasks replayed against fake hosts: facts in, commands out.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pb from '../../../playbooks/10-runtime.mts'
import { replay, type Rule } from './replay.ts'
import { APT_UPDATE } from '../../../lib/engine/ops.ts'

const run = (name: string, commands: Rule[], o: { check?: boolean; registered?: Record<string, unknown>; files?: Record<string, { content: string; mode?: string }> } = {}) =>
  replay(pb, name, { check: o.check, hosts: { cp1: { commands, registered: o.registered, files: o.files } } })

const CONTAINERD_VERSION = "dpkg-query -W -f=$'${Package} ${Version}\\n' containerd"
test('containerd is installed: apt-get install only when dpkg has no version', async () => {
  const fresh = await run('containerd is installed', [[CONTAINERD_VERSION, { exit: 1, stderr: 'dpkg-query: no packages found matching containerd' }]])
  assert.equal([fresh.status, fresh.changes], ['changed', [`${APT_UPDATE} && DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd`]])
  const converged = await run('containerd is installed', [[CONTAINERD_VERSION, 'containerd 1.7.24~ds1-6+b4\n']])
  assert.equal([converged.status, converged.changes, converged.reason], ['ok', [], 'containerd 1.7.24~ds1-6+b4'])
  const check = await run('containerd is installed', [[CONTAINERD_VERSION, 1]], { check: true })
  assert.equal([check.status, check.executed], ['changed', []])
})

const KEYRING = '/etc/apt/keyrings/kubernetes-apt-keyring.gpg'
test('the signing key: fetched and dearmored once', async () => {
  const fresh = await run('the pkgs.k8s.io signing key is present', [[`[ -s ${KEYRING} ]`, 1]])
  assert.equal(fresh.changes, [`mkdir -p -m 0755 /etc/apt/keyrings && curl -fsSL --retry 3 https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key | gpg --dearmor --yes -o ${KEYRING} && chmod 0644 ${KEYRING}`])
  const converged = await run('the pkgs.k8s.io signing key is present', [[`[ -s ${KEYRING} ]`, 0]])
  assert.equal([converged.status, converged.changes], ['ok', []])
  const check = await run('the pkgs.k8s.io signing key is present', [[`[ -s ${KEYRING} ]`, 1]], { check: true })
  assert.equal([check.status, check.executed], ['changed', []])
})

const SOURCES = '/etc/apt/sources.list.d/kubernetes.list'
const LINE = `deb [signed-by=${KEYRING}] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ /\n`
test('the repository: the list file for the pinned minor, then fresh package lists', async () => {
  const fresh = await run('the pkgs.k8s.io repository is the pinned minor', [])
  assert.equal(fresh.changes, [`upload ${SOURCES} (mode 644)`, APT_UPDATE])
  assert.equal(fresh.uploads, [{ dest: SOURCES, content: LINE, mode: '644' }])
  const other = await run('the pkgs.k8s.io repository is the pinned minor', [], { files: { [SOURCES]: { content: LINE.replace('v1.36', 'v1.35') } } })
  assert.equal(other.uploads.map((u) => u.content), [LINE])
  const converged = await run('the pkgs.k8s.io repository is the pinned minor', [], { files: { [SOURCES]: { content: LINE } } })
  assert.equal([converged.status, converged.changes], ['ok', []])
  const check = await run('the pkgs.k8s.io repository is the pinned minor', [], { check: true })
  assert.equal([check.status, check.changes, check.executed], ['changed', [`upload ${SOURCES} (mode 644)`, APT_UPDATE], []])
})

const INSTALLED = "dpkg-query -W -f=$'${Package} ${Version}\\n' kubelet kubeadm kubectl"
const MADISON = 'apt-cache madison kubelet kubeadm kubectl'
const offered = ['kubelet', 'kubeadm', 'kubectl'].flatMap((p) => [`   ${p} | 1.36.2-2.1 | https://pkgs.k8s.io/core:/stable:/v1.36/deb  Packages`, `   ${p} | 1.36.1-1.1 | https://pkgs.k8s.io/core:/stable:/v1.36/deb  Packages`]).join('\n')
test('kubelet, kubeadm and kubectl: installed at the newest revision of the pinned release', async () => {
  const fresh = await run('kubelet, kubeadm and kubectl are at the pinned version', [[INSTALLED, { exit: 1 }], [MADISON, offered]])
  assert.equal(fresh.changes, ['DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages --allow-downgrades kubelet=1.36.2-2.1 kubeadm=1.36.2-2.1 kubectl=1.36.2-2.1'])
  const older = await run('kubelet, kubeadm and kubectl are at the pinned version', [[INSTALLED, 'kubelet 1.36.1-1.1\nkubeadm 1.36.2-2.1\nkubectl 1.36.2-2.1\n'], [MADISON, offered]])
  assert.is(older.changes.length, 1)
  const converged = await run('kubelet, kubeadm and kubectl are at the pinned version', [[INSTALLED, 'kubelet 1.36.2-2.1\nkubeadm 1.36.2-2.1\nkubectl 1.36.2-2.1\n'], [MADISON, offered]])
  assert.equal([converged.status, converged.changes], ['ok', []])
  const check = await run('kubelet, kubeadm and kubectl are at the pinned version', [[INSTALLED, { exit: 1 }], [MADISON, '']], { check: true })
  assert.equal([check.status, check.executed], ['changed', []])
})

test('they are held: apt-mark hold only the loose ones', async () => {
  const fresh = await run('they are held against upgrades', [['apt-mark showhold', 'kubeadm\n']])
  assert.equal([fresh.status, fresh.changes], ['changed', ['apt-mark hold kubelet kubectl']])
  const converged = await run('they are held against upgrades', [['apt-mark showhold', 'kubectl\nkubeadm\nkubelet\n']])
  assert.equal([converged.status, converged.changes], ['ok', []])
  const check = await run('they are held against upgrades', [['apt-mark showhold', '']], { check: true })
  assert.equal([check.status, check.executed], ['changed', []])
})

const IMAGES = 'kubeadm config images list --kubernetes-version v1.36.2'
const PAUSE = 'registry.k8s.io/pause:3.10.1'
test("kubeadm's pause image: asked once, registered", async () => {
  const r = await run("kubeadm's pause image is known", [[IMAGES, `registry.k8s.io/kube-apiserver:v1.36.2\n${PAUSE}\n`]])
  assert.equal([r.status, r.reason, r.registered.pause_image, r.changes], ['ok', PAUSE, PAUSE, []])
  const check = await run("kubeadm's pause image is known", [['dpkg-query -W kubeadm', 1]], { check: true })
  assert.is(check.status, 'skipped')
})

const DEFAULTS = `version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.10'\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = false\n`
const ALIGNED = `# written by zxplay from \`containerd config default\`: SystemdCgroup = true, sandbox ${PAUSE}\n${DEFAULTS.replace("pause:3.10'", `pause:3.10.1'`).replace('= false', '= true')}`
const CONFIG = '/etc/containerd/config.toml'
const containerdReads: Rule[] = [['containerd config default', DEFAULTS]]
test('containerd config: SystemdCgroup and the pause image, and a restart only when it changed', async () => {
  const name = "containerd uses SystemdCgroup and kubeadm's pause image"
  const fresh = await run(name, containerdReads, { registered: { pause_image: PAUSE } })
  const validate = 'containerd --config %s config dump >/dev/null'
  assert.equal(fresh.uploads, [{ dest: CONFIG, content: ALIGNED, mode: '644', validate }])
  assert.equal(fresh.changes, [`upload ${CONFIG} (mode 644)`, 'systemctl restart containerd'])
  const converged = await run(name, containerdReads, { registered: { pause_image: PAUSE }, files: { [CONFIG]: { content: ALIGNED } } })
  assert.equal([converged.status, converged.changes], ['ok', []])
  const check = await run(name, [['dpkg-query -W containerd kubeadm', 1]], { check: true })
  assert.equal([check.status, check.executed], ['changed', []])
  // containerd cannot parse it: the old file stays, and containerd is not restarted on a file it would not start with
  const refused = await run(name, [...containerdReads, [validate, { exit: 1, stderr: 'containerd: failed to load TOML: …: no value can start with y' }]], { registered: { pause_image: PAUSE }, files: { [CONFIG]: { content: 'old' } } })
  assert.is(refused.status, 'failed')
  const failure = refused.events.flatMap((e) => (e.kind === 'result' && e.failure ? [e.failure] : []))[0]
  assert.match(failure?.stderr ?? '', `${CONFIG} was left as it was: the new content failed its check: containerd: failed to load TOML`)
  assert.equal([refused.uploads, refused.executed], [[], []])
})

const SERVICES: [string, string, string][] = [
  ['containerd is enabled and running', 'systemctl is-enabled --quiet containerd && systemctl is-active --quiet containerd', 'systemctl enable --now containerd'],
  ['kubelet is enabled', 'systemctl is-enabled --quiet kubelet', 'systemctl enable kubelet'],
]
for (const [name, probe, fix] of SERVICES) {
  test(`${name}: ${fix} only when not so`, async () => {
    const fresh = await run(name, [[probe, 1]])
    assert.equal([fresh.status, fresh.changes], ['changed', [fix]])
    const converged = await run(name, [[probe, 0]])
    assert.equal([converged.status, converged.changes], ['ok', []])
    const check = await run(name, [[probe, 1]], { check: true })
    assert.equal([check.status, check.executed], ['changed', []])
  })
}

test.run()
