// Values that must never be shown: registered once, redacted from every event before any sink
// (terminal, JSON, log file) sees it.
export const REDACTED = '********'

/** Shorter values would redact ordinary words and numbers everywhere: refused where they are declared. */
export const SECRET_MIN_LENGTH = 4

export class Secrets {
  private values: string[] = []
  private patterns: RegExp[] = []

  /** A kind of secret known by its shape (a kubeadm bootstrap token), for output we cannot list in advance. */
  addPattern(re: RegExp): void {
    if (!this.patterns.some((p) => p.source === re.source)) this.patterns.push(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))
  }

  add(value: string): void {
    // Very short values would redact ordinary text; they are refused where they are declared.
    if (value.length < SECRET_MIN_LENGTH) throw new Error(`a secret must be at least ${SECRET_MIN_LENGTH} characters long`)
    for (const v of [value, Buffer.from(value).toString('base64')]) {
      if (!this.values.includes(v)) this.values.push(v)
    }
  }

  /** Where each secret occurs in text, as [start, end), by start. */
  private occurrences(text: string): [number, number][] {
    const found: [number, number][] = []
    for (const v of this.values) {
      for (let at = text.indexOf(v); at >= 0; at = text.indexOf(v, at + 1)) found.push([at, at + v.length])
    }
    for (const re of this.patterns) for (const m of text.matchAll(re)) if (m[0]) found.push([m.index, m.index + m[0].length])
    return found.sort((a, b) => a[0] - b[0])
  }

  redact(text: string): string {
    // Every occurrence of every secret, then each run of them hidden as one: overlapping secrets
    // leave no visible part of either (replacing one after the other would show the other's tail).
    const found = this.occurrences(text)
    if (!found.length) return text
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

  /**
   * Text that arrives in chunks (a command's output under -v), passed on in pieces that each
   * redact on their own: up to a line end, keeping back a tail as long as the longest secret and
   * never cutting inside one; a line longer than LONG_LINE is passed on without waiting for its end.
   */
  holder(out: (text: string) => void): { push(text: string): void; flush(): void } {
    let held = ''
    return {
      push: (text) => {
        held += text
        const cut = this.safeCut(held)
        if (cut > 0) {
          out(held.slice(0, cut))
          held = held.slice(cut)
        }
      },
      flush: () => {
        if (held) out(held)
        held = ''
      },
    }
  }

  /** How much of text can be shown now (see holder). */
  private safeCut(text: string): number {
    const longest = Math.max(0, ...this.values.map((v) => v.length))
    const limit = text.length - Math.max(longest - 1, 0)
    if (limit <= 0) return 0
    let cut = text.lastIndexOf('\n', limit - 1) + 1
    if (cut === 0 && limit > LONG_LINE) cut = limit
    // a secret that runs across the cut (patterns are not bounded by `longest`) stays held whole
    for (const [start, end] of this.occurrences(text)) if (start < cut && end > cut) cut = start
    return cut
  }
}

const LONG_LINE = 64 * 1024
