// Ansible's `key=value key2='a b'` strings (`-e`), split and unquoted exactly as ansible-core's
// parse_kv / split_args (ansible/parsing/splitter.py) do it. Pure.
//
//   split on spaces and newlines, but never inside quotes or a {{ }}, {% %} or {# #} block;
//   a lone `\` at a line's end continues it; python escapes (\n, \t, \", \x41, \u00e9) are decoded;
//   key=value splits at the first `=` not escaped with `\` (and not the first character);
//   the value loses surrounding whitespace and one pair of matching outer quotes, nothing more.

export type KvItem = { key: string; value: string; quoted: boolean } | { raw: string }

export class KvError extends Error {}

/** ansible's split_args: the tokens, quotes kept. */
export function splitArgs(args: string): string[] {
  const params: string[] = []
  const items = args.split('\n')
  let quote: string | undefined
  let inQuotes = false
  let print = 0
  let block = 0
  let comment = 0
  const last = () => params.length - 1
  items.forEach((item, itemIdx) => {
    const tokens = item.split(' ')
    let continuation = false
    tokens.forEach((token, idx) => {
      if (token.length === 0 && idx !== 0) {
        if (!params.length) throw new KvError(`unable to parse argument string: ${args}`)
        params[last()] += ' '
        return
      }
      if (token === '\\' && !inQuotes) {
        continuation = true
        return
      }
      const wasInQuotes = inQuotes
      quote = quoteState(token, quote)
      inQuotes = quote !== undefined
      let appended = false
      if (inQuotes && !wasInQuotes && !(print || block || comment)) {
        params.push(token)
        appended = true
      } else if (print || block || comment || inQuotes || wasInQuotes) {
        if (idx === 0 && wasInQuotes) params[last()] += token
        else if (tokens.length > 1) params[last()] += `${idx > 0 ? ' ' : ''}${token}`
        else params[last()] += `\n${token}`
        appended = true
      }
      for (const [open, close, which] of [['{{', '}}', 'print'], ['{%', '%}', 'block'], ['{#', '#}', 'comment']] as const) {
        const before = which === 'print' ? print : which === 'block' ? block : comment
        const after = blockDepth(token, before, open, close)
        if (which === 'print') print = after
        else if (which === 'block') block = after
        else comment = after
        if (after !== before && !appended) {
          params.push(token)
          appended = true
        }
      }
      if (!(print || block || comment) && !inQuotes && !appended && token !== '') params.push(token)
    })
    if (items.length > 1 && itemIdx !== items.length - 1 && !continuation) {
      if (!params.length) throw new KvError(`unable to parse argument string: ${args}`)
      params[last()] += '\n'
    }
  })
  if (print || block || comment || inQuotes) throw new KvError(`failed at splitting arguments, either an unbalanced jinja2 block or quotes: ${args}`)
  return params
}

function quoteState(token: string, quote: string | undefined): string | undefined {
  for (let i = 0; i < token.length; i++) {
    const c = token.charAt(i)
    if ((c === '"' || c === "'") && (i === 0 || token.charAt(i - 1) !== '\\')) {
      if (quote) {
        if (c === quote) quote = undefined
      } else quote = c
    }
  }
  return quote
}

function blockDepth(token: string, depth: number, open: string, close: string): number {
  const opened = token.split(open).length - 1
  const closed = token.split(close).length - 1
  return opened === closed ? depth : Math.max(0, depth + opened - closed)
}

const SINGLE: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

/** python's unicode-escape for the sequences ansible decodes (\N{NAME} is refused: no name table here). */
function decodeEscapes(s: string): string {
  return s.replace(/\\U[a-fA-F0-9]{8}|\\u[a-fA-F0-9]{4}|\\x[a-fA-F0-9]{2}|\\N\{[^}]+\}|\\[\\'"abfnrtv]/g, (m) => {
    if (m[1] === 'N') throw new KvError(`the escape ${m} (a character by name) is not supported; write the character or \\uXXXX`)
    if (m.length > 2) return String.fromCodePoint(parseInt(m.slice(2), 16))
    return SINGLE[m[1]!]!
  })
}

const isQuoted = (s: string) => s.length > 1 && s[0] === s.at(-1) && (s[0] === '"' || s[0] === "'") && s.at(-2) !== '\\'

/** ansible's parse_kv: key=value items in order, and the tokens without `=` as `raw`. */
export function parseKv(args: string): KvItem[] {
  const out: KvItem[] = []
  for (const orig of splitArgs(args)) {
    const x = decodeEscapes(orig)
    let pos = 0
    for (;;) {
      pos = x.indexOf('=', pos + 1)
      if (pos < 0 || x.charAt(pos - 1) !== '\\') break
    }
    if (!x.includes('=')) out.push({ raw: orig })
    else if (pos < 0) out.push({ raw: x.replaceAll('\\=', '=') })
    else {
      const value = x.slice(pos + 1).trim()
      const quoted = isQuoted(value)
      out.push({ key: x.slice(0, pos).trim(), value: quoted ? value.slice(1, -1) : value, quoted })
    }
  }
  return out
}
