// A small runner for the faults suite: each case is its own test with a group, a name and a
// function; a case passes when its function returns, fails when it throws. The suite prints a
// table per group and the machine-readable counts, and exits non-zero when any case failed.

export type Group = 'bad input' | 'fault' | 'injection' | 'secret' | 'security'

/** What a case can add to its row: a short detail, and its own counts for the summary lines. */
export type Detail = { note?: string; counts?: Partial<Record<Counter, number>> }

export type Case = { group: Group; name: string; run: () => Promise<Detail | string | void> }

export type Result = { group: Group; name: string; pass: boolean; ms: number; note: string; error?: string; counts: Partial<Record<Counter, number>> }

/** Counts a case reports beyond pass/fail (e.g. how many placements of an injected value were tried). */
export type Counter = 'placements' | 'rejected' | 'rendered' | 'ran' | 'leaks' | 'lost'

export async function runCases(cases: Case[], onResult: (r: Result) => void): Promise<Result[]> {
  const results: Result[] = []
  for (const c of cases) {
    const t0 = performance.now()
    let r: Result
    try {
      const out = await c.run()
      const detail: Detail = typeof out === 'string' ? { note: out } : (out ?? {})
      r = { group: c.group, name: c.name, pass: true, ms: Math.round(performance.now() - t0), note: detail.note ?? '', counts: detail.counts ?? {} }
    } catch (e) {
      const counts = (e as { counts?: Result['counts'] }).counts ?? {}
      r = { group: c.group, name: c.name, pass: false, ms: Math.round(performance.now() - t0), note: '', error: describe(e), counts }
    }
    results.push(r)
    onResult(r)
  }
  return results
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  const extra = (e as { details?: string }).details
  return `${e.message}${extra ? `\n${extra}` : ''}`
}

/** An error that keeps the counts its case gathered before failing (a leak found, a canary created). */
export function failWith(message: string, counts: Result['counts']): Error {
  return Object.assign(new Error(message), { counts })
}

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n))

export function resultLine(r: Result): string {
  return `${r.pass ? 'PASS' : 'FAIL'}  ${pad(r.group, 9)}  ${pad(r.name, 64)}  ${String(r.ms).padStart(6)}ms  ${r.pass ? r.note : firstLine(r.error ?? '')}`
}

const firstLine = (s: string) => s.split('\n')[0] ?? ''

/** The summary table: per group, cases tried and passed, and what the group adds. */
export function summaryTable(results: Result[]): string {
  const groups: Group[] = ['bad input', 'fault', 'injection', 'secret', 'security']
  const rows = groups.map((g) => {
    const rs = results.filter((r) => r.group === g)
    const passed = rs.filter((r) => r.pass).length
    const sum = (k: Counter) => rs.reduce((n, r) => n + (r.counts[k] ?? 0), 0)
    const extra =
      g === 'bad input'
        ? 'exit ≠ 0, file + key + expectation named, no SSH session on any host'
        : g === 'fault'
          ? `${sum('lost')} lost (files or state missing after the rerun)`
          : g === 'injection'
            ? `${sum('placements')} placements: ${sum('rejected')} rejected as bad input, ${sum('rendered')} rendered/run intact, ${sum('ran')} ran code`
            : g === 'secret'
              ? `${sum('leaks')} leaks`
              : ''
    return `| ${pad(g, 9)} | ${String(rs.length).padStart(5)} | ${String(passed).padStart(6)} | ${String(rs.length - passed).padStart(6)} | ${extra}`
  })
  return ['| group     | tried | passed | failed | detail', '|-----------|-------|--------|--------|-------', ...rows].join('\n')
}
