// Values that must never be shown: registered once, redacted from every event before any sink
// (terminal, JSON, log file) sees it.
export const REDACTED = '********'

export class Secrets {
  private values: string[] = []
  private patterns: RegExp[] = []

  /** A kind of secret known by its shape (a kubeadm bootstrap token), for output we cannot list in advance. */
  addPattern(re: RegExp): void {
    if (!this.patterns.some((p) => p.source === re.source)) this.patterns.push(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))
  }

  add(value: string): void {
    // Very short values would redact ordinary text; they are refused where they are declared.
    if (value.length < 4) throw new Error('a secret must be at least 4 characters long')
    for (const v of [value, Buffer.from(value).toString('base64')]) {
      if (!this.values.includes(v)) this.values.push(v)
    }
  }

  redact(text: string): string {
    // Every occurrence of every secret, then each run of them hidden as one: overlapping secrets
    // leave no visible part of either (replacing one after the other would show the other's tail).
    const found: [number, number][] = []
    for (const v of this.values) {
      for (let at = text.indexOf(v); at >= 0; at = text.indexOf(v, at + 1)) found.push([at, at + v.length])
    }
    for (const re of this.patterns) for (const m of text.matchAll(re)) if (m[0]) found.push([m.index, m.index + m[0].length])
    if (!found.length) return text
    found.sort((a, b) => a[0] - b[0])
    let out = ''
    let hiddenTo = -1
    for (const [start, end] of found) {
      if (start > hiddenTo) out += text.slice(Math.max(hiddenTo, 0), start) + REDACTED
      hiddenTo = Math.max(hiddenTo, end)
    }
    return out + text.slice(hiddenTo)
  }

  /** Redact every string inside a plain object or array (events are plain data). */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactDeep(v)])) as T
    }
    return value
  }
}
