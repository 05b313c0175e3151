// A small POSIX-shell interpreter for what runs inside the stand-in's containers (`kubectl
// exec`, exec probes, a container's own command). It understands simple commands, pipes,
// `&&`, `||`, `;`, single and double quotes, backslashes, $VAR / ${VAR} / ${VAR:-default},
// $? $0…$9, `NAME=value` prefixes, `export`, `exit`, `exec`, `set -e` / `-o pipefail`,
// redirections to /dev/null and between stdout/stderr, and globs over the files it knows.
// Anything else (subshells, $(…), if/for/while, writing files) is refused with a message
// saying it is not modelled: an honest failure, never a guess.
// Programs are pure functions of (argv, env, files, stdin): they return what they printed and
// their exit code, plus how long they took (`ms`), whether they keep running (`blocked`: a
// daemon), and effects for the caller to apply to the cluster (a Ray job starting…).

export type Effect = { kind: string; [k: string]: unknown }

export type Outcome = { code: number; out: Buffer; err: string; ms: number; blocked: boolean; effects: Effect[] }

/** What a program returns: only `code` is required. */
export type ProgramResult = { code: number; out?: string | Buffer; err?: string; ms?: number; blocked?: boolean; effects?: Effect[] }

/** The container's files (volume mounts only: the image's own files are not known). */
export type Fs = {
  kind(path: string): 'file' | 'dir' | undefined
  read(path: string): Buffer | undefined
  list(dir: string): string[] | undefined
}

/** 'main': the container's own process (a daemon may block); 'exec': kubectl exec or a probe. */
export type Mode = 'main' | 'exec'

export type ProgramCtx = {
  env: Record<string, string>
  fs: Fs
  stdin: Buffer
  mode: Mode
  /** Run another program (env CMD…, exec CMD…) with this environment. */
  run(argv: string[], env: Record<string, string>, stdin: Buffer): Outcome
}

export type Program = (argv: string[], ctx: ProgramCtx) => ProgramResult

export type Programs = Record<string, Program>

export const outcome = (r: ProgramResult): Outcome => ({
  code: r.code,
  out: Buffer.isBuffer(r.out) ? r.out : Buffer.from(r.out ?? '', 'utf8'),
  err: r.err ?? '',
  ms: r.ms ?? 0,
  blocked: r.blocked ?? false,
  effects: r.effects ?? [],
})

export const programName = (cmd: string) => (cmd.includes('/') ? (cmd.split('/').pop() ?? cmd) : cmd)

/** Normalise an absolute path (., .., double slashes); relative paths are taken from /. */
export function normPath(path: string): string {
  const out: string[] = []
  for (const part of path.split('/')) {
    if (!part || part === '.') continue
    if (part === '..') out.pop()
    else out.push(part)
  }
  return `/${out.join('/')}`
}

// ---------------------------------------------------------------------------
// Lexing

type Part = { t: 'lit'; v: string; quoted: boolean } | { t: 'var'; name: string; quoted: boolean; def?: string }
type Word = { parts: Part[]; line: number }
type Redir = { fd: number; op: '>' | '>>' | '<' | '>&' | '&>'; target: Word }
type Token = { k: 'word'; w: Word } | { k: 'op'; v: '|' | '&&' | '||' | ';'; line: number } | { k: 'redir'; r: Redir }

class ShellSyntax extends Error {
  kind: 'syntax' | 'eof' | 'unsupported'
  line: number
  constructor(message: string, kind: 'syntax' | 'eof' | 'unsupported', line: number) {
    super(message)
    this.kind = kind
    this.line = line
  }
}

const NAME_START = /[A-Za-z_]/
const NAME_CHAR = /[A-Za-z0-9_]/
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', '{', '}', '[[', 'select'])

function lex(src: string): Token[] {
  const toks: Token[] = []
  let i = 0
  let line = 1
  const unsupported = (what: string) => new ShellSyntax(what, 'unsupported', line)
  const readVar = (quoted: boolean): Part => {
    // at src[i] === '$'
    const c = src[i + 1]
    if (c === '{') {
      const end = src.indexOf('}', i + 2)
      if (end < 0) throw new ShellSyntax('}', 'eof', line)
      const body = src.slice(i + 2, end)
      i = end + 1
      const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9?#@*])(?::-(.*))?$/.exec(body)
      if (!m) throw unsupported(`the parameter expansion \${${body}}`)
      return { t: 'var', name: m[1] as string, quoted, ...(m[2] !== undefined ? { def: m[2] } : {}) }
    }
    if (c === '(') throw unsupported('command substitution $(…)')
    if (c !== undefined && NAME_START.test(c)) {
      let j = i + 1
      while (j < src.length && NAME_CHAR.test(src[j] as string)) j++
      const name = src.slice(i + 1, j)
      i = j
      return { t: 'var', name, quoted }
    }
    if (c !== undefined && /[0-9?#@*]/.test(c)) {
      i += 2
      return { t: 'var', name: c, quoted }
    }
    i++
    return { t: 'lit', v: '$', quoted }
  }
  while (i < src.length) {
    const c = src[i] as string
    if (c === ' ' || c === '\t') {
      i++
      continue
    }
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2
      line++
      continue
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++
      continue
    }
    if (c === '\n' || c === ';') {
      if (src[i + 1] === ';') throw unsupported('case clauses')
      toks.push({ k: 'op', v: ';', line })
      if (c === '\n') line++
      i++
      continue
    }
    if (c === '&' && src[i + 1] === '&') {
      toks.push({ k: 'op', v: '&&', line })
      i += 2
      continue
    }
    if (c === '|' && src[i + 1] === '|') {
      toks.push({ k: 'op', v: '||', line })
      i += 2
      continue
    }
    if (c === '|') {
      toks.push({ k: 'op', v: '|', line })
      i++
      continue
    }
    if (c === '(' || c === ')') throw unsupported('subshells and functions')
    // redirections: [n]> [n]>> [n]< [n]>&m &>
    const rm = /^(\d?)(>>|>&|>|<|&>)/.exec(src.slice(i))
    if (rm && (rm[1] || c === '>' || c === '<' || (c === '&' && src[i + 1] === '>'))) {
      i += rm[0].length
      while (src[i] === ' ' || src[i] === '\t') i++
      const target = readWord()
      if (!target.parts.length) throw new ShellSyntax('newline', 'syntax', line)
      const op = rm[2] as Redir['op']
      toks.push({ k: 'redir', r: { fd: rm[1] ? Number(rm[1]) : op === '<' ? 0 : 1, op, target } })
      continue
    }
    if (c === '&') throw unsupported('background jobs (&)')
    toks.push({ k: 'word', w: readWord() })
  }
  return toks

  function readWord(): Word {
    const parts: Part[] = []
    const lit = (v: string, quoted: boolean) => {
      const last = parts.at(-1)
      if (last && last.t === 'lit' && last.quoted === quoted) last.v += v
      else parts.push({ t: 'lit', v, quoted })
    }
    const startLine = line
    while (i < src.length) {
      const c = src[i] as string
      if (/[ \t\n;|&<>()]/.test(c)) break
      if (c === '\\') {
        if (src[i + 1] === '\n') {
          i += 2
          line++
          continue
        }
        if (i + 1 < src.length) lit(src[i + 1] as string, true)
        i += 2
        continue
      }
      if (c === "'") {
        const end = src.indexOf("'", i + 1)
        if (end < 0) throw new ShellSyntax("'", 'eof', line)
        const v = src.slice(i + 1, end)
        line += v.split('\n').length - 1
        lit(v, true)
        parts.push({ t: 'lit', v: '', quoted: true }) // keeps '' as an (empty) argument
        i = end + 1
        continue
      }
      if (c === '"') {
        i++
        let closed = false
        parts.push({ t: 'lit', v: '', quoted: true })
        while (i < src.length) {
          const d = src[i] as string
          if (d === '"') {
            closed = true
            i++
            break
          }
          if (d === '\\' && /[\\"$`\n]/.test(src[i + 1] ?? '')) {
            if (src[i + 1] !== '\n') lit(src[i + 1] as string, true)
            else line++
            i += 2
            continue
          }
          if (d === '`') throw unsupported('command substitution `…`')
          if (d === '$') {
            parts.push(readVar(true))
            continue
          }
          if (d === '\n') line++
          lit(d, true)
          i++
        }
        if (!closed) throw new ShellSyntax('"', 'eof', line)
        continue
      }
      if (c === '`') throw unsupported('command substitution `…`')
      if (c === '$') {
        parts.push(readVar(false))
        continue
      }
      lit(c, false)
      i++
    }
    return { parts, line: startLine }
  }
}

// ---------------------------------------------------------------------------
// Parsing: list of and-or chains of pipelines of simple commands

type Simple = { words: Word[]; redirs: Redir[]; line: number }
type Pipeline = Simple[]
type AndOr = { first: Pipeline; rest: { op: '&&' | '||'; p: Pipeline }[] }

function parse(toks: Token[]): AndOr[] {
  const list: AndOr[] = []
  let i = 0
  const unexpected = (t: Token | undefined) => new ShellSyntax(t ? (t.k === 'op' ? (t.v === ';' ? ';' : t.v) : 'word') : 'newline', 'syntax', t && t.k === 'op' ? t.line : 0)
  const simple = (): Simple => {
    const words: Word[] = []
    const redirs: Redir[] = []
    let line = 0
    while (i < toks.length) {
      const t = toks[i] as Token
      if (t.k === 'op') break
      if (t.k === 'redir') redirs.push(t.r)
      else {
        if (!words.length) {
          line = t.w.line
          const first = t.w.parts.length === 1 && t.w.parts[0]?.t === 'lit' && !t.w.parts[0].quoted ? t.w.parts[0].v : undefined
          if (first !== undefined && KEYWORDS.has(first)) throw new ShellSyntax(`the "${first}" compound command`, 'unsupported', t.w.line)
        }
        words.push(t.w)
      }
      i++
    }
    if (!words.length && !redirs.length) throw unexpected(toks[i])
    return { words, redirs, line }
  }
  const pipeline = (): Pipeline => {
    const cmds = [simple()]
    while (toks[i]?.k === 'op' && (toks[i] as { v: string }).v === '|') {
      i++
      cmds.push(simple())
    }
    return cmds
  }
  while (i < toks.length) {
    const t = toks[i] as Token
    if (t.k === 'op' && t.v === ';') {
      i++
      continue
    }
    const item: AndOr = { first: pipeline(), rest: [] }
    for (;;) {
      const o = toks[i]
      if (o?.k === 'op' && (o.v === '&&' || o.v === '||')) {
        i++
        item.rest.push({ op: o.v, p: pipeline() })
        continue
      }
      break
    }
    list.push(item)
    const n = toks[i]
    if (n && !(n.k === 'op' && n.v === ';')) throw unexpected(n)
  }
  return list
}

// ---------------------------------------------------------------------------
// Running

export type ShellOpts = { name: 'sh' | 'bash'; errexit?: boolean; pipefail?: boolean; positional?: string[] }

type State = { vars: Record<string, string>; exported: Set<string>; last: number; opts: ShellOpts; exitCode?: number }

/** Interpret a script as `sh -c` / `bash -c` would. */
export function runScript(script: string, env: Record<string, string>, opts: ShellOpts, programs: Programs, fs: Fs, stdin: Buffer, mode: Mode): Outcome {
  const prefix = (line: number) => (opts.name === 'bash' ? `bash: line ${line}:` : `sh: ${line}:`)
  let ast: AndOr[]
  try {
    ast = parse(lex(script))
  } catch (e) {
    if (!(e instanceof ShellSyntax)) throw e
    const line = e.line || 1
    if (e.kind === 'unsupported') return outcome({ code: 2, err: `zxlab: ${opts.name}: ${e.message} is not modelled by the stand-in's shell (simple commands, pipes, &&, ||, ;, quotes and $VAR are)\n` })
    if (opts.name === 'bash') {
      return outcome({ code: 2, err: e.kind === 'eof' ? `bash: -c: line ${line}: unexpected EOF while looking for matching \`${e.message}'\n` : `bash: -c: line ${line}: syntax error near unexpected token \`${e.message}'\n` })
    }
    return outcome({ code: 2, err: e.kind === 'eof' ? `sh: ${line}: Syntax error: Unterminated quoted string\n` : `sh: ${line}: Syntax error: "${e.message}" unexpected\n` })
  }
  const st: State = { vars: { ...env }, exported: new Set(Object.keys(env)), last: 0, opts: { ...opts } }
  const acc = outcome({ code: 0 })
  const outs: Buffer[] = []
  const add = (o: Outcome) => {
    outs.push(o.out)
    acc.err += o.err
    acc.ms += o.ms
    acc.effects.push(...o.effects)
    acc.blocked ||= o.blocked
    acc.code = o.code
  }
  const stop = () => acc.blocked || st.exitCode !== undefined
  for (const item of ast) {
    add(runPipeline(item.first, stdin))
    let ranLast = item.rest.length === 0
    item.rest.forEach((r, k) => {
      if (stop() || (r.op === '&&') !== (st.last === 0)) return
      add(runPipeline(r.p, stdin))
      ranLast = k === item.rest.length - 1
    })
    if (stop()) break
    // set -e stops at a failure that ends an and-or list, not inside one
    if (st.opts.errexit && st.last !== 0 && ranLast) break
  }
  acc.out = Buffer.concat(outs)
  if (!acc.blocked) acc.code = st.exitCode ?? st.last
  return acc

  function exportedEnv(extra: Record<string, string> = {}): Record<string, string> {
    const out: Record<string, string> = {}
    for (const k of st.exported) if (k in st.vars) out[k] = st.vars[k] as string
    return { ...out, ...extra }
  }

  function lookupVar(name: string): string | undefined {
    if (name === '?') return String(st.last)
    if (name === '#') return String(Math.max(0, (st.opts.positional ?? []).length - 1))
    if (name === '@' || name === '*') return (st.opts.positional ?? []).slice(1).join(' ')
    if (/^[0-9]$/.test(name)) return name === '0' ? ((st.opts.positional ?? [])[0] ?? opts.name) : (st.opts.positional ?? [])[Number(name)]
    return st.vars[name]
  }

  /** Expand a word into fields: quoting, IFS splitting of unquoted expansions, globs. */
  function expand(w: Word): string[] {
    const fields: { v: string; glob: boolean; quoted: boolean }[] = []
    let cur: { v: string; glob: boolean; quoted: boolean } | undefined
    const push = (v: string, quoted: boolean, glob: boolean) => {
      cur ??= { v: '', glob: false, quoted: false }
      cur.v += v
      cur.quoted ||= quoted
      cur.glob ||= glob
    }
    for (const p of w.parts) {
      if (p.t === 'lit') {
        push(p.v, p.quoted, !p.quoted && /[*?]/.test(p.v))
        continue
      }
      let val = lookupVar(p.name)
      if ((val === undefined || val === '') && p.def !== undefined) val = p.def
      val ??= ''
      if (p.quoted) {
        push(val, true, false)
        continue
      }
      const pieces = val.split(/[ \t\n]+/)
      pieces.forEach((piece, k) => {
        if (k > 0) {
          if (cur) fields.push(cur)
          cur = undefined
        }
        if (piece) push(piece, false, false)
      })
    }
    if (cur) fields.push(cur)
    const out: string[] = []
    for (const f of fields) {
      if (!f.v && !f.quoted) continue
      if (f.glob && f.v.startsWith('/')) {
        const matches = glob(f.v)
        if (matches.length) {
          out.push(...matches)
          continue
        }
      }
      out.push(f.v)
    }
    return out
  }

  function glob(pattern: string): string[] {
    const dir = pattern.slice(0, pattern.lastIndexOf('/')) || '/'
    const base = pattern.slice(pattern.lastIndexOf('/') + 1)
    if (/[*?]/.test(dir)) return []
    const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
    return (fs.list(dir) ?? [])
      .filter((n) => !n.startsWith('.') && re.test(n))
      .sort()
      .map((n) => `${dir === '/' ? '' : dir}/${n}`)
  }

  function runPipeline(cmds: Pipeline, input: Buffer): Outcome {
    const acc2 = outcome({ code: 0 })
    let data = input
    const codes: number[] = []
    cmds.forEach((cmd, k) => {
      const o = runSimple(cmd, data)
      data = o.out
      acc2.err += o.err
      acc2.ms += o.ms
      acc2.effects.push(...o.effects)
      acc2.blocked ||= o.blocked
      codes.push(o.code)
      if (k === cmds.length - 1) acc2.out = o.out
    })
    acc2.code = st.opts.pipefail ? ([...codes].reverse().find((c) => c !== 0) ?? 0) : (codes.at(-1) ?? 0)
    st.last = acc2.code
    return acc2
  }

  function runSimple(cmd: Simple, input: Buffer): Outcome {
    const assigns: Record<string, string> = {}
    let k = 0
    while (k < cmd.words.length && isAssignment(cmd.words[k] as Word)) {
      const w = cmd.words[k] as Word
      // no field splitting in an assignment's value
      const text = expand({ ...w, parts: w.parts.map((p) => ({ ...p, quoted: true })) }).join('')
      const eq = text.indexOf('=')
      assigns[text.slice(0, eq)] = text.slice(eq + 1)
      k++
    }
    const argv = cmd.words.slice(k).flatMap(expand)
    // redirections
    let stdinData = input
    let discardOut = false
    let discardErr = false
    let errToOut = false
    let outToErr = false
    for (const r of cmd.redirs) {
      const target = expand(r.target).join(' ')
      if (r.op === '<') {
        const data = fs.read(normPath(target))
        if (!data) return fail(`${prefix(cmd.line)} ${target}: No such file or directory\n`, 1)
        stdinData = data
      } else if (r.op === '>&') {
        if (r.fd === 2 && target === '1') errToOut = true
        else if (r.fd === 1 && target === '2') outToErr = true
        else return unsupportedRedir(`${r.fd}>&${target}`)
      } else if (target === '/dev/null') {
        if (r.op === '&>') {
          discardOut = true
          discardErr = true
        } else if (r.fd === 2) discardErr = true
        else discardOut = true
      } else return unsupportedRedir(`writing to ${target}`)
    }
    let o: Outcome
    if (!argv.length) {
      Object.assign(st.vars, assigns)
      o = outcome({ code: 0 })
    } else o = runCommand(argv, assigns, stdinData, cmd.line)
    if (errToOut) {
      o.out = Buffer.concat([o.out, Buffer.from(o.err)])
      o.err = ''
    }
    if (outToErr) {
      o.err += o.out.toString('utf8')
      o.out = Buffer.alloc(0)
    }
    if (discardOut) o.out = Buffer.alloc(0)
    if (discardErr) o.err = ''
    st.last = o.code
    return o
  }

  function fail(err: string, code: number): Outcome {
    st.last = code
    return outcome({ code, err })
  }

  function unsupportedRedir(what: string): Outcome {
    return fail(`zxlab: ${opts.name}: redirection (${what}) is not modelled by the stand-in's shell\n`, 2)
  }

  function runCommand(argv: string[], assigns: Record<string, string>, stdinData: Buffer, line: number): Outcome {
    const [name, ...args] = argv as [string, ...string[]]
    switch (name) {
      case 'exit':
        st.exitCode = args[0] !== undefined ? Number(args[0]) & 255 : st.last
        return outcome({ code: st.exitCode })
      case ':':
        return outcome({ code: 0 })
      case 'cd':
        return outcome({ code: 0 })
      case 'export':
        for (const a of args) {
          const eq = a.indexOf('=')
          const n = eq < 0 ? a : a.slice(0, eq)
          if (eq >= 0) st.vars[n] = a.slice(eq + 1)
          st.exported.add(n)
        }
        return outcome({ code: 0 })
      case 'set':
        for (let j = 0; j < args.length; j++) {
          const a = args[j] as string
          if (a === '-e') st.opts.errexit = true
          else if (a === '+e') st.opts.errexit = false
          else if (a === '-o' && args[j + 1] === 'pipefail') {
            st.opts.pipefail = true
            j++
          } else if (a === '-u' || a === '-x' || a === '-eu' || a === '-euo') continue
          else return fail(`zxlab: ${opts.name}: set ${a} is not modelled by the stand-in's shell\n`, 2)
        }
        return outcome({ code: 0 })
      case 'exec': {
        if (!args.length) return outcome({ code: 0 })
        const o = runCommand(args, assigns, stdinData, line)
        if (!o.blocked) st.exitCode = o.code
        return o
      }
    }
    const prog = programs[programName(name)]
    if (!prog || (name.includes('/') && !name.startsWith('/'))) {
      if (name.includes('/')) return fail(`${prefix(line)} ${name}: No such file or directory\n`, 127)
      return fail(opts.name === 'bash' ? `bash: line ${line}: ${name}: command not found\n` : `sh: ${line}: ${name}: not found\n`, 127)
    }
    return runProgram(prog, argv, exportedEnv(assigns), stdinData, programs, fs, mode)
  }
}

const isAssignment = (w: Word) => {
  const first = w.parts[0]
  return first?.t === 'lit' && !first.quoted && /^[A-Za-z_][A-Za-z0-9_]*=/.test(first.v)
}

/** Run one program with argv (argv[0] is its name as typed). */
export function runProgram(prog: Program, argv: string[], env: Record<string, string>, stdin: Buffer, programs: Programs, fs: Fs, mode: Mode): Outcome {
  const ctx: ProgramCtx = {
    env,
    fs,
    stdin,
    mode,
    run: (av, e, input) => {
      const p = programs[programName(av[0] ?? '')]
      if (!p) return outcome({ code: 127, err: `${programName(argv[0] ?? '')}: '${av[0] ?? ''}': No such file or directory\n` })
      return runProgram(p, av, e, input, programs, fs, mode)
    },
  }
  return outcome(prog(argv, ctx))
}

/**
 * `sh` / `bash` as a program: `-c SCRIPT [NAME ARGS…]`, options -e -x -l -u -o pipefail,
 * a script file, or the script on stdin.
 */
export function shellProgram(name: 'sh' | 'bash', programs: () => Programs): Program {
  return (argv, ctx) => {
    const opts: ShellOpts = { name }
    let script: string | undefined
    let i = 1
    let readC = false
    for (; i < argv.length; i++) {
      const a = argv[i] as string
      if (a === '--') {
        i++
        break
      }
      if (a === '-o' || a === '+o') {
        if (argv[i + 1] === 'pipefail') opts.pipefail = a === '-o'
        i++
        continue
      }
      if (/^[-+][a-zA-Z]+$/.test(a)) {
        for (const f of a.slice(1)) {
          if (f === 'c') readC = true
          else if (f === 'e') opts.errexit = a.startsWith('-')
          else if (!'xlusi'.includes(f)) return { code: 2, err: `${name}: ${a}: invalid option\n` }
        }
        continue
      }
      break
    }
    const rest = argv.slice(i)
    if (readC) {
      if (rest[0] === undefined) return { code: 2, err: `${name}: -c: option requires an argument\n` }
      script = rest[0]
      opts.positional = rest.slice(1)
      if (!opts.positional.length) opts.positional = [name]
    } else if (rest[0] !== undefined) {
      const data = ctx.fs.read(normPath(rest[0]))
      if (!data) return { code: 127, err: name === 'bash' ? `bash: ${rest[0]}: No such file or directory\n` : `sh: 0: cannot open ${rest[0]}: No such file\n` }
      script = data.toString('utf8')
      opts.positional = rest
    } else script = ctx.stdin.toString('utf8')
    return runScript(script, ctx.env, opts, programs(), ctx.fs, readC ? ctx.stdin : Buffer.alloc(0), ctx.mode)
  }
}
