// -e key=value strings, judged by ansible-core's own parse_kv: the same keys, values and refusals.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { UsageError } from '../../lib/base/errors.ts'
import { parseExtraVars } from '../../lib/inventory/extra-vars.ts'
import { ansiblePython } from './_ansible.ts'

const CASES = [
  'a=1 b=2',
  `a='x y' b="p q"`,
  'a=1   b=2',
  'k8s_version=1.30 nodes=3 on=true',
  `x="a \\"q\\" b"`,
  `x='it"s'`,
  `x=''`,
  `x=""`,
  `x='"'`,
  `x="'3'"`,
  `n='3'`,
  'e={{ a b }}',
  'e={% if x %}y{% endif %}',
  't=a\\tb',
  'u=\\u00e9\\x41',
  'k=v\\=w',
  'k= v ',
  'a=1\nb=2',
  'a=1 \\\nb=2',
  'path=/tmp/x=y',
  'msg=hello world',
  'cmd=a=b c',
  'v=[1, 2]',
  "v='",
  'a\\=b',
  'word',
  'x={{ unclosed',
]

type Judged = { vars?: Record<string, string>; error?: string }
const ansible = ansiblePython<Judged[]>(
  `
import json, sys
from ansible.parsing.splitter import parse_kv
out = []
for case in json.load(sys.stdin):
    try:
        out.append({'vars': parse_kv(case)})
    except Exception as e:
        out.append({'error': str(e)})
print(json.dumps(out))
`,
  CASES
)

CASES.forEach((arg, i) => {
  test(`-e ${JSON.stringify(arg)} as ansible-core parses it`, () => {
    const judged = ansible[i]!
    let mine: Record<string, unknown> | UsageError
    try {
      mine = parseExtraVars([arg], '/')
    } catch (e) {
      if (!(e instanceof UsageError)) throw e
      mine = e
    }
    // Ansible keeps words without = as _raw_params, which -e then ignores: zxplay refuses them by name.
    if (judged.error || '_raw_params' in judged.vars!) {
      assert.instance(mine, UsageError, `ansible: ${JSON.stringify(judged)}`)
      return
    }
    assert.not.instance(mine, UsageError, (mine as Error).message)
    // zxplay types unquoted true/false/integers (documented); everything else is Ansible's string.
    const asText = Object.fromEntries(Object.entries(mine as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
    assert.equal(asText, judged.vars)
  })
})

test('a quoted value stays a string where the unquoted one is typed', () => {
  assert.equal(parseExtraVars([`a=3 b='3' c="true" d=true`], '/'), { a: 3, b: '3', c: 'true', d: true })
})

test.run()
