import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { load } from 'js-yaml'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TemplateError } from '../../lib/base/errors.ts'
import type { Vars } from '../../lib/inventory/inventory.ts'
import { renderFile, renderTemplate } from '../../lib/engine/template.ts'

const vars: Vars = {
  name: 'web1',
  port: 6443,
  ha: true,
  db: { host: 'db1', port: 5432, tags: ['primary', 'ssd'] },
  nodes: [{ name: 'n1' }, { name: 'n2' }],
  motd: 'line one\nline two\n\nline four',
  empty: '',
  nothing: null,
}

/** template → output */
const _ = (template: string, expected: string) => () => assert.is(renderTemplate(template, vars, 't.yaml'), expected)

test('a variable', _('host: {{ name }}', 'host: web1'))
test('no spaces inside braces', _('{{name}}:{{port}}', 'web1:6443'))
test('a boolean', _('ha: {{ ha }}', 'ha: true'))
test('a nested path', _('{{ db.host }}:{{ db.port }}', 'db1:5432'))
test('array indices', _('{{ db.tags.1 }} {{ nodes.0.name }}', 'ssd n1'))
test('an empty string is a value', _('[{{ empty }}]', '[]'))
test('json of a string', _('v: {{ name | json }}', 'v: "web1"'))
test('json of a map', _('{{ db | json }}', '{"host":"db1","port":5432,"tags":["primary","ssd"]}'))
test('json of a list', _('{{ db.tags | json }}', '["primary","ssd"]'))
test('b64', _('{{ name | b64 }}', 'd2ViMQ=='))
test('b64 of unicode', _('{{ "ü ✓" | b64 }}', Buffer.from('ü ✓').toString('base64')))
test('default when missing', _('{{ replicas | default(3) }}', '3'))
test('default string', _('{{ region | default("eu-west-1") }}', 'eu-west-1'))
test('default when null', _('{{ nothing | default(false) }}', 'false'))
test('default not used when set', _('{{ port | default(80) }}', '6443'))
test('default with a nested missing path', _('{{ db.user | default("postgres") }}', 'postgres'))
test('default with | and }} inside', _('{{ x | default("a|b}}") }}', 'a|b}}'))
test('indent', _('motd: |\n  {{ motd | indent(2) }}', 'motd: |\n  line one\n  line two\n\n  line four'))
test('filters chain left to right', _('{{ db.tags | json | b64 }}', Buffer.from('["primary","ssd"]').toString('base64')))
test('default then json', _('{{ x | default("a b") | json }}', '"a b"'))
test('a comment is removed', _('a{# note #}b', 'ab'))
test('a comment across lines', _('a{#\n {{ not rendered }}\n#}b', 'ab'))
test('a literal {{', _('{{ "{{" }} $labels.instance }}', '{{ $labels.instance }}'))
test('text without tags is unchanged', _('a } b { c }} d', 'a } b { c }} d'))

/** template → [line, message] of the TemplateError */
const fails = (template: string, line: number, message: string) => () => {
  try {
    renderTemplate(template, vars, 'templates/app.yaml')
  } catch (e) {
    assert.instance(e, TemplateError)
    assert.equal([(e as TemplateError).file, (e as TemplateError).line], ['templates/app.yaml', line])
    assert.is((e as Error).message, `templates/app.yaml:${line}: ${message}`)
    return
  }
  assert.unreachable('rendered')
}

test('missing variable, with a suggestion', fails('a: 1\nb: 2\nc: {{ nmae }}', 3, "missing variable 'nmae' (did you mean 'name'?)"))
test('missing nested key, with a suggestion', fails('{{ db.hots }}', 1, "missing variable 'db.hots' (did you mean 'db.host'?)"))
test('missing, nothing close: lists the keys', fails('{{ db.x }}', 1, "missing variable 'db.x' (defined in 'db': db.host, db.port, db.tags)"))
test('missing index', fails('{{ nodes.5.name }}', 1, "missing variable 'nodes.5.name' (defined in 'nodes': nodes.0, nodes.1)"))
test('a path through a string', fails('{{ name.first }}', 1, "missing variable 'name.first' ('name' is the string 'web1', not a map)"))
test('null is missing', fails('{{ nothing }}', 1, "missing variable 'nothing' (it is null)"))
test('a map without json', fails('x\n{{ db }}', 2, "'db' is a map; write {{ db | json }} to render it"))
test('a list without json', fails('{{ db.tags }}', 1, "'db.tags' is a list; write {{ db.tags | json }} to render it"))
test('b64 of a map', fails('{{ db | b64 }}', 1, "'db' is a map; write {{ db | json }} to render it"))
test('unclosed {{', fails('a\nb: {{ name\nc', 2, "unclosed '{{' (expected '}}')"))
test('unclosed {#', fails('a\n\n{# note', 3, "unclosed '{#' (expected '#}')"))
test('{% blocks', fails('{% if ha %}x{% endif %}', 1, `'{%' blocks (if, for) are not supported; only {{ var }} and {# comment #} (write {{ "{%" }} for a literal {%)`))
test('an expression', fails('{{ port + 1 }}', 1, "expected a variable like name or a.b.0, got 'port + 1' (templates have no expressions)"))
test('empty braces', fails('{{ }}', 1, 'empty {{ }} (expected a variable name)'))
test('unknown filter', fails('{{ name | jsno }}', 1, "unknown filter 'jsno' (did you mean 'json'?); filters are json, b64, default(...), indent(N)"))
test('default with a non-JSON literal', fails("{{ x | default('a') }}", 1, `default('a'): expected a JSON literal, e.g. default("text")`))
test('a bad default fails even when the var is set', fails("{{ port | default('80') }}", 1, `default('80'): expected a JSON literal, e.g. default("text")`))
test('default with no value', fails('{{ x | default() }}', 1, 'default needs a value: default("text"), default(3) or default(false)'))
test('indent without a number', fails('{{ motd | indent }}', 1, 'indent needs a number of spaces, e.g. indent(4)'))
test('an argument to json', fails('{{ name | json(2) }}', 1, 'json takes no argument'))
test('a missing var reaching json', fails('{{ x | json | default(1) }}', 1, "missing variable 'x' (defined at the top level: name, port, ha, db, nodes, motd, empty)"))

// `| json` must carry any string into YAML and back unchanged.
const HOSTILE = [
  `it's "quoted"`,
  'line one\nline two\n',
  'key: value',
  '# not a comment',
  '{ not: a map }',
  '[1, 2]',
  '- item',
  '---',
  '...',
  '  leading and trailing  ',
  'tab\there',
  'back\\slash \\n',
  'ünïcödé ✓ 日本語 🚀',
  '',
  'null',
  'true',
  'no',
  '0123',
  '1e3',
  '~',
  '*alias &anchor !tag %directive @at `tick` | >',
  'control \x00\x01\x1b\x7f',
  'C1 and separators \x85\u2028\u2029\ufeff',
  'lone surrogate \ud800',
]

test('hostile strings through | json stay valid YAML with the same value', () => {
  for (const value of HOSTILE) {
    const yaml = renderTemplate('kind: ConfigMap\ndata:\n  value: {{ v | json }}\n  list: [{{ v | json }}]\n', { v: value }, 't.yaml')
    assert.equal(load(yaml), { kind: 'ConfigMap', data: { value, list: [value] } }, JSON.stringify(value))
    // js-yaml is lenient; stricter parsers reject these raw or read them as line breaks
    assert.not.match(yaml, /[\x00-\x08\x7f-\x9f\u2028\u2029\ufeff]/)
  }
})

test('a map through | json stays valid YAML with the same value', () => {
  const yaml = renderTemplate('spec: {{ cfg | json }}\n', { cfg: { a: HOSTILE, 'odd: key': { '#': 1 } } }, 't.yaml')
  assert.equal(load(yaml), { spec: { a: HOSTILE, 'odd: key': { '#': 1 } } })
})

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zxplay-template-'))
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }))

test('renderFile reads and renders', async () => {
  const file = path.join(tmp, 'svc.yaml')
  fs.writeFileSync(file, 'port: {{ port }}\n')
  assert.is(await renderFile(file, vars), 'port: 6443\n')
})

test('renderFile: errors name the file', async () => {
  const file = path.join(tmp, 'bad.yaml')
  fs.writeFileSync(file, 'a\n{{ nope }}\n')
  const e = await renderFile(file, vars).catch((e: unknown) => e)
  assert.instance(e, TemplateError)
  assert.equal([(e as TemplateError).file, (e as TemplateError).line], [file, 2])
})

test('renderFile: missing file is line 0', async () => {
  const file = path.join(tmp, 'nope.yaml')
  const e = await renderFile(file, vars).catch((e: unknown) => e)
  assert.instance(e, TemplateError)
  assert.is((e as Error).message, `${file}:0: template file not found`)
})

test.run()
