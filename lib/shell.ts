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
}

/**
 * The exact string handed to the SSH exec request (or to the local shell).
 * Without a password, `sudo -n` fails at once instead of hanging on a prompt.
 * With one, sudo prompts with our marker on stderr and we answer it (see run-command),
 * and the marker line BECOME_OK tells us when sudo is done, so the password never reaches the command.
 */
export function wrapCommand(script: string, become?: Become, timeoutMs?: number): string {
  const body = `set -euo pipefail\n${script}`
  // coreutils `timeout` signals the whole process group it leads, so a hung pipeline dies with it;
  // a signal sent over SSH would reach only the first process.
  const limit = timeoutMs && timeoutMs > 0 ? `timeout -k 2 ${(timeoutMs / 1000).toFixed(3)} ` : ''
  if (!become) return `${limit}bash -c ${shq(body)}`
  const user = shq(become.user)
  if (!become.withPassword) return `sudo -n -H -u ${user} -- ${limit}bash -c ${shq(body)}`
  const announced = `printf '%s\\n' ${BECOME_OK} >&2\n${body}`
  return `sudo -S -p ${shq(SUDO_PROMPT)} -H -u ${user} -- ${limit}bash -c ${shq(announced)}`
}

/** The exit status of `timeout` when the time ran out. */
export const TIMED_OUT_EXIT = 124

/** sudo's own words when it would need a password but may not ask (`-n`). */
export function sudoNeedsPassword(stderr: string): boolean {
  return /sudo: (a password is required|a terminal is required)/.test(stderr)
}

/** A finished script as a template with no interpolations: `` probe(raw(script)) `` runs it as written. */
export function raw(script: string): TemplateStringsArray {
  return Object.assign([script], { raw: [script] })
}
