// Every error a user can cause or meet has its own class with fields, so the CLI can
// print it precisely and tests can assert on fields rather than on message text.

/** Bad inventory: raised before anything connects. `path` is the key path, e.g. `all.children.workers.hosts.node2.port`. */
export class InventoryError extends Error {
  override name = 'InventoryError'
  file: string
  path: string
  /** the message without the file and path */
  detail: string
  constructor(file: string, path: string, message: string) {
    super(`${file}${path ? `: ${path}` : ''}: ${message}`)
    this.file = file
    this.path = path
    this.detail = message
  }
}

/** A host pattern (playbook `hosts:` or `--limit`) that is malformed or matches nothing. */
export class PatternError extends Error {
  override name = 'PatternError'
  pattern: string
  constructor(pattern: string, message: string) {
    super(`host pattern '${pattern}': ${message}`)
    this.pattern = pattern
  }
}

/** A template that cannot be rendered: missing variable, bad syntax. */
export class TemplateError extends Error {
  override name = 'TemplateError'
  file: string
  line: number
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`)
    this.file = file
    this.line = line
  }
}

/** Wrong command-line use: unknown flag, missing value, unknown playbook or tag. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A remote or local command that exited non-zero, was killed, or timed out. */
export class CommandError extends Error {
  override name = 'CommandError'
  host: string
  cmd: string
  exitCode: number | null
  signal: string | null
  stdout: string
  stderr: string
  constructor(o: { host: string; cmd: string; exitCode: number | null; signal?: string | null; stdout: string; stderr: string; reason?: string }) {
    super(o.reason ?? `command failed with exit code ${o.exitCode}`)
    this.host = o.host
    this.cmd = o.cmd
    this.exitCode = o.exitCode
    this.signal = o.signal ?? null
    this.stdout = o.stdout
    this.stderr = o.stderr
  }
}

/** The host could not be reached or authenticated: connection refused, timeout, bad host key, auth failure. */
export class UnreachableError extends Error {
  override name = 'UnreachableError'
  host: string
  constructor(host: string, message: string) {
    super(message)
    this.host = host
  }
}
