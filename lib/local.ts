// `connection: local`: the same Connection, on this machine, through zx's `$`.
import type { Connection, Proc } from './connection.ts'
import { raw } from './shell.ts'

// zx is loaded on the first local command, not at start-up: most runs only use SSH.
let zx: Promise<typeof import('zx')> | undefined

export function connectLocal(name: string): Connection {
  return {
    host: name,
    async spawn(command: string): Promise<Proc> {
      const { $ } = await (zx ??= import('zx'))
      // detached: the command leads its own process group, as over SSH, so a time limit that ends
      // that group (shell.ts) never reaches zxplay itself
      const p = $({ nothrow: true, quiet: true, verbose: false, prefix: '', postfix: '', detached: true })(raw(command))
      return {
        stdin: p.stdin,
        stdout: p.stdout,
        stderr: p.stderr,
        done: p.then((o) => ({ exitCode: o.exitCode, signal: o.signal })),
        kill: () => void p.kill('SIGKILL').catch(() => {}),
      }
    },
    async close() {},
  }
}
