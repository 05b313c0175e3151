// kube-apiserver stand-in: what the kubelet runs from the static pod manifest
// /etc/kubernetes/manifests/kube-apiserver.yaml (the container's command and flags). It serves
// the cluster store on --advertise-address:--secure-port with --tls-cert-file/--tls-private-key-file,
// client certificates checked against --client-ca-file (_apiserver.ts). With --zxlab-call it is
// instead the child that runs one client call (JSON on stdin, {out, err, code} on stdout).
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setServerCall } from './_apicall.ts'
import type { ServerCall } from './_apicall.ts'
import { startApiServer } from './_apiserver.ts'
import { p } from './_fs.ts'
import { isEntry } from './_io.ts'
import type { IO } from './_io.ts'
import { STORE_FILE } from './_k8s-host.ts'
import { main as kubeadmMain } from './kubeadm.ts'
import { main as kubectlMain } from './kubectl.ts'

const flag = (argv: string[], name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)

export async function serve(argv: string[]): Promise<number> {
  const need = ['advertise-address', 'secure-port', 'tls-cert-file', 'tls-private-key-file', 'client-ca-file'] as const
  const missing = need.filter((n) => !flag(argv, n))
  if (missing.length) {
    process.stderr.write(`zxlab kube-apiserver: the stand-in needs ${missing.map((m) => `--${m}`).join(', ')}\n`)
    return 1
  }
  const read = (n: string) => fs.readFileSync(p(flag(argv, n) as string), 'utf8')
  const address = flag(argv, 'advertise-address') as string
  const port = Number(flag(argv, 'secure-port'))
  const server = await startApiServer({
    address,
    port,
    cert: read('tls-cert-file'),
    key: read('tls-private-key-file'),
    clientCa: read('client-ca-file'),
    storeFile: p(STORE_FILE),
    runner: [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), '--zxlab-call'],
  })
  process.stderr.write(`I zxlab kube-apiserver: serving securely on ${address}:${port}\n`)
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => server.close(() => resolve()))
  })
  return 0
}

/** Run one call: the caller's files under a temp root, its stdin, its tool's main() as the caller. */
export async function runCallFromStdin(): Promise<number> {
  const call = JSON.parse(fs.readFileSync(0, 'utf8')) as ServerCall
  const filesRoot = fs.mkdtempSync('/tmp/zxlab-call-')
  try {
    for (const f of call.files) {
      const dest = `${filesRoot}${f.path}`
      fs.mkdirSync(dest.slice(0, dest.lastIndexOf('/')), { recursive: true })
      fs.writeFileSync(dest, f.content, { mode: 0o600 })
    }
    setServerCall({ ...call, filesRoot })
    let out = ''
    let err = ''
    const io: IO = { out: (s) => void (out += s), err: (s) => void (err += s), stdin: () => call.stdin }
    const code = await (call.tool === 'kubeadm' ? kubeadmMain : kubectlMain)(call.argv, io)
    process.stdout.write(JSON.stringify({ out, err, code }))
    return 0
  } finally {
    fs.rmSync(filesRoot, { recursive: true, force: true })
  }
}

if (isEntry(import.meta.url)) {
  const argv = process.argv.slice(2)
  process.exitCode = argv[0] === '--zxlab-call' ? await runCallFromStdin() : await serve(argv)
  process.exit()
}
