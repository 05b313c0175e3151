// What the cluster playbooks share: their settings, kubectl on the control plane, applying a
// manifest with a guard, and waiting with progress.
import { loadAll } from 'js-yaml'
import type { Context } from '../../lib/index.ts'
import { clusterSpec, type ClusterVars } from './vars/cluster.ts'

export const ADMIN_CONF = '/etc/kubernetes/admin.conf'
/** kubectl as root on the control plane: interpolated into a command, it reads `kubectl --kubeconfig /etc/kubernetes/admin.conf`. */
export const KUBECTL = ['kubectl', '--kubeconfig', ADMIN_CONF] as const
/** Where rendered manifests and configs are kept on the control plane, so reruns can compare. */
export const MANIFEST_DIR = '/etc/kubernetes/zxplay'

/** What every cluster playbook shares: root on the hosts, the cluster vars (`playbook<ClusterVars>({ ...CLUSTER, … })`). */
export const CLUSTER = { become: true, specs: [clusterSpec] }

export type { ClusterVars }

/** The control-plane host that init, kubectl and tokens run on: the first of the group. */
export const CONTROL_PLANE = 'control_plane[0]'

/**
 * The hosts that join as workers: the group workers without the control plane. A kubespray
 * inventory mapped onto these groups (README "Coming from Ansible") lists its control plane in
 * kube_node too: that host is initialised, not joined, and takes ordinary pods (60-untaint).
 */
export const WORKERS = 'workers:!control_plane'

/** Whether a host (as any task sees it) joins as a worker. */
export const joinsAsWorker = (h: { groups: string[] }) => h.groups.includes('workers') && !h.groups.includes('control_plane')

/** Its name, from any task's view of the run. */
export function controlPlaneName(ctx: Pick<Context, 'hostvars'>): string {
  const name = Object.entries(ctx.hostvars).find(([, h]) => h.groups.includes('control_plane'))?.[0]
  if (!name) throw new Error("the inventory has no host in the group 'control_plane'")
  return name
}

/** Hosts of a group, from any task's view of the run. */
export const groupMembers = (ctx: { hostvars: Record<string, { groups: string[] }> }, group: string) =>
  Object.entries(ctx.hostvars)
    .filter(([, h]) => h.groups.includes(group))
    .map(([n]) => n)

/**
 * Whether the control plane `cp` takes ordinary pods (60-untaint removes its taint): no other host is a
 * worker (single-host dev mode), it is a worker itself (kubespray's kube_node), or the var says so.
 */
export function controlPlaneTakesPods(ctx: { hostvars: Record<string, { groups: string[] }> }, cp: string, scheduleOnControlPlane: boolean): boolean {
  const workers = groupMembers(ctx, 'workers')
  return workers.every((n) => n === cp) || workers.includes(cp) || scheduleOnControlPlane
}

/** A kubeadm bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}): kubeadm prints them; they are redacted wherever they appear. */
export const BOOTSTRAP_TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g

/** `Kind/name` of every object in a manifest (empty documents skipped). */
export function manifestObjects(manifest: string): string[] {
  return (loadAll(manifest) as { kind?: string; metadata?: { name?: string } }[]).filter(Boolean).map((o) => `${o.kind}/${o.metadata?.name}`)
}

/**
 * Apply a manifest from the control plane (ctx.ensure.manifest), kept in MANIFEST_DIR so a rerun
 * compares. `seen` holds the `Kind/name` of objects the caller has just read from the cluster: when
 * it covers the whole manifest, their existence is known and the guard needs no kubectl call of its
 * own. True when it was applied (or would be, under --check).
 */
export async function applyManifest(ctx: Context, name: string, manifest: string, opts: { seen?: ReadonlySet<string> } = {}): Promise<boolean> {
  const exists = !!opts.seen && manifestObjects(manifest).every((o) => opts.seen!.has(o))
  return ctx.ensure.manifest(`${MANIFEST_DIR}/${name}.yaml`, manifest, { kubectl: KUBECTL, exists })
}

/**
 * Poll `check` every `everyMs` until it says done, logging its progress when it changes.
 * Under --check nothing was applied, so there is nothing to wait for.
 */
/** The last line of a command's output (stderr, usually): what kubectl says went wrong. */
export const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? ''

/** One look at something waited for: whether it is there, and a line for the log. */
export type Progress = { done: boolean; progress: string }

export async function waitFor(ctx: Context, what: string, timeoutS: number, check: () => Promise<Progress>, everyMs = 2000): Promise<string> {
  if (ctx.check) return `${what}: not waited for under --check`
  const until = Date.now() + timeoutS * 1000
  let last = ''
  for (;;) {
    const { done, progress } = await check()
    if (progress !== last) ctx.log(`${what}: ${progress}`)
    last = progress
    if (done) return progress
    if (Date.now() > until) throw new Error(`timed out after ${timeoutS}s waiting for ${what} (last seen: ${progress})`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** The parts of a Node (or any object in a `kubectl get -o json` list) the readiness check reads. */
export type NodeObj = { kind?: string; metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }

/** Each Node's name and whether its Ready condition is True. */
export const readiness = (nodes: NodeObj[]) => nodes.map((n) => ({ name: n.metadata.name, ready: !!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') }))

/** Nodes and their Ready condition, from the control plane. */
export async function nodeReadiness(ctx: Context): Promise<{ name: string; ready: boolean }[]> {
  const out = await ctx.probe`${KUBECTL} get nodes -o json`
  return readiness((JSON.parse(out.stdout) as { items: NodeObj[] }).items)
}

/** Whether every node is Ready, and a line saying which are not. */
export function nodesReady(nodes: { name: string; ready: boolean }[]): Progress {
  const ready = nodes.filter((n) => n.ready).length
  return { done: nodes.length > 0 && ready === nodes.length, progress: `${ready}/${nodes.length} Ready${nodes.length ? ` (${nodes.map((n) => `${n.name}${n.ready ? '' : ' NotReady'}`).join(', ')})` : ''}` }
}

export async function waitForNodesReady(ctx: Context, timeoutS: number): Promise<string> {
  return waitFor(ctx, 'nodes Ready', timeoutS, async () => nodesReady(await nodeReadiness(ctx)))
}
