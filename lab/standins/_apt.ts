// The package side of the OS stand-ins: what apt can install (a fixed catalogue, plus the
// pkgs.k8s.io repository when it is configured, signed and fetched), the sources files and their
// keyrings, and the OpenPGP key the offline pkgs.k8s.io serves.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { p } from './_fs.ts'
import { selfDir } from './_io.ts'
import type { NodeState } from './_node.ts'
import { compareVersions } from './_os.ts'

export type Offer = {
  versions: string[] // newest last
  deps: string[]
  description: string
  kb: number // download size
  origin: string // where apt says it comes from (the start of its Get: line)
}

const DEBIAN = 'http://deb.debian.org/debian bookworm/main amd64'
const base = (versions: string[], description: string, kb: number, deps: string[] = []): Offer => ({
  versions,
  deps,
  description,
  kb,
  origin: DEBIAN,
})

/** Packages every node can install without extra repositories. */
export const BASE_PACKAGES: Record<string, Offer> = {
  'apt-transport-https': base(['2.6.1'], 'transitional package for https support', 25),
  'ca-certificates': base(['20230311+deb12u1'], 'Common CA certificates', 153),
  curl: base(['7.88.1-10+deb12u14'], 'command line tool for transferring data with URL syntax', 315),
  gpg: base(['2.2.40-1.1'], 'GNU Privacy Guard -- minimalist public key operations', 949),
  gnupg: base(['2.2.40-1.1'], 'GNU privacy guard - a free PGP replacement', 846, ['gpg']),
  // 1.x is offered too, to test the `version = 2` config layout: containerd=1.7.24-1
  containerd: base(['1.7.24-1', '2.2.1-1'], 'open and reliable container runtime', 27_400, ['runc']),
  runc: base(['1.3.4-1'], 'Open Container Project - runtime', 3_110),
  conntrack: base(['1:1.4.7-1+b2'], 'Program to modify the conntrack tables', 35),
  socat: base(['1.7.4.4-2'], 'multipurpose relay for bidirectional data transfer', 375),
  ebtables: base(['2.0.11-5'], 'Ethernet bridge frame table administration', 85),
  ethtool: base(['1:6.1-1'], 'display or change Ethernet device settings', 197),
  iptables: base(['1.8.9-2'], 'administration tools for packet filtering and NAT', 379),
}

/** The pkgs.k8s.io minors that exist (one repository each). */
export const K8S_MINORS = { first: 24, last: 36 }
/** Patch releases each minor's repository offers: 1.XX.0 … 1.XX.4, each as one build revision. */
export const K8S_PATCHES = 5
/**
 * Releases the repository publishes under a later build revision only, as pkgs.k8s.io does (its
 * v1.36 listing has 1.36.2 only as 1.36.2-2.1); every other patch is -1.1.
 */
export const K8S_REBUILDS: Record<string, string> = { '1.36.2': '2.1' }

export function k8sPackages(minor: number, origin: string): Record<string, Offer> {
  const kube = Array.from({ length: K8S_PATCHES }, (_, i) => `1.${minor}.${i}`).map((v) => `${v}-${K8S_REBUILDS[v] ?? '1.1'}`)
  const offer = (versions: string[], description: string, kb: number, deps: string[] = []): Offer => ({
    versions,
    deps,
    description,
    kb,
    origin,
  })
  return {
    kubelet: offer(kube, 'Node agent for Kubernetes clusters', 15_200, ['conntrack', 'ebtables', 'ethtool', 'iptables', 'kubernetes-cni', 'socat']),
    kubeadm: offer(kube, 'Command-line utility for administering a Kubernetes cluster', 12_100, ['cri-tools', 'kubernetes-cni']),
    kubectl: offer(kube, 'Command-line utility for interacting with a Kubernetes cluster', 11_300),
    'cri-tools': offer([`1.${minor}.0-1.1`], 'Command-line utility for interacting with a container runtime', 17_400),
    'kubernetes-cni': offer([minor >= 33 ? '1.7.1-1.1' : '1.4.0-1.1'], 'Binaries required to provision kubernetes container networking', 37_800),
  }
}

// ---------------------------------------------------------------------------
// Sources

export type Source = {
  file: string // as the node sees it, e.g. /etc/apt/sources.list.d/kubernetes.list
  line: number // entry number (one-line format: line number; deb822: stanza number)
  uri: string // normalised: ends with /
  suite: string
  components: string[]
  signedBy?: string // a keyring path, or an inline armored key (deb822)
}

export const SOURCES_DIR = '/etc/apt/sources.list.d'

/** Every `deb` entry in /etc/apt/sources.list.d (*.list and *.sources); errors are apt's E: lines. */
export function readSources(): { sources: Source[]; errors: string[] } {
  const sources: Source[] = []
  const errors: string[] = []
  let names: string[] = []
  try {
    names = fs.readdirSync(p(SOURCES_DIR)).sort()
  } catch {
    // no directory: no sources
  }
  for (const name of names) {
    const file = path.posix.join(SOURCES_DIR, name)
    if (name.endsWith('.list')) parseList(file, fs.readFileSync(p(file), 'utf8'), sources, errors)
    else if (name.endsWith('.sources')) parseDeb822(file, fs.readFileSync(p(file), 'utf8'), sources, errors)
    else if (!/\.(disabled|save|bak|distUpgrade|dpkg-\w+)$|~$/.test(name)) {
      errors.push(`N: Ignoring file '${name}' in directory '${SOURCES_DIR}/' as it has an invalid filename extension`)
    }
  }
  // one repository, two keyrings: apt refuses the whole list
  const seen = new Map<string, Source>()
  for (const s of sources) {
    const key = `${s.uri} ${s.suite}`
    const prev = seen.get(key)
    if (prev && (prev.signedBy ?? '') !== (s.signedBy ?? '')) {
      errors.push(`E: Conflicting values set for option Signed-By regarding source ${s.uri} ${s.suite}: ${prev.signedBy ?? ''} != ${s.signedBy ?? ''}`)
    }
    seen.set(key, s)
  }
  return { sources, errors }
}

const normUri = (u: string) => (u.endsWith('/') ? u : u + '/')

function parseList(file: string, text: string, out: Source[], errors: string[]) {
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim()
    if (!line) return
    const n = i + 1
    const m = /^(\S+)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(line)
    const type = m?.[1] ?? ''
    if (type !== 'deb' && type !== 'deb-src') {
      errors.push(`E: Type '${type}' is not known on line ${n} in source list ${file}`)
      return
    }
    const options = new Map<string, string>()
    for (const o of (m?.[2] ?? '').split(/\s+/).filter(Boolean)) {
      const eq = o.indexOf('=')
      if (eq < 0) {
        errors.push(`E: Malformed entry ${n} in list file ${file} ([option] no value)`)
        return
      }
      options.set(o.slice(0, eq), o.slice(eq + 1))
    }
    const [uri, suite, ...components] = (m?.[3] ?? '').split(/\s+/).filter(Boolean)
    if (!uri) return void errors.push(`E: Malformed entry ${n} in list file ${file} (URI)`)
    if (!suite) return void errors.push(`E: Malformed entry ${n} in list file ${file} (Suite)`)
    if (suite.endsWith('/') && components.length) {
      return void errors.push(`E: Malformed entry ${n} in list file ${file} (absolute Suite Component)`)
    }
    if (!suite.endsWith('/') && !components.length) {
      return void errors.push(`E: Malformed entry ${n} in list file ${file} (Component)`)
    }
    if (type === 'deb') out.push({ file, line: n, uri: normUri(uri), suite, components, signedBy: options.get('signed-by') })
  })
}

function parseDeb822(file: string, text: string, out: Source[], errors: string[]) {
  const stanzas = text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n')
    .split(/\n\s*\n/)
    .filter((s) => s.trim())
  stanzas.forEach((stanza, i) => {
    const fields = new Map<string, string>()
    let last = ''
    for (const l of stanza.split('\n')) {
      if (/^\s/.test(l) && last) fields.set(last, `${fields.get(last)}\n${l.trim() === '.' ? '' : l.trim()}`)
      else {
        const colon = l.indexOf(':')
        if (colon < 0) return void errors.push(`E: Malformed stanza ${i + 1} in source list ${file} (type)`)
        last = l.slice(0, colon).trim().toLowerCase()
        fields.set(last, l.slice(colon + 1).trim())
      }
    }
    if ((fields.get('enabled') ?? 'yes') === 'no') return
    const types = (fields.get('types') ?? '').split(/\s+/).filter(Boolean)
    if (!types.length) return void errors.push(`E: Malformed entry ${i + 1} in sources file ${file} (type)`)
    const uris = (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)
    const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean)
    const components = (fields.get('components') ?? '').split(/\s+/).filter(Boolean)
    if (!uris.length) return void errors.push(`E: Malformed entry ${i + 1} in sources file ${file} (URI)`)
    if (!suites.length) return void errors.push(`E: Malformed entry ${i + 1} in sources file ${file} (Suite)`)
    if (!types.includes('deb')) return
    for (const uri of uris) {
      for (const suite of suites) {
        if (suite.endsWith('/') && components.length) {
          return void errors.push(`E: Malformed entry ${i + 1} in sources file ${file} (absolute Suite Component)`)
        }
        if (!suite.endsWith('/') && !components.length) {
          return void errors.push(`E: Malformed entry ${i + 1} in sources file ${file} (Component)`)
        }
        out.push({ file, line: i + 1, uri: normUri(uri), suite, components, signedBy: fields.get('signed-by') })
      }
    }
  })
}

/** The minor of a pkgs.k8s.io repository URI (whether or not that minor exists), else undefined. */
export function k8sMinor(uri: string): number | undefined {
  const m = /^https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.(\d+)\/deb\/$/.exec(uri)
  return m ? Number(m[1]) : undefined
}

/** How apt names a source's index in its output: `URI SUITE` (a flat repository: `URI `). */
export const indexName = (s: Source) => (s.suite === '/' ? `${s.uri.replace(/\/$/, '')}  ` : `${s.uri} ${s.suite}`)

// ---------------------------------------------------------------------------
// Keys and keyrings

/** The armored public key pkgs.k8s.io serves here (a key made for the lab). */
export function releaseKeyArmored(): string {
  // fixtures/ is beside the sources, or beside the bundles (this code may be in their chunks/)
  const here = selfDir(import.meta.url)
  const dir = [here, path.dirname(here)].find((d) => fs.existsSync(path.join(d, 'fixtures'))) ?? here
  return fs.readFileSync(path.join(dir, 'fixtures/pkgs-k8s-io-release.key'), 'utf8')
}

/** gpg --dearmor: the base64 body of an armored block. */
export function dearmor(text: string): Buffer | undefined {
  const m = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/.exec(text)
  if (!m) return undefined
  const lines = m[1]!.split(/\r?\n/)
  const blank = lines.findIndex((l) => l.trim() === '')
  const body = lines.slice(blank + 1).filter((l) => l.trim() && !l.startsWith('='))
  return Buffer.from(body.join(''), 'base64')
}

/** The primary key packet (header + body) of a binary key, and its v4 key id. */
function primaryKey(bin: Buffer): { packet: Buffer; keyId: string } {
  const tag = bin[0]!
  let len: number
  let hdr: number
  if (tag & 0x40) {
    // new format
    const l0 = bin[1]!
    if (l0 < 192) [len, hdr] = [l0, 2]
    else if (l0 < 224) [len, hdr] = [((l0 - 192) << 8) + bin[2]! + 192, 3]
    else [len, hdr] = [bin.readUInt32BE(2), 6]
  } else {
    const lt = tag & 3
    if (lt === 0) [len, hdr] = [bin[1]!, 2]
    else if (lt === 1) [len, hdr] = [bin.readUInt16BE(1), 3]
    else [len, hdr] = [bin.readUInt32BE(1), 5]
  }
  const body = bin.subarray(hdr, hdr + len)
  const head = Buffer.from([0x99, (len >> 8) & 0xff, len & 0xff])
  const fpr = createHash('sha1').update(head).update(body).digest('hex').toUpperCase()
  return { packet: bin.subarray(0, hdr + len), keyId: fpr.slice(-16) }
}

export function releaseKey(): { packet: Buffer; keyId: string } {
  return primaryKey(dearmor(releaseKeyArmored())!)
}

/** Whether the keyring file holds the release key, or why apt ignores it (apt's W: text). */
export function checkKeyring(file: string, origin: string): { ok: boolean; warning?: string } {
  let st: fs.Stats
  let data: Buffer
  try {
    st = fs.statSync(p(file))
    data = fs.readFileSync(p(file))
  } catch {
    return { ok: false }
  }
  if (!(st.mode & 0o004)) {
    return { ok: false, warning: `W: ${origin}: The key(s) in the keyring ${file} are ignored as the file is not readable by user '_apt' executing apt-key.` }
  }
  const armored = data.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP')
  const binary = data.length > 0 && (data[0]! & 0x80) !== 0
  const asc = file.endsWith('.asc')
  if (data.length === 0 || (asc && !armored) || (!asc && !binary)) {
    return { ok: false, warning: `W: ${origin}: The key(s) in the keyring ${file} are ignored as the file has an unsupported filetype.` }
  }
  const bin = asc ? dearmor(data.toString('latin1')) : data
  return { ok: Boolean(bin && bin.includes(releaseKey().packet)) }
}

/** Keys apt trusts for a source without signed-by: /etc/apt/trusted.gpg.d/*.{gpg,asc}. */
function trustedKeyrings(): string[] {
  try {
    return fs
      .readdirSync(p('/etc/apt/trusted.gpg.d'))
      .filter((f) => /\.(gpg|asc)$/.test(f))
      .map((f) => `/etc/apt/trusted.gpg.d/${f}`)
  } catch {
    return []
  }
}

/** Verify a source's signature with its keyring(s): ok, plus apt's warnings. */
export function verifySource(s: Source): { ok: boolean; warnings: string[] } {
  const origin = `${s.uri}${s.suite === '/' ? '' : `dists/${s.suite}/`}InRelease`
  const warnings: string[] = []
  if (s.signedBy?.includes('BEGIN PGP')) {
    const bin = dearmor(s.signedBy)
    return { ok: Boolean(bin && bin.includes(releaseKey().packet)), warnings }
  }
  const files = s.signedBy ? s.signedBy.split(/[\s,]+/).filter(Boolean) : trustedKeyrings()
  let ok = false
  for (const f of files) {
    const r = checkKeyring(f, origin)
    if (r.warning) warnings.push(r.warning)
    ok ||= r.ok
  }
  return { ok, warnings }
}

// ---------------------------------------------------------------------------
// What apt can install now

/**
 * The catalogue apt sees: the base packages, plus each pkgs.k8s.io repository that is in the
 * sources now AND was fetched by the last `apt-get update` (apt builds its cache only from the
 * lists of configured sources).
 */
export function available(state: NodeState): Map<string, Offer> {
  const out = new Map<string, Offer>(Object.entries(BASE_PACKAGES))
  const fetched = new Set(state.lists?.repos ?? [])
  for (const s of readSources().sources) {
    const minor = k8sMinor(s.uri)
    if (minor === undefined || !fetched.has(s.uri)) continue
    for (const [name, offer] of Object.entries(k8sPackages(minor, `${s.uri.replace(/\/$/, '')} `))) {
      const prev = out.get(name)
      if (!prev) out.set(name, offer)
      else {
        const versions = [...new Set([...prev.versions, ...offer.versions])].sort(compareVersions)
        out.set(name, { ...prev, versions })
      }
    }
  }
  return out
}

export const candidate = (o: Offer) => o.versions[o.versions.length - 1]!
