// The cluster side of `kubeadm join`: a bootstrap token's authentication, and admitting the
// joining node (name not taken by a Ready node, kubelet not newer than the control plane, the
// kubelet-config it gets, its Node registered, its kubelet client certificate signed).
import { nodeReady, reconcile } from './_controllers.ts'
import { registerNode } from './_cluster-objects.ts'
import type { NodeRegistration } from './_cluster-objects.ts'
import { clock } from './_clock.ts'
import { parseSemver } from './_k8s-host.ts'
import { isObj } from './_k8s-util.ts'
import { newLeaf, unb64 } from './_pki.ts'
import { getObj, updateStore } from './_store.ts'
import type { Store } from './_store.ts'

/** The groups a valid bootstrap token authenticates as, or undefined (unknown, wrong secret, expired, not for authentication). */
export function bootstrapTokenGroups(s: Store, token: string): string[] | undefined {
  const m = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(token)
  if (!m) return undefined
  const sec = getObj(s, '', 'Secret', 'kube-system', `bootstrap-token-${m[1]}`)
  const d = (isObj(sec?.data) ? sec.data : {}) as Record<string, string>
  const get = (k: string) => (d[k] ? unb64(d[k]) : '')
  if (!sec || get('token-secret') !== m[2] || get('usage-bootstrap-authentication') !== 'true') return undefined
  const exp = get('expiration')
  if (exp && Date.parse(exp) <= clock.now()) return undefined
  const extra = get('auth-extra-groups').split(',').filter(Boolean)
  return ['system:bootstrappers', ...extra]
}

export type JoinRequest = Omit<NodeRegistration, 'controlPlane' | 'kubeletVersion'> & { kubeletVersion?: string }
export type JoinGrant = { kubeletYaml: string; version: string; caCert: string; cert: string; key: string }

/** Admit a worker into the cluster the store holds: "kubelet-start: …" errors as kubeadm words them. */
export function admitNode(s: Store, r: JoinRequest): { grant: Omit<JoinGrant, 'cert' | 'key'> } | { error: string } {
  const existing = getObj(s, '', 'Node', undefined, r.name)
  if (existing && nodeReady(existing)) {
    return { error: `kubelet-start: a Node with name ${JSON.stringify(r.name)} and status "Ready" already exists in the cluster. You must delete the existing Node or change the name of this new joining Node` }
  }
  const kv = r.kubeletVersion ? parseSemver(r.kubeletVersion) : undefined
  const cv = parseSemver(s.cluster.kubernetesVersion)
  if (kv && cv && kv.minor > cv.minor) {
    return { error: `kubelet-start: the kubelet version ${JSON.stringify(r.kubeletVersion)} is newer than the control plane version ${JSON.stringify(s.cluster.kubernetesVersion)}` }
  }
  const kcm = getObj(s, '', 'ConfigMap', 'kube-system', 'kubelet-config')
  const grant = { kubeletYaml: String((isObj(kcm?.data) ? kcm.data : {}).kubelet ?? ''), version: s.cluster.kubernetesVersion, caCert: s.cluster.caCert }
  registerNode(s, { ...r, controlPlane: false, kubeletVersion: r.kubeletVersion ?? s.cluster.kubernetesVersion })
  return { grant }
}

/** The API server's POST /zxlab/v1/join for a caller authenticated by a bootstrap token. */
export function joinOverApi(storeFile: string, r: JoinRequest): { grant: JoinGrant } | { error: string } {
  const res = updateStore(storeFile, (s) => {
    reconcile(s)
    const out = admitNode(s, r)
    if ('error' in out) return out
    // TLS bootstrap, shortened: the server signs the kubelet's client certificate (it makes the key too)
    const leaf = newLeaf({ cert: s.cluster.caCert, key: s.cluster.caKey }, { cn: `system:node:${r.name}`, orgs: ['system:nodes'] })
    reconcile(s)
    return { grant: { ...out.grant, ...leaf } }
  })
  return res?.result ?? { error: 'the cluster store is gone' }
}

