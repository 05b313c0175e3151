// Command-line flags, Ansible's names. Pure: argv in, options out; an unknown flag is an error.
import { UsageError } from '../base/errors.ts'

export type Flags = {
  /** -i, each a file, a folder or a comma list `h1,h2,`; several are merged in order (none: inventory.yaml) */
  inventory: string[]
  limit?: string
  tags: string[]
  skipTags: string[]
  startAt?: string
  check: boolean
  diff: boolean
  extraVars: string[]
  verbose: number
  json: boolean
  forks: number
  listHosts: boolean
  listTasks: boolean
  listTags: boolean
  syntaxCheck: boolean
  version: boolean
  /** connection settings from flags (-u, --private-key, -c, ...), by their Ansible names: the inventory's lowest precedence */
  cliVars: Record<string, string>
  askBecomePass: boolean
  /** ask once for the SSH password (password authentication) */
  askPass: boolean
  become: boolean
  /** seconds to wait for a connection */
  timeout: number
  logDir: string
  /** zxplay render: the host to render for; zxplay inventory: the host to show */
  host?: string
  /** zxplay inventory --list / --graph */
  list: boolean
  graph: boolean
  vaultPasswordFile?: string
  askVaultPass: boolean
  /** confirm destructive playbooks (reset) without being asked */
  force: boolean
  /** renew what has a lifetime (STS credentials) even while it is still valid: the var `refresh` */
  refresh: boolean
  /** --persistent-shell / --no-persistent-shell: commands over one long-lived shell per host, or a channel each; unset: the default */
  persistentShell?: boolean
  help: boolean
}

type Spec = { key: keyof Flags; value?: 'string' | 'list' | 'int' | 'append' | 'var'; ansible?: string }
// Ansible's connection flags set the variable of the same meaning (as Ansible's -u sets ansible_user).
const connectionFlag = (ansible: string): Spec => ({ key: 'cliVars', value: 'var', ansible })
const SPECS: Record<string, Spec> = {
  '-i': { key: 'inventory', value: 'append' },
  '--inventory': { key: 'inventory', value: 'append' },
  '-l': { key: 'limit', value: 'string' },
  '--limit': { key: 'limit', value: 'string' },
  '-t': { key: 'tags', value: 'list' },
  '--tags': { key: 'tags', value: 'list' },
  '--skip-tags': { key: 'skipTags', value: 'list' },
  '--start-at': { key: 'startAt', value: 'string' },
  '--start-at-task': { key: 'startAt', value: 'string' },
  '-C': { key: 'check' },
  '--check': { key: 'check' },
  '-D': { key: 'diff' },
  '--diff': { key: 'diff' },
  '-e': { key: 'extraVars', value: 'append' },
  '--extra-vars': { key: 'extraVars', value: 'append' },
  '-v': { key: 'verbose' },
  '--verbose': { key: 'verbose' },
  '--json': { key: 'json' },
  '-f': { key: 'forks', value: 'int' },
  '--forks': { key: 'forks', value: 'int' },
  '--list-hosts': { key: 'listHosts' },
  '--list-tasks': { key: 'listTasks' },
  '--list-tags': { key: 'listTags' },
  '--syntax-check': { key: 'syntaxCheck' },
  '--version': { key: 'version' },
  '-u': connectionFlag('ansible_user'),
  '--user': connectionFlag('ansible_user'),
  '--private-key': connectionFlag('ansible_ssh_private_key_file'),
  '--key-file': connectionFlag('ansible_ssh_private_key_file'),
  '--ssh-common-args': connectionFlag('ansible_ssh_common_args'),
  '--ssh-extra-args': connectionFlag('ansible_ssh_extra_args'),
  '-c': connectionFlag('ansible_connection'),
  '--connection': connectionFlag('ansible_connection'),
  '--become-user': connectionFlag('ansible_become_user'),
  '--become-method': connectionFlag('ansible_become_method'),
  '-K': { key: 'askBecomePass' },
  '--ask-become-pass': { key: 'askBecomePass' },
  '-k': { key: 'askPass' },
  '--ask-pass': { key: 'askPass' },
  '-b': { key: 'become' },
  '--become': { key: 'become' },
  '-T': { key: 'timeout', value: 'int' },
  '--timeout': { key: 'timeout', value: 'int' },
  '--log-dir': { key: 'logDir', value: 'string' },
  '--force': { key: 'force' },
  '--refresh': { key: 'refresh' },
  '--persistent-shell': { key: 'persistentShell' },
  '--no-persistent-shell': { key: 'persistentShell' },
  '--host': { key: 'host', value: 'string' },
  '--list': { key: 'list' },
  '--graph': { key: 'graph' },
  '--vault-password-file': { key: 'vaultPasswordFile', value: 'string' },
  '--vault-pass-file': { key: 'vaultPasswordFile', value: 'string' },
  '--ask-vault-pass': { key: 'askVaultPass' },
  '--ask-vault-password': { key: 'askVaultPass' },
  '-h': { key: 'help' },
  '--help': { key: 'help' },
}

export const defaultFlags = (): Flags => ({
  inventory: [],
  tags: [],
  skipTags: [],
  check: false,
  diff: false,
  extraVars: [],
  verbose: 0,
  json: false,
  forks: 20,
  listHosts: false,
  listTasks: false,
  listTags: false,
  syntaxCheck: false,
  version: false,
  cliVars: {},
  askBecomePass: false,
  askPass: false,
  become: false,
  timeout: 10,
  logDir: 'logs',
  force: false,
  refresh: false,
  list: false,
  graph: false,
  askVaultPass: false,
  help: false,
})

/** The inventory sources: every -i in order, or inventory.yaml. */
export function inventorySources(flags: Flags): string[] {
  return flags.inventory.length ? flags.inventory : ['inventory.yaml']
}

/** Parse flags; positionals (and everything after `--`) come back in `rest`. */
export function parseFlags(args: string[]): { flags: Flags; rest: string[] } {
  const argv = [...args]
  const flags = defaultFlags()
  const set = flags as unknown as Record<keyof Flags, unknown>
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!
    if (arg === '--') {
      rest.push(...argv.slice(i + 1))
      break
    }
    if (/^-v+$/.test(arg)) {
      flags.verbose += arg.length - 1
      continue
    }
    if (!arg.startsWith('-') || arg === '-') {
      rest.push(arg)
      continue
    }
    // Combined short flags, as Ansible's argparse reads them: -bK is -b -K; -iFILE and -e@x give a value.
    const combined = /^-[A-Za-z]./.test(arg) && !SPECS[arg] && SPECS[arg.slice(0, 2)]
    if (combined) {
      const tail = arg.slice(2)
      argv.splice(i + 1, 0, ...(combined.value ? [tail.replace(/^=/, '')] : [`-${tail}`]))
      arg = arg.slice(0, 2)
    }
    let inline: string | undefined
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    const spec = SPECS[arg]
    if (!spec) throw new UsageError(`unknown flag '${arg}' (zxplay --help lists them)`)
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`flag '${arg}' takes no value`)
      if (spec.key === 'verbose') flags.verbose += 1
      else set[spec.key] = !arg.startsWith('--no-')
      continue
    }
    const value = inline ?? argv[++i]
    const attached = combined && combined.value
    if (value === undefined) throw new UsageError(`flag '${arg}' needs a value`)
    // `--log-dir --check` must not swallow --check: a separate value may not look like a flag.
    // A value with a space is a value (argparse's rule too): --ssh-common-args '-o ProxyJump=b'.
    if (inline === undefined && !attached && /^-[^\d]/.test(value) && !value.includes(' ')) {
      const long = Object.keys(SPECS).find((k) => k.startsWith('--') && SPECS[k]?.key === spec.key && SPECS[k]?.ansible === spec.ansible) ?? arg
      throw new UsageError(`flag '${arg}' needs a value, got the flag '${value}' (for a value that starts with '-', write ${long}=${value})`)
    }
    if (spec.value === 'string') set[spec.key] = value
    else if (spec.value === 'append') (set[spec.key] as string[]).push(value)
    else if (spec.value === 'var') flags.cliVars[spec.ansible!] = value
    else if (spec.value === 'list') (set[spec.key] as string[]).push(...value.split(',').map((s) => s.trim()).filter(Boolean))
    else {
      const n = /^[0-9]+$/.test(value) ? Number(value) : NaN
      if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`flag '${arg}' needs a whole number ≥ 1, got '${value}'`)
      set[spec.key] = n
    }
  }
  return { flags, rest }
}

export const USAGE = `zxplay — Ansible-style playbooks in TypeScript, over SSH

usage:
  zxplay run <site|playbook|file.mts> [flags]     run playbooks (also: npx zx playbooks/site.mts [flags])
  zxplay ping [pattern] [-i inventory]            connect to each host and report it
  zxplay sh <pattern> [flags] -- <command>        run a shell command on hosts, output per host
  zxplay render <template> --host NAME [-i inv]    print a template as the playbooks render it for a host
  zxplay inventory --list | --host NAME | --graph [GROUP]   the inventory as ansible-inventory prints it

flags:
  -i, --inventory SRC      inventory: a YAML or INI file, a folder, or hosts 'h1,h2,'; repeat to
                           merge several in order (default inventory.yaml)
      --vault-password-file FILE   decrypt Ansible Vault values with the password in FILE
      --ask-vault-pass     ask for the vault password
  -l, --limit PATTERN      only these hosts (names, groups, globs, a:b, !x, &x)
  -t, --tags A,B           only tasks with these tags (always-tagged tasks too; also all, tagged,
                           untagged, never: tasks tagged never run only when --tags names them)
      --skip-tags A,B      leave out tasks with these tags
      --start-at NAME      begin at this playbook (file name or title) or task
  -C, --check              dry run: read-only probes run, mutations are listed, nothing changes
  -D, --diff               show a unified diff for files that change (or would)
  -e, --extra-vars K=V     set variables (highest precedence): 'a=1 b="x y"', @file.yaml or '{"k":1}'
  -v, --verbose            stream each command's stdout/stderr
      --json               print one JSON object (hosts and tasks) instead of text
  -f, --forks N            hosts in parallel per task (default 20)
      --list-hosts         list the hosts each playbook would run on, then stop
      --list-tasks         list the tasks that would run, then stop
  -K, --ask-become-pass    ask once for the sudo password (sent over stdin, never argv)
  -k, --ask-pass           ask once for the SSH password (ansible_password in the inventory wins)
  -b, --become             run every command with sudo
  -u, --user USER          connect as USER
      --private-key FILE   with this private key (relative to the working directory)
  -c, --connection C       ssh or local
      --ssh-common-args A  ssh options (-o ProxyJump=...); also --ssh-extra-args A
      --become-user U      whom to become; --become-method M: how
                           (each of these sets the ansible_* variable of the same meaning,
                           below everything the inventory sets, as in Ansible)
  -T, --timeout S          seconds to wait for a connection (default 10)
      --log-dir DIR        where the run's log goes (default logs/)
      --force              run destructive playbooks (reset) without asking
      --refresh            renew credentials that are still valid (sets the var refresh)
      --no-persistent-shell  an SSH channel per command, not the default long-lived bash per host
                           (and privilege level), whatever the hosts' zxplay_persistent_shell says;
                           (--persistent-shell: the default, spelled out)
      --list-tags          list the tags of the tasks that would run, then stop
      --syntax-check       load the playbooks and check the inventory's vars, then stop
      --version            zxplay's version
  -h, --help               this text
  short flags combine as in Ansible: -bK, -CD, -vvv

exit codes (Ansible's): 0 all ok, 1 another run holds a host's lock (or an internal error), 2 a host failed,
4 a host was unreachable (whether or not another failed), 5 bad input, 99 interrupted (Ctrl-C)`
