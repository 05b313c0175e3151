// shlexSplit against Python's own shlex.split (the outside judge: Ansible splits ssh argument
// strings with it), words and errors alike.
import { execFileSync } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { shlexSplit } from '../../lib/base/shlex.ts'

const CASES = [
  'a b  c',
  '  lead and trail  ',
  '-o "ProxyCommand=ssh -W %h:%p bastion" -o StrictHostKeyChecking=no',
  'a "b\\"c" d',
  '"x\\\\y"',
  '"a\\$b" "a\\`b"',
  '"a\\qb"',
  '"line\\\nnext"',
  'a\\ b c',
  '\\$HOME \\"q\\"',
  "'it'\"'\"'s' '\\n'",
  '"" a""b \'\'',
  "a'b c'd",
  '# not a comment',
  '"ends with \\\\"',
  '"unterminated',
  "'unterminated",
  'trailing\\',
  '"escaped quote at end\\"',
]

const python = JSON.parse(
  execFileSync('python3', ['-c', 'import json, shlex, sys\nout = []\nfor s in json.load(sys.stdin):\n  try: out.append(shlex.split(s))\n  except ValueError as e: out.append(str(e).lower())\nprint(json.dumps(out))'], {
    input: JSON.stringify(CASES),
    encoding: 'utf8',
  })
) as (string[] | string)[]

CASES.forEach((s, i) =>
  test(`as Python's shlex.split: ${JSON.stringify(s)}`, () => {
    let ours: string[] | string
    try {
      ours = shlexSplit(s)
    } catch (e) {
      ours = (e as Error).message
    }
    assert.equal(ours, python[i])
  })
)

test.run()
