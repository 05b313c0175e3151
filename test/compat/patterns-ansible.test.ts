// Host patterns judged by ansible-core: `ansible PATTERN --list-hosts` on the same inventory
// (test/fixtures/ansible/patterns-inventory.yaml) selects the same hosts as zxplay. Where Ansible
// warns that a term matches nothing and goes on without it, or selects nobody, zxplay refuses the pattern.
import path from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PatternError } from '../../lib/base/errors.ts'
import { parseInventory } from '../../lib/inventory/inventory.ts'
import { limitPatterns, selectHosts, selectHostsByList } from '../../lib/inventory/patterns.ts'
import { FIXTURES } from '../e2e/helpers.ts'
import { ansibleListings } from './_ansible.ts'
import { tempDir } from '../unit/_helpers.ts'

const FILE = path.join(FIXTURES, 'ansible/patterns-inventory.yaml')
const inv = parseInventory(readFileSync(FILE, 'utf8'), FILE)
const { dir, remove } = tempDir('patterns')
test.after(remove)

const PATTERNS = [
  'all', '*', 'web', 'web1', 'prod', 'web*', 'web?', 'web[12]', 'web[!1]*', '*1', 'a*', 'st*', 'db-?', 'k*',
  '~web\\d$', '~(db|st)', '~.*1', '~cp', '~kube_', 'web[0]', 'web[-1]', 'web[0:1]', 'web[1:]', 'prod[1:]', 'all[-1]',
  'kube_node[1:2]', 'web[2:0]', 'web*[0]', 'web:db', 'web,db', 'web,!web2', 'prod:&staging', 'prod:!web', '!web:prod',
  '!web2:&prod:all', '!web', '&staging', 'kube_node:!kube_control_plane', 'kube_control_plane:&kube_node', ' web : !web2 : db ',
  'web[0]:db[-1]', 'web1,', 'web1:22', 'web10:!~\\d0$', 'nosuch', 'web:nosuch', 'web[7]', 'empty', 'web,,db',
  // fnmatch's bracket edge cases, subscripts that are not, and regexes over groups and hosts
  'web[]1]', 'web[]1]0', 'web[!]]', 'web[^1]*', 'web[1', 'web[1*', 'web(1)', 'web1+', '~web[12]', 'web[1]0', 'web[0]x',
  'web[10:]', 'web[5:]:db', '~(kube_node|stage1)', '???',
]

const listed = ansibleListings('adhoc', PATTERNS.map((p) => ['-i', FILE, '--list-hosts', p]), dir)

/** `  hosts (N):` then one indented name per line */
const hostsOf = (out: string) => out.split('\n').filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim())

PATTERNS.forEach((pattern, i) => {
  test(`'${pattern}' selects what ansible --list-hosts lists`, () => {
    const judged = listed[i]!
    assert.is(judged.rc, 0, judged.out)
    const want = hostsOf(judged.out).sort()
    let mine: string[]
    try {
      mine = selectHosts(inv, pattern).map((h) => h.name)
    } catch (e) {
      if (!(e instanceof PatternError)) throw e
      const warned = /Could not match supplied host pattern/.test(judged.err.replace(/\s+/g, ' '))
      assert.ok(warned || want.length === 0, `zxplay refused what Ansible selects (${want.join(' ')}): ${e.message}`)
      return
    }
    assert.equal(mine.sort(), want)
  })
})

test('--limit @file: one pattern a line, as ansible-playbook --limit @file reads it', () => {
  const file = path.join(dir, 'retry')
  writeFileSync(file, 'web1\n\n  db-a  \n!web2\nstage*\n')
  const [judged] = ansibleListings('adhoc', [['-i', FILE, '--list-hosts', 'all', '--limit', `web10,@retry`]], dir)
  const patterns = limitPatterns('web10,@retry', dir, (f) => readFileSync(f, 'utf8'))
  assert.equal(patterns, ['web10', 'web1', '', 'db-a', '!web2', 'stage*', ''])
  assert.equal(selectHostsByList(inv, patterns as string[], '').map((h) => h.name).sort(), hostsOf(judged!.out).sort())
})

test.run()
