// The everyday commands the stand-in's containers understand (coreutils / shell builtins as
// GNU and dash print them): env, printenv, cat, sha256sum, ls, true, false, test / [, printf,
// echo, grep, sleep, and sh / bash themselves. Files are the container's volume mounts.
import { createHash } from 'node:crypto'
import { normPath, shellProgram } from './_shell.ts'
import type { Program, ProgramResult, Programs } from './_shell.ts'

const lines = (xs: string[]) => xs.map((x) => `${x}\n`).join('')

const env: Program = (argv, ctx) => {
  let i = 1
  const extra: Record<string, string> = {}
  for (; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') {
      i++
      break
    }
    if (a.startsWith('-')) return { code: 125, err: `env: the stand-in models no env options (${a})\n` }
    const eq = a.indexOf('=')
    if (eq <= 0) break
    extra[a.slice(0, eq)] = a.slice(eq + 1)
  }
  const all = { ...ctx.env, ...extra }
  if (i >= argv.length) return { code: 0, out: lines(Object.entries(all).map(([k, v]) => `${k}=${v}`)) }
  return ctx.run(argv.slice(i), all, ctx.stdin)
}

const printenv: Program = (argv, ctx) => {
  const names = argv.slice(1)
  if (!names.length) return { code: 0, out: lines(Object.entries(ctx.env).map(([k, v]) => `${k}=${v}`)) }
  const found = names.filter((n) => n in ctx.env)
  return { code: found.length === names.length ? 0 : 1, out: lines(found.map((n) => ctx.env[n] as string)) }
}

/** The files named (or stdin for none / "-"), with GNU's per-file errors. */
function eachInput(tool: string, argv: string[], ctx: Parameters<Program>[1], fn: (name: string, data: Buffer) => string | Buffer): ProgramResult {
  const files = argv.slice(1).filter((a) => a === '-' || !a.startsWith('-'))
  const opt = argv.slice(1).find((a) => a.startsWith('-') && a !== '-' && a !== '--')
  if (opt) return { code: 1, err: `${tool}: the stand-in models no ${tool} options (${opt})\n` }
  const outs: Buffer[] = []
  let err = ''
  let code = 0
  for (const f of files.length ? files : ['-']) {
    if (f === '-') {
      outs.push(Buffer.from(fn('-', ctx.stdin)))
      continue
    }
    const p = normPath(f)
    const kind = ctx.fs.kind(p)
    if (kind === 'dir') {
      err += `${tool}: ${f}: Is a directory\n`
      code = 1
      continue
    }
    const data = kind === 'file' ? ctx.fs.read(p) : undefined
    if (!data) {
      err += `${tool}: ${f}: No such file or directory\n`
      code = 1
      continue
    }
    outs.push(Buffer.from(fn(f, data)))
  }
  return { code, out: Buffer.concat(outs), err }
}

const cat: Program = (argv, ctx) => eachInput('cat', argv, ctx, (_, d) => d)

const sha256sum: Program = (argv, ctx) => eachInput('sha256sum', argv, ctx, (name, d) => `${createHash('sha256').update(d).digest('hex')}  ${name}\n`)

const ls: Program = (argv, ctx) => {
  const opts = argv.slice(1).filter((a) => a.startsWith('-') && a !== '-')
  const bad = opts.find((o) => !/^-[1aA]+$/.test(o))
  if (bad) return { code: 2, err: `ls: the stand-in models only -1, -a and -A (${bad})\n` }
  const all = opts.some((o) => o.includes('a'))
  const paths = argv.slice(1).filter((a) => !a.startsWith('-') || a === '-')
  const targets = paths.length ? paths : ['/']
  let err = ''
  let code = 0
  const chunks: string[] = []
  for (const t of targets) {
    const p = normPath(t)
    const kind = ctx.fs.kind(p)
    if (!kind) {
      err += `ls: cannot access '${t}': No such file or directory\n`
      code = 2
      continue
    }
    if (kind === 'file') {
      chunks.push(lines([t]))
      continue
    }
    const names = (ctx.fs.list(p) ?? []).filter((n) => all || !n.startsWith('.')).sort()
    const body = lines(all ? ['.', '..', ...names] : names)
    chunks.push(targets.length > 1 ? `${t}:\n${body}` : body)
  }
  return { code, out: chunks.join(targets.length > 1 ? '\n' : ''), err }
}

/** test EXPR / [ EXPR ]: file tests, string and integer comparisons, !. */
function testExpr(args: string[], ctx: Parameters<Program>[1]): boolean | string {
  if (args[0] === '!') {
    const r = testExpr(args.slice(1), ctx)
    return typeof r === 'string' ? r : !r
  }
  if (args.length === 0) return false
  if (args.length === 1) return (args[0] as string) !== ''
  if (args.length === 2) {
    const [op, v] = args as [string, string]
    const kind = ctx.fs.kind(normPath(v))
    switch (op) {
      case '-e':
        return kind !== undefined
      case '-f':
        return kind === 'file'
      case '-d':
        return kind === 'dir'
      case '-r':
      case '-s':
        return kind === 'file' && (op === '-r' || (ctx.fs.read(normPath(v))?.length ?? 0) > 0)
      case '-n':
        return v !== ''
      case '-z':
        return v === ''
    }
    return `${op}: unary operator expected`
  }
  if (args.length === 3) {
    const [a, op, b] = args as [string, string, string]
    const n = (x: string) => (/^-?\d+$/.test(x.trim()) ? Number(x) : undefined)
    switch (op) {
      case '=':
      case '==':
        return a === b
      case '!=':
        return a !== b
    }
    const ops: Record<string, (x: number, y: number) => boolean> = { '-eq': (x, y) => x === y, '-ne': (x, y) => x !== y, '-lt': (x, y) => x < y, '-le': (x, y) => x <= y, '-gt': (x, y) => x > y, '-ge': (x, y) => x >= y }
    const f = ops[op]
    if (!f) return `${op}: binary operator expected`
    const x = n(a)
    const y = n(b)
    if (x === undefined) return `${a}: integer expression expected`
    if (y === undefined) return `${b}: integer expression expected`
    return f(x, y)
  }
  return 'too many arguments'
}

const test: Program = (argv, ctx) => {
  let args = argv.slice(1)
  const name = argv[0] === '[' ? '[' : 'test'
  if (name === '[') {
    if (args.at(-1) !== ']') return { code: 2, err: "[: missing ']'\n" }
    args = args.slice(0, -1)
  }
  const r = testExpr(args, ctx)
  if (typeof r === 'string') return { code: 2, err: `${name}: ${r}\n` }
  return { code: r ? 0 : 1 }
}

/** printf FORMAT [ARGS…]: %s %d %i %x %% %b and the backslash escapes; the format repeats while arguments remain. */
const printf: Program = (argv) => {
  const format = argv[1]
  if (format === undefined) return { code: 2, err: 'printf: usage: printf [-v var] format [arguments]\n' }
  const args = argv.slice(2)
  const unescape = (s: string) => s.replace(/\\(\\|n|t|r|a|b|f|v|0[0-7]{0,3}|x[0-9a-fA-F]{1,2})/g, (_, e: string) => {
    const m: Record<string, string> = { '\\': '\\', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v' }
    if (e in m) return m[e] as string
    if (e.startsWith('x')) return String.fromCharCode(parseInt(e.slice(1), 16))
    return String.fromCharCode(parseInt(e.slice(1) || '0', 8))
  })
  let out = ''
  let err = ''
  let k = 0
  do {
    const before = k
    out += format.replace(/%(%|[-+ 0#]*\d*(?:\.\d+)?[sdibxXouc])/g, (_, spec: string) => {
      if (spec === '%') return '%'
      const conv = spec.at(-1) as string
      const arg = args[k++] ?? ''
      if (conv === 's') return arg
      if (conv === 'b') return unescape(arg)
      if (conv === 'c') return arg.slice(0, 1)
      const n = arg === '' ? 0 : Number(arg)
      if (!Number.isFinite(n)) {
        err += `printf: ${arg}: invalid number\n`
        return '0'
      }
      if (conv === 'x') return Math.trunc(n).toString(16)
      if (conv === 'X') return Math.trunc(n).toString(16).toUpperCase()
      if (conv === 'o') return Math.trunc(n).toString(8)
      return String(Math.trunc(n))
    })
    if (k === before) break
  } while (k < args.length)
  return { code: err ? 1 : 0, out: unescape(out), err }
}

const echo: Program = (argv) => {
  let args = argv.slice(1)
  let newline = true
  let escapes = false
  while (args[0] && /^-[neE]+$/.test(args[0])) {
    if (args[0].includes('n')) newline = false
    if (args[0].includes('e')) escapes = true
    args = args.slice(1)
  }
  let text = args.join(' ')
  if (escapes) text = text.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\\\/g, '\\')
  return { code: 0, out: text + (newline ? '\n' : '') }
}

/** grep [-q -v -i -c -F -E] PATTERN [FILE…] (POSIX classes are not translated). */
const grep: Program = (argv, ctx) => {
  const flags = new Set<string>()
  let i = 1
  for (; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') {
      i++
      break
    }
    if (!/^-[a-zA-Z]+$/.test(a)) break
    for (const f of a.slice(1)) {
      if (!'qvicFEsw'.includes(f)) return { code: 2, err: `grep: the stand-in models -q -v -i -c -F -E -s -w only (-${f})\n` }
      flags.add(f)
    }
  }
  const pattern = argv[i]
  if (pattern === undefined) return { code: 2, err: "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n" }
  const src = flags.has('F') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : flags.has('E') ? pattern : pattern.replace(/\\([|+?(){}])/g, '$1')
  let re: RegExp
  try {
    re = new RegExp(flags.has('w') ? `\\b(?:${src})\\b` : src, flags.has('i') ? 'i' : '')
  } catch {
    return { code: 2, err: `grep: Unmatched ( or \\(\n` }
  }
  const inputs = argv.slice(i + 1)
  let count = 0
  let out = ''
  let err = ''
  let code = 0
  const scan = (name: string | undefined, data: Buffer) => {
    const text = data.toString('utf8')
    const ls = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text ? text.split('\n') : []
    let n = 0
    for (const l of ls) {
      if (re.test(l) !== flags.has('v')) {
        n++
        if (!flags.has('c')) out += `${name && inputs.length > 1 ? `${name}:` : ''}${l}\n`
      }
    }
    if (flags.has('c')) out += `${name && inputs.length > 1 ? `${name}:` : ''}${n}\n`
    count += n
  }
  if (!inputs.length) scan(undefined, ctx.stdin)
  for (const f of inputs) {
    const data = ctx.fs.kind(normPath(f)) === 'file' ? ctx.fs.read(normPath(f)) : undefined
    if (!data) {
      if (!flags.has('s')) err += `grep: ${f}: ${ctx.fs.kind(normPath(f)) === 'dir' ? 'Is a directory' : 'No such file or directory'}\n`
      code = 2
      continue
    }
    scan(f, data)
  }
  if (flags.has('q')) out = ''
  return { code: code === 2 && !(flags.has('q') && count) ? 2 : count ? 0 : 1, out, err }
}

/** sleep N[smhd] | infinity: takes that long (a daemon when infinite). */
const sleep: Program = (argv) => {
  const args = argv.slice(1)
  if (!args.length) return { code: 1, err: "sleep: missing operand\nTry 'sleep --help' for more information.\n" }
  let ms = 0
  for (const a of args) {
    if (a === 'infinity' || a === 'inf') return { code: 0, blocked: true }
    const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(a)
    if (!m) return { code: 1, err: `sleep: invalid time interval '${a}'\nTry 'sleep --help' for more information.\n` }
    ms += Number(m[1]) * ({ '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as string] as number)
  }
  return { code: 0, ms }
}

const BASE: Programs = {
  env,
  printenv,
  cat,
  sha256sum,
  ls,
  true: () => ({ code: 0 }),
  false: () => ({ code: 1 }),
  test,
  '[': test,
  printf,
  echo,
  grep,
  sleep,
}

/** The base commands plus `extra` (an image's own programs), with sh and bash over all of them. */
export function withShells(extra: Programs = {}): Programs {
  const all: Programs = { ...BASE, ...extra }
  all.sh = shellProgram('sh', () => all)
  all.bash = shellProgram('bash', () => all)
  return all
}
