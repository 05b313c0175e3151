// curl stand-in, offline: only the URLs in KNOWN answer (the pkgs.k8s.io release keys, served from
// fixtures/); every other host fails to resolve as it does without a network. Supports the
// flags install scripts use: -f -s -S -L (and clusters like -fsSL), -o FILE, -O, --retry N…
import fs from 'node:fs'
import path from 'node:path'
import { K8S_MINORS, releaseKeyArmored } from './_apt.ts'
import { p } from './_fs.ts'
import { io, isEntry, warn } from './_io.ts'

type Answer = { status: number; body: () => Buffer }

/** What the offline internet serves. */
function lookup(url: URL): Answer | undefined {
  if (url.host !== 'pkgs.k8s.io') return undefined
  const m = /^\/core:\/stable:\/v1\.(\d+)\/(deb\/Release\.key|rpm\/repodata\/repomd\.xml\.key)$/.exec(url.pathname)
  const minor = Number(m?.[1])
  if (m && minor >= K8S_MINORS.first && minor <= K8S_MINORS.last) return { status: 200, body: () => Buffer.from(releaseKeyArmored()) }
  return { status: 404, body: () => Buffer.from('<html><body><h1>404 Not Found</h1></body></html>\n') }
}

const TAKES_VALUE = new Set(['o', 'output', 'retry', 'retry-delay', 'retry-max-time', 'connect-timeout', 'm', 'max-time', 'H', 'header', 'A', 'user-agent', 'w', 'write-out', 'u', 'user', 'X', 'request', 'd', 'data', 'proto', 'proto-redir', 'cacert', 'e', 'referer'])
const FLAGS = new Set(['f', 'fail', 's', 'silent', 'S', 'show-error', 'L', 'location', 'O', 'remote-name', 'k', 'insecure', 'v', 'verbose', 'q', 'disable', 'fail-with-body', 'compressed', 'retry-connrefused', 'retry-all-errors', 'tlsv1.2', 'http1.1', 'http2', 'no-progress-meter', 'show-headers', 'i', 'include', 'I', 'head', 'g', 'globoff', '#', 'progress-bar'])

export async function main(argv: string[]): Promise<number> {
  const o = { fail: false, silent: false, showError: false, output: undefined as string | undefined, remoteName: false }
  const urls: string[] = []
  const unknown = (opt: string) => {
    warn(`curl: option ${opt}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information`)
    return 2
  }
  const set = (name: string, value?: string) => {
    if (name === 'f' || name === 'fail' || name === 'fail-with-body') o.fail = true
    else if (name === 's' || name === 'silent') o.silent = true
    else if (name === 'S' || name === 'show-error') o.showError = true
    else if (name === 'O' || name === 'remote-name') o.remoteName = true
    else if (name === 'o' || name === 'output') o.output = value
    else if (name === 'retry' && !/^\d+$/.test(value ?? '')) return false
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a.startsWith('--') && a.length > 2) {
      const [name, inline] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), undefined]
      if (TAKES_VALUE.has(name)) {
        const value = inline ?? argv[++i]
        if (value === undefined) {
          warn(`curl: option ${a}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information`)
          return 2
        }
        if (set(name, value) === false) {
          warn(`curl: option ${a}: expected a proper numerical parameter\ncurl: try 'curl --help' or 'curl --manual' for more information`)
          return 2
        }
      } else if (FLAGS.has(name)) set(name)
      else return unknown(a)
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!
        if (TAKES_VALUE.has(c)) {
          const value = j < a.length - 1 ? a.slice(j + 1) : argv[++i]
          if (value === undefined) {
            warn(`curl: option -${c}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information`)
            return 2
          }
          set(c, value)
          break
        } else if (FLAGS.has(c)) set(c)
        else return unknown(`-${c}`)
      }
    } else urls.push(a)
  }
  if (!urls.length) {
    warn("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information")
    return 2
  }
  const showErr = !o.silent || o.showError
  let code = 0
  for (const raw of urls) {
    let url: URL
    try {
      url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`)
    } catch {
      if (showErr) warn(`curl: (3) URL rejected: Malformed input to a URL function`)
      code = 3
      continue
    }
    const answer = lookup(url)
    if (!answer) {
      if (showErr) warn(`curl: (6) Could not resolve host: ${url.hostname}`)
      code = 6
      continue
    }
    if (answer.status >= 400 && o.fail) {
      if (showErr) warn(`curl: (22) The requested URL returned error: ${answer.status}`)
      code = 22
      continue
    }
    const body = answer.body()
    const dest = o.output ?? (o.remoteName ? path.posix.basename(url.pathname) : undefined)
    if (dest === undefined || dest === '-') {
      io.out(body)
      continue
    }
    try {
      const abs = path.posix.resolve(io.cwd(), dest)
      fs.writeFileSync(p(abs), body)
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code
      if (showErr) warn(c === 'ENOENT' ? `Warning: Failed to open the file ${dest}: No such file or directory\ncurl: (23) Failure writing output to destination` : `Warning: Failed to open the file ${dest}: Permission denied\ncurl: (23) Failure writing output to destination`)
      code = 23
    }
  }
  return code
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
