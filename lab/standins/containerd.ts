// containerd stand-in (the CLI; the daemon is the `containerd` unit in node.json): --version and
// `config default` for the installed major version (2.x: `version = 3`, 1.x: `version = 2`), and
// `--config FILE config dump`, which like the real one fails on a file that is not TOML (and,
// like the real one, not on a value of the wrong type: that only shows when the CRI plugin loads).
import { parse } from 'smol-toml'
import { containerdMajor, DEFAULT_CONFIG_V2, DEFAULT_CONFIG_V3 } from './_containerd.ts'
import { p } from './_fs.ts'
import { io, isEntry, readText, say, warn } from './_io.ts'
import { readState } from './_node.ts'
import { requirePackage } from './_os.ts'

const COMMITS: Record<string, string> = {
  '2.2.1': 'dea7da592f5d1d2b7755e3a161be07f43fad8f75',
  '1.7.24': '88bf19b2105c8b17560993bee28a01ddc2f97182',
}

export async function main(argv: string[]): Promise<number> {
  if (!requirePackage('containerd', 'containerd')) return 127
  const state = readState()
  const upstream = state.packages.containerd!.version.replace(/-[^-]*$/, '')
  const major = containerdMajor(state)
  if (argv[0] === '--config' && argv[2] === 'config' && argv[3] === 'dump' && argv.length === 4) {
    const file = argv[1]!
    const text = readText(p(file))
    let problem = text === undefined ? `open ${file}: no such file or directory` : undefined
    try {
      if (text !== undefined) parse(text)
    } catch (e) {
      problem = (e as Error).message.split('\n')[0]
    }
    if (problem !== undefined) warn(`containerd: failed to load TOML: ${file}: ${problem}`)
    else io.out(text!)
    return problem === undefined ? 0 : 1
  }
  const [a, b] = argv
  if (a === '--version' || a === '-v' || a === 'version') {
    const module = major === 2 ? 'github.com/containerd/containerd/v2' : 'github.com/containerd/containerd'
    say(`containerd ${module} v${upstream} ${COMMITS[upstream] ?? '0000000000000000000000000000000000000000'}`)
    return 0
  }
  if (a === 'config' && b === 'default' && argv.length === 2) {
    io.out(major === 2 ? DEFAULT_CONFIG_V3 : DEFAULT_CONFIG_V2)
    return 0
  }
  if (a === 'config') {
    warn(`zxlab stand-in: containerd config ${b ?? ''} is not modelled (config default is)`)
    return 1
  }
  if (a === undefined || a.startsWith('-')) {
    warn('zxlab stand-in: the containerd daemon runs only as the containerd unit (systemctl start containerd)')
    return 1
  }
  warn(`containerd: No help topic for '${a}'`)
  return 3
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
