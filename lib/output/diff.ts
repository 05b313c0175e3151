// A unified diff of a file's old and new content, made by the local `diff -u` (diffutils).
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export async function diffText(before: string, after: string, file: string, existed: boolean): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zxplay-diff-'))
  try {
    const a = path.join(dir, 'a')
    const b = path.join(dir, 'b')
    await fs.writeFile(a, before, { mode: 0o600 })
    await fs.writeFile(b, after, { mode: 0o600 })
    const label = existed ? file : '/dev/null'
    const { $ } = await import('zx') // only with --diff: not loaded at start-up
    const r = await $({ nothrow: true, quiet: true })`diff -u --label ${label} --label ${file} ${a} ${b}`
    return r.stdout
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}
