// Kernel modules the stand-ins know: what modprobe can load (with what it pulls in) and how lsmod
// shows them. Nothing touches the real kernel; node.json's `modules` is the loaded list.
import os from 'node:os'

export const MODULES: Record<string, { size: number; deps: string[] }> = {
  overlay: { size: 212_992, deps: [] },
  br_netfilter: { size: 32_768, deps: ['bridge'] },
  bridge: { size: 421_888, deps: ['stp', 'llc'] },
  stp: { size: 12_288, deps: ['llc'] },
  llc: { size: 16_384, deps: [] },
  nf_conntrack: { size: 200_704, deps: ['nf_defrag_ipv4', 'nf_defrag_ipv6'] },
  nf_defrag_ipv4: { size: 12_288, deps: [] },
  nf_defrag_ipv6: { size: 24_576, deps: [] },
  ip_vs: { size: 221_184, deps: ['nf_conntrack'] },
  ip_vs_rr: { size: 12_288, deps: ['ip_vs'] },
  ip_vs_wrr: { size: 12_288, deps: ['ip_vs'] },
  ip_vs_sh: { size: 12_288, deps: ['ip_vs'] },
  vxlan: { size: 151_552, deps: ['ip6_udp_tunnel', 'udp_tunnel'] },
  ip6_udp_tunnel: { size: 16_384, deps: [] },
  udp_tunnel: { size: 32_768, deps: [] },
  ip_tables: { size: 36_864, deps: [] },
  iptable_filter: { size: 12_288, deps: ['ip_tables'] },
  iptable_nat: { size: 12_288, deps: ['ip_tables'] },
}

export const modulesDir = () => `/lib/modules/${os.release()}`

/** A module and everything it needs, dependencies first. */
export function withDeps(name: string): string[] {
  const out: string[] = []
  const visit = (n: string) => {
    for (const d of MODULES[n]?.deps ?? []) visit(d)
    if (!out.includes(n)) out.push(n)
  }
  visit(name)
  return out
}
