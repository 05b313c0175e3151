// Host names in an inventory judged by ansible-core itself: parseAddress against
// ansible.parsing.utils.addresses.parse_address(…, allow_ranges=True), expandHostPattern against
// the inventory plugins' _expand_hostpattern (hosts and port of a key like `www[01:09:2]:2222`).
// Where Ansible fails, zxplay must fail too (its own words: only the failing is compared). Where
// zxplay knowingly differs, DIFFERS says why and what zxplay does.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { expandHostPattern, parseAddress } from '../../lib/inventory/host-pattern.ts'
import { ansiblePython } from './_ansible.ts'

const CASES = [
  // IPv4, with a port, with ranges; out of range octets are not IPv4 (but may be names)
  '10.0.0.1', '10.0.0.1:2222', '10.0.[1:3].1', '192.168.1.[0:255:85]', '10.0.0.[1:3]:22', '255.249.199.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4:', '1.2.3.4:x',
  // IPv6: each shape of the pattern, bracketed with a port, with hex ranges, embedded IPv4
  '2001:db8:0:0:0:0:0:1', '2001:db8::1', '::1', '::', 'fe80::', '1:2:3:4:5:6:7::', '1::2:3:4:5:6:7', '1:2::3:4:5:6:7', '1:2:3::4:5:6', '1:2:3:4::5:6', '1:2:3:4:5::6',
  '1:2:3:4:5:6::7', '::2:3:4:5:6:7', '0:0:0:0:0:0:1.2.3.4', '::ffff:1.2.3.4', '::1.2.3.4', '0:0:0:0:0:ffff:1.2.3.4', '1:2:3:4:5:6:7:8:9', '12345::1', 'g::1', '1:2',
  '[2001:db8::1]:2222', '[::1]', '[::1]:22', '2001:db8::[a:f]', '2001:db8::[0a:0f:2]', 'FE80::1', '[10.0.0.1]:22', '[web1]:2222', '[web1]:1:2', '[::1]:22:33',
  // names: labels, dashes and underscores, unicode, ranges of letters and numbers
  'web1', 'web-1.example.com', 'a_b', 'web-', 'web_', '-web', 'web..x', '.web', 'web.', 'wéb.exämple', '日本.jp', 'web 1', 'web;rm', 'web:5309', 'web:0', 'web:99999',
  'web:port', 'web:', 'db-[a:f]', 'db-[A:C]', 'x[a:z:5]', 'www[01:50:7].example.com', 'www[1:3]x[a:b]', 'w[1:2]-[01:02]', '[1:3].example.com', 'web[1:3]:2222', 'web[1:3]:',
  'host[a:b]-', 'x[0:2]', 'x[a:e:2]', '10.0.0.[01:03]', 'x[aa:b]', 'x[a:9]', 'x[1:a]', 'x[ab:cd]',
  // ranges Ansible refuses (or reads oddly): the error must be ours too
  'www[01:5].example.com', 'x[5:1]', 'x[z:a]', 'x[1:3:0]', 'x[1]', 'x[1:]', 'x[:3]', 'x[1:2:3:4]', 'web[1:3', 'web]1[3:4]', 'web[1:3]x]', 'x[0:3:-1]', 'x[1:3:1.5]', 'x[01:10]', 'x[007:010:2]',
]

const DIFFERS: Record<string, { why: string; parsed?: null; refused?: true }> = {
  // Ansible's IPv6 expression has no closing anchor: whatever begins with 8 groups passes as an address
  '1:2:3:4:5:6:7:8:9': { why: 'not an address', parsed: null },
  // Ansible looks a bound up with str.index, so 'ab' is found at 0 and 'cd' at 2: a to c
  'x[ab:cd]': { why: 'letters are single letters', refused: true },
  // Ansible's range() with a negative step gives no host at all, silently
  'x[0:3:-1]': { why: 'a step below 1 names no host', refused: true },
}

type Py = { parsed: [string, number | null] | null; expanded: [string[], number | null] | string }
const judged = ansiblePython<Py[]>(
  `
import json, sys
from ansible.parsing.utils.addresses import parse_address
from ansible.plugins.inventory import BaseInventoryPlugin
out = []
for s in json.load(sys.stdin):
    try: parsed = list(parse_address(s, allow_ranges=True))
    except Exception: parsed = None
    try: expanded = list(BaseInventoryPlugin._expand_hostpattern(None, s))
    except Exception as e: expanded = 'error: ' + str(e)
    out.append({'parsed': parsed, 'expanded': expanded})
print(json.dumps(out))
`,
  CASES
)

CASES.forEach((s, i) => {
  const { parsed, expanded } = judged[i]!
  const differs = DIFFERS[s]
  if (differs) {
    test(`zxplay knowingly differs from Ansible (${differs.why}): ${s}`, () => {
      if (differs.parsed === null) assert.is(parseAddress(s), undefined)
      if (differs.refused) assert.throws(() => expandHostPattern(s), RangeError)
    })
    return
  }
  test(`parseAddress as Ansible's parse_address: ${s}`, () => {
    const want = parsed && (parsed[1] === null ? { host: parsed[0] } : { host: parsed[0], port: parsed[1] })
    assert.equal(parseAddress(s) ?? null, want)
  })
  test(`expandHostPattern as Ansible's _expand_hostpattern: ${s}`, () => {
    let ours: { names: string[]; port?: number } | string
    try {
      ours = expandHostPattern(s)
    } catch (e) {
      ours = `error: ${(e as Error).message}`
    }
    if (typeof expanded === 'string') return assert.type(ours, 'string', `Ansible refuses ${s} (${expanded}); zxplay expanded it`)
    const [names, port] = expanded
    assert.equal(ours, port === null ? { names } : { names, port })
  })
})

test.run()
