// Files zxplay writes on this machine. A name someone else can guess (a temporary name next to the
// file, a log's name) must not let them redirect the write with a symlink placed beforehand: new
// files are created exclusively (O_EXCL) and never through a symlink (O_NOFOLLOW).
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND } = fs.constants

/** Open a file that must not exist yet, for appending; mode 0600 unless said otherwise. */
export function openNew(file: string, mode = 0o600): number {
  return fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND, mode)
}

/**
 * Write a whole file, readable only by its owner at every moment: a new temporary file with a
 * random name, then a rename over the name (which replaces a symlink there rather than following it).
 */
export function writePrivate(file: string, content: string | Buffer): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openNew(tmp)
  try {
    fs.writeFileSync(fd, content)
    fs.fsyncSync(fd)
  } catch (e) {
    fs.closeSync(fd)
    fs.rmSync(tmp, { force: true })
    throw e
  }
  fs.closeSync(fd)
  try {
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}
