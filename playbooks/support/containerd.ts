// containerd's default config, aligned for kubeadm. Pure. Handles both layouts:
// containerd 2.x (`version = 3`, plugins 'io.containerd.cri.v1.*') and 1.x (`version = 2`,
// plugins "io.containerd.grpc.v1.cri").
export function alignContainerdConfig(defaults: string, pauseImage: string): string {
  const version = /^\s*version\s*=\s*(\d+)/m.exec(defaults)?.[1]
  if (version !== '2' && version !== '3') throw new Error(`containerd config default printed an unknown layout (version = ${version ?? 'none'})`)
  if (!/SystemdCgroup\s*=/.test(defaults)) throw new Error('containerd config default has no SystemdCgroup setting under the runc options')
  let out = defaults.replace(/SystemdCgroup\s*=\s*false/g, 'SystemdCgroup = true')
  out =
    version === '3'
      ? out.replace(/^(\s*sandbox\s*=\s*)(['"]).*?\2/m, `$1'${pauseImage}'`)
      : out.replace(/^(\s*sandbox_image\s*=\s*)(['"]).*?\2/m, `$1"${pauseImage}"`)
  // a packaged config may disable the CRI plugin, which kubeadm needs
  out = out.replace(/^(\s*disabled_plugins\s*=\s*\[)([^\]]*)\]/m, (_, head: string, list: string) => `${head}${list.split(',').filter((p) => !/["']cri["']/.test(p)).join(',')}]`)
  return `# written by zxplay from \`containerd config default\`: SystemdCgroup = true, sandbox ${pauseImage}\n${out}`
}
