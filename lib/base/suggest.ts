// "Did you mean …?" hints for inventory keys, host patterns and template variables. Pure.

/**
 * Candidates within `max` edits of `name` (a swap of neighbours counts as one), nearest first:
 * the "did you mean" hints of inventory, pattern and template errors.
 */
export function closestNames(name: string, candidates: Iterable<string>, max = 2): string[] {
  const scored = [...new Set(candidates)].map((c) => ({ c, d: editDistance(name, c) }))
  return scored
    .filter((s) => s.d <= max)
    .sort((a, b) => a.d - b.d)
    .map((s) => s.c)
}

function editDistance(a: string, b: string): number {
  const width = b.length + 1
  const d = new Array<number>((a.length + 1) * width).fill(0)
  const at = (i: number, j: number) => d[i * width + j] ?? 0
  for (let i = 0; i <= a.length; i++) d[i * width] = i
  for (let j = 0; j <= b.length; j++) d[j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      d[i * width + j] = best
    }
  }
  return at(a.length, b.length)
}
