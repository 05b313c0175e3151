// npm run lab:up -- [--hosts N] [--dist debian-12[,debian-13…]] [--aws] · npm run lab:down
// --aws: the lab's STS endpoint and an aws: block in the inventory (default: none, as without AWS)
import { DISTS, isDist, type Dist } from './config.ts'
import { labDown, labLeftovers, labUp } from './lab.ts'

const USAGE = 'usage: npm run lab:up -- [--hosts N] [--dist debian-12[,debian-13…]] [--aws] | npm run lab:down'

async function main(cmd: string | undefined, args: string[]): Promise<void> {
  const value = (flag: string) => {
    const i = args.indexOf(flag)
    return i >= 0 ? args[i + 1] : undefined
  }
  const known = cmd === 'up' ? ['--hosts', '--dist', '--aws'] : []
  const unknown = args.filter((a, i) => a.startsWith('-') && !known.includes(a) && !['--hosts', '--dist'].includes(args[i - 1] ?? ''))
  if (unknown.length) throw new Error(`lab ${cmd}: unknown option ${unknown.join(', ')}\n${USAGE}`)
  if (cmd === 'up') {
    const hosts = Number(value('--hosts') ?? 1)
    const dists = (value('--dist') ?? '').split(',').filter(Boolean)
    const bad = dists.filter((d) => !isDist(d))
    if (bad.length) throw new Error(`lab up: --dist: unknown ${bad.join(', ')} (expected ${Object.keys(DISTS).join(', ')})`)
    const lab = await labUp({ hosts, dists: dists as Dist[], aws: args.includes('--aws'), log: (s) => console.log(s) })
    for (const h of lab.hosts) console.log(`${h.name} ${h.address} ${h.dist}`)
    console.log(`inventory: ${lab.inventory}`)
    if (lab.aws) console.log(`STS endpoint: ${lab.aws.endpoint}`)
    console.log(`timings (ms): ${JSON.stringify(lab.timings)}`)
  } else if (cmd === 'down') {
    await labDown()
    const left = await labLeftovers()
    if (left.length) throw new Error(`lab down: left ${left.join(', ')}`)
    console.log('real-host lab down: nothing left')
  } else {
    throw new Error(USAGE)
  }
}

// one message, no stack: what was wrong and what to do is all in it
await main(process.argv[2], process.argv.slice(3)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e))
  process.exitCode = 2
})
