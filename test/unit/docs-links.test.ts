// Every relative link and #anchor in the docs resolves: to a file in the checkout and, for an anchor,
// to a heading of that file as GitHub slugs it.
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const REPO = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..')
const LAB_READMES = fs.readdirSync(path.join(REPO, 'lab'), { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === 'README.md').map((f) => `lab/${f}`)
const DOCS = ['README.md', 'bench/README.md', ...LAB_READMES, ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

// Markdown without fenced blocks and code spans, where a `[x](y)` is text, not a link
const prose = (md: string) => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/(`+)[\s\S]*?\1/g, 'code')

// GitHub's heading ids: the text as rendered, lower-cased, punctuation other than - and _ dropped,
// spaces to -, and -1, -2 … for repeats
function slugs(md: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const m of md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '')
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n ? `${base}-${n}` : base)
  }
  return out
}

function brokenLinks(file: string, md: string, exists: (p: string) => string | undefined): string[] {
  const broken: string[] = []
  for (const m of prose(md).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:
    const [rel, anchor] = target.split('#', 2) as [string, string | undefined]
    const dest = rel ? path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURIComponent(rel))) : file
    const text = exists(dest)
    if (text === undefined) broken.push(`${file}: ${target}: no file ${dest}`)
    else if (anchor !== undefined && !slugs(text).has(anchor)) broken.push(`${file}: ${target}: no heading #${anchor} in ${dest}`)
  }
  return broken
}

const onDisk = (p: string): string | undefined => {
  const abs = path.join(REPO, p)
  if (p.startsWith('..') || !fs.existsSync(abs)) return undefined
  return fs.statSync(abs).isFile() && abs.endsWith('.md') ? fs.readFileSync(abs, 'utf8') : ''
}

test('GitHub slugs: code, punctuation and repeats', () => {
  assert.equal([...slugs('## The app (`app/`, Python)\n## Coming from Ansible\n## SSH\n## SSH\n```\n# not a heading\n```\n')], ['the-app-app-python', 'coming-from-ansible', 'ssh', 'ssh-1'])
})

test('a broken file, a broken anchor and a link in code are told apart', () => {
  const files: Record<string, string> = { 'docs/a.md': '# A\n## Real heading\n' }
  const md = '[ok](docs/a.md#real-heading) [gone](docs/b.md) [bad](docs/a.md#nope) [self](#top) `[x](nowhere.md)` [web](https://example.com/x#y)\n# Top\n'
  assert.equal(brokenLinks('README.md', md, (p) => files[p] ?? (p === 'README.md' ? md : undefined)), [
    'README.md: docs/b.md: no file docs/b.md',
    'README.md: docs/a.md#nope: no heading #nope in docs/a.md',
  ])
})

test('the README is a front page: at most 12 KB (the rest is in docs/)', () => {
  const size = fs.statSync(path.join(REPO, 'README.md')).size
  assert.ok(size <= 12 * 1024, `README.md is ${size} bytes`)
})

test('every relative link and anchor in the README, docs/, bench/ and lab/ resolves', () => {
  assert.ok(DOCS.length >= 4, `docs found: ${DOCS.join(', ')}`)
  const broken = DOCS.flatMap((f) => brokenLinks(f, fs.readFileSync(path.join(REPO, f), 'utf8'), onDisk))
  assert.equal(broken, [], broken.join('\n'))
})

test.run()
