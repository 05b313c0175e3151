// Comparing the ClusterConfiguration a cluster was initialised with against ours. Pure.
import { loadAll } from 'js-yaml'

type Arg = { name: string; value: string }
type ClusterConfig = {
  kubernetesVersion?: string
  networking?: { podSubnet?: string; serviceSubnet?: string }
  controllerManager?: { extraArgs?: Arg[] }
}

/** The ClusterConfiguration document of a multi-document kubeadm config. */
export function clusterConfigOf(text: string): ClusterConfig {
  for (const obj of loadAll(text) as ({ kind?: string } | null)[]) {
    if (obj?.kind === 'ClusterConfiguration') return obj as ClusterConfig
  }
  throw new Error('no ClusterConfiguration document')
}

const args = (c: ClusterConfig) =>
  (c.controllerManager?.extraArgs ?? [])
    .map((a) => `${a.name}=${a.value}`)
    .sort()
    .join(', ')

/** The settings that cannot change without a re-init, where the running cluster differs from ours. */
export function configDifferences(running: ClusterConfig, wanted: ClusterConfig): string[] {
  const fields: [string, (c: ClusterConfig) => string | undefined][] = [
    ['kubernetesVersion', (c) => c.kubernetesVersion],
    ['networking.podSubnet', (c) => c.networking?.podSubnet],
    ['networking.serviceSubnet', (c) => c.networking?.serviceSubnet],
    ['controllerManager.extraArgs', args],
  ]
  return fields.flatMap(([name, get]) => (String(get(running) ?? '') === String(get(wanted) ?? '') ? [] : [`${name}: cluster has ${get(running) ?? '(unset)'}, inventory wants ${get(wanted) ?? '(unset)'}`]))
}
