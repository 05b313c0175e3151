/**
 * The images the cluster templates run, each made from its repository and a version var (vars/cluster.ts
 * derives the reference, validate.ts checks both); an inventory may set the image itself instead (a mirror).
 */
export const clusterImages = {
  flannel_image: { repository: 'ghcr.io/flannel-io/flannel', version: 'flannel_version' },
  flannel_cni_plugin_image: { repository: 'ghcr.io/flannel-io/flannel-cni-plugin', version: 'flannel_cni_plugin_version' },
  metrics_server_image: { repository: 'registry.k8s.io/metrics-server/metrics-server', version: 'metrics_server_version' },
} as const
