// The persistent shell's frames (lib/transport/frames.ts): whatever bytes a command printed come out
// whole, however the stream is cut into chunks, and nothing in them is taken for a frame.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameReader } from '../../lib/transport/frames.ts'

function read(chunks: Buffer[]): { data: Buffer; ends: string[]; broken?: string } {
  const data: Buffer[] = []
  const ends: string[] = []
  let broken: string | undefined
  const r = new FrameReader({ data: (b) => data.push(Buffer.from(b)), end: (s, both) => ends.push(both ? `both ${s}` : s), ready: () => {}, broken: (w) => (broken = w) })
  for (const c of chunks) r.push(c)
  return { data: Buffer.concat(data), ends, broken }
}

/** Every way of cutting `whole` in two, and byte by byte. */
const cuts = (whole: Buffer) => [[whole], ...Array.from({ length: whole.length - 1 }, (_, i) => [whole.subarray(0, i + 1), whole.subarray(i + 1)]), [...whole].map((b) => Buffer.from([b]))]

test('raw frames carry any bytes, frame-looking ones and NUL included, however the stream is cut', () => {
  const hostile = Buffer.from('x0\n.\nL3\noQUJD\nR2 1\n\0\xff', 'latin1')
  const stream = Buffer.concat([Buffer.from(`L${hostile.length}\n`), hostile, Buffer.from('L1\n\0'), Buffer.from('x7\n')])
  for (const chunks of cuts(stream)) {
    const r = read(chunks)
    assert.equal([r.data, r.ends, r.broken], [Buffer.concat([hostile, Buffer.from([0])]), ['7'], undefined])
  }
})

test('a base64 frame after raw ones, decoded as it arrives', () => {
  const rest = Buffer.from('the rest\0\n', 'latin1')
  const stream = Buffer.from(`L2\nabo${rest.toString('base64')}\n.\n`, 'latin1')
  for (const chunks of cuts(stream)) assert.equal(read(chunks), { data: Buffer.from(`ab${rest.toString('latin1')}`, 'latin1'), ends: [''], broken: undefined })
})

test('X<status>: the end of both streams (an inline command with nothing on stderr), told from x', () => {
  for (const chunks of cuts(Buffer.from('X1\nx0\nX255\n'))) assert.equal(read(chunks), { data: Buffer.alloc(0), ends: ['both 1', '0', 'both 255'], broken: undefined })
  assert.match(read([Buffer.from('X\n')]).broken ?? '', /unknown frame/)
  assert.match(read([Buffer.from('X1234\n')]).broken ?? '', /unknown frame/)
})

test('what is no frame breaks the stream: a bad length, an unknown line, a long line', () => {
  assert.match(read([Buffer.from('L0\n')]).broken ?? '', /unknown frame/)
  assert.match(read([Buffer.from('L-1\n')]).broken ?? '', /unknown frame/)
  assert.match(read([Buffer.from('hello\n')]).broken ?? '', /unknown frame "hello"/)
  assert.match(read([Buffer.from('L'.repeat(100))]).broken ?? '', /longer than 64 bytes/)
})

test.run()
