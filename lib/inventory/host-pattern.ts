// Host names as Ansible reads them in an inventory: `www[01:50:2].example.com`, `db-[a:f]`,
// `host:5309`, `[2001:db8::1]:2222` (ansible/parsing/utils/addresses.py and expand_hostname_range).
// Pure.

const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
const V6 = `(?:[0-9a-f]{1,4}|${HEX_RANGE})`
const V4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`
const LABEL = String.raw`(?:[\p{L}\p{N}_]|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/
const IPV4 = new RegExp(`^(?:${V4}\\.){3}${V4}$`, 'i')
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${V6}:){7}${V6}`,
      `(?:${V6}:){1,6}:`,
      `(?:${V6}:)(?::${V6}){1,6}`,
      `(?:${V6}:){2}(?::${V6}){1,5}`,
      `(?:${V6}:){3}(?::${V6}){1,4}`,
      `(?:${V6}:){4}(?::${V6}){1,3}`,
      `(?:${V6}:){5}(?::${V6}){1,2}`,
      `(?:${V6}:){6}(?::${V6})`,
      `:(?::${V6}){1,6}`,
      `${V6}?::`,
      `(?:0:){6}(?:${V6}\\.){3}${V6}`,
      `::(?:ffff:)?(?:${V6}\\.){3}${V6}`,
      `(?:0:){5}ffff:(?:${V6}\\.){3}${V6}`,
    ].join('|') +
    ')$',
  'i'
)
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'iu')
// The common case in ASCII, a subset of HOSTNAME: it spares most runs compiling HOSTNAME and IPV6 (~15 ms)
const PLAIN_HOSTNAME = /^[a-z0-9_][a-z0-9_-]*(?<![_-])(?:\.[a-z0-9_][a-z0-9_-]*(?<![_-]))*$/i

/** Ansible's parse_address: the host part and the port, or undefined when it is no host identifier. */
export function parseAddress(text: string): { host: string; port?: number } | undefined {
  let address = text
  let port: number | undefined
  // Both forms are tried in turn, as Ansible does: '[h]:1:2' is first cut to '[h]:1', then to '[h]'.
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(address)
    if (m) {
      address = m[1]!
      port = Number(m[2])
    }
  }
  if (!PLAIN_HOSTNAME.test(address) && !IPV4.test(address) && !IPV6.test(address) && !HOSTNAME.test(address)) return undefined
  return port === undefined ? { host: address } : { host: address, port }
}

/** The names a host key stands for and its port; throws a message for a malformed range. */
export function expandHostPattern(pattern: string): { names: string[]; port?: number } {
  const parsed = parseAddress(pattern) ?? { host: pattern }
  const names = parsed.host.includes('[') ? expandRange(parsed.host) : [parsed.host]
  return parsed.port === undefined ? { names } : { names, port: parsed.port }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

function expandRange(line: string): string[] {
  const open = line.indexOf('[')
  const close = line.indexOf(']')
  const [head, range, tail] = close < open ? [line, '', ''] : [line.slice(0, open), line.slice(open + 1, close), line.slice(close + 1)]
  if (close < 0 || close < open || tail.includes('|')) throw new RangeError(`host range in '${line}' is not closed with ]`)
  const bounds = range.split(':')
  if (bounds.length !== 2 && bounds.length !== 3) throw new RangeError(`host range [${range}] must be begin:end or begin:end:step`)
  const [beg = '0', end = '', stepText = '1'] = bounds
  const begin = beg || '0'
  if (!end) throw new RangeError(`host range [${range}] must specify an end value`)
  const step = Number(stepText)
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`host range [${range}] needs a whole step ≥ 1`)
  let fill = (x: string | number) => String(x)
  if (begin[0] === '0' && begin.length > 1) {
    if (begin.length !== end.length) throw new RangeError(`host range [${range}] must have begin and end of the same length`)
    fill = (x) => String(x).padStart(begin.length, '0')
  }
  const seq: (string | number)[] = []
  const [ib, ie] = [LETTERS.indexOf(begin), LETTERS.indexOf(end)]
  if (begin.length === 1 && end.length === 1 && ib >= 0 && ie >= 0) {
    if (ib > ie) throw new RangeError(`host range [${range}] must have begin <= end`)
    for (let i = ib; i <= ie; i += step) seq.push(LETTERS[i]!)
  } else {
    if (!/^[0-9]+$/.test(begin) || !/^[0-9]+$/.test(end)) throw new RangeError(`host range [${range}] must be numbers or single letters`)
    for (let i = Number(begin); i <= Number(end); i += step) seq.push(i)
  }
  return seq.flatMap((x) => {
    const name = head + fill(x) + tail
    return name.includes('[') ? expandRange(name) : [name]
  })
}
