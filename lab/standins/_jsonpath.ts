// kubectl's JSONPath templates (k8s.io/client-go/util/jsonpath), the subset people use:
// {.a.b}, {.a['b.c']}, {.items[*].x}, {.items[0]}, [-1], [1:3], {..name},
// {.conditions[?(@.type=="Ready")].status}, {range .items[*]}…{end}, {"\n"}, {$}.
// Missing keys print nothing (kubectl's --allow-missing-template-keys=true).
import { isObj } from './_k8s-util.ts'

type Seg =
  | { t: 'field'; name: string }
  | { t: 'recursive'; name: string }
  | { t: 'all' }
  | { t: 'index'; i: number }
  | { t: 'slice'; start?: number; end?: number }
  | { t: 'filter'; path: Seg[]; op?: string; value?: unknown; valuePath?: Seg[] }
  | { t: 'fields'; names: string[] }

type Node = { t: 'text'; s: string } | { t: 'path'; segs: Seg[] } | { t: 'literal'; s: string } | { t: 'range'; segs: Seg[]; body: Node[] }

export class JsonPathError extends Error {}

function parsePath(src: string, where: string): Seg[] {
  const segs: Seg[] = []
  let i = 0
  const s = src.trim()
  if (s.startsWith('$') || s.startsWith('@')) i = 1
  const err = (m: string) => new JsonPathError(`error parsing jsonpath ${where}, ${m}`)
  while (i < s.length) {
    const c = s[i]
    if (c === '.') {
      if (s[i + 1] === '.') {
        i += 2
        let name = ''
        while (i < s.length && s[i] !== '.' && s[i] !== '[') name += s[i++]
        segs.push({ t: 'recursive', name })
        continue
      }
      i++
      let name = ''
      while (i < s.length && s[i] !== '.' && s[i] !== '[') {
        if (s[i] === '\\' && i + 1 < s.length) {
          name += s[i + 1]
          i += 2
          continue
        }
        name += s[i++]
      }
      if (name === '*') segs.push({ t: 'all' })
      else if (name) segs.push({ t: 'field', name })
      continue
    }
    if (c === '[') {
      let depth = 0
      let j = i
      let quote = ''
      for (; j < s.length; j++) {
        const ch = s[j]
        if (quote) {
          if (ch === quote) quote = ''
          continue
        }
        if (ch === '"' || ch === "'") quote = ch
        else if (ch === '[') depth++
        else if (ch === ']' && --depth === 0) break
      }
      if (j >= s.length) throw err('unterminated array')
      const inner = s.slice(i + 1, j).trim()
      i = j + 1
      if (inner === '*') segs.push({ t: 'all' })
      else if (/^-?\d+$/.test(inner)) segs.push({ t: 'index', i: Number(inner) })
      else if (/^-?\d*:-?\d*(:\d*)?$/.test(inner)) {
        const [a, b] = inner.split(':')
        segs.push({ t: 'slice', ...(a ? { start: Number(a) } : {}), ...(b ? { end: Number(b) } : {}) })
      } else if (inner.startsWith('?(') && inner.endsWith(')')) {
        const f = inner.slice(2, -1).trim()
        const m = /^(@[^\s=!<>]*)\s*(==|!=|<=|>=|<|>|=~)\s*(.+)$/.exec(f)
        if (m) {
          const rhs = (m[3] as string).trim()
          let value: unknown
          let valuePath: Seg[] | undefined
          if (/^(['"]).*\1$/.test(rhs)) value = rhs.slice(1, -1)
          else if (/^-?\d+(\.\d+)?$/.test(rhs)) value = Number(rhs)
          else if (rhs === 'true' || rhs === 'false') value = rhs === 'true'
          else if (rhs.startsWith('@') || rhs.startsWith('$')) valuePath = parsePath(rhs, where)
          else throw err(`unrecognized filter value ${rhs}`)
          segs.push({ t: 'filter', path: parsePath(m[1] as string, where), op: m[2] as string, ...(value !== undefined ? { value } : {}), ...(valuePath ? { valuePath } : {}) })
        } else segs.push({ t: 'filter', path: parsePath(f, where) })
      } else {
        const names = inner.split(',').map((x) => x.trim().replace(/^(['"])(.*)\1$/, '$2'))
        if (names.length === 1) segs.push({ t: 'field', name: names[0] as string })
        else segs.push({ t: 'fields', names })
      }
      continue
    }
    throw err(`unrecognized character in action: U+${(c as string).charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} '${c}'`)
  }
  return segs
}

export function parseTemplate(tpl: string): Node[] {
  const where = tpl
  const root: Node[] = []
  const stack: Node[][] = [root]
  let i = 0
  while (i < tpl.length) {
    const open = tpl.indexOf('{', i)
    if (open < 0) {
      ;(stack.at(-1) as Node[]).push({ t: 'text', s: tpl.slice(i) })
      break
    }
    if (open > i) (stack.at(-1) as Node[]).push({ t: 'text', s: tpl.slice(i, open) })
    // find the matching close brace, honouring quotes
    let j = open + 1
    let quote = ''
    for (; j < tpl.length; j++) {
      const ch = tpl[j]
      if (quote) {
        if (ch === '\\') j++
        else if (ch === quote) quote = ''
        continue
      }
      if (ch === '"' || ch === "'") quote = ch
      else if (ch === '}') break
    }
    if (j >= tpl.length) throw new JsonPathError(`error parsing jsonpath ${where}, unclosed action`)
    const action = tpl.slice(open + 1, j).trim()
    i = j + 1
    const top = stack.at(-1) as Node[]
    if (action.startsWith('range ')) {
      const node: Node = { t: 'range', segs: parsePath(action.slice(6), where), body: [] }
      top.push(node)
      stack.push(node.body)
    } else if (action === 'end') {
      if (stack.length === 1) throw new JsonPathError(`error parsing jsonpath ${where}, not in range, nothing to end`)
      stack.pop()
    } else if (/^(['"]).*\1$/s.test(action)) {
      top.push({ t: 'literal', s: unescape(action.slice(1, -1)) })
    } else if (action === '') {
      continue
    } else {
      top.push({ t: 'path', segs: parsePath(action, where) })
    }
  }
  if (stack.length > 1) throw new JsonPathError(`error parsing jsonpath ${where}, unclosed range`)
  return root
}

const unescape = (s: string) => s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" })[c] ?? c)

function recurse(v: unknown, name: string, out: unknown[]) {
  if (Array.isArray(v)) for (const x of v) recurse(x, name, out)
  else if (isObj(v)) {
    if (name in v) out.push(v[name])
    for (const x of Object.values(v)) recurse(x, name, out)
  }
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b || (a !== undefined && b !== undefined && String(a) === String(b) && typeof a === typeof b)
    case '!=':
      return !(a === b)
    case '<':
      return Number(a) < Number(b)
    case '>':
      return Number(a) > Number(b)
    case '<=':
      return Number(a) <= Number(b)
    case '>=':
      return Number(a) >= Number(b)
    case '=~':
      return new RegExp(String(b)).test(String(a))
  }
  return false
}

function evalSegs(inputs: unknown[], segs: Seg[], root: unknown): unknown[] {
  let cur = inputs
  for (const seg of segs) {
    const next: unknown[] = []
    for (const v of cur) {
      switch (seg.t) {
        case 'field':
          if (isObj(v) && seg.name in v) next.push(v[seg.name])
          break
        case 'fields':
          if (isObj(v)) for (const n of seg.names) if (n in v) next.push(v[n])
          break
        case 'recursive':
          recurse(v, seg.name, next)
          break
        case 'all':
          if (Array.isArray(v)) next.push(...v)
          else if (isObj(v)) next.push(...Object.values(v))
          break
        case 'index':
          if (Array.isArray(v)) {
            const i = seg.i < 0 ? v.length + seg.i : seg.i
            if (i >= 0 && i < v.length) next.push(v[i])
            else throw new JsonPathError(`array index out of bounds: index ${seg.i}, length ${v.length}`)
          }
          break
        case 'slice':
          if (Array.isArray(v)) {
            const norm = (x: number) => (x < 0 ? Math.max(0, v.length + x) : Math.min(x, v.length))
            next.push(...v.slice(norm(seg.start ?? 0), norm(seg.end ?? v.length)))
          }
          break
        case 'filter':
          if (Array.isArray(v)) {
            for (const item of v) {
              const left = evalSegs([item], seg.path, root)
              if (!seg.op) {
                if (left.length) next.push(item)
                continue
              }
              const right = seg.valuePath ? evalSegs([item], seg.valuePath, root)[0] : seg.value
              if (left.some((l) => compare(l, seg.op as string, right))) next.push(item)
            }
          }
          break
      }
    }
    cur = next
  }
  return cur
}

const show = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v))

function run(nodes: Node[], ctx: unknown, root: unknown): string {
  let out = ''
  for (const n of nodes) {
    if (n.t === 'text' || n.t === 'literal') out += n.s
    else if (n.t === 'path') out += evalSegs([ctx], n.segs, root).map(show).join(' ')
    else for (const item of evalSegs([ctx], n.segs, root)) out += run(n.body, item, root)
  }
  return out
}

/** Render a template against data. */
export function jsonpath(template: string, data: unknown): string {
  return run(parseTemplate(template), data, data)
}
