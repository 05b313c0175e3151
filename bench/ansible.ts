// Ansible's side of the benchmark: an inventory for the lab's hosts, an ansible.cfg, the two
// workloads as playbooks (generated from the same lists as bench/playbooks/*.mts), the environment
// ansible-playbook runs with, and reading its recap.
import fs from 'node:fs'
import path from 'node:path'
import type { Lab } from '../lab/netns/lab.ts'
import { kindOf, PAYLOAD, targetOf, TASKS as CONVERGED_TASKS, TEMPLATE } from './playbooks/converged.mts'
import { TASKS as TRIVIAL_TASKS } from './playbooks/trivial.mts'

/** The settings that make the comparison fair to Ansible; printed with the results. */
export const ANSIBLE_SETTINGS = [
  'pipelining on (ANSIBLE_PIPELINING=1)',
  'gather_facts: false',
  'forks = hosts (at least 5)',
  'ssh with its default ControlMaster=auto ControlPersist=60s (connections reused across tasks and runs)',
  'host keys verified (host_key_checking on, StrictHostKeyChecking=yes, the lab known_hosts)',
  'ansible_python_interpreter=/usr/bin/python3 (no interpreter discovery)',
  'default linear strategy, default stdout callback',
]

export type AnsibleFiles = { dir: string; inventory: string; config: string; trivial: string; converged: string }

const q = (s: string) => JSON.stringify(s) // a YAML double-quoted scalar

export function writeAnsibleFiles(dir: string, lab: Lab, benchDir: string): AnsibleFiles {
  fs.mkdirSync(dir, { recursive: true })
  const files: AnsibleFiles = {
    dir,
    inventory: path.join(dir, 'inventory.ini'),
    config: path.join(dir, 'ansible.cfg'),
    trivial: path.join(dir, 'trivial.yaml'),
    converged: path.join(dir, 'converged.yaml'),
  }
  fs.writeFileSync(
    files.inventory,
    [
      '[lab]',
      ...lab.hosts.map((h) => `${h.name} ansible_host=${h.address}`),
      '',
      '[lab:vars]',
      'ansible_user=zxlab',
      `ansible_ssh_private_key_file=${lab.key}`,
      `ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts} -o StrictHostKeyChecking=yes'`,
      'ansible_python_interpreter=/usr/bin/python3',
      `bench_dir=${benchDir}`,
      '',
    ].join('\n')
  )
  // Only what is not a default; ssh_args stays Ansible's default (ControlMaster/ControlPersist).
  fs.writeFileSync(
    files.config,
    ['[defaults]', 'host_key_checking = True', 'retry_files_enabled = False', 'nocolor = True', '', '[ssh_connection]', 'pipelining = True', ''].join('\n')
  )
  const play = (name: string, tasks: string[]) =>
    [`- name: ${q(name)}`, '  hosts: all', '  gather_facts: false', '  tasks:', ...tasks].join('\n') + '\n'
  fs.writeFileSync(
    files.trivial,
    play(
      `bench: ${TRIVIAL_TASKS} trivial read-only commands`,
      Array.from({ length: TRIVIAL_TASKS }, (_, i) =>
        [`    - name: trivial ${i + 1}`, '      ansible.builtin.command: test -d /etc', '      changed_when: false'].join('\n')
      )
    )
  )
  fs.writeFileSync(files.converged, play(`bench: ${CONVERGED_TASKS} converged tasks`, Array.from({ length: CONVERGED_TASKS }, (_, i) => convergedTask(i))))
  return files
}

function convergedTask(i: number): string {
  const kind = kindOf(i)
  const target = targetOf('{{ bench_dir }}', i)
  const head = `    - name: ${kind} ${i + 1}`
  switch (kind) {
    case 'guard':
      return [head, `      ansible.builtin.command: ${i === 0 ? 'mkdir -p' : 'touch'} ${q(target)}`, '      args:', `        creates: ${q(target)}`].join('\n')
    case 'upload':
      return [head, '      ansible.builtin.copy:', `        src: ${q(PAYLOAD)}`, `        dest: ${q(target)}`, "        mode: '0644'"].join('\n')
    case 'template':
      return [head, '      ansible.builtin.template:', `        src: ${q(TEMPLATE)}`, `        dest: ${q(target)}`, "        mode: '0644'", '      vars:', `        slot: ${i}`].join('\n')
    case 'facts':
      // zxplay gathers facts once per host and then reads them; so does this: setup the first time.
      return i === kindIndex('facts')
        ? [head, '      ansible.builtin.setup:', "        gather_subset: ['!all', '!min', 'platform', 'distribution']"].join('\n')
        : [head, '      ansible.builtin.debug:', `        msg: ${q('{{ ansible_hostname }}, {{ ansible_distribution }} {{ ansible_distribution_version }}')}`].join('\n')
  }
}

const kindIndex = (kind: string) => Array.from({ length: CONVERGED_TASKS }, (_, i) => kindOf(i)).indexOf(kind as never)

export function ansibleEnv(files: AnsibleFiles, forks: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ANSIBLE_CONFIG: files.config,
    ANSIBLE_PIPELINING: '1',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_FORKS: String(forks),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_LOCAL_TEMP: path.join(files.dir, 'tmp'),
  }
}

export type AnsibleRecap = Record<string, { ok: number; changed: number; unreachable: number; failed: number; skipped: number }>

/** The PLAY RECAP lines: `node1 : ok=30 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0`. */
export function parseRecap(stdout: string): AnsibleRecap {
  const out: AnsibleRecap = {}
  const at = stdout.lastIndexOf('PLAY RECAP')
  if (at < 0) return out
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s*:\s*(.*)$/.exec(line.trim())
    if (!m) continue
    const kv = Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1]!, Number(x[2])]))
    out[m[1]!] = { ok: kv.ok ?? 0, changed: kv.changed ?? 0, unreachable: kv.unreachable ?? 0, failed: kv.failed ?? 0, skipped: kv.skipped ?? 0 }
  }
  return out
}
