// Which unit test files judge each engine module under mutation testing (npm run mutate). Only
// these run per mutant, so a module takes minutes, not hours: list the files that test the
// module's behaviour directly, not every file that happens to import it. A new engine module
// gets a line here (and its score in docs/testing.md).
export const targets: Record<string, string[]> = {
  'lib/shlex.ts': ['shlex', 'host-vars', 'args'],
  'lib/host-pattern.ts': ['inventory', 'inventory-sources', 'ansible-inventory'],
  'lib/upload.ts': ['upload'],
  'lib/secrets.ts': ['secrets'],
  'lib/known-hosts.ts': ['known-hosts', 'ssh-hostkey'],
  'lib/report.ts': ['report'],
  'lib/extra-vars.ts': ['extra-vars', 'kv'],
  'lib/patterns.ts': ['patterns', 'patterns-ansible'],
  'lib/inventory-sources.ts': ['inventory-sources'],
  'lib/run.ts': ['run', 'run-once', 'interrupt', 'time-limit'],
  'lib/shell.ts': ['shell', 'upload'],
  'lib/lock.ts': ['lock'],
  'lib/cli.ts': ['cli', 'cli-flags'],
  'lib/inventory.ts': ['inventory', 'inventory-sources', 'ansible-inventory', 'host-vars'],
}
