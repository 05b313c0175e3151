// Values that must never be shown: registered once, redacted from every event before any sink
// (terminal, JSON, log file) sees it.
export const REDACTED = '********'

export class Secrets {
  private values: string[] = []

  add(value: string): void {
    // Very short values would redact ordinary text; they are refused where they are declared.
    if (value.length < 4) throw new Error('a secret must be at least 4 characters long')
    for (const v of [value, Buffer.from(value).toString('base64')]) {
      if (!this.values.includes(v)) this.values.push(v)
    }
    this.values.sort((a, b) => b.length - a.length)
  }

  redact(text: string): string {
    let out = text
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED)
    return out
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
