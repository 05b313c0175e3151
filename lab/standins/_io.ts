// Process and file plumbing shared by every stand-in (kubeadm/kubectl and the OS tools): the
// entry-point check, stdout/stderr/stdin (the `io` object unit tests replace, and the IO that
// kubeadm's and kubectl's main() take), root checks, reading text and JSON, atomic writes, locks.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// ---------------------------------------------------------------------------
// Entry point and where the stand-ins are

/** True when this module is the script node was started with (not when a test imports it). */
export function isEntry(metaUrl: string): boolean {
  const argv1 = process.argv[1]
  if (!argv1) return false
  try {
    return fs.realpathSync(argv1) === fs.realpathSync(fileURLToPath(metaUrl))
  } catch {
    return false
  }
}

/** Where the stand-ins' own files are: next to the source or to the bundle. */
export const selfDir = (url: string) => path.dirname(fileURLToPath(url))

// ---------------------------------------------------------------------------
// Process I/O for the OS stand-ins: unit tests replace these fields to capture output and fake
// stdin or the uid.

export const io = {
  out(s: string | Uint8Array) {
    process.stdout.write(s)
  },
  err(s: string) {
    process.stderr.write(s)
  },
  /** All of stdin (empty when it is closed). */
  stdin(): Buffer {
    try {
      return fs.readFileSync(0)
    } catch {
      return Buffer.alloc(0)
    }
  },
  isTTY: () => Boolean(process.stdin.isTTY),
  uid: () => process.getuid?.() ?? 0,
  cwd: () => process.cwd(),
}

export const say = (s: string) => io.out(s.endsWith('\n') || s === '' ? s : s + '\n')
export const warn = (s: string) => io.err(s.endsWith('\n') ? s : s + '\n')
export const isRoot = () => io.uid() === 0

// ---------------------------------------------------------------------------
// Process I/O for kubeadm and kubectl: main() writes through an IO so tests can run it in-process.

export type IO = {
  out: (s: string) => void
  err: (s: string) => void
  /** All of stdin (read once, lazily). */
  stdin: () => string
}

export const processIO = (): IO => {
  let input: string | undefined
  return {
    out: (s) => void io.out(s),
    err: (s) => void io.err(s),
    stdin: () => (input ??= readStdin()),
  }
}

function readStdin(): string {
  try {
    return fs.readFileSync(0, 'utf8')
  } catch {
    return ''
  }
}

/** Thrown to end a command: message goes to stderr as is, then exit with code. */
export class Exit extends Error {
  code: number
  constructor(message: string, code = 1) {
    super(message)
    this.code = code
  }
}

// ---------------------------------------------------------------------------
// Files (the paths here are real ones: callers map absolute paths through p() or onHost())

/** A file's text, or undefined when it does not exist. */
export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw e
  }
}

/** A JSON file's value, or undefined when it does not exist or is blank. */
export function readJson<T>(file: string): T | undefined {
  const text = readText(file)
  if (text === undefined || text.trim() === '') return undefined
  return JSON.parse(text) as T
}

/** Write via a temp file in the same folder + rename; creates parent folders. */
export function writeAtomic(file: string, content: string, mode = 0o644) {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  fs.writeFileSync(tmp, content, { mode })
  try {
    fs.chmodSync(tmp, mode)
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

/** Leave a lock this old (ms) to the next taker: its holder died. */
const STALE_LOCK_MS = 15_000

/**
 * Run fn holding `<file>.lock` (created with O_EXCL; spins up to timeoutMs).
 * Synchronous on purpose: the critical sections are short file edits.
 */
export function withLock<T>(file: string, fn: () => T, timeoutMs = 20_000): T {
  const lock = `${file}.lock`
  fs.mkdirSync(path.dirname(lock), { recursive: true })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o666)
      fs.writeSync(fd, `${process.pid}\n`)
      fs.closeSync(fd)
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > STALE_LOCK_MS) fs.rmSync(lock, { force: true })
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lock}`)
      sleepSync(5 + Math.random() * 10)
    }
  }
  try {
    return fn()
  } finally {
    fs.rmSync(lock, { force: true })
  }
}

const sleepBuf = new Int32Array(new SharedArrayBuffer(4))
function sleepSync(ms: number) {
  Atomics.wait(sleepBuf, 0, 0, ms)
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
