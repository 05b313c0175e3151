// Reading one stream of the persistent shell's frames (shell-server.ts). Pure: chunks in, events
// out. Data comes as `L<n>` and n raw bytes, or as `o` and base64 up to a newline (any length,
// decoded as it arrives); every other frame is a short line.
const NL = 0x0a
const MAX_LINE = 64

export type FrameHandlers = {
  data(bytes: Buffer): void
  /** `x<status>` (stdout) or `.` (stderr): the command's stream ended; `status` is '' for `.`; `both`: `X<status>`, stderr ended with it */
  end(status: string, both?: boolean): void
  ready(line: string): void
  /** bytes that are no frame: the stream cannot be trusted any more */
  broken(why: string): void
}

export class FrameReader {
  private inData = false
  /** raw bytes of an `L` frame still to come */
  private raw = 0
  /** base64 characters of the data frame not yet decoded (fewer than 4) */
  private carry = ''
  private line: Buffer[] = []
  private lineLength = 0
  private failed = false
  private on: FrameHandlers

  constructor(on: FrameHandlers) {
    this.on = on
  }

  push(chunk: Buffer): void {
    let at = 0
    while (at < chunk.length && !this.failed) {
      if (this.raw > 0) {
        const take = Math.min(this.raw, chunk.length - at)
        this.on.data(chunk.subarray(at, at + take))
        this.raw -= take
        at += take
        continue
      }
      if (this.inData) {
        const nl = chunk.indexOf(NL, at)
        const text = this.carry + chunk.toString('latin1', at, nl < 0 ? chunk.length : nl)
        const whole = nl < 0 ? text.length - (text.length % 4) : text.length
        if (whole) this.on.data(Buffer.from(text.slice(0, whole), 'base64'))
        this.carry = text.slice(whole)
        if (nl < 0) return
        if (this.carry) return this.fail('a data frame whose length is not a multiple of 4')
        this.inData = false
        at = nl + 1
        continue
      }
      if (this.lineLength === 0 && (chunk[at] === 0x6f || chunk[at] === 0x65)) {
        // 'o' or 'e': a data frame starts
        this.inData = true
        at++
        continue
      }
      const nl = chunk.indexOf(NL, at)
      const end = nl < 0 ? chunk.length : nl
      this.line.push(chunk.subarray(at, end))
      this.lineLength += end - at
      if (this.lineLength > MAX_LINE) return this.fail('a control line longer than 64 bytes')
      if (nl < 0) return
      at = nl + 1
      const line = Buffer.concat(this.line).toString('latin1')
      this.line = []
      this.lineLength = 0
      this.control(line)
    }
  }

  private control(line: string): void {
    const tag = line[0]
    if (tag === 'L' && /^[1-9]\d{0,5}$/.test(line.slice(1))) this.raw = Number(line.slice(1))
    else if (tag === 'x' && /^\d{1,3}$/.test(line.slice(1))) this.on.end(line.slice(1))
    else if (tag === 'X' && /^\d{1,3}$/.test(line.slice(1))) this.on.end(line.slice(1), true)
    else if (line === '.') this.on.end('')
    else if (tag === 'R') this.on.ready(line.slice(1))
    else this.fail(`an unknown frame ${JSON.stringify(line.slice(0, 20))}`)
  }

  private fail(why: string): void {
    this.failed = true
    this.on.broken(why)
  }
}
