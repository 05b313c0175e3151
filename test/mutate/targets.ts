// Which test files judge each engine module under mutation testing (npm run mutate): paths under
// test/ without `.test.ts`. Only these run per mutant, so a module takes minutes, not hours: list
// the files that test the module's behaviour directly, not every file that happens to import it.
// A new engine module gets a line here (and its score in docs/testing.md).
import fs from 'node:fs'

export const targets: Record<string, string[]> = {
  'lib/base/shlex.ts': ['unit/shlex'],
  'lib/inventory/host-pattern.ts': ['compat/host-pattern-ansible', 'unit/host-pattern', 'unit/inventory'],
  'lib/transport/upload.ts': ['unit/upload'],
  'lib/output/secrets.ts': ['unit/secrets'],
  'lib/transport/known-hosts.ts': ['unit/known-hosts'],
  // the terminal's lines; its recap rows are also judged by ansible-playbook in compat/outcomes-ansible (20 s a run)
  'lib/output/report.ts': ['unit/report'],
  'lib/inventory/extra-vars.ts': ['unit/extra-vars', 'compat/kv'],
  'lib/inventory/patterns.ts': ['unit/patterns', 'compat/patterns-ansible'],
  'lib/inventory/inventory-sources.ts': ['compat/inventory-sources'],
  'lib/engine/run.ts': ['unit/run', 'unit/run-once', 'unit/interrupt', 'unit/time-limit'],
  // the quoting (quote, buildCommand, shq) only: the rest of shell.ts wraps commands (become, time limit)
  'lib/transport/shell.ts:12-54': ['unit/shell'],
  'lib/transport/lock.ts': ['unit/lock'],
  'lib/cli/exit-code.ts': ['unit/exit-code'],
  'lib/inventory/inventory.ts': ['unit/inventory', 'compat/inventory-sources', 'compat/ansible-inventory', 'unit/host-vars', 'unit/inventory-precedence'],
  'lib/inventory/host-vars.ts': ['unit/host-vars'],
}

/**
 * Ansible's answers to the compat files' questions, kept in `dir` (emptied now) for this process and
 * the test runs it starts (test/compat/_ansible.ts): only lib/ changes between mutants.
 */
export function freshJudgeCache(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
  process.env.ZXPLAY_JUDGE_CACHE = dir
}
