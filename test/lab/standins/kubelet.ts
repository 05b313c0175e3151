// kubelet stand-in: --version from the installed package. The kubelet itself is the `kubelet`
// unit in node.json (crash-looping until kubeadm init/join writes its config).
import { isEntry, say, warn } from './_io.ts'
import { readState } from './_node.ts'
import { requirePackage } from './_os.ts'

export async function main(argv: string[]): Promise<number> {
  if (!requirePackage('kubelet', 'kubelet')) return 127
  const version = readState().packages.kubelet!.version.replace(/-[^-]*$/, '')
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '--version=true')) {
    say(`Kubernetes v${version}`)
    return 0
  }
  warn('zxlab stand-in: the kubelet runs only as the kubelet unit (systemctl start kubelet); `kubelet --version` works')
  return 1
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
