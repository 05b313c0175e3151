// The log file of a run: every command with its exit code, output and timing, every result.
// It receives events after redaction, like every other sink. Written synchronously so that
// what happened before a crash or SIGINT is on disk.
import fs from 'node:fs'
import path from 'node:path'
import type { Event, Sink } from './events.ts'
import { openNew } from '../base/files.ts'

export function logPath(dir: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 23)
  return path.join(dir, `zxplay-${stamp}-${process.pid}.log`)
}

export function logSink(file: string): Sink {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  // a new file every run: one already there (or a symlink placed at the name) is not written through
  let fd: number
  try {
    fd = openNew(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new Error(`cannot create the log file ${file}: ${code === 'EEXIST' ? 'something is already there (a file or a symlink); zxplay writes a new log for every run' : (e as Error).message}`)
  }
  const write = (s: string) => fs.writeSync(fd, `${new Date().toISOString()} ${s}\n`)
  const indent = (s: string) => s.replace(/\n$/, '').split('\n').map((l) => `    ${l}`).join('\n')
  return (e) => {
    switch (e.kind) {
      case 'start':
        return write(`run start: inventory=${e.inventory} check=${e.check}`)
      case 'playbook':
        return write(`playbook ${e.id}: ${e.name} [${e.pattern}: ${e.hosts.join(', ')}]`)
      case 'task':
        return write(`task ${e.playbook} › ${e.task}`)
      case 'cmd':
        return write(`${e.host} ${e.planned ? 'would run' : e.probe ? 'probe' : 'run'}:\n${indent(e.cmd)}`)
      case 'cmd-end':
        return write(
          `${e.host} exit=${e.exitCode} ${e.ms}ms${e.stdout ? `\n  stdout:\n${indent(e.stdout)}` : ''}${e.stderr ? `\n  stderr:\n${indent(e.stderr)}` : ''}`
        )
      case 'diff':
        return write(`${e.host} diff ${e.file}:\n${indent(e.diff)}`)
      case 'note':
        return write(`${e.host} note: ${e.text}`)
      case 'result':
        return write(
          `${e.host} ${e.status} ${e.playbook} › ${e.task} ${e.ms}ms${e.reason ? ` (${e.reason})` : ''}${e.failure ? `\n  ${e.failure.message}${e.failure.exitCode !== undefined ? ` [exit ${e.failure.exitCode}]` : ''}` : ''}`
        )
      case 'interrupted':
        return write(`interrupted at ${e.playbook} › ${e.task}: it did not complete, and nothing after it ran`)
      case 'recap':
        write(`recap ${JSON.stringify(e.hosts)} ${e.ms}ms`)
        return fs.closeSync(fd)
      case 'output':
        return
    }
  }
}
