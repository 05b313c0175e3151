// Shared by the unit tests. Not a test file itself (uvu runs only *.test.ts).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The error `run` throws; fails the test when it throws nothing. */
export function errorOf(run: () => unknown): Error {
  try {
    run()
  } catch (e) {
    if (e instanceof Error) return e
    throw new Error(`expected an Error, got ${String(e)}`)
  }
  throw new Error('expected an error')
}

/** A fresh temporary folder, and how to remove it. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zxplay-${prefix}-`))
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}
