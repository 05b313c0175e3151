// kube-apiserver stand-in: what the kubelet runs from the static pod manifest
// /etc/kubernetes/manifests/kube-apiserver.yaml (the container's command and flags). It serves
// the cluster store on --advertise-address:--secure-port with --tls-cert-file/--tls-private-key-file,
// client certificates checked against --client-ca-file (_apiserver.ts); each client call runs in
// the kubectl or kubeadm program beside it.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startApiServer } from './_apiserver.ts'
import { p } from './_fs.ts'
import { isEntry } from './_io.ts'
import { STORE_FILE } from './_k8s-host.ts'

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
  const self = fileURLToPath(import.meta.url)
  const server = await startApiServer({
    address,
    port,
    cert: read('tls-cert-file'),
    key: read('tls-private-key-file'),
    clientCa: read('client-ca-file'),
    storeFile: p(STORE_FILE),
    // each call runs in the tool's own program beside this one
    runner: (tool) => [process.execPath, ...process.execArgv, path.join(path.dirname(self), `${tool}${path.extname(self)}`)],
  })
  process.stderr.write(`I zxlab kube-apiserver: serving securely on ${address}:${port}\n`)
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => server.close(() => resolve()))
  })
  return 0
}

if (isEntry(import.meta.url)) {
  const argv = process.argv.slice(2)
  process.exitCode = await serve(argv)
  process.exit()
}
