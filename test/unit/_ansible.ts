// Debian's ansible-core, the judge for what zxplay does the Ansible way (patterns, tags, -e, exit codes).
import { spawnSync } from 'node:child_process'

/** The python that has ansible-core's modules (Debian's, not a pyenv shim). */
export const ANSIBLE_PYTHON = '/usr/bin/python3'

/** Run a python snippet with JSON on stdin; its stdout parsed as JSON. */
export function ansiblePython<T>(code: string, input: unknown): T {
  const r = spawnSync(ANSIBLE_PYTHON, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`python (ansible-core) failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

/** An ansible CLI (ansible, ansible-playbook), without config files or colour getting in the way. */
export function ansibleCli(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: cwd, ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: '/dev/null', ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_INVENTORY_UNPARSED_WARNING: '0', ANSIBLE_HOST_KEY_CHECKING: '0', ...env },
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
