// Which test files judge each engine module under mutation testing (npm run mutate): paths under
// test/ without `.test.ts`. Only these run per mutant, so a module takes minutes, not hours: list
// the files that test the module's behaviour directly, not every file that happens to import it.
// A new engine module gets a line here (and its score in docs/testing.md).
export const targets: Record<string, string[]> = {
  'lib/shlex.ts': ['unit/shlex', 'unit/host-vars', 'unit/args'],
  'lib/host-pattern.ts': ['unit/inventory', 'compat/inventory-sources', 'compat/ansible-inventory'],
  'lib/upload.ts': ['unit/upload'],
  'lib/secrets.ts': ['unit/secrets'],
  'lib/known-hosts.ts': ['unit/known-hosts', 'unit/ssh-hostkey'],
  'lib/report.ts': ['unit/timeline', 'compat/outcomes-ansible'],
  'lib/extra-vars.ts': ['unit/extra-vars', 'compat/kv'],
  'lib/patterns.ts': ['unit/patterns', 'compat/patterns-ansible'],
  'lib/inventory-sources.ts': ['compat/inventory-sources'],
  'lib/run.ts': ['unit/run', 'unit/run-once', 'unit/interrupt', 'unit/time-limit'],
  'lib/shell.ts': ['unit/shell', 'unit/upload'],
  'lib/lock.ts': ['unit/lock'],
  'lib/cli.ts': ['unit/cli', 'unit/cli-flags'],
  'lib/inventory.ts': ['unit/inventory', 'compat/inventory-sources', 'compat/ansible-inventory', 'unit/host-vars'],
}
