import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PatternError } from '../../lib/base/errors.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { readFileSync } from 'node:fs'
import { limitPatterns, selectHosts } from '../../lib/inventory/patterns.ts'

const inv = parseInventory(
  `
all:
  children:
    web:
      hosts:
        web1: {address: 10.0.0.1}
        web2: {address: 10.0.0.2}
    db:
      hosts:
        db1: {address: 10.0.0.3}
    prod:
      children: {web: , db: }
    staging:
      hosts:
        stage1: {address: 10.0.1.1}
        web2:
    empty:
`,
  'inventory.yaml'
)

/** pattern → selected host names, space-separated, in inventory order */
const _ = (pattern: string, expected: string) => () =>
  assert.is(
    selectHosts(inv, pattern)
      .map((h) => h.name)
      .join(' '),
    expected
  )

test('all', _('all', 'web1 web2 db1 stage1'))
test('*', _('*', 'web1 web2 db1 stage1'))
test('a host', _('db1', 'db1'))
test('a group', _('web', 'web1 web2'))
test('a group through children', _('prod', 'web1 web2 db1'))
test('glob over host and group names', _('st*', 'web2 stage1'))
test('glob ?', _('web?', 'web1 web2'))
test('glob [..]', _('w[e]b2', 'web2'))
test('subscript: a group\'s first host', _('web[0]', 'web1'))
test('subscript: a group\'s last host', _('web[-1]', 'web2'))
test('glob [!..]', _('web[!1]', 'web2'))
test('glob range', _('*[0-1]', 'web1 db1 stage1'))
test('union with :', _('db:web', 'web1 web2 db1'))
test('union with ,', _('db1,stage1', 'db1 stage1'))
test('intersection', _('prod:&staging', 'web2'))
test('exclusion', _('prod:!web', 'db1'))
test('unions apply before exclusions, whatever the order', _('!web:prod', 'db1'))
test('unions, then intersections, then exclusions', _('!web2:&prod:all', 'web1 db1'))
test('only exclusions start from all', _('!web', 'db1 stage1'))
test('only an intersection starts from all', _('&staging', 'web2 stage1'))
test('whitespace around parts', _(' web : !web2 : db ', 'web1 db1'))
function errorOf(pattern: string): PatternError {
  try {
    selectHosts(inv, pattern)
  } catch (e) {
    if (e instanceof PatternError) return e
    throw e
  }
  throw new Error(`'${pattern}' selected hosts`)
}

/** pattern → the PatternError's message */
const fails = (pattern: string, message: string) => () => {
  const e = errorOf(pattern)
  assert.is(e.pattern, pattern)
  assert.is(e.message, `host pattern '${pattern}': ${message}`)
}

test('empty', fails('', 'empty pattern (expected all, a host or group name, or a glob like web*)'))
test('only separators', fails(' , , ', 'empty pattern (expected all, a host or group name, or a glob like web*)'))
test('unknown name, with a hint', fails('webs', "no host or group named 'webs' (did you mean 'web' or 'web1' or 'web2'?)"))
test('unknown group in an exclusion', fails('all:!dbs', "no host or group named 'dbs' (did you mean 'db' or 'db1'?)"))
test('unknown name, nothing close', fails('kubernetes', "no host or group named 'kubernetes'"))
test('glob that matches nothing', fails('k8s-*', "no host or group matches 'k8s-*'"))
test('an empty group', fails('empty', 'matches no hosts'))
test('everything excluded', fails('web:!prod', 'matches no hosts'))
test('a glob matches the group all too, as in Ansible', _('a*', 'web1 web2 db1 stage1'))
test('empty intersection', fails('db:&staging', 'matches no hosts'))
test('an operator alone', fails('web:!', "'!' must be followed by a host or group name"))

test('a regex that matches nothing', fails('~k8s', "no host or group matches '~k8s'"))
test('an invalid regex, with the reason', () => {
  assert.match(errorOf('~web(').message, /^host pattern '~web\(': invalid regular expression '~web\(': .*Unterminated group/)
})
test('a subscript past the group', fails('web[5]', "'web[5]': web has 2 host(s), so there is no [5]"))
test('a hint names at most three', () => {
  const many = parseInventory('all:\n  hosts:\n    node1:\n    node2:\n    node3:\n    node4:\n', 'inventory.yaml')
  try {
    selectHosts(many, 'nodes')
    assert.unreachable()
  } catch (e) {
    assert.is((e as Error).message, "host pattern 'nodes': no host or group named 'nodes' (did you mean 'node1' or 'node2' or 'node3'?)")
  }
})
const limitError = (limit: string) => {
  try {
    limitPatterns(limit, '/', (f) => readFileSync(f, 'utf8'))
  } catch (e) {
    if (e instanceof PatternError) return e.message
    throw e
  }
  throw new Error(`'${limit}' was read`)
}
test('--limit @file that does not exist', () => {
  assert.is(limitError('web,@/nonexistent/retry'), "host pattern 'web,@/nonexistent/retry': cannot read the limit file /nonexistent/retry: no such file")
})
test('--limit @file that cannot be read says why', () => {
  assert.is(limitError('@/tmp'), "host pattern '@/tmp': cannot read the limit file /tmp: EISDIR: illegal operation on a directory, read")
})

test.run()
