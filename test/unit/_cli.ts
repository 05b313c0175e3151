// The CLI called in the test's own process: bin/zxplay.mjs's main() with its output caught, as a run
// without a terminal sees it (NO_COLOR, no TTY). No Node and tsx start per call (about a second of
// CPU each). What only a process of its own shows (exit on a signal, stdin, a reader that goes away,
// its working directory) stays with test/e2e/helpers.ts's runCli.
import { Writable } from 'node:stream'
import { main } from '../../lib/cli/cli.ts'

export type InProcessResult = { code: number; stdout: string; stderr: string }

/** A stream that keeps what is written to it. */
function catcher(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(Buffer.from(chunk))
      done()
    },
  })
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

/** `zxplay ARGS` in this process; `env` over this process's (which the CLI reads for its lock folders). */
export async function zxplayInProcess(args: string[], env: Record<string, string> = {}): Promise<InProcessResult> {
  const out = catcher()
  const err = catcher()
  const { FORCE_COLOR: _, ...rest } = process.env
  const code = await main(args, { stdout: out.stream, stderr: err.stream, env: { ...rest, NO_COLOR: '1', ...env }, signals: false })
  return { code, stdout: out.text(), stderr: err.text() }
}
