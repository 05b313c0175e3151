// Debian's ansible-core, the judge for what zxplay does the Ansible way (patterns, tags, -e, exit codes).
import { createHash } from 'node:crypto'
import { execFile, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'

// Mutation testing (test/mutate/run.ts) changes only lib/ and runs these files once per mutant: it
// sets ZXPLAY_JUDGE_CACHE to a folder of its own (emptied at each start), and Ansible answers each
// question (its command, arguments, input and the files they name) once per mutation run. Unset, as
// in `npm test`, every answer comes from Ansible at test time.
const CACHE = process.env.ZXPLAY_JUDGE_CACHE

function keyOf(parts: unknown[], cwd?: string): string {
  const h = createHash('sha256')
  for (const p of parts) {
    const text = JSON.stringify(p)
    h.update(cwd ? text.split(cwd).join('<cwd>') : text)
    // the files an argument names are part of the question
    for (const a of Array.isArray(p) ? p.flat() : [p]) {
      const file = typeof a === 'string' && a.length < 4096 ? path.resolve(cwd ?? '.', a) : ''
      if (file && fs.existsSync(file) && fs.statSync(file).isFile()) h.update(fs.readFileSync(file))
    }
  }
  return h.digest('hex')
}

function fromCache<T>(key: string): T | undefined {
  if (!CACHE) return undefined
  try {
    return JSON.parse(fs.readFileSync(path.join(CACHE, key), 'utf8')) as T
  } catch {
    return undefined
  }
}

function toCache<T>(key: string, value: T): T {
  if (CACHE) {
    fs.mkdirSync(CACHE, { recursive: true })
    const tmp = path.join(CACHE, `${key}.${process.pid}.tmp`)
    fs.writeFileSync(tmp, JSON.stringify(value))
    fs.renameSync(tmp, path.join(CACHE, key)) // whole or absent: two mutants may ask at once
  }
  return value
}

/** `fn`'s answer to the question `parts`: from the mutation run's cache when it is there. */
function judged<T>(parts: unknown[], fn: () => T, cwd?: string): T {
  const key = CACHE ? keyOf(parts, cwd) : ''
  return fromCache<T>(key) ?? toCache(key, fn())
}

/** judged, for an answer that comes later. */
async function judgedLater<T>(parts: unknown[], fn: () => Promise<T>, cwd?: string): Promise<T> {
  const key = CACHE ? keyOf(parts, cwd) : ''
  return fromCache<T>(key) ?? toCache(key, await fn())
}

/** `ansible-inventory ARGS` (cwd, env as given): its stdout; a failing run throws (its stderr). */
export async function ansibleInventory(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string> {
  type Answer = { stdout?: string; error?: string }
  // a refusal is an answer too: kept as one
  const run = () =>
    promisify(execFile)('ansible-inventory', args, { ...opts, maxBuffer: 64 << 20 }).then(
      ({ stdout }): Answer => ({ stdout }),
      (e: { stderr?: string; message: string }): Answer => ({ error: e.stderr || e.message })
    )
  const answer = await judgedLater(['ansible-inventory', args, opts.env], run, opts.cwd)
  if (answer.error !== undefined) throw new Error(`ansible-inventory failed: ${answer.error}`)
  return answer.stdout ?? ''
}

/** The python that has ansible-core's modules (Debian's, not a pyenv shim). */
export const ANSIBLE_PYTHON = '/usr/bin/python3'

/** Run a python snippet with JSON on stdin; its stdout parsed as JSON. */
export function ansiblePython<T>(code: string, input: unknown): T {
  return judged(['python', code, input], () => runPython<T>(code, input))
}

function runPython<T>(code: string, input: unknown): T {
  const r = spawnSync(ANSIBLE_PYTHON, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`python (ansible-core) failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

/** An ansible CLI (ansible, ansible-playbook), without config files or colour getting in the way. */
export function ansibleCli(cmd: string, args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  return judged([cmd, args], () => runCli(cmd, args, cwd), cwd)
}

function runCli(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: ansibleEnv(cwd) })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** No user or system ansible.cfg: an empty one in `cwd` (a test's temp dir), and HOME there too. */
export function ansibleEnv(cwd: string): NodeJS.ProcessEnv {
  const cfg = path.join(cwd, 'ansible.cfg')
  if (!fs.existsSync(cfg)) fs.writeFileSync(cfg, '')
  return { PATH: process.env.PATH, HOME: cwd, ANSIBLE_CONFIG: cfg, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False', ANSIBLE_HOST_KEY_CHECKING: 'False' }
}

export type CliRun = { rc: number; out: string; err: string }

/**
 * Several runs of ansible-core's own `ansible-playbook` or `ansible` CLI (listing options only:
 * --list-tasks, --list-tags, --list-hosts) in one python process: seconds instead of seconds each.
 */
export function ansibleListings(cli: 'playbook' | 'adhoc', runs: string[][], cwd: string): CliRun[] {
  return judged([cli, runs], () => runListings(cli, runs, cwd), cwd)
}

function runListings(cli: 'playbook' | 'adhoc', runs: string[][], cwd: string): CliRun[] {
  const [mod, cls, argv0] = cli === 'playbook' ? ['playbook', 'PlaybookCLI', 'ansible-playbook'] : ['adhoc', 'AdHocCLI', 'ansible']
  const code = `
import io, json, sys, contextlib
from ansible.cli.${mod} import ${cls}
from ansible.utils.context_objects import GlobalCLIArgs
from ansible.utils.display import Display
out = []
for args in json.load(sys.stdin):
    GlobalCLIArgs._Singleton__instance = None  # each run parses its own flags (a singleton otherwise)
    Display()._warns.clear()  # and shows its own warnings (shown once per process otherwise)
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        try:
            rc = ${cls}(['${argv0}'] + args).run()
        except SystemExit as e:
            rc = e.code
        except Exception as e:
            rc = 'error: ' + str(e)
    out.append({'rc': rc, 'out': buf.getvalue(), 'err': err.getvalue()})
print(json.dumps(out))
`
  const r = spawnSync(ANSIBLE_PYTHON, ['-c', code], {
    cwd,
    input: JSON.stringify(runs),
    encoding: 'utf8',
    env: ansibleEnv(cwd),
  })
  if (r.status !== 0) throw new Error(`ansible-core (${argv0}) failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as CliRun[]
}
