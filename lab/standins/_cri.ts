// What ctr and crictl share: reaching containerd's socket (the unit must be active; the socket
// is root's) and the images it holds per namespace (node.json `images`).
import { SOCKET } from './_containerd.ts'
import { isRoot } from './_io.ts'
import { readState } from './_node.ts'
import type { NodeState } from './_node.ts'

/** Why the socket cannot be dialled (the tail of the gRPC error), or undefined if it can. */
export function dialError(state: NodeState, socket = SOCKET): string | undefined {
  const path = socket.replace(/^unix:\/\//, '').replace(/^\/var\/run\//, '/run/')
  if (path !== SOCKET) return `dial unix ${path}: connect: no such file or directory`
  const svc = state.services.containerd
  if (!svc) return `dial unix ${path}: connect: no such file or directory`
  if (!svc.active) return `dial unix ${path}: connect: connection refused`
  if (!isRoot()) return `dial unix ${path}: connect: permission denied`
  return undefined
}

export const imagesOf = (ns: string) => readState().images?.[ns] ?? []

/** docker.io/library/x:latest from x, x:tag, user/x… (containerd's normalisation). */
export function normalizeRef(ref: string): string {
  let r = ref
  const first = r.split('/')[0]!
  if (!r.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    r = `docker.io/${r.includes('/') ? r : `library/${r}`}`
  }
  const last = r.slice(r.lastIndexOf('/') + 1)
  if (!last.includes(':') && !last.includes('@')) r += ':latest'
  return r
}
