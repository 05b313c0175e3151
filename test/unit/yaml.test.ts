// YAML as users write it: aliases cannot blow up (a "billion laughs"), and values shown in
// messages are short and cannot move the cursor or break a line.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InventoryError } from '../../lib/base/errors.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { loadYaml, MAX_YAML_VALUES, show, showJson } from '../../lib/base/yaml.ts'
import { raySpec } from '../../playbooks/support/vars/ray.ts'
import { checkFamily, errorOf } from './_helpers.ts'

/** 706 bytes or so: nine levels of nine aliases each, 9^9 values. */
const BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((x, i) => {
    const prev = 'abcdefghi'[i]
    return `${x}: &${x} [${Array(9).fill(`*${prev}`).join(',')}]`
  }),
].join('\n')

test('an alias bomb is refused at once, with the file named', () => {
  const t0 = performance.now()
  const inv = `all:\n  hosts:\n    node1: {address: 10.0.0.1}\n  vars:\n${BOMB.split('\n').map((l) => `    ${l}`).join('\n')}\n    ray: {head_cpu: *i}\n`
  const e = errorOf(() => parseInventory(inv, '/x/inventory.yaml'))
  assert.instance(e, InventoryError)
  assert.match(e.message, `/x/inventory.yaml: its aliases expand to more than ${MAX_YAML_VALUES} values`)
  assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0}ms`)
})

test('ordinary aliases and merge keys still load', () => {
  const [doc] = loadYaml('d: &d {port: 22, user: u}\nh1: {<<: *d, port: 2222}\nh2: *d\nl: &l [1, 2]\nm: [*l, *l]\n') as any[]
  assert.equal(doc.h1, { port: 2222, user: 'u' })
  assert.equal(doc.h2, { port: 22, user: 'u' })
  assert.equal(doc.m, [[1, 2], [1, 2]])
})

test('a value in a message: at most 80 characters of it', () => {
  const big = Array.from({ length: 100_000 }, (_, i) => ({ k: `v${i}` }))
  const shown = showJson(big)
  assert.ok(shown.length <= 81, String(shown.length))
  assert.ok(shown.startsWith('[{"k":"v0"},{"k":"v1"}'))
  assert.ok(shown.endsWith('…'))
  assert.is(showJson('short'), '"short"')
  assert.is(showJson(3), '3')
  assert.is(showJson(undefined), 'nothing')
  assert.is(show('x'.repeat(200)), `'${'x'.repeat(80)}…'`)
})

test('a message never prints U+2028, U+2029 or control characters raw', () => {
  for (const shown of [show('a\u2028b\u2029c\u001b[31md\re'), showJson('a\u2028b\u2029c\u001b[31md\re')]) {
    assert.not.match(shown, /[\u2028\u2029\u001b\r]/)
    assert.match(shown, /^['"]a\\u2028b\\u2029c\\u001b\[31md\\(u000d|r)e['"]$/)
  }
  const e = errorOf(() => checkFamily(raySpec, { inventory_file: '/x/inv.yaml', ray: { namespace: 'ray\u2028x' } }))
  assert.match(e.message, '/x/inv.yaml: ray.namespace: expected')
  assert.not.match(e.message, /\u2028/)
})

test.run()
