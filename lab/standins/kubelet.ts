// kubelet stand-in: --version from the installed package. Started as the kubelet does it (by
// systemd with --config=/var/lib/kubelet/config.yaml, on the real-host lab), it runs the API
// server's static pod: /etc/kubernetes/manifests/kube-apiserver.yaml's command, as the
// kube-apiserver stand-in, restarted when it exits or its manifest changes, stopped when the
// manifest goes. Without its config file it fails as the kubelet does (systemd restarts it until
// kubeadm wrote one). With its kubeconfig (--kubeconfig, after kubeadm init or join) it posts
// what its host shows to the API server every 2 s and writes the files the node's pods want on
// the host (postStatus): that is how the cluster runs pods on a real host. In the namespace lab the kubelet is the `kubelet` unit in node.json: no process.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import { networkMode } from './_apicall.ts'
import { kubeconfigTarget, netError, request } from './_apiclient.ts'
import type { Target } from './_apiclient.ts'
import { p } from './_fs.ts'
import { readHost } from './_host-facts.ts'
import { isEntry, readText, say, sleep, warn, writeAtomic } from './_io.ts'
import { isObj, loadYamlDocs } from './_k8s-util.ts'
import { readState } from './_node.ts'
import { requirePackage } from './_os.ts'

const flag = (argv: string[], name: string) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  const a = argv[i] as string
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1]
}

/** The kube-apiserver container's arguments in a static pod manifest (after the command name). */
export function apiserverArgs(manifest: string): string[] | undefined {
  try {
    const pod = loadYamlDocs(manifest)[0]
    const c = isObj(pod) && isObj(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers[0] : undefined
    const cmd = isObj(c) && Array.isArray(c.command) ? c.command.map(String) : undefined
    return cmd && cmd[0] === 'kube-apiserver' ? [...cmd.slice(1), ...(Array.isArray(c?.args) ? c.args.map(String) : [])] : undefined
  } catch {
    return undefined
  }
}

async function runNode(argv: string[]): Promise<number> {
  const cfgFile = flag(argv, 'config') ?? '/var/lib/kubelet/config.yaml'
  const cfgText = readText(p(cfgFile))
  if (cfgText === undefined) {
    warn(`E run.go:72] "command failed" err="failed to load kubelet config file, path: ${cfgFile}, error: failed to load Kubelet config file ${cfgFile}, error failed to read kubelet config file \\"${cfgFile}\\", error: open ${cfgFile}: no such file or directory"`)
    return 1
  }
  const cfg = loadYamlDocs(cfgText)[0]
  const staticPodPath = isObj(cfg) && typeof cfg.staticPodPath === 'string' ? cfg.staticPodPath : '/etc/kubernetes/manifests'
  const self = fileURLToPath(import.meta.url)
  const apiserver = path.join(path.dirname(self), `kube-apiserver${path.extname(self)}`)
  let child: ChildProcess | undefined
  let running = ''
  let stopping = false
  const stopChild = () => {
    child?.kill('SIGTERM')
    child = undefined
    running = ''
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      stopping = true
      stopChild()
    })
  }
  warn(`I zxlab kubelet: watching ${staticPodPath} for the kube-apiserver static pod`)
  const kubeconfig = flag(argv, 'kubeconfig')
  const posting: { error?: string } = {}
  while (!stopping) {
    if (kubeconfig && networkMode()) await postStatus(kubeconfig, posting)
    const manifest = readText(p(path.join(staticPodPath, 'kube-apiserver.yaml')))
    if (manifest === undefined || manifest !== running) stopChild()
    const args = manifest === undefined ? undefined : apiserverArgs(manifest)
    if (manifest !== undefined && args && !child) {
      warn(`I zxlab kubelet: starting the kube-apiserver static pod`)
      const c = spawn(process.execPath, [...process.execArgv, apiserver, ...args], { stdio: ['ignore', 'inherit', 'inherit'] })
      c.on('exit', (code) => {
        if (child === c) {
          warn(`E zxlab kubelet: kube-apiserver exited (${code}); restarting`)
          child = undefined
          running = ''
        }
      })
      child = c
      running = manifest
    }
    await sleep(2000)
  }
  return 0
}

/**
 * On a real host: post what this host shows (packages, services, modules, CNI config, static
 * pods) to the API server as this node, with the kubelet's kubeconfig, and write the files the
 * node's pods want on it (Flannel's install-cni: /etc/cni/net.d/10-flannel.conflist).
 */
async function postStatus(kubeconfig: string, last: { error?: string }) {
  if (!fs.existsSync(p(kubeconfig))) return
  let t: Target | undefined
  try {
    t = kubeconfigTarget({ kubeconfig })
    const reply = await request(t, 'POST', '/zxlab/v1/node-status', readHost({ root: '/' }), { timeoutMs: 10_000, connectTimeoutMs: 5_000 })
    if (reply.status !== 200) throw new Error(`${reply.status}: ${reply.body}`)
    const { files } = JSON.parse(reply.body) as { files: Record<string, string> }
    for (const [file, content] of Object.entries(files)) if (readText(p(file)) !== content) writeAtomic(p(file), content)
    if (last.error !== undefined) warn('I zxlab kubelet: node status posted')
    delete last.error
  } catch (e) {
    const why = t && (e as NodeJS.ErrnoException).code ? netError(e as NodeJS.ErrnoException, t).text : (e as Error).message
    if (why !== last.error) warn(`E zxlab kubelet: "Error updating node status, will retry" err="${why}"`)
    last.error = why
  }
}

export async function main(argv: string[]): Promise<number> {
  if (!requirePackage('kubelet', 'kubelet')) return 127
  const version = readState().packages.kubelet!.version.replace(/-[^-]*$/, '')
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '--version=true')) {
    say(`Kubernetes v${version}`)
    return 0
  }
  if (flag(argv, 'config') !== undefined || flag(argv, 'kubeconfig') !== undefined) return runNode(argv)
  warn('zxlab stand-in: the kubelet runs as the kubelet unit (systemctl start kubelet); `kubelet --version` works')
  return 1
}

if (isEntry(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2))
  process.exit()
}
