// `connection: local`: the same Connection, on this machine, through zx's `$`.
import type { Connection, Proc } from './connection.ts'
import { UnreachableError } from '../base/errors.ts'
import { raw } from './shell.ts'

// zx is loaded on the first local command, not at start-up: most runs only use SSH.
let zx: Promise<typeof import('zx')> | undefined

export function connectLocal(name: string): Connection {
  let closed = false
  const running = new Set<number>()
  return {
    host: name,
    async spawn(command: string): Promise<Proc> {
      const { $ } = await (zx ??= import('zx'))
      if (closed) throw new UnreachableError(name, 'connection closed')
      // detached: the command leads its own process group, as over SSH, so a time limit that ends
      // that group (shell.ts) never reaches zxplay itself
      const p = $({ nothrow: true, quiet: true, verbose: false, prefix: '', postfix: '', detached: true })(raw(command))
      const pid = p.pid
      if (pid) running.add(pid)
      return {
        stdin: p.stdin,
        stdout: p.stdout,
        stderr: p.stderr,
        done: p.then((o) => {
          if (pid) running.delete(pid)
          return { exitCode: o.exitCode, signal: o.signal }
        }),
        kill: () => {
          try {
            void p.kill('SIGKILL').catch(() => {})
          } catch {
            // zx throws when the process has already ended
          }
        },
        signal: (name) => {
          try {
            if (pid) process.kill(-pid, `SIG${name}`)
          } catch {
            // already gone
          }
        },
      }
    },
    async close() {
      closed = true
      // Commands still running (a Ctrl-C): TERM to each one's process group, as sshd does over SSH;
      // being detached, they never got the terminal's SIGINT, and would run on unattended.
      for (const pid of running) {
        try {
          process.kill(-pid, 'SIGTERM')
        } catch {
          // already gone
        }
      }
    },
  }
}
