// Files zxplay writes on this machine (the log, env.list, the kubeconfig, lock files): a symlink
// placed beforehand, at the name or at a temporary name next to it, never redirects the write.
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { writePrivate } from '../../lib/base/files.ts'
import { logSink } from '../../lib/output/logfile.ts'
import { tempDir } from './_helpers.ts'

const { dir, remove } = tempDir('files')
test.after(remove)
const at = (name: string) => path.join(dir, name)
const mode = (f: string) => (fs.statSync(f).mode & 0o777).toString(8)

test('writePrivate: 0600, whole, no temporary file left', () => {
  writePrivate(at('env.list'), 'A=1\n')
  assert.is(fs.readFileSync(at('env.list'), 'utf8'), 'A=1\n')
  assert.is(mode(at('env.list')), '600')
  assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('env.list.')), [])
})

test('writePrivate: symlinks at the name and at the old predictable temp name redirect nothing', () => {
  fs.writeFileSync(at('victim'), 'untouched')
  fs.symlinkSync(at('victim'), at('creds'))
  fs.symlinkSync(at('victim'), at(`creds.${process.pid}.tmp`))
  writePrivate(at('creds'), 'SECRET=1\n')
  assert.is(fs.readFileSync(at('victim'), 'utf8'), 'untouched')
  assert.not.ok(fs.lstatSync(at('creds')).isSymbolicLink())
  assert.is(fs.readFileSync(at('creds'), 'utf8'), 'SECRET=1\n')
})

test('the log: a symlink placed at its name is refused, its target untouched', () => {
  fs.writeFileSync(at('target'), 'untouched')
  fs.symlinkSync(at('target'), at('run.log'))
  assert.throws(() => logSink(at('run.log')), /run\.log/)
  assert.is(fs.readFileSync(at('target'), 'utf8'), 'untouched')
})

test('the log: an existing file at its name is refused (the name is new for every run)', () => {
  fs.writeFileSync(at('old.log'), 'someone else\n')
  assert.throws(() => logSink(at('old.log')), /old\.log/)
  assert.is(fs.readFileSync(at('old.log'), 'utf8'), 'someone else\n')
})

test('the log: a new file, 0600', () => {
  const sink = logSink(at('new.log'))
  sink({ kind: 'note', host: 'h', task: 't', text: 'hello' })
  assert.match(fs.readFileSync(at('new.log'), 'utf8'), /h note: hello/)
  assert.is(mode(at('new.log')), '600')
})

test.run()
