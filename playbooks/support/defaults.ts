// The versions and settings the cluster playbooks use unless the inventory says otherwise.
// They are pinned to releases that work together; inventory.yaml lists the same keys (a unit
// test keeps the two equal), and any of them can be overridden per group, per host or with -e.
import { awsDefaults } from './aws.ts'

/**
 * The images the cluster templates run, each made from its repository and a version var above;
 * an inventory may set the image itself instead (a mirror). kube.ts derives, validate.ts checks.
 */
export const clusterImages = {
  flannel_image: { repository: 'ghcr.io/flannel-io/flannel', version: 'flannel_version' },
  flannel_cni_plugin_image: { repository: 'ghcr.io/flannel-io/flannel-cni-plugin', version: 'flannel_cni_plugin_version' },
  metrics_server_image: { repository: 'registry.k8s.io/metrics-server/metrics-server', version: 'metrics_server_version' },
} as const

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
  aws: awsDefaults, // the STS settings, with their comments, in aws.ts
  ray: {
    namespace: 'ray',
    image: 'rayproject/ray:2.52.0', // the driver's Ray and Python versions must match it
    head_cpu: '1', // requests = limits; Ray advertises ceil(requests.cpu) via MY_CPU_REQUEST
    head_memory: '2Gi',
    worker_cpu: '1',
    worker_memory: '1Gi',
  },
  hpa: {
    name: 'shap-autoscaler',
    min_replicas: 1,
    max_replicas: 3,
    cpu_utilization: 50, // percent of the workers' CPU requests
    scale_down_stabilization_seconds: 15, // per HPA; the controller flag above is cluster-wide
  },
}

export type ClusterVars = typeof clusterDefaults
