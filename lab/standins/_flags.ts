// pflag/cobra-style argument parsing, with cobra's error wording: --a=b, --a b, -a b, -ab,
// bool flags (--x, --x=false), repeatable and comma-separated slices, flags anywhere, "--".
export type FlagSpec = {
  name: string
  short?: string
  type: 'bool' | 'string' | 'int' | 'slice' | 'array'
  /** default for 'string' */
  def?: string
  /** `-w` style bool that may also take =value ("--watch=false"). */
  noOptDefault?: string
}

export type Parsed = {
  args: string[]
  flags: Map<string, string | boolean | string[]>
  /** flag names in the order they were given */
  given: string[]
}

export class FlagError extends Error {}

export function parseFlags(argv: string[], specs: FlagSpec[]): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]))
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]))
  const flags = new Map<string, string | boolean | string[]>()
  const given: string[] = []
  const args: string[] = []
  const set = (spec: FlagSpec, value: string | undefined, display: string) => {
    given.push(spec.name)
    if (spec.type === 'bool') {
      const v = value ?? 'true'
      if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(v)) {
        throw new FlagError(`invalid argument ${JSON.stringify(v)} for "${display}" flag: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`)
      }
      flags.set(spec.name, ['true', '1', 't', 'TRUE', 'True'].includes(v))
      return
    }
    const val = value as string
    if (spec.type === 'int' && !/^-?\d+$/.test(val)) {
      throw new FlagError(`invalid argument ${JSON.stringify(val)} for "${display}" flag: strconv.ParseInt: parsing ${JSON.stringify(val)}: invalid syntax`)
    }
    if (spec.type === 'slice' || spec.type === 'array') {
      const prev = (flags.get(spec.name) as string[] | undefined) ?? []
      const parts = spec.type === 'slice' ? (val === '' ? [] : val.split(',')) : [val]
      flags.set(spec.name, [...prev, ...parts])
      return
    }
    flags.set(spec.name, val)
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') {
      args.push(...argv.slice(i + 1))
      break
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=')
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2)
      const spec = byName.get(name)
      if (!spec) throw new FlagError(`unknown flag: --${name}`)
      if (eq >= 0) set(spec, a.slice(eq + 1), `--${name}`)
      else if (spec.type === 'bool') set(spec, undefined, `--${name}`)
      else {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`)
        set(spec, argv[++i], `--${name}`)
      }
      continue
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j] as string
        const spec = byShort.get(c)
        if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`)
        const display = `-${c}, --${spec.name}`
        if (spec.type === 'bool') {
          if (a[j + 1] === '=') {
            set(spec, a.slice(j + 2), display)
            break
          }
          set(spec, undefined, display)
          continue
        }
        const rest = a.slice(j + 1)
        if (rest) set(spec, rest.startsWith('=') ? rest.slice(1) : rest, display)
        else {
          if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: '${c}' in -${c}`)
          set(spec, argv[++i], display)
        }
        break
      }
      continue
    }
    args.push(a)
  }
  return { args, flags, given }
}

export const flagStr = (p: Parsed, name: string): string | undefined => {
  const v = p.flags.get(name)
  return typeof v === 'string' ? v : undefined
}
export const flagBool = (p: Parsed, name: string): boolean => p.flags.get(name) === true
export const flagList = (p: Parsed, name: string): string[] => {
  const v = p.flags.get(name)
  return Array.isArray(v) ? v : []
}
export const has = (p: Parsed, name: string) => p.flags.has(name)
