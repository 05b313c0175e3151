// Shared by the stand-ins (kubeadm, kubelet, crictl…)
// beyond the process I/O (_io.ts) and the node's state (_node.ts): the "not installed" check for a
// package's tools, timestamps and Debian version comparison (lib/base/debian-version.ts).
import { warn } from './_io.ts'
import { readState } from './_node.ts'

/**
 * For the tools a package provides (kubelet, containerd, crictl…): the lab has a shim for every
 * tool on every host, so behave as the shell would if the package is not installed.
 */
export function requirePackage(tool: string, pkg: string): boolean {
  if (readState().packages[pkg]) return true
  warn(`zxlab: ${tool}: command not found (package ${pkg} is not installed on this node)`)
  return false
}

export const now = () => new Date().toISOString()

// apt's version order is the project's own (the playbooks choose package revisions with it)
export { compareVersions } from '../../lib/base/debian-version.ts'
