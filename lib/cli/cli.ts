// The one place where argv becomes a run and errors become exit codes (zx's autorun, ni's runCli).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline/promises'
import { pathToFileURL } from 'node:url'
import { inventorySources, parseFlags, USAGE, type Flags } from './args.ts'
import { InventoryError, UsageError } from '../base/errors.ts'
import { emitter } from '../output/events.ts'
import { parseExtraVars } from '../inventory/extra-vars.ts'
import { loadInventory, type Host, type Inventory, type LoadOptions, type Vars } from '../inventory/inventory.ts'
import { graphInventory, hostVars, listInventory, toAnsibleJson } from '../inventory/inventory-list.ts'
import { HostLockError, HostLocks, hostHolder, hostLockFile, lockCommand, type HostLockHolder } from '../transport/host-lock.ts'
import { acquireLocks, currentHolder, lockDir, lockTargets, type Held } from '../transport/lock.ts'
import { logPath, logSink } from '../output/logfile.ts'
import { limitPatterns, selectHosts } from '../inventory/patterns.ts'
import { listedTags, plan, tagsOf, type PlannedPlaybook } from '../engine/plan.ts'
import { ok, playbook, runtime, task, type Playbook } from '../engine/playbook.ts'
import { VarsTable } from '../inventory/vars-spec.ts'
import { connectionVars, resolveTemplate } from '../engine/context.ts'
import { renderFile } from '../engine/template.ts'
import { askSecret } from '../base/prompt.ts'
import { colorWanted, reporter } from '../output/report.ts'
import { runPlan } from '../engine/run.ts'
import { readVaultPasswordFile } from '../inventory/vault.ts'
import { Secrets, SECRET_MIN_LENGTH } from '../output/secrets.ts'
import { SshConfigError } from '../base/ssh-config.ts'
import { targetFor } from '../transport/ssh.ts'
import { HostSession, type SessionOptions } from '../transport/session.ts'
import { raw } from '../transport/shell.ts'
import { errorExit, EXIT, exitCode } from './exit-code.ts'


/**
 * Where one call of the CLI writes and what it reads its settings from ($NO_COLOR, $ZXPLAY_LOCK_DIR,
 * $ZXPLAY_HOST_LOCK). `signals`: it owns the process (bin/zxplay), so Ctrl-C and SIGTERM stop its run;
 * a caller in the same process (the unit tests) leaves the process's signals alone.
 */
export type CliIo = { stdout: NodeJS.WritableStream & { isTTY?: boolean }; stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv; signals: boolean }

export const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env, signals: true })

/** How a playbook file becomes a module: import() under tsx; bin/zxplay's compiled cache without it. */
export type ModuleLoader = (file: string) => Promise<unknown>

let loadModule: ModuleLoader = (file) => import(pathToFileURL(file).href)

/** `bin/zxplay`: run | ping | sh | render | inventory; the exit code. */
export async function main(argv = process.argv.slice(2), io = processIo(), loader?: ModuleLoader): Promise<number> {
  runtime.cli = true
  if (loader) loadModule = loader
  return guard(io, async () => {
    const [cmd, ...args] = argv
    if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') return say(io, USAGE)
    if (cmd === '--version') return say(io, version())
    const { flags, rest } = parseFlags(args)
    if (flags.help) return say(io, USAGE)
    if (flags.version) return say(io, version())
    const call = { io, words: argv }
    if (cmd === 'run') {
      if (rest.length !== 1) throw new UsageError(`zxplay run takes one playbook (site, a playbook name, or a file), got ${rest.length ? rest.join(' ') : 'none'}`)
      return execute(await loadPlaybooks(rest[0]!), flags, call, { playbookDir: path.dirname(resolvePlaybookFile(rest[0]!)) })
    }
    if (cmd === 'inventory') return say(io, await showInventory(flags, rest))
    if (cmd === 'ping') {
      if (rest.length > 1) throw new UsageError('zxplay ping takes at most one host pattern')
      return execute([pingPlaybook(rest[0] ?? 'all')], flags, call, { readOnly: true, pattern: rest[0] })
    }
    if (cmd === 'sh') {
      const dash = args.indexOf('--')
      if (dash < 0 || rest.length < 2) throw new UsageError('usage: zxplay sh <pattern> [flags] -- <command>')
      return execute([shPlaybook(rest[0]!, args.slice(dash + 1).join(' '))], flags, call, { pattern: rest[0] })
    }
    if (cmd === 'render') {
      if (rest.length !== 1 || !flags.host) throw new UsageError('usage: zxplay render <template> --host NAME [-i inventory] [-e key=value]')
      return void io.stdout.write(await renderFor(rest[0]!, flags.host, flags))
    }
    throw new UsageError(`unknown command '${cmd}': use run, ping, sh, render or inventory`)
  })
}

/** `npx zx playbooks/x.mts [flags]`: the playbook module called this through playbook(def, import.meta). */
export async function runFromScript(playbooks: Playbook[], argv: string[]): Promise<void> {
  if (runtime.cli) return
  const io = processIo()
  process.exitCode = await guard(io, async () => {
    const { flags, rest } = parseFlags(argv)
    if (flags.help) return say(io, USAGE)
    if (flags.version) return say(io, version())
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`)
    return execute(playbooks, flags, { io, words: process.argv.slice(2) })
  })
}

/** One call of the CLI: where it writes, and its words (the lock holder's command line names them). */
type Call = { io: CliIo; words: string[] }

/** A line on the call's stdout; exit code 0. */
const say = (io: CliIo, line: string): number => (io.stdout.write(line + '\n'), 0)

/** `zxplay 0.1.0 (node v22.x)`: which zxplay and which runtime, as `ansible --version` says its core and python. */
function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return `zxplay ${pkg.version} (node ${process.version})`
}

/** -u, --private-key, -c, ...: Ansible-named vars; a key file relative to where zxplay runs, as Ansible's. */
function flagVars(flags: Flags): Vars {
  const vars: Vars = { ...flags.cliVars }
  const key = flags.cliVars.ansible_ssh_private_key_file
  if (key) vars.ansible_ssh_private_key_file = path.resolve(key.startsWith('~/') ? path.join(os.homedir(), key.slice(2)) : key)
  return vars
}

/** The exit code: what `fn` returned (0 when nothing), or the error's, which is said in one line. */
async function guard(io: CliIo, fn: () => Promise<number | void>): Promise<number> {
  // `zxplay … | head`: the reader went away. Nothing more is shown, and the run goes on to its end
  // (stopping half-way would leave hosts half-changed); the log still has everything.
  io.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e
  })
  try {
    return (await fn()) ?? 0
  } catch (err) {
    const { code, message } = errorExit(err)
    io.stderr.write(`✗ ${message}\n`)
    return code
  }
}

export async function loadPlaybooks(name: string): Promise<Playbook[]> {
  const file = resolvePlaybookFile(name)
  const mod = (await loadModule(file).catch((e: unknown) => {
    throw unloadable(file, e)
  })) as { default?: Playbook | Playbook[] }
  const def = mod.default
  if (!def) throw new UsageError(`${file} has no default export (export default playbook({...}, import.meta))`)
  return Array.isArray(def) ? def : [def]
}

/** A playbook that does not parse or imports what is not there: bad input, said in a line or two, not a stack. */
function unloadable(file: string, e: unknown): unknown {
  const err = e as Error & { code?: string; errors?: { text: string; location?: { file: string; line: number; column: number } }[] }
  const first = err.errors?.[0]
  if (first) return new UsageError(`cannot load ${file}: ${first.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : ''}${first.text}`)
  // tsx's: "Transform failed with 1 error:" and then esbuild's line with the place
  if (err.name === 'TransformError') return new UsageError(`cannot load ${file}: ${err.message.split('\n').slice(1).join(' ').replace(' ERROR:', '')}`)
  if (err.code === 'ZXPLAY_LOAD' || err.code === 'ERR_MODULE_NOT_FOUND' || err instanceof SyntaxError) return new UsageError(`cannot load ${file}: ${err.message}`)
  return e
}

function resolvePlaybookFile(name: string): string {
  if (fs.existsSync(name) && fs.statSync(name).isFile()) return path.resolve(name)
  const dir = path.resolve('playbooks')
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.m?ts$/.test(f)) : []
  const exact = files.find((f) => f.replace(/\.m?ts$/, '') === name)
  const prefixed = files.filter((f) => f.startsWith(`${name}-`) || f.replace(/^\d+-/, '').replace(/\.m?ts$/, '') === name)
  const hit = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined)
  if (!hit) throw new UsageError(`no playbook '${name}' in ${dir}${files.length ? ` (there are: ${files.map((f) => f.replace(/\.m?ts$/, '')).join(', ')})` : ''}`)
  return path.join(dir, hit)
}

/** How the flags say to load the inventory: its sources, -e, and the vault password (asked or read once). */
async function inventoryOptions(flags: Flags, playbookDir?: string): Promise<LoadOptions> {
  const opts: LoadOptions = { extraVars: parseExtraVars(flags.extraVars, process.cwd()), cliVars: flagVars(flags) }
  if (playbookDir) opts.playbookDir = playbookDir
  if (flags.vaultPasswordFile && flags.askVaultPass) throw new UsageError('--vault-password-file and --ask-vault-pass: give one')
  if (flags.vaultPasswordFile) opts.vaultPassword = readVaultPasswordFile(flags.vaultPasswordFile)
  if (flags.askVaultPass) opts.vaultPassword = await askSecret('Vault password: ')
  return opts
}

/** `zxplay inventory --list | --host NAME | --graph [GROUP]`, as ansible-inventory prints them. */
async function showInventory(flags: Flags, rest: string[]): Promise<string> {
  const modes = [flags.list, flags.graph, flags.host !== undefined].filter(Boolean).length
  if (modes !== 1 || rest.length > (flags.graph ? 1 : 0)) throw new UsageError('usage: zxplay inventory --list | --host NAME | --graph [GROUP] [-i SOURCE]…')
  const inventory = await loadInventory(inventorySources(flags), await inventoryOptions(flags))
  if (flags.graph) return graphInventory(inventory, rest[0])
  return toAnsibleJson(flags.list ? listInventory(inventory) : hostVars(inventory, flags.host!))
}

/**
 * A template rendered as the site's playbooks would render it for one host: every playbook's
 * defaults and derived vars (each derives its own, e.g. 85-ray the credentials' expiry).
 */
export async function renderFor(template: string, hostName: string, flags: Flags): Promise<string> {
  const inventory = await loadInventory(inventorySources(flags), await inventoryOptions(flags))
  const host = inventory.hosts.find((h) => h.name === hostName)
  if (!host) throw new UsageError(`no host '${hostName}' in ${inventory.file} (hosts: ${inventory.hosts.map((h) => h.name).join(', ')})`)
  const playbooks = fs.existsSync(path.resolve('playbooks/site.mts')) ? await loadPlaybooks('site') : []
  const table = new VarsTable(playbooks, inventory)
  const vars = Object.assign({}, ...playbooks.map((p) => table.varsFor(p, host))) as Vars
  return renderFile(resolveTemplate(path.resolve('templates'), template), { ...connectionVars(host), ...vars })
}

/** `pattern`: the one the user typed (ping, sh); unlike a playbook's, selecting no host is an error. */
async function execute(playbooks: Playbook[], flags: Flags, call: Call, opts: { readOnly?: boolean; pattern?: string; playbookDir?: string } = {}): Promise<number> {
  const { io } = call
  const load = await inventoryOptions(flags, opts.playbookDir)
  if (flags.refresh) load.extraVars = { ...load.extraVars, refresh: true }
  const inventory = await loadInventory(inventorySources(flags), load)
  if (flags.become) for (const h of inventory.hosts) h.become = true
  const limit = flags.limit === undefined ? undefined : limitPatterns(flags.limit, process.cwd(), (f) => fs.readFileSync(f, 'utf8'))
  const planned = plan(playbooks, inventory, { tags: flags.tags, skipTags: flags.skipTags, limit, startAt: flags.startAt })
  if (opts.pattern !== undefined) selectHosts(inventory, opts.pattern)
  // Listing and the syntax check connect to nothing: a key file that is missing does not matter to them.
  if (flags.listHosts || flags.listTasks || flags.listTags) return say(io, listing(planned, flags))
  // every family of vars of every playbook, on every host: checked and derived once, kept for the run
  const vars = new VarsTable(planned.map((p) => p.playbook), inventory)
  vars.check()
  if (flags.syntaxCheck) return say(io, listing(planned, flags))
  checkLocalFiles(inventory)
  checkSshConfig(inventory)
  for (const { playbook: pb, hosts } of planned) {
    if (pb.confirm && hosts.length && !flags.check && !flags.force) await confirm(`${pb.confirm} [${hosts.map((h) => h.name).join(', ')}]`)
  }
  // Runs that change hosts hold a lock on each; --check and ping change nothing and only say when one is held.
  const targets = await lockTargets(inventory.hosts)
  const readOnly = flags.check || opts.readOnly === true
  const held: Held | undefined = readOnly ? undefined : acquireLocks(targets, { command: lockCommand(call.words), inventory: path.resolve(inventory.file) }, lockDir(io.env))
  const releaseOnExit = () => held?.release()
  process.on('exit', releaseOnExit)
  try {
    if (readOnly) {
      const busy = currentHolder(targets, lockDir(io.env))
      if (busy) io.stderr.write(`note: ${busy.target.host} is being changed by another run (pid ${busy.holder.pid}, started ${busy.holder.started}); what this run reads may change meanwhile\n`)
    }
    return await runLocked(planned, inventory, flags, held, vars, call)
  } finally {
    held?.release()
    process.off('exit', releaseOnExit)
  }
}

async function runLocked(planned: PlannedPlaybook[], inventory: Inventory, flags: Flags, held: Held | undefined, vars: VarsTable, { io, words }: Call): Promise<number> {
  const secrets = new Secrets()
  const sshPassword = flags.askPass ? await askSecret('SSH password: ') : undefined
  const becomePassword = flags.askBecomePass ? await askSecret('BECOME password: ') : undefined
  // redaction finds secrets by their text: a very short one cannot be told from ordinary output
  for (const [what, pw] of [['SSH', sshPassword], ['become', becomePassword]] as const) {
    if (pw !== undefined && pw.length < SECRET_MIN_LENGTH) throw new UsageError(`the ${what} password is shorter than ${SECRET_MIN_LENGTH} characters: zxplay could not keep it out of output and logs (it hides secrets by their text); use a longer one`)
  }
  for (const s of [sshPassword, becomePassword, ...inventory.secrets, ...inventory.hosts.flatMap((h) => [h.password, h.becomePassword])]) if (s !== undefined) secrets.add(s)
  const log = logPath(path.resolve(flags.logDir))
  const emit = emitter(secrets, [logSink(log), reporter({ json: flags.json, verbose: flags.verbose > 0, color: colorWanted(io.stdout, io.env), out: (s) => void io.stdout.write(s + '\n') })])
  for (const { target, holder } of held?.tookOver ?? []) {
    emit({ kind: 'note', host: target.host, task: 'lock', text: `took over the lock of pid ${holder.pid} (started ${holder.started}): that run is gone` })
  }
  // every inventory host gets a session (connected only when used), so tasks can reach the control plane;
  // a changing run also locks each host it connects to (host-lock.ts), as the control-machine lock did here
  const tookOver = (host: string, h: HostLockHolder) =>
    emit({ kind: 'note', host, task: 'lock', text: `took over the lock on the host of pid ${h.pid} on ${h.machine} (started ${h.started}): that run is gone, its connection had not closed` })
  const hostLocks = held ? new HostLocks(hostHolder(words), hostLockFile(io.env), tookOver) : undefined
  const note = flags.verbose ? (host: string, text: string) => emit({ kind: 'note', host, task: 'connection', text }) : undefined
  const sessions = sessionsFor(inventory.hosts, flags, sshPassword, hostLocks, note)
  if (flags.verbose) for (const h of inventory.hosts) for (const text of h.unused) emit({ kind: 'note', host: h.name, task: 'inventory', text })

  // Ctrl-C (or a CI job's SIGTERM): the commands in flight are stopped and the connections closed;
  // the task that was running and everything after it is left undone, which the log and the recap say.
  let interrupted = false
  const onSigint = () => {
    if (interrupted) process.exit(EXIT.interrupted)
    interrupted = true
    io.stderr.write('\ninterrupted: stopping the commands in flight and closing connections (Ctrl-C again to quit at once)\n')
    hostLocks?.stop()
    for (const s of sessions.values()) void s.end('the run was interrupted')
  }
  if (io.signals) process.on('SIGINT', onSigint).on('SIGTERM', onSigint)
  try {
    if (hostLocks) {
      const refused = await lockPlannedHosts(planned, sessions).then(() => undefined, (e: unknown) => e)
      // interrupted while the locks were being taken: no task has run anywhere
      if (refused && interrupted) {
        io.stderr.write('interrupted before the first task: nothing was changed\n')
        return EXIT.interrupted
      }
      if (refused) throw refused
    }
    emit({ kind: 'start', inventory: inventory.file, check: flags.check, log })
    const recap = await runPlan(planned, sessions, {
      recapHosts: [...new Set(planned.flatMap((p) => p.hosts.map((h) => h.name)))],
      check: flags.check,
      diff: flags.diff,
      verbose: flags.verbose > 0,
      forks: flags.forks,
      becomePassword,
      taskTimeoutMs: 900_000,
      templatesDir: path.resolve('templates'),
      secrets,
      emit,
      interrupted: () => interrupted,
      vars,
    })
    emit({ kind: 'recap', hosts: recap.hosts, ms: recap.ms })
    if (!flags.json) io.stdout.write(`log: ${path.relative(process.cwd(), log)}\n`)
    return exitCode(recap.hosts, interrupted)
  } finally {
    process.off('SIGINT', onSigint)
    process.off('SIGTERM', onSigint)
    hostLocks?.release()
    await Promise.all([...sessions.values()].map((s) => s.close()))
  }
}

/**
 * Every host the plan runs on connects and takes its lock before the first task: all or none, so a
 * run refused on one host has changed nothing anywhere. A host that cannot be reached is left for
 * its first task to report, as before.
 */
async function lockPlannedHosts(planned: PlannedPlaybook[], sessions: Map<string, HostSession>): Promise<void> {
  const names = [...new Set(planned.flatMap((p) => p.hosts.map((h) => h.name)))]
  const results = await Promise.allSettled(names.map((n) => sessions.get(n)!.connection()))
  const refused = results.flatMap((r) => (r.status === 'rejected' && r.reason instanceof HostLockError ? [r.reason] : []))
  const [first, ...others] = refused
  if (!first) return
  if (others.length) first.message += `\n  Also held: ${others.map((e) => e.host).join(', ')}.`
  throw first
}

/** Files on this machine the connections need: a missing key is bad input, found before anything connects. */
function checkLocalFiles(inventory: Inventory): void {
  const problems: string[] = []
  const byFile = (pick: (h: Host) => string | undefined) => {
    const files = new Map<string, string[]>()
    for (const h of inventory.hosts) {
      const f = h.connection === 'ssh' ? pick(h) : undefined
      if (f) files.set(f, [...(files.get(f) ?? []), h.name])
    }
    return files
  }
  for (const [file, hosts] of byFile((h) => h.key)) {
    const why = unreadable(file)
    if (why) problems.push(`${inventory.file}: key: cannot read the private key file ${file} (${why}) for ${hosts.join(', ')}; expected a readable private key file (an ssh-keygen key)`)
  }
  for (const [file, hosts] of byFile((h) => (h.hostKeyChecking === 'strict' ? h.knownHosts : undefined))) {
    const why = unreadable(file)
    if (why) problems.push(`${inventory.file}: known_hosts: cannot read ${file} (${why}) for ${hosts.join(', ')}; expected a known_hosts file with their host keys (ssh-keyscan), or host_key_checking: accept-new to record them`)
  }
  if (!problems.length) return
  const err = new InventoryError(inventory.file, 'key', '')
  err.message = problems.join('\n')
  throw err
}

/** What ssh_config says about each host, checked before anything connects: an option zxplay cannot honour is bad input. */
function checkSshConfig(inventory: Inventory): void {
  const problems = new Map<string, string[]>()
  for (const h of inventory.hosts) {
    if (h.connection !== 'ssh') continue
    try {
      targetFor(h)
    } catch (e) {
      if (!(e instanceof SshConfigError)) throw e
      problems.set(e.message, [...(problems.get(e.message) ?? []), h.name])
    }
  }
  if (!problems.size) return
  const err = new InventoryError(inventory.file, '', '')
  err.message = [...problems].map(([message, hosts]) => `${message} (for ${hosts.join(', ')})`).join('\n')
  throw err
}

function unreadable(file: string): string | undefined {
  try {
    if (!fs.statSync(file).isFile()) return 'not a file'
    fs.accessSync(file, fs.constants.R_OK)
    return undefined
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? e)
  }
}

/** Ask on the terminal; without one, the user must say --force. */
async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY) throw new UsageError(`${question}: no terminal to ask on; run again with --force to confirm`)
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr })
  const answer = await rl.question(`${question} [y/N] `)
  rl.close()
  if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not confirmed: nothing was changed')
}

function sessionsFor(hosts: Inventory['hosts'], flags: Flags, password?: string, locks?: HostLocks, note?: SessionOptions['note']): Map<string, HostSession> {
  const sessions = new Map<string, HostSession>()
  const opts: SessionOptions = { connectTimeoutMs: flags.timeout * 1000, password, persistentShell: flags.persistentShell, note }
  for (const h of hosts) if (!sessions.has(h.name)) sessions.set(h.name, new HostSession(h, opts, locks))
  return sessions
}

/** --list-hosts, --list-tasks, --list-tags, --syntax-check: what would run, decided without connecting. */
function listing(planned: ReturnType<typeof plan>, flags: Flags): string {
  if (flags.syntaxCheck) return `syntax ok: ${planned.length} playbook(s), ${planned.reduce((n, p) => n + p.playbook.tasks.length, 0)} task(s)`
  const lines = planned.map(({ playbook: pb, hosts, tasks }) => {
    const head = `${pb.id}: ${pb.name} [${pb.hosts}]`
    const body = flags.listHosts
      ? hosts.map((h) => `  ${h.name}`)
      : flags.listTags
        ? [`  TASK TAGS: [${listedTags({ playbook: pb, hosts, tasks }).join(', ')}]`]
        : tasks.map((t) => `  ${t.name}${tagsOf(pb, t).length ? `  [tags: ${tagsOf(pb, t).join(', ')}]` : ''}`)
    return [head, ...body].join('\n')
  })
  return lines.join('\n')
}

function pingPlaybook(pattern: string): Playbook {
  return playbook({
    name: 'Hosts answer',
    hosts: pattern,
    tasks: [
      task('host answers', async ({ facts }) => {
        const f = await facts()
        return ok(`${f.hostname}, ${f.distro} ${f.distroVersion}, ${f.arch}, user ${f.user}`)
      }),
    ],
  })
}

function shPlaybook(pattern: string, command: string): Playbook {
  return playbook({
    name: `sh: ${command}`,
    hosts: pattern,
    tasks: [
      task('command', async ({ $, log }) => {
        const out = await $(raw(command))
        for (const line of out.lines()) log(line)
      }),
    ],
  })
}
