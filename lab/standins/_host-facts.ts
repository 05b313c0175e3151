// What a node's kubelet sees on its host: the OS state (packages, services, modules), its
// kubeconfig and CA, the CNI config containerd would load, the static pod manifests. In the
// namespace lab the controllers read it from the host's files directly; on the real-host lab the
// kubelet reads it on its own host and posts it to the API server (POST /zxlab/v1/node-status),
// which is the only way the control plane learns about another machine.
import fs from 'node:fs'
import { readText } from './_io.ts'
import { onHost } from './_k8s-host.ts'
import type { HostRef } from './_k8s-host.ts'
import { arr, dig, str } from './_k8s-util.ts'
import type { Obj } from './_k8s-util.ts'
import { readNodeState } from './_node.ts'
import type { NodeState } from './_node.ts'

/** The raw reading of one host (JSON: what a kubelet posts). */
export type HostReading = {
  state: NodeState
  /** /etc/kubernetes/pki/ca.crt on the host */
  ca?: string
  kubeletConf: boolean
  /** first CNI config file in /etc/cni/net.d (what containerd loads), and its plugin type */
  cniFile?: string
  cniType?: string
  /** the files in /etc/kubernetes/manifests (static pods) */
  manifests: string[]
  /** /etc/os-release's PRETTY_NAME (a Node's status.nodeInfo.osImage) */
  osImage?: string
}

/** A node's facts as the controllers use them. */
export type HostFacts = HostReading & {
  host: HostRef
  kubeletUp: boolean
  containerdUp: boolean
  images: Set<string>
}

const MANIFESTS = '/etc/kubernetes/manifests'

/** Read a host's files (root '/' is this host's own). */
export function readHost(host: Pick<HostRef, 'root'>): HostReading {
  const state = readNodeState(host)
  const ca = readText(onHost(host, '/etc/kubernetes/pki/ca.crt'))
  const kubeletConf = fs.existsSync(onHost(host, '/etc/kubernetes/kubelet.conf'))
  const list = (dir: string) => {
    try {
      return fs.readdirSync(onHost(host, dir)).sort()
    } catch {
      return []
    }
  }
  const cniFile = list('/etc/cni/net.d').find((f) => /\.(conf|conflist|json)$/.test(f))
  let cniType: string | undefined
  if (cniFile) {
    try {
      const conf = JSON.parse(readText(onHost(host, `/etc/cni/net.d/${cniFile}`)) ?? '{}') as Obj
      cniType = str(dig(conf, 'plugins', 0, 'type')) ?? str(conf.type) ?? 'unknown'
    } catch {
      cniType = 'invalid'
    }
  }
  const manifests = list(MANIFESTS).map((f) => `${MANIFESTS}/${f}`)
  const osImage = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readText(onHost(host, '/etc/os-release')) ?? '')?.[1]
  return { state, ...(ca !== undefined ? { ca } : {}), kubeletConf, ...(cniFile ? { cniFile } : {}), ...(cniType ? { cniType } : {}), manifests, ...(osImage ? { osImage } : {}) }
}

/** The facts from a reading: the kubelet is up when its unit runs with a kubeconfig for this cluster's CA. */
export function factsOf(host: HostRef, r: HostReading, clusterCa: string, posting = true): HostFacts {
  const sameCA = r.ca !== undefined && r.ca.replace(/\s+/g, '') === clusterCa.replace(/\s+/g, '')
  const kubeletUp = posting && r.state.services.kubelet?.active === true && !!r.state.packages.kubelet && r.kubeletConf && sameCA
  const images = new Set<string>()
  for (const img of arr(dig(r.state, 'images', 'k8s.io'))) {
    const ref = str(dig(img, 'ref'))
    if (ref) images.add(ref)
  }
  return { ...r, host, kubeletUp, containerdUp: r.state.services.containerd?.active === true, images }
}
