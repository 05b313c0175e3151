// Building the command lines that run on a host. Pure: no I/O.
//
// Interpolated values are quoted with zx's `quote` (bash `$'…'`), so a task's `${value}` behaves
// exactly as in zx locally. The script then runs under `bash -c`, wrapped in POSIX single quotes so
// that whatever login shell the account has (sh, dash, bash) passes it through untouched.

/**
 * zx's `quote` (zx 8, build/util.cjs), line for line. A copy, because importing it from 'zx'
 * loads all of zx (~0.7 MB of bundled dependencies) at start-up for one small function; `$` from
 * zx is still imported where commands run locally (local.ts, diff.ts), when they are first needed.
 */
export function quote(arg: string): string {
  if (arg === '') return `$''`
  if (/^[\w/.\-@:=]+$/.test(arg)) return arg
  return (
    `$'` +
    arg
      .replace(/\\/g, '\\\\')
      .replace(/'/g, "\\'")
      .replace(/\f/g, '\\f')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t')
      .replace(/\v/g, '\\v')
      .replace(/\0/g, '\\0') +
    `'`
  )
}

/** Build a command from a tagged template, quoting every interpolated value (arrays item by item). */
export function buildCommand(pieces: TemplateStringsArray, args: unknown[]): string {
  // The raw text, as with String.raw: a regex like '^\S+\s' reaches the shell as written.
  const text = pieces.raw?.length === pieces.length ? pieces.raw : pieces
  let cmd = text[0] ?? ''
  args.forEach((arg, i) => {
    const q = Array.isArray(arg) ? arg.map((a) => quote(stringify(a))).join(' ') : quote(stringify(arg))
    cmd += q + (text[i + 1] ?? '')
  })
  return cmd
}

function stringify(v: unknown): string {
  if (v == null) throw new TypeError(`cannot interpolate ${v} into a command`)
  const s = typeof v === 'object' && 'stdout' in v && typeof v.stdout === 'string' ? v.stdout.replace(/\n$/, '') : String(v)
  // bash ends a $'…' string at \0: the command would silently get a shorter value
  if (s.includes('\0')) throw new TypeError(`cannot put a value with a NUL character into a command (${JSON.stringify(s.slice(0, 40))}…): the shell would cut it there`)
  return s
}

/** POSIX single-quoting: safe in every Bourne-style shell, including for newlines. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** Printed by the become wrapper once sudo has let us through, so we know when stdin belongs to the command. */
export const BECOME_OK = 'ZXPLAY-BECOME-OK-7f3a'
/** The sudo prompt we ask for, so we can recognise it on stderr and answer it. */
export const SUDO_PROMPT = '[zxplay-sudo-password-7f3a]'

export type Become = {
  user: string
  /** true when a become password will be offered on stdin (from --ask-become-pass) */
  withPassword: boolean
  /** 'su': su USER -c, which always announces (see exec's gate); default sudo */
  method?: 'sudo' | 'su'
}

/** su's password prompt, whatever the locale's word before it ("Password: ", "Passwort: "). */
export const SU_PROMPT = /[^\n]*: $/

/**
 * The exact string handed to the SSH exec request (or to the local shell).
 * Without a password, `sudo -n` fails at once instead of hanging on a prompt.
 * With one, sudo prompts with our marker on stderr and we answer it (see run-command),
 * and the marker line BECOME_OK tells us when sudo is done, so the password never reaches the command.
 *
 * Every task command has a time limit. Without become the limit starts no program (`timeLimit`: a
 * fork of the shell) and the script runs in the login shell itself when that is bash (`inLoginBash`):
 * one program start on the host per command, as `ssh host cmd`, where timeout(1) and a second bash
 * made three.
 */
export function wrapCommand(script: string, become?: Become, timeoutMs?: number): string {
  const limited = timeoutMs !== undefined && timeoutMs > 0
  const body = strictMode(script)
  // The limit's preamble is one line, so the script's own lines keep their numbers in bash's messages.
  if (!become) return limited ? inLoginBash(`${timeLimit(timeoutMs)}; ${body}`) : `bash -c ${shq(body)}`
  // Under sudo, timeout(1) still: a TERM that reaches sudo goes on to its command only, and timeout
  // passes it to the whole process group at once (a shell would wait for its foreground child first).
  const limit = limited ? `timeout -k 2 ${(timeoutMs / 1000).toFixed(3)} ` : ''
  const user = shq(become.user)
  // su prompts on stderr (even without a terminal) whenever it needs a password: stdin is held
  // until the announcement, so a password is written only when asked for and input never reaches su
  if (become.method === 'su') return `su ${user} -c ${shq(`exec ${limit}bash -c ${shq(`printf '%s\\n' ${BECOME_OK} >&2\n${body}`)}`)}`
  if (!become.withPassword) return `sudo -n -H -u ${user} -- ${limit}bash -c ${shq(body)}`
  const announced = `printf '%s\\n' ${BECOME_OK} >&2\n${body}`
  return `sudo -S -p ${shq(SUDO_PROMPT)} -H -u ${user} -- ${limit}bash -c ${shq(announced)}`
}

/** Every task's script runs in bash's strict mode, whichever transport carries it. */
export const strictMode = (script: string): string => `set -euo pipefail\n${script}`

/**
 * `body` in the login shell when it is bash, else in a bash it becomes (`exec`): strict mode and
 * bash syntax whatever the login shell is (sh, dash, zsh, bash in POSIX mode), one process either
 * way. The script is in a variable, so a shell other than bash never has to parse it.
 */
export function inLoginBash(body: string): string {
  return `__zxplay=${shq(body)}; case \${BASH_VERSION-}:\${SHELLOPTS-} in :*|*posix*) exec bash -c "$__zxplay";; esac; eval "$__zxplay"`
}

/**
 * The host-side time limit, in bash, with no process on the command's path: a watchdog forked from
 * the script's shell (a coprocess, so `wait` in the script does not wait for it). It waits on a pipe
 * that stays open while the shell (or what it `exec`s) runs. If the time runs out first, it sends
 * TERM to the whole process group, then KILL 2 s later if the shell is still there: `timeout -k 2`'s
 * behaviour. That group is the command's own: sshd and the local transport start every command as
 * a new session.
 *
 * The shell turns the watchdog's TERM into exit 124 (it finds the watchdog's line on their pipe);
 * a TERM sent to the group from elsewhere it passes on, then exits 143 after its EXIT trap ran.
 */
function timeLimit(timeoutMs: number): string {
  const s = (timeoutMs / 1000).toFixed(3)
  const watchdog = [
    "trap '' TERM PIPE",
    // the shell is there, and not a zombie waiting for its parent
    'up() { read -r _ _ state _ < /proc/$$/stat && [ "$state" != Z ]; }',
    `read -r -t ${s} _`,
    '[ $? -gt 128 ] && up && { echo; kill -TERM 0; read -r -t 2 _; up && kill -KILL 0; }',
  ].join('; ')
  return [
    // forked with /dev/null for stdout and stderr, so it never holds the command's output open
    `{ coproc __zxplay_limit { ${watchdog}; }; } >/dev/null 2>&1`,
    // reopened, not dup'ed: bash closes its coprocess's descriptors in what it runs, this one stays
    `exec {__zxplay_limit_fd}>"/dev/fd/\${__zxplay_limit[1]}"`,
    'disown',
    // exit, not a re-kill with the default action: that would skip the script's EXIT trap (an
    // upload's temp file); 143 is what dying of TERM reads as
    `trap 'trap "" TERM; kill -TERM 0; read -r -t 0 -u "\${__zxplay_limit[0]-}" 2>/dev/null && exit ${TIMED_OUT_EXIT}; exit ${TERMINATED_EXIT}' TERM`,
  ].join('; ')
}

/** The exit status of a command stopped by its time limit (timeout(1)'s). */
export const TIMED_OUT_EXIT = 124
/** The exit status of a command stopped by a TERM from elsewhere (a Ctrl-C): 128 + 15, as a shell reports it. */
export const TERMINATED_EXIT = 143

/** sudo's own words when it would need a password but may not ask (`-n`). */
export function sudoNeedsPassword(stderr: string): boolean {
  return /sudo: (a password is required|a terminal is required)/.test(stderr)
}

/** A finished script as a template with no interpolations: `` probe(raw(script)) `` runs it as written. */
export function raw(script: string): TemplateStringsArray {
  return Object.assign([script], { raw: [script] })
}
