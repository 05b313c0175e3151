import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { UsageError } from '../../lib/base/errors.ts'
import { parseExtraVars } from '../../lib/inventory/extra-vars.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import type { Vars } from '../../lib/inventory/inventory.ts'
import { errorOf, tempDir } from './_helpers.ts'

const { dir: tmp, remove } = tempDir('extra-vars')
test.after(remove)

/** -e args → vars */
const _ = (args: string[], expected: Vars) => () => assert.equal(parseExtraVars(args, tmp), expected)

// key=value: strings, as in Ansible, except exactly true/false and integers without leading zeros
test('a string', _(['name=web'], { name: 'web' }))
test('true', _(['on=true'], { on: true }))
test('false', _(['on=false'], { on: false }))
test('an integer', _(['n=3'], { n: 3 }))
test('zero', _(['n=0'], { n: 0 }))
test('a negative integer', _(['n=-42'], { n: -42 }))
test('-0 is 0', _(['n=-0'], { n: 0 }))
test('a version stays a string', _(['k8s_version=1.30'], { k8s_version: '1.30' }))
test('a float stays a string', _(['x=0.5'], { x: '0.5' }))
test('leading zeros stay a string', _(['zip=007'], { zip: '007' }))
test('an integer past 2^53 stays a string', _(['id=12345678901234567890'], { id: '12345678901234567890' }))
test('null stays a string', _(['x=null'], { x: 'null' }))
test('~ stays a string', _(['x=~'], { x: '~' }))
test('True, yes, on stay strings', _(['a=True', 'b=yes', 'c=on'], { a: 'True', b: 'yes', c: 'on' }))
test('1e3, 0x10, +1 stay strings', _(['a=1e3', 'b=0x10', 'c=+1'], { a: '1e3', b: '0x10', c: '+1' }))
test('empty value', _(['v='], { v: '' }))
test('single-quoted: the string inside', _(["n='3'"], { n: '3' }))
test('double-quoted: the string inside', _(['v="true"'], { v: 'true' }))
test('empty quotes', _(["v=''"], { v: '' }))
test('value with =', _(['cmd=a=b'], { cmd: 'a=b' }))
test('several in one argument, quoted values stay strings', _([`a=1 b='x y' c="3" d=true`], { a: 1, b: 'x y', c: '3', d: true }))
test('value that would be a YAML map stays text', _(['msg="hello: world"'], { msg: 'hello: world' }))
test('value that would be a YAML list stays text', _(["v='[1, 2]'"], { v: '[1, 2]' }))
test('dotted', _(['aws.region=eu-west-1', 'aws.zone=b'], { aws: { region: 'eu-west-1', zone: 'b' } }))
test('dotted, typed like the rest', _(['k8s.version=1.30', 'k8s.nodes=3'], { k8s: { version: '1.30', nodes: 3 } }))
// maps and files keep YAML's typing
test('JSON', _(['{"a": 1, "b": [true, "x"], "v": 1.30}'], { a: 1, b: [true, 'x'], v: 1.3 }))
test('YAML flow map', _(['{a: 1, b: x, c: null}'], { a: 1, b: 'x', c: null }))
test('later wins', _(['a=1', '{"a": 2}', 'b=1', 'b=2'], { a: 2, b: 2 }))
test('whole map then dotted', _(['{"aws": {"zone": "a"}}', 'aws.region=x'], { aws: { zone: 'a', region: 'x' } }))

test('@file.yaml, relative to cwd, YAML-typed', () => {
  fs.writeFileSync(path.join(tmp, 'vars.yaml'), 'region: eu\nreplicas: 3\nversion: 1.30\n')
  assert.equal(parseExtraVars(['@vars.yaml', 'replicas=5'], tmp), { region: 'eu', replicas: 5, version: 1.3 })
  fs.writeFileSync(path.join(tmp, 'empty.yaml'), '# nothing yet\n')
  assert.equal(parseExtraVars(['@empty.yaml'], tmp), {})
})

/** -e args that fail with a UsageError saying `message`. */
const usage = (args: string[], message: string) => () => {
  const e = errorOf(() => parseExtraVars(args, tmp))
  assert.instance(e, UsageError)
  assert.ok(e.message.includes(message), e.message)
}

test('missing @file', usage(['@missing.yaml'], `-e @missing.yaml: cannot read ${path.join(tmp, 'missing.yaml')}: no such file`))
test('@file with bad YAML', () => {
  fs.writeFileSync(path.join(tmp, 'bad.yaml'), 'a: 1\n  b: 2\n')
  usage(['@bad.yaml'], '-e @bad.yaml: invalid YAML: line 2, column')()
})
test('@file with a list', () => {
  fs.writeFileSync(path.join(tmp, 'list.yaml'), '- a\n')
  usage(['@list.yaml'], '-e @list.yaml: expected a map of variables, got a list')()
})
test('@file with several documents', () => {
  fs.writeFileSync(path.join(tmp, 'docs.yaml'), 'a: 1\n---\nb: 2\n')
  usage(['@docs.yaml'], '-e @docs.yaml: expected one YAML document, found several (---)')()
})
test('no =', usage(['verbose'], `-e 'verbose': 'verbose' is not key=value (expected key=value items, @file.yaml or a {"json": "map"})`))
test('bad JSON', usage(['{"a": '], `-e '{"a": ': invalid map:`))
test('JSON list', usage(['[1]'], `-e '[1]': expected a map like {"key": "value"}, got a list`))
test('a word after key=value', usage(['msg=hello world'], `-e 'msg=hello world': 'world' is not key=value`))
test('unbalanced quotes', usage(["v='"], `-e 'v='': failed at splitting arguments, either an unbalanced jinja2 block or quotes`))
test('a file without @', usage(['./vars.yaml'], `-e './vars.yaml': a file of variables is written @./vars.yaml`))
test('an absolute file without @', usage(['/etc/zxplay/vars.yaml'], `-e '/etc/zxplay/vars.yaml': a file of variables is written @/etc/zxplay/vars.yaml`))
test('empty name', usage(['=1'], "-e '=1': '=1' is not key=value"))
// a character other than letters, digits, '_', '-' anywhere in a name (first, middle, last) is refused
test('a name with other characters', () => {
  for (const name of ['app:port', 'k8s/version', '$x', 'x!', 'cfg.a/b']) usage([`${name}=1`], `invalid variable name '${name}'`)()
})
test('empty segment', usage(['a..b=1'], "invalid variable name 'a..b'"))
test('__proto__', () => {
  usage(['__proto__.polluted=1'], 'invalid variable name')()
  assert.is(({} as Vars).polluted, undefined)
})

// ---- laid over the inventory (loadInventory/parseInventory take the parsed vars) ----

const INVENTORY = `
all:
  vars: {cfg: {a: 1, b: 2}}
  hosts:
    h1: {address: 10.0.0.1, cfg: {a: 9}}
    h2: {address: 10.0.0.2}
`
/** -e args → each host's vars[key] */
const over = (args: string[], key: string, expected: unknown[]) => () => {
  const inv = parseInventory(INVENTORY, 'inventory.yaml', parseExtraVars(args, tmp))
  assert.equal(
    inv.hosts.map((h) => h.vars[key]),
    expected
  )
}

test('a dotted key replaces only that nested value', over(['cfg.b=3'], 'cfg', [{ a: 9, b: 3 }, { a: 1, b: 3 }]))
test('two dotted keys, same map', over(['cfg.b=3', 'cfg.c.d=x'], 'cfg', [{ a: 9, b: 3, c: { d: 'x' } }, { a: 1, b: 3, c: { d: 'x' } }]))
test('a map replaces the whole key', over(['{"cfg": {"b": 3}}'], 'cfg', [{ b: 3 }, { b: 3 }]))
test('a map then a dotted key: still whole', over(['{"cfg": {"b": 3}}', 'cfg.c=4'], 'cfg', [{ b: 3, c: 4 }, { b: 3, c: 4 }]))
test('a dotted key then a whole value: whole', over(['cfg.b=3', 'cfg=flat'], 'cfg', ['flat', 'flat']))
test('a dotted key into a var that is not a map', over(['name.x=1'], 'name', [{ x: 1 }, { x: 1 }]))

test('extra vars may set connection settings, by either name', () => {
  const h = parseInventory(INVENTORY, 'inventory.yaml', parseExtraVars(['ansible_user=ops', 'port=2222'], tmp)).hosts[0]
  assert.equal([h?.user, h?.port, h?.vars.user], ['ops', 2222, 'ops'])
})

test.run()
