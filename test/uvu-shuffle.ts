// uvu's test files in one process in a shuffled order, to show that none depends on another having
// run first: `node test/uvu-shuffle.ts test/unit '\.test\.ts$' [seed]` (the seed it used is printed;
// give it again to repeat an order). uvu itself always runs them sorted by name.
import { parse } from 'uvu/parse'
import { run } from 'uvu/run'

const [dir = 'test/unit', pattern = '\\.test\\.ts$', seedArg] = process.argv.slice(2)
const seed = seedArg ? Number(seedArg) : Math.floor(Math.random() * 2 ** 31)

/** mulberry32: small, seeded, good enough to order a few dozen files. */
function random(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const { suites } = await parse(dir, pattern)
const next = random(seed)
for (let i = suites.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1))
  ;[suites[i], suites[j]] = [suites[j]!, suites[i]!]
}
console.log(`uvu-shuffle: seed ${seed}: ${suites.map((s) => s.name).join(' ')}`)
await run(suites)
