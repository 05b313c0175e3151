// Python's ast.literal_eval, for the values of Ansible's INI inventories (`port=22` is a number,
// `x=[1, 2]` a list, `x=yes` stays the text "yes"). Pure. What Python would not accept as a literal
// comes back as the text unchanged, as Ansible does.

type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal }

const NOT_LITERAL = Symbol('not a literal')

export function literalOrText(text: string): unknown {
  try {
    const p = new Parser(text)
    const value = p.expression()
    p.space()
    return p.at === text.length ? value : text
  } catch (e) {
    if (e === NOT_LITERAL) return text
    throw e
  }
}

const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][-+]?[0-9](?:_?[0-9])*)?)/
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' }

class Parser {
  at = 0
  private readonly text: string
  constructor(text: string) {
    this.text = text
  }

  space() {
    while (this.at < this.text.length && ' \t\n\r'.includes(this.text[this.at]!)) this.at++
  }

  private eat(c: string): boolean {
    this.space()
    if (this.text.startsWith(c, this.at)) {
      this.at += c.length
      return true
    }
    return false
  }

  expression(): Literal {
    this.space()
    const sign = this.text[this.at]
    if (sign === '-' || sign === '+') {
      this.at++
      const n = this.expression()
      if (typeof n !== 'number') throw NOT_LITERAL
      return sign === '-' ? -n : n
    }
    const open = this.text[this.at]
    if (open === '[' || open === '(') return this.sequence(open === '[' ? ']' : ')')
    if (open === '{') return this.map()
    if (open === "'" || open === '"') {
      let s = ''
      while (this.text[this.at] === "'" || this.text[this.at] === '"') {
        s += this.string()
        this.space()
      }
      return s
    }
    const word = /^[A-Za-z_]\w*/.exec(this.text.slice(this.at))?.[0]
    if (word) {
      this.at += word.length
      if (word === 'True') return true
      if (word === 'False') return false
      if (word === 'None') return null
      throw NOT_LITERAL
    }
    const num = NUMBER.exec(this.text.slice(this.at))?.[0]
    if (!num) throw NOT_LITERAL
    this.at += num.length
    const clean = num.replaceAll('_', '')
    // 0777 and 01 are syntax errors in Python 3 (only 0, 00 … are allowed with a leading zero)
    if (/^0[0-9]+$/.test(clean) && !/^0+$/.test(clean)) throw NOT_LITERAL
    if (/^0[xob]/i.test(clean)) return parseInt(clean.slice(2), { x: 16, o: 8, b: 2 }[clean[1]!.toLowerCase() as 'x' | 'o' | 'b'])
    return Number(clean)
  }

  private string(): string {
    const quote = this.text[this.at]!
    const triple = this.text.startsWith(quote.repeat(3), this.at)
    const end = triple ? quote.repeat(3) : quote
    this.at += end.length
    let s = ''
    for (;;) {
      if (this.at >= this.text.length) throw NOT_LITERAL
      if (this.text.startsWith(end, this.at)) {
        this.at += end.length
        return s
      }
      const c = this.text[this.at++]!
      if (c === '\n' && !triple) throw NOT_LITERAL
      if (c !== '\\') {
        s += c
        continue
      }
      const e = this.text[this.at++] ?? ''
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0
      if (hex) {
        const digits = this.text.slice(this.at, this.at + hex)
        if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) throw NOT_LITERAL
        s += String.fromCodePoint(parseInt(digits, 16))
        this.at += hex
      } else s += ESCAPES[e] ?? `\\${e}`
    }
  }

  private sequence(close: string): Literal[] {
    this.at++
    const items: Literal[] = []
    while (!this.eat(close)) {
      items.push(this.expression())
      if (!this.eat(',')) {
        if (!this.eat(close)) throw NOT_LITERAL
        break
      }
    }
    return items
  }

  private map(): { [key: string]: Literal } {
    this.at++
    const out: { [key: string]: Literal } = {}
    while (!this.eat('}')) {
      const key = this.expression()
      if (typeof key === 'object' && key !== null) throw NOT_LITERAL
      if (!this.eat(':')) throw NOT_LITERAL
      out[String(key)] = this.expression()
      if (!this.eat(',')) {
        if (!this.eat('}')) throw NOT_LITERAL
        break
      }
    }
    return out
  }
}
