// containerd for the stand-ins: its default configs (2.x `version = 3`, 1.x `version = 2`), how
// it reads /etc/containerd/config.toml when it starts, and how services start (shared by
// systemctl and apt-get, whose package scripts start what they install).
import fs from 'node:fs'
import { parse } from 'smol-toml'
import { p } from './_fs.ts'
import { readText } from './_io.ts'
import type { ContainerdConfig, NodeState, Service } from './_node.ts'
import { now } from './_os.ts'

export const CONFIG_FILE = '/etc/containerd/config.toml'
export const SOCKET = '/run/containerd/containerd.sock'

/** containerd's major version from its package (2 unless 1.x is installed). */
export const containerdMajor = (state: NodeState) => (state.packages.containerd?.version.startsWith('1.') ? 1 : 2)

export const DEFAULT_SANDBOX = { 1: 'registry.k8s.io/pause:3.8', 2: 'registry.k8s.io/pause:3.10.1' } as const

/** What `containerd config default` prints for containerd 2.2. */
export const DEFAULT_CONFIG_V3 = `version = 3
root = '/var/lib/containerd'
state = '/run/containerd'
temp = ''
disabled_plugins = []
required_plugins = []
oom_score = 0
imports = []

[grpc]
  address = '/run/containerd/containerd.sock'
  tcp_address = ''
  tcp_tls_ca = ''
  tcp_tls_cert = ''
  tcp_tls_key = ''
  uid = 0
  gid = 0
  max_recv_message_size = 16777216
  max_send_message_size = 16777216

[ttrpc]
  address = ''
  uid = 0
  gid = 0

[debug]
  address = ''
  uid = 0
  gid = 0
  level = ''
  format = ''

[metrics]
  address = ''
  grpc_histogram = false

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    disable_snapshot_annotations = true
    discard_unpacked_layers = false
    max_concurrent_downloads = 3
    concurrent_layer_fetch_buffer = 0
    image_pull_progress_timeout = '5m0s'
    image_pull_with_sync_fs = false
    stats_collect_period = 10
    use_local_image_pull = false

    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '${DEFAULT_SANDBOX[2]}'

    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = ''

    [plugins.'io.containerd.cri.v1.images'.image_decryption]
      key_model = 'node'

  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    selinux_category_range = 1024
    max_container_log_line_size = 16384
    disable_apparmor = false
    restrict_oom_score_adj = false
    disable_proc_mount = false
    unset_seccomp_profile = ''
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true
    device_ownership_from_security_context = false
    ignore_image_defined_volumes = false
    netns_mounts_under_state_dir = false
    enable_unprivileged_ports = true
    enable_unprivileged_icmp = true
    enable_cdi = true
    cdi_spec_dirs = ['/etc/cdi', '/var/run/cdi']
    drain_exec_sync_io_timeout = '0s'
    ignore_deprecation_warnings = []

    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      ignore_blockio_not_enabled_errors = false
      ignore_rdt_not_enabled_errors = false

      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes]
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
          runtime_type = 'io.containerd.runc.v2'
          runtime_path = ''
          pod_annotations = []
          container_annotations = []
          privileged_without_host_devices = false
          privileged_without_host_devices_all_devices_allowed = false
          cgroup_writable = false
          base_runtime_spec = ''
          cni_conf_dir = ''
          cni_max_conf_num = 0
          snapshotter = ''
          sandboxer = 'podsandbox'
          io_type = ''

          [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
            BinaryName = ''
            CriuImagePath = ''
            CriuWorkPath = ''
            IoGid = 0
            IoUid = 0
            NoNewKeyring = false
            Root = ''
            ShimCgroup = ''
            SystemdCgroup = false

    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dir = ''
      bin_dirs = ['/opt/cni/bin']
      conf_dir = '/etc/cni/net.d'
      max_conf_num = 1
      setup_serially = false
      conf_template = ''
      ip_pref = ''
      use_internal_loopback = false

  [plugins.'io.containerd.gc.v1.scheduler']
    pause_threshold = 0.02
    deletion_threshold = 0
    mutation_threshold = 100
    schedule_delay = '0s'
    startup_delay = '100ms'

  [plugins.'io.containerd.grpc.v1.cri']
    disable_tcp_service = true
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'
    stream_idle_timeout = '4h0m0s'
    enable_tls_streaming = false

    [plugins.'io.containerd.grpc.v1.cri'.x509_key_pair_streaming]
      tls_cert_file = ''
      tls_key_file = ''

  [plugins.'io.containerd.image-verifier.v1.bindir']
    bin_dir = '/opt/containerd/image-verifier/bin'
    max_verifiers = 10
    per_verifier_timeout = '10s'

  [plugins.'io.containerd.internal.v1.opt']
    path = '/opt/containerd'

  [plugins.'io.containerd.internal.v1.tracing']

  [plugins.'io.containerd.metadata.v1.bolt']
    content_sharing_policy = 'shared'
    no_sync = false

  [plugins.'io.containerd.monitor.container.v1.restart']
    interval = '10s'

  [plugins.'io.containerd.monitor.task.v1.cgroups']
    no_prometheus = false

  [plugins.'io.containerd.nri.v1.nri']
    disable = false
    socket_path = '/var/run/nri/nri.sock'
    plugin_path = '/opt/nri/plugins'
    plugin_config_path = '/etc/nri/conf.d'
    plugin_registration_timeout = '5s'
    plugin_request_timeout = '2s'
    disable_connections = false

  [plugins.'io.containerd.runtime.v2.task']
    platforms = ['linux/amd64']

  [plugins.'io.containerd.service.v1.diff-service']
    default = ['walking']
    sync_fs = false

  [plugins.'io.containerd.service.v1.tasks-service']
    blockio_config_file = ''
    rdt_config_file = ''

  [plugins.'io.containerd.shim.v1.manager']
    env = []

  [plugins.'io.containerd.snapshotter.v1.overlayfs']
    root_path = ''
    upperdir_label = false
    sync_remove = false
    slow_chown = false
    mount_options = []

  [plugins.'io.containerd.transfer.v1.local']
    max_concurrent_downloads = 3
    concurrent_layer_fetch_buffer = 0
    max_concurrent_uploaded_layers = 3
    check_platform_supported = false
    config_path = ''

[cgroup]
  path = ''

[timeouts]
  'io.containerd.timeout.bolt.open' = '0s'
  'io.containerd.timeout.cri.defercleanup' = '1m0s'
  'io.containerd.timeout.metrics.shimstats' = '2s'
  'io.containerd.timeout.shim.cleanup' = '5s'
  'io.containerd.timeout.shim.load' = '5s'
  'io.containerd.timeout.shim.shutdown' = '3s'
  'io.containerd.timeout.task.state' = '2s'

[stream_processors]
  [stream_processors.'io.containerd.ocicrypt.decoder.v1.tar']
    accepts = ['application/vnd.oci.image.layer.v1.tar+encrypted']
    returns = 'application/vnd.oci.image.layer.v1.tar'
    path = 'ctd-decoder'
    args = ['--decryption-keys-path', '/etc/containerd/ocicrypt/keys']
    env = ['OCICRYPT_KEYPROVIDER_CONFIG=/etc/containerd/ocicrypt/ocicrypt_keyprovider.conf']

  [stream_processors.'io.containerd.ocicrypt.decoder.v1.tar.gzip']
    accepts = ['application/vnd.oci.image.layer.v1.tar+gzip+encrypted']
    returns = 'application/vnd.oci.image.layer.v1.tar+gzip'
    path = 'ctd-decoder'
    args = ['--decryption-keys-path', '/etc/containerd/ocicrypt/keys']
    env = ['OCICRYPT_KEYPROVIDER_CONFIG=/etc/containerd/ocicrypt/ocicrypt_keyprovider.conf']
`

/** What `containerd config default` prints for containerd 1.7. */
export const DEFAULT_CONFIG_V2 = `disabled_plugins = []
imports = []
oom_score = 0
plugin_dir = ""
required_plugins = []
root = "/var/lib/containerd"
state = "/run/containerd"
temp = ""
version = 2

[cgroup]
  path = ""

[debug]
  address = ""
  format = ""
  gid = 0
  level = ""
  uid = 0

[grpc]
  address = "/run/containerd/containerd.sock"
  gid = 0
  max_recv_message_size = 16777216
  max_send_message_size = 16777216
  tcp_address = ""
  tcp_tls_ca = ""
  tcp_tls_cert = ""
  tcp_tls_key = ""
  uid = 0

[metrics]
  address = ""
  grpc_histogram = false

[plugins]

  [plugins."io.containerd.gc.v1.scheduler"]
    deletion_threshold = 0
    mutation_threshold = 100
    pause_threshold = 0.02
    schedule_delay = "0s"
    startup_delay = "100ms"

  [plugins."io.containerd.grpc.v1.cri"]
    cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]
    device_ownership_from_security_context = false
    disable_apparmor = false
    disable_cgroup = false
    disable_hugetlb_controller = true
    disable_proc_mount = false
    disable_tcp_service = true
    drain_exec_sync_io_timeout = "0s"
    enable_cdi = false
    enable_selinux = false
    enable_tls_streaming = false
    enable_unprivileged_icmp = false
    enable_unprivileged_ports = false
    ignore_deprecation_warnings = []
    ignore_image_defined_volumes = false
    image_pull_progress_timeout = "5m0s"
    image_pull_with_sync_fs = false
    max_concurrent_downloads = 3
    max_container_log_line_size = 16384
    netns_mounts_under_state_dir = false
    restrict_oom_score_adj = false
    sandbox_image = "${DEFAULT_SANDBOX[1]}"
    selinux_category_range = 1024
    stats_collect_period = 10
    stream_idle_timeout = "4h0m0s"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    systemd_cgroup = false
    tolerate_missing_hugetlb_controller = true
    unset_seccomp_profile = ""

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/opt/cni/bin"
      conf_dir = "/etc/cni/net.d"
      conf_template = ""
      ip_pref = ""
      max_conf_num = 1
      setup_serially = false

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      disable_snapshot_annotations = true
      discard_unpacked_layers = false
      ignore_blockio_not_enabled_errors = false
      ignore_rdt_not_enabled_errors = false
      no_pivot = false
      snapshotter = "overlayfs"

      [plugins."io.containerd.grpc.v1.cri".containerd.default_runtime]
        base_runtime_spec = ""
        cni_conf_dir = ""
        cni_max_conf_num = 0
        container_annotations = []
        pod_annotations = []
        privileged_without_host_devices = false
        privileged_without_host_devices_all_devices_allowed = false
        runtime_engine = ""
        runtime_path = ""
        runtime_root = ""
        runtime_type = ""
        sandbox_mode = ""
        snapshotter = ""

        [plugins."io.containerd.grpc.v1.cri".containerd.default_runtime.options]

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          base_runtime_spec = ""
          cni_conf_dir = ""
          cni_max_conf_num = 0
          container_annotations = []
          pod_annotations = []
          privileged_without_host_devices = false
          privileged_without_host_devices_all_devices_allowed = false
          runtime_engine = ""
          runtime_path = ""
          runtime_root = ""
          runtime_type = "io.containerd.runc.v2"
          sandbox_mode = "podsandbox"
          snapshotter = ""

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            BinaryName = ""
            CriuImagePath = ""
            CriuPath = ""
            CriuWorkPath = ""
            IoGid = 0
            IoUid = 0
            NoNewKeyring = false
            NoPivotRoot = false
            Root = ""
            ShimCgroup = ""
            SystemdCgroup = false

    [plugins."io.containerd.grpc.v1.cri".image_decryption]
      key_model = "node"

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""

  [plugins."io.containerd.internal.v1.opt"]
    path = "/opt/containerd"

  [plugins."io.containerd.metadata.v1.bolt"]
    content_sharing_policy = "shared"

  [plugins."io.containerd.monitor.v1.cgroups"]
    no_prometheus = false

  [plugins."io.containerd.runtime.v2.task"]
    platforms = ["linux/amd64"]
    sched_core = false

  [plugins."io.containerd.service.v1.diff-service"]
    default = ["walking"]

  [plugins."io.containerd.snapshotter.v1.overlayfs"]
    mount_options = []
    root_path = ""
    sync_remove = false
    upperdir_label = false

[timeouts]
  "io.containerd.timeout.bolt.open" = "0s"
  "io.containerd.timeout.shim.cleanup" = "5s"
  "io.containerd.timeout.shim.load" = "5s"
  "io.containerd.timeout.shim.shutdown" = "3s"
  "io.containerd.timeout.task.state" = "2s"

[ttrpc]
  address = ""
  gid = 0
  uid = 0
`

type Table = Record<string, unknown>
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
const dig = (t: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((cur, k) => (isTable(cur) ? cur[k] : undefined), t)

/** The runc options table of each layout, as a path of keys and as written in TOML. */
const RUNC_OPTIONS = {
  2: { keys: ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes', 'runc', 'options'], toml: `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]` },
  3: { keys: ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes', 'runc', 'options'], toml: `[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]` },
} as const

/**
 * What containerd (major 1 or 2) makes of a config file's text: the settings it runs with, or
 * why it exits at start (the journal line).
 */
export function loadConfig(text: string | undefined, major: 1 | 2): { config: ContainerdConfig } | { error: string } {
  if (text === undefined) return { config: { version: major === 2 ? 3 : 2, systemdCgroup: false, sandbox: DEFAULT_SANDBOX[major] } }
  let doc: Table
  try {
    doc = parse(text) as Table
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]
    return { error: `containerd: failed to load TOML from ${CONFIG_FILE}: ${msg}` }
  }
  const version = doc.version ?? 1
  if (typeof version !== 'number' || ![1, 2, 3].includes(version)) {
    return { error: `containerd: failed to load TOML from ${CONFIG_FILE}: unsupported config version \`${String(version)}\`` }
  }
  if (major === 2 && version === 1) {
    return { error: `containerd: failed to load TOML from ${CONFIG_FILE}: config version 1 is no longer supported; migrate to version 2 or 3 (containerd config migrate)` }
  }
  if (major === 1 && version === 3) {
    return { error: `containerd: failed to load TOML from ${CONFIG_FILE}: unsupported config version \`3\` (containerd 1.x reads versions 1 and 2)` }
  }
  if (version === 1) {
    return { error: `zxlab stand-in: config version 1 is not modelled; use \`containerd config default\` (version 2)` }
  }
  const disabled = Array.isArray(doc.disabled_plugins) ? doc.disabled_plugins.map(String) : []
  const criOff = disabled.find((d) => d === 'cri' || d === 'io.containerd.grpc.v1.cri')
  if (criOff) {
    return { error: `zxlab stand-in: disabled_plugins lists "${criOff}": the CRI plugin the kubelet talks to would not load (remove it from disabled_plugins)` }
  }
  const v = version as 2 | 3
  const runc = dig(doc, ...RUNC_OPTIONS[v].keys)
  if (!isTable(runc)) {
    return { error: `zxlab stand-in: no runc options table ${RUNC_OPTIONS[v].toml} in a \`version = ${v}\` config (SystemdCgroup would be ignored)` }
  }
  const sc = runc.SystemdCgroup ?? false
  if (typeof sc !== 'boolean') {
    return { error: `containerd: failed to load plugin config: toml: cannot decode ${typeof sc} into SystemdCgroup (bool)` }
  }
  const sandbox =
    v === 3 ? dig(doc, 'plugins', 'io.containerd.cri.v1.images', 'pinned_images', 'sandbox') : dig(doc, 'plugins', 'io.containerd.grpc.v1.cri', 'sandbox_image')
  if (sandbox !== undefined && typeof sandbox !== 'string') {
    return { error: `containerd: failed to load plugin config: toml: cannot decode ${typeof sandbox} into the sandbox image (string)` }
  }
  return { config: { version: v, systemdCgroup: sc, sandbox: (sandbox as string | undefined) ?? DEFAULT_SANDBOX[major] } }
}

const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml'

/**
 * Start (or restart) a service as systemd would: containerd reads its config and fails on a bad
 * one; the kubelet crash-loops until kubeadm has written /var/lib/kubelet/config.yaml.
 * Returns the failure (journal line) or undefined.
 */
export function startService(state: NodeState, name: string, svc: Service): string | undefined {
  svc.since = now()
  if (name === 'containerd') {
    const r = loadConfig(readText(p(CONFIG_FILE)), containerdMajor(state) as 1 | 2)
    if ('error' in r) {
      Object.assign(svc, { active: false, sub: 'auto-restart', error: r.error })
      delete svc.config
      return r.error
    }
    Object.assign(svc, { active: true, config: r.config })
    delete svc.sub
    delete svc.error
    return undefined
  }
  if (name === 'kubelet' && !fs.existsSync(p(KUBELET_CONFIG))) {
    const error = `kubelet: "command failed" err="failed to load kubelet config file, path: ${KUBELET_CONFIG}, error: open ${KUBELET_CONFIG}: no such file or directory"`
    Object.assign(svc, { active: false, sub: 'auto-restart', error })
    return undefined // systemd reports the start as done; the unit then crash-loops
  }
  svc.active = true
  delete svc.sub
  delete svc.error
  return undefined
}

export function stopService(svc: Service) {
  svc.active = false
  svc.since = now()
  delete svc.sub
}
