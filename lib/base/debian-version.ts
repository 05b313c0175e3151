// Debian's version order (dpkg --compare-versions, deb-version(7)): how apt ranks the revisions a
// repository offers. Pure.

/** apt's and dpkg's version comparison (Debian policy: epoch, upstream, revision). */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const colon = v.indexOf(':')
    const epoch = colon >= 0 ? Number(v.slice(0, colon)) : 0
    const rest = colon >= 0 ? v.slice(colon + 1) : v
    const dash = rest.lastIndexOf('-')
    return { epoch, upstream: dash >= 0 ? rest.slice(0, dash) : rest, revision: dash >= 0 ? rest.slice(dash + 1) : '0' }
  }
  const order = (c: string) => (c === '~' ? -1 : c === '' ? 0 : /[A-Za-z]/.test(c) ? c.charCodeAt(0) : c.charCodeAt(0) + 256)
  const part = (x: string, y: string): number => {
    let i = 0
    let j = 0
    while (i < x.length || j < y.length) {
      // non-digits
      while ((i < x.length && !/\d/.test(x[i]!)) || (j < y.length && !/\d/.test(y[j]!))) {
        const cx = i < x.length && !/\d/.test(x[i]!) ? x[i]! : ''
        const cy = j < y.length && !/\d/.test(y[j]!) ? y[j]! : ''
        if (order(cx) !== order(cy)) return order(cx) - order(cy)
        if (cx) i++
        if (cy) j++
        if (!cx && !cy) break
      }
      let nx = ''
      let ny = ''
      while (i < x.length && /\d/.test(x[i]!)) nx += x[i++]
      while (j < y.length && /\d/.test(y[j]!)) ny += y[j++]
      const d = Number(nx || 0) - Number(ny || 0)
      if (d) return d
    }
    return 0
  }
  const x = split(a)
  const y = split(b)
  return x.epoch - y.epoch || part(x.upstream, y.upstream) || part(x.revision, y.revision)
}
