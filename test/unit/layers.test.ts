// lib/'s rooms are layers: a module imports only from its own room or a room below it, so the
// folder list is the design (lib/README.md) and a change knows where it belongs.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url))
/** Bottom to top; index.ts (what playbooks import) sits above them all. */
const ROOMS = ['base', 'output', 'inventory', 'transport', 'engine', 'cli']

function rank(file: string): number {
  const room = path.relative(LIB, file).split(path.sep)
  return room.length === 1 ? ROOMS.length : ROOMS.indexOf(room[0]!)
}

function importsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8')
  return [...src.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => path.resolve(path.dirname(file), m[1]!))
}

const files = fs.readdirSync(LIB, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(LIB, f))

test('every lib/ module sits in a known room', () => {
  const loose = files.filter((f) => rank(f) < 0 || (rank(f) === ROOMS.length && path.basename(f) !== 'index.ts'))
  assert.equal(loose.map((f) => path.relative(LIB, f)), [])
})

test('imports go only downward (or within a room)', () => {
  const upward: string[] = []
  for (const f of files)
    for (const target of importsOf(f)) {
      if (!target.startsWith(LIB)) upward.push(`${path.relative(LIB, f)} imports ${target} outside lib/`)
      else if (rank(target) > rank(f)) upward.push(`${path.relative(LIB, f)} → ${path.relative(LIB, target)}`)
    }
  assert.equal(upward, [])
})

test('the check sees an upward import', () => {
  // guards the regex above: context.ts (engine) imports from transport, and no transport module from engine
  const ctx = importsOf(path.join(LIB, 'engine/context.ts')).map((t) => path.relative(LIB, t))
  assert.ok(ctx.some((t) => t.startsWith('transport/')), ctx.join(', '))
})

test.run()
