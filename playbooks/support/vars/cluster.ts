// The cluster family of vars: the versions and settings every cluster playbook uses unless the
// inventory says otherwise (pinned to releases that work together; inventory.yaml lists the same
// keys, a unit test keeps the two equal), their check (validate.ts: every problem at once) and
// what is derived from them. Pure.
import type { Host, Vars, VarsSpec } from '../../../lib/index.ts'
import { clusterImages } from '../images.ts'
import { clusterProblems, parseIPv4 } from '../validate.ts'

export const clusterDefaults = {
  kubernetes_version: '1.36.2', // kubelet, kubeadm, kubectl from pkgs.k8s.io
  kubernetes_package_revision: '', // empty: the repository's newest revision of kubernetes_version (1.36.2-2.1)
  containerd_package: 'containerd',
  cri_socket: 'unix:///var/run/containerd/containerd.sock',
  pod_subnet: '10.244.0.0/16', // Flannel's default network
  service_subnet: '10.96.0.0/12',
  hpa_downscale_stabilization: '15s', // kube-controller-manager flag, cluster-wide
  flannel_version: 'v0.28.9',
  flannel_cni_plugin_version: 'v1.9.1-flannel3',
  flannel_manifest: '', // empty: our own templates/flannel/kube-flannel.yaml; or a URL / local file
  metrics_server_version: 'v0.9.0',
  metric_resolution: '15s',
  kubelet_insecure_tls: true, // kubeadm's kubelet serving certificates are self-signed
  schedule_on_control_plane: false, // true: remove the control-plane taint even with workers
  wait_timeout: 300, // seconds to wait for rollouts and nodes
}

/** What every playbook's vars hold: where the inventory is (the loader sets these). */
export type InventoryVars = { inventory_file: string; inventory_dir: string }

/** The vars the cluster playbooks' tasks see: the defaults' keys, checked, and the derived ones. */
export type ClusterVars = typeof clusterDefaults &
  InventoryVars & {
    kubernetes_tag: string
    node_name: string
    /** unset when the host's address is a DNS name: 20-control-plane asks the host */
    advertise_address?: string
    flannel_image: string
    flannel_cni_plugin_image: string
    metrics_server_image: string
    metrics_server_args: string[]
  }

/** Those derived vars, from vars already checked. Pure. */
export function derivedClusterVars(v: Vars, host: Host): Vars {
  return {
    kubernetes_tag: `v${String(v.kubernetes_version)}`,
    node_name: host.name.toLowerCase(), // the Kubernetes node name: the inventory name
    ...(parseIPv4(host.address) !== undefined ? { advertise_address: host.address } : {}),
    // whole image references, so templates put each through `| json` (a template cannot join strings)
    ...Object.fromEntries(Object.entries(clusterImages).map(([key, image]) => [key, `${image.repository}:${String(v[image.version])}`])),
    // here rather than in 70-metrics-server, so `zxplay render metrics-server/components.yaml` has them too
    metrics_server_args: metricsServerArgs({ metric_resolution: String(v.metric_resolution), kubelet_insecure_tls: v.kubelet_insecure_tls === true }),
  }
}

/** metrics-server's arguments: its release's, with the inventory's resolution and the kubelet TLS choice. */
export function metricsServerArgs(v: { metric_resolution: string; kubelet_insecure_tls: boolean }): string[] {
  return [
    '--cert-dir=/tmp',
    '--secure-port=10250',
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    '--kubelet-use-node-status-port',
    `--metric-resolution=${v.metric_resolution}`,
    ...(v.kubelet_insecure_tls ? ['--kubelet-insecure-tls'] : []),
  ]
}

export const clusterSpec: VarsSpec = { name: 'cluster', defaults: clusterDefaults, check: clusterProblems, derive: derivedClusterVars }
