// npm run lab:netns:up -- --hosts N   |   npm run lab:netns:down
import { labDown, labUp, MAX_HOSTS } from './lab.ts'

const usage = `usage: node lab/netns/cli.ts up [--hosts N] [--no-aws]   (N from 1 to ${MAX_HOSTS}, default 3; --no-aws: no aws: block, no STS)
       node lab/netns/cli.ts down`

function fail(msg: string): never {
  process.stderr.write(`lab: ${msg}\n${usage}\n`)
  process.exit(2)
}

function parseHosts(v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v)) fail(`--hosts needs a number, got ${v ?? 'nothing'}`)
  const n = Number(v)
  if (n < 1 || n > MAX_HOSTS) fail(`--hosts must be from 1 to ${MAX_HOSTS}, got ${n}`)
  return n
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e
})

async function main(argv: string[]) {
  const [cmd, ...rest] = argv
  if (cmd === 'up') {
    let hosts = 3
    let aws = true
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i] as string
      if (a === '--hosts') hosts = parseHosts(rest[++i])
      else if (a.startsWith('--hosts=')) hosts = parseHosts(a.slice('--hosts='.length))
      else if (a === '--no-aws') aws = false
      else fail(`unknown argument: ${a}`)
    }
    const t0 = performance.now()
    const lab = await labUp({ hosts, aws })
    const secs = ((performance.now() - t0) / 1000).toFixed(2)
    console.log(`lab up: ${lab.hosts.length} host(s) in ${secs} s`)
    const si = lab.standins
    if (si) console.log(`stand-ins: ${si.tools.length} (${si.cached ? 'bundles cached' : `bundled in ${(si.ms / 1000).toFixed(2)} s`}): ${si.tools.join(' ')}`)
    for (const h of lab.hosts) console.log(`  ${h.name.padEnd(7)} ${h.address.padEnd(11)} netns ${h.netns}  root ${h.root}`)
    console.log(`inventory: ${lab.inventory}`)
  } else if (cmd === 'down') {
    if (rest.length) fail(`unknown argument: ${rest[0]}`)
    const t0 = performance.now()
    await labDown()
    console.log(`lab down in ${((performance.now() - t0) / 1000).toFixed(2)} s`)
  } else {
    fail(cmd === undefined ? 'missing command' : `unknown command: ${cmd}`)
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
})
