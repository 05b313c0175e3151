// The stand-in API server's call protocol, shared by the clients (kubectl, kubeadm) and the
// server: what a client sends (its verb and arguments, the files it read, its stdin) and, in the
// process the server runs the call in, who the caller is (from its client certificate) and where
// the call's files are. Whether the stand-ins reach the cluster over the network at all is
// ZXLAB_API=network (the real-host lab's packaged stand-ins); without it they read the control
// plane's store through the lab registry (the namespace lab).
import path from 'node:path'
import type { HostRef } from './_k8s-host.ts'

export type Identity = { name: string; groups: string[] }

/** What a client sends to POST /zxlab/v1/run. */
export type ApiCall = {
  tool: 'kubectl' | 'kubeadm'
  argv: string[]
  /** the client's working folder and home (relative and ~/ paths in argv) */
  cwd: string
  home: string
  /** the files the client read for the call, by absolute path; folders as their files */
  files: { path: string; content: string }[]
  stdin: string
  /** the kubeconfig's server and the context's namespace */
  server: string
  namespace?: string
  clientVersion?: string
  client: HostRef
}

/** The call as the server runs it: plus the caller's identity and the store. */
export type ServerCall = ApiCall & { user: Identity; storeFile: string; filesRoot: string }

export const networkMode = () => process.env.ZXLAB_API === 'network'

let current: ServerCall | undefined
export const serverCall = () => current
export const setServerCall = (c: ServerCall | undefined) => {
  current = c
}

/** A path as the caller wrote it → where its copy is (in a server call), else undefined. */
export function callPath(f: string): string | undefined {
  const c = current
  if (!c) return undefined
  const expanded = f === '~' ? c.home : f.startsWith('~/') ? path.join(c.home, f.slice(2)) : f
  return path.join(c.filesRoot, path.resolve(c.cwd, expanded))
}
