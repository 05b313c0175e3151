// Host ranges in inventory keys (lib/inventory/host-pattern.ts), zxplay's side: which names a range
// stands for at its edges, and the words of each refusal. Whether a range is refused at all, and the
// names of the usual ones, are judged by ansible-core in test/compat/host-pattern-ansible.test.ts;
// the messages are zxplay's own (the inventory error shows them with the file and key).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { expandHostPattern } from '../../lib/inventory/host-pattern.ts'

const names = (p: string) => expandHostPattern(p).names
const refusal = (p: string) => {
  try {
    return `expanded to ${expandHostPattern(p).names.join(',')}`
  } catch (e) {
    assert.instance(e, RangeError, p)
    return (e as Error).message
  }
}

test('edges: one letter to itself, a begin without zeros ends longer (no padding), a missing begin is 0', () => {
  assert.equal(names('x[a:a]'), ['xa'])
  assert.equal(names('x[7:7]'), ['x7'])
  assert.equal(names('x[10:100:45]'), ['x10', 'x55', 'x100'])
  assert.equal(names('x[:2]'), ['x0', 'x1', 'x2'])
  assert.equal(names('x[08:10]'), ['x08', 'x09', 'x10'])
})

test('each refusal says what is wrong with the range, in its own words', () => {
  const cases: [string, string][] = [
    ['web[1:3', "host range in 'web[1:3' is not closed with ]"],
    ['web]1[3:4]', "host range in 'web]1[3:4]' is not closed with ]"],
    ['x[1]', 'host range [1] must be begin:end or begin:end:step'],
    ['x[1:2:3:4]', 'host range [1:2:3:4] must be begin:end or begin:end:step'],
    ['x[1:]', 'host range [1:] must specify an end value'],
    ['x[1:3:0]', 'host range [1:3:0] needs a whole step ≥ 1'],
    ['x[1:3:1.5]', 'host range [1:3:1.5] needs a whole step ≥ 1'],
    ['x[01:5]', 'host range [01:5] must have begin and end of the same length'],
    ['x[z:a]', 'host range [z:a] must have begin <= end'],
  ]
  for (const [p, message] of cases) assert.is(refusal(p), message, p)
})

test('letters are single letters, numbers are digits only: anything else is refused as such', () => {
  for (const range of ['1:a', 'a:9', 'ab:c', 'a:bc', '1a:3', 'a1:3', '1:3a', '1:a3', '-1:3']) {
    assert.is(refusal(`x[${range}]`), `host range [${range}] must be numbers or single letters`, range)
  }
})

test.run()
