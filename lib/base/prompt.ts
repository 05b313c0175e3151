// Asking the person at the keyboard for a secret (key passphrase, become password).
// Like getpass: the terminal if there is one, without echo; otherwise one line of stdin,
// so `printf 'pw\n' | zxplay run site -K` works in scripts.
import fs from 'node:fs'
import readline from 'node:readline'
import tty from 'node:tty'

let stdinLines: AsyncIterator<string> | undefined

export async function askSecret(question: string): Promise<string> {
  let fd: number | undefined
  try {
    fd = fs.openSync('/dev/tty', 'r+')
  } catch {
    fd = undefined
  }
  if (fd === undefined) {
    stdinLines ??= readline.createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]()
    const next = await stdinLines.next()
    if (next.done) throw new Error(`${question.trim()} — no terminal to ask on and nothing on stdin`)
    return next.value
  }
  const input = new tty.ReadStream(fd)
  const output = new tty.WriteStream(fd)
  output.write(question)
  input.setRawMode(true)
  return await new Promise<string>((resolve, reject) => {
    let answer = ''
    const done = (err?: Error) => {
      input.setRawMode(false)
      input.removeAllListeners('data')
      output.write('\n')
      input.destroy()
      output.destroy()
      err ? reject(err) : resolve(answer)
    }
    input.on('data', (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(new Error('interrupted'))
        if (ch === '\u007f') answer = answer.slice(0, -1)
        else answer += ch
      }
    })
  })
}
