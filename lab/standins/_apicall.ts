// The stand-in API server's call protocol, shared by the clients (kubectl, kubeadm) and the
// server: what a client sends (its verb and arguments, the files it read, its stdin) and, in the
// process the server runs the call in, who the caller is (from its client certificate) and where
// the call's files are. Whether the stand-ins reach the cluster over the network at all is
// ZXLAB_API=network (the real-host lab's packaged stand-ins); without it they read the control
// plane's store through the lab registry (the namespace lab).
import fs from 'node:fs'
import path from 'node:path'
import type { IO } from './_io.ts'
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

/** True in the child the API server started for one call (it sends the call on stdin). */
export const isServerCallChild = () => process.env.ZXLAB_API === 'server-call'

/**
 * Run the call the API server sent on stdin with the tool's main(): the caller's files under a
 * temp root, its stdin, as its identity; prints {out, err, code} for the server to answer with.
 */
export async function runServerCall(main: (argv: string[], io: IO) => Promise<number>): Promise<number> {
  const call = JSON.parse(fs.readFileSync(0, 'utf8')) as ServerCall
  const filesRoot = fs.mkdtempSync('/tmp/zxlab-call-')
  try {
    for (const f of call.files) {
      const dest = path.join(filesRoot, f.path)
      fs.mkdirSync(path.dirname(dest), { recursive: true })
      fs.writeFileSync(dest, f.content, { mode: 0o600 })
    }
    setServerCall({ ...call, filesRoot })
    let out = ''
    let err = ''
    const code = await main(call.argv, { out: (s) => void (out += s), err: (s) => void (err += s), stdin: () => call.stdin })
    process.stdout.write(JSON.stringify({ out, err, code }))
    return 0
  } finally {
    fs.rmSync(filesRoot, { recursive: true, force: true })
  }
}
