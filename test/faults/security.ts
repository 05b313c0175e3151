// Security: secrets (a become password, the join token, the STS credentials and the keys that
// obtain them) are never in stdout, -v output, --json, --check, error blocks, the log, or any
// process's command line on this machine or a lab host; files holding them are 0600; the log's
// redaction shows ******** where they were. And a changed host key aborts that host.
import fs from 'node:fs'
import path from 'node:path'
import * as assert from 'uvu/assert'
import { hostPath, onHost, regenerateHostKeys, type Lab } from '../../lab/netns/lab.ts'
import { labDown as realLabDown, labUp as realLabUp, onRealHost, realHostPath, type RealLab } from '../../lab/hosts/lab.ts'
import { readStsState } from '../../lab/sts/sts.ts'
import { derivedInventory, newestLog, playbookFile, runCli, tmpDir, type CliResult } from '../e2e/helpers.ts'
import { failWith, type Case, type Detail } from './harness.ts'
import { watchingProcesses } from './probes.ts'

const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8)
const BOOTSTRAP_TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/

/** Every place a secret (as given, or base64) shows up. */
function leaks(secrets: Record<string, string>, places: Record<string, string>): string[] {
  const found: string[] = []
  for (const [name, value] of Object.entries(secrets)) {
    for (const form of [value, Buffer.from(value).toString('base64')]) {
      for (const [where, text] of Object.entries(places)) if (text.includes(form)) found.push(`${name}${form === value ? '' : ' (base64)'} in ${where}`)
    }
  }
  return [...new Set(found)]
}

/** Runs under a process watcher, each with its own log folder: the places their secrets must not be. */
async function observed(runs: { label: string; args: string[]; input?: string; timeoutMs?: number }[]): Promise<{ places: Record<string, string>; results: Record<string, CliResult>; logs: string[]; samples: number }> {
  const places: Record<string, string> = {}
  const results: Record<string, CliResult> = {}
  const logs: string[] = []
  const { commandLines, samples } = await watchingProcesses(async () => {
    for (const r of runs) {
      const logDir = tmpDir()
      const [command, ...rest] = r.args
      const res = await runCli([command!, '--log-dir', logDir, ...rest], { input: r.input, timeoutMs: r.timeoutMs ?? 300_000 })
      results[r.label] = res
      places[`${r.label}: stdout`] = res.stdout
      places[`${r.label}: stderr`] = res.stderr
      let log: string
      try {
        log = newestLog(logDir)
      } catch {
        throw new Error(`${r.label}: no log was written (exit ${res.code})\n${res.stdout.slice(-1500)}\n${res.stderr.slice(-1500)}`)
      }
      logs.push(log)
      places[`${r.label}: log`] = fs.readFileSync(log, 'utf8')
    }
  })
  places['process lists'] = [...commandLines].join('\n')
  return { places, results, logs, samples }
}

export function securityCases(lab: () => Lab): Case[] {
  return [
    {
      group: 'secret',
      name: 'the become password (-K) in runs, -v, --json, --check and an error',
      async run(): Promise<Detail> {
        const l = lab()
        const pwInv = derivedInventory(l, (i) => (i.all.vars.user = 'zxlabpw'))
        const become = ['run', playbookFile('parallel'), '-i', pwInv, '--tags', 'become', '-K']
        const input = `${l.becomePass}\n`
        const o = await observed([
          { label: 'run -v', args: [...become, '-v'], input },
          { label: 'run --json', args: [...become, '--json'], input },
          { label: 'run --check -v', args: [...become, '--check', '-v'], input },
          // a failing command under sudo that prints its whole environment and arguments
          { label: 'error block', args: ['sh', 'all', '-i', pwInv, '-b', '-K', '-v', '--', 'env; cat /proc/$$/cmdline; echo; exit 3'], input },
        ])
        assert.is(o.results['run -v']!.code, 0, o.results['run -v']!.stdout)
        assert.is(o.results['error block']!.code, 2, o.results['error block']!.stdout)
        assert.match(o.results['error block']!.stdout, /SUDO_USER=zxlabpw/, 'the error block shows the command output')
        const found = leaks({ 'become password': l.becomePass }, o.places)
        for (const log of o.logs) assert.is(mode(log), '600', `${log} is readable by others`)
        if (found.length) throw failWith(found.join('; '), { leaks: found.length })
        assert.ok(o.samples > 20, `process lists sampled only ${o.samples} times`)
        return { note: `4 runs, ${o.samples} process-list samples, logs 0600: no leak`, counts: { leaks: 0 } }
      },
    },
    {
      group: 'secret',
      name: 'the join token and the STS credentials through site, -v, --json, --check',
      // the cluster playbooks run on real Debian machines (the real-host lab with its STS endpoint),
      // up for this case alone: the namespace lab's hosts have no apt, systemd or containerd of their own
      async run(): Promise<Detail> {
        const l = await realLabUp({ hosts: 3, aws: true })
        try {
          return await siteLeaks(l)
        } finally {
          await realLabDown()
        }
      },
    },
    {
      group: 'secret',
      name: "the log's redaction: a secret, its base64, in notes, uploads and an error",
      async run(): Promise<Detail> {
        const l = lab()
        const token = `tok-${Math.random().toString(36).slice(2)}-zxfault`
        const dir = tmpDir()
        for (const h of l.hosts) await onHost(l, h.name, 'mkdir -p /tmp/zxfault-secret && chown zxlab /tmp/zxfault-secret')
        const varsFile = path.join(dir, 'vars.yaml')
        fs.writeFileSync(varsFile, `api_token: ${token}\n`, { mode: 0o600 })
        const o = await observed([{ label: 'secret fixture -v --diff', args: ['run', playbookFile('secret'), '-i', l.inventory, '-e', `@${varsFile}`, '-e', 'demo_dir=/tmp/zxfault-secret', '-v', '--diff'] }])
        const r = o.results['secret fixture -v --diff']!
        assert.is(r.code, 2, r.stdout) // the fixture's last task fails on purpose, echoing the token
        const log = o.places['secret fixture -v --diff: log']!
        assert.match(log, /note: the token is \*{8}/, 'the note is redacted in the log')
        assert.match(log, /failed secret › a failing command echoes it/)
        assert.match(r.stdout, /the token is \*{8}/)
        assert.match(r.stdout, /stderr \(last lines\):\n\s+\*{8}/, 'the error block shows the redacted value')
        const found = leaks({ 'the token': token }, o.places)
        for (const h of l.hosts) assert.is(mode(hostPath(l, h.name, '/tmp/zxfault-secret/token')), '600')
        if (found.length) throw failWith(found.join('; '), { leaks: found.length })
        return { note: 'log, output and error block show ********; uploaded copies 0600', counts: { leaks: 0 } }
      },
    },
    {
      group: 'security',
      name: 'a changed host key aborts that host; an unknown host is refused by default',
      async run(): Promise<Detail> {
        const l = lab()
        const saved = fs.readFileSync(l.knownHosts, 'utf8')
        await regenerateHostKeys(l, 'node2')
        let changed: CliResult
        try {
          changed = await runCli(['ping', '-i', l.inventory], { timeoutMs: 30_000 })
        } finally {
          // known_hosts in line with node2's new keys again
          const keys = fs.readdirSync(path.join(l.hosts[1]!.root, 'ssh')).filter((f) => f.endsWith('.pub'))
          const lines = saved.split('\n').filter((x) => x && !x.startsWith('10.77.0.12 '))
          for (const k of keys) lines.push(`10.77.0.12 ${fs.readFileSync(path.join(l.hosts[1]!.root, 'ssh', k), 'utf8').split(' ').slice(0, 2).join(' ')}`)
          fs.writeFileSync(l.knownHosts, lines.join('\n') + '\n')
        }
        assert.is(changed.code, 4, changed.stdout)
        assert.match(changed.stdout, /node2\s+unreachable/)
        assert.match(changed.stdout, /HOST KEY CHANGED for 10\.77\.0\.12/)
        assert.match(changed.stdout, /node1\s+ok/)
        const empty = path.join(tmpDir(), 'known_hosts')
        fs.writeFileSync(empty, '')
        const unknown = await runCli(['ping', '-i', derivedInventory(l, (i) => (i.all.vars.known_hosts = empty))], { timeoutMs: 30_000 })
        assert.is(unknown.code, 4)
        assert.match(unknown.stdout, /is not in .*known_hosts; add it \(ssh-keyscan\) or set host_key_checking: accept-new/)
        assert.is(fs.readFileSync(empty, 'utf8'), '', 'strict checking recorded a key')
        const back = await runCli(['ping', '-i', l.inventory], { timeoutMs: 30_000 })
        assert.is(back.code, 0, back.stdout)
        return { note: 'HOST KEY CHANGED, node2 aborted, others ok; unknown hosts refused, nothing recorded' }
      },
    },
  ]
}

/** The join token and the STS credentials in site's runs (-v, --json, --check, --refresh) on the real-host lab. */
async function siteLeaks(l: RealLab): Promise<Detail> {
    const site = ['run', 'site', '-i', l.inventory]
    const o = await observed([
      // the first site on fresh machines installs packages through the lab's apt cache: minutes, and more
    // when the mirror is slow (one apt-get update stalled 4 min in CI), as the real-host suites allow
    { label: 'site -v', args: [...site, '-v'], timeoutMs: 900_000 },
      { label: 'site --json', args: [...site, '--json'] },
      { label: 'site --check -v', args: [...site, '--check', '-v'] },
      { label: 'site --refresh -v', args: [...site, '--refresh', '-v'] }, // new credentials: the Secret, env.list and the pods change
    ])
    const tokens = (await onRealHost(l, 'node1', 'kubeadm token list --kubeconfig /etc/kubernetes/admin.conf 2>/dev/null | awk \'NR>1 {print $1}\'')).stdout.split('\n').filter(Boolean)
    assert.ok(tokens.length >= 1, `no bootstrap token on the control plane to look for (site: exit ${o.results['site -v']!.code})\n${o.results['site -v']!.stdout.slice(-2000)}`)
    const secrets: Record<string, string> = {}
    tokens.forEach((t, i) => (secrets[`join token ${i + 1}`] = t))
    const issued = l.aws ? readStsState(l.aws.stateFile).issued : []
    assert.ok(issued.length >= 1, `the lab's STS endpoint issued no credentials to look for (site: exit ${o.results['site -v']!.code})\n${o.results['site -v']!.stdout.slice(-2500)}`)
    issued.forEach((c, i) => Object.assign(secrets, { [`STS access key ${i + 1}`]: c.accessKeyId, [`STS secret key ${i + 1}`]: c.secretAccessKey, [`STS session token ${i + 1}`]: c.sessionToken }))
    const awsCredentials = l.aws ? fs.readFileSync(l.aws.credentials_file, 'utf8') : ''
    for (const m of awsCredentials.matchAll(/aws_secret_access_key\s*=\s*(\S+)/g)) secrets[`long-term secret key ${m[1]!.slice(0, 4)}…`] = m[1]!
    const found = leaks(secrets, o.places)
    // bootstrap tokens by their shape too: one we did not list (e.g. an expired one) is still a leak
    for (const [where, text] of Object.entries(o.places)) if (where !== 'process lists' && BOOTSTRAP_TOKEN.test(text)) found.push(`something shaped like a bootstrap token in ${where}`)
    // files that hold them
    const envList = path.join(path.dirname(l.inventory), 'env.list')
    const files = [...o.logs, envList, realHostPath(l, 'node1', '/etc/kubernetes/zxplay/kubeadm-config.yaml'), realHostPath(l, 'node1', '/etc/kubernetes/admin.conf')]
    const open = files.filter((f) => fs.existsSync(f) && mode(f) !== '600')
    const joinConfigs = ['node2', 'node3'].map((h) => realHostPath(l, h, '/etc/kubernetes/zxplay/join-config.yaml')).filter((f) => fs.existsSync(f))
    if (found.length || open.length || joinConfigs.length) {
      throw failWith([...found, ...open.map((f) => `${f} is mode ${mode(f)}`), ...joinConfigs.map((f) => `${f} was left behind`)].join('; '), { leaks: found.length + open.length + joinConfigs.length })
    }
    assert.ok(fs.existsSync(envList), 'env.list was not written')
    return { note: `${tokens.length} join token(s), ${issued.length} STS credential set(s), ${Object.keys(secrets).length} values, ${o.samples} ps samples: no leak; env.list, logs, kubeadm config 0600`, counts: { leaks: 0 } }
}
