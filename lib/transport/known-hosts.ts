// known_hosts: parse OpenSSH's format (plain, [host]:port, wildcards, negation, hashed |1|…)
// and decide whether a host key is known, unknown or changed. Pure except read/append of the file.
import { createHash, createHmac } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export type KnownHost = { file: string; line: number; marker?: string; patterns: string[]; type: string; key: string }
export type Verdict = { status: 'known' } | { status: 'unknown' } | { status: 'changed'; known: KnownHost[] } | { status: 'revoked'; known: KnownHost }

export function parseKnownHosts(text: string, file: string): KnownHost[] {
  const out: KnownHost[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const parts = line.split(/\s+/)
    const marker = parts[0]?.startsWith('@') ? parts.shift() : undefined
    const [hosts, type, key] = parts
    if (!hosts || !type || !key) return
    out.push({ file, line: i + 1, marker, patterns: hosts.split(','), type, key })
  })
  return out
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${re}$`, 'i')
}

function matchOne(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|')
    if (!salt || !hash) return false
    // OpenSSH hashes host names lowercased (as it matches plain ones case-insensitively).
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name.toLowerCase()).digest('base64')
    return mac === hash
  }
  return globToRegExp(pattern).test(name)
}

export function matches(entry: KnownHost, name: string): boolean {
  let hit = false
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (matchOne(p.slice(1), name)) return false
    } else if (matchOne(p, name)) hit = true
  }
  return hit
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyType(blob: Buffer): string {
  const n = blob.readUInt32BE(0)
  return blob.subarray(4, 4 + n).toString()
}

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

export function verify(entries: KnownHost[], names: string[], blob: Buffer): Verdict {
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && names.some((n) => matches(e, n)))
  const b64 = blob.toString('base64')
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key === b64)
  if (revoked) return { status: 'revoked', known: revoked }
  const plain = mine.filter((e) => !e.marker)
  if (plain.some((e) => e.key === b64)) return { status: 'known' }
  const type = keyType(blob)
  const sameType = plain.filter((e) => e.type === type)
  if (sameType.length) return { status: 'changed', known: sameType }
  return plain.length ? { status: 'changed', known: plain } : { status: 'unknown' }
}

/** Host key algorithms to offer, so the server presents a key of a type we already know (as OpenSSH does). */
export function knownAlgorithms(entries: KnownHost[], names: string[]): string[] {
  const types = new Set(entries.filter((e) => !e.marker && names.some((n) => matches(e, n))).map((e) => e.type))
  return [...types].flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]))
}

export function readKnownHosts(files: string[]): KnownHost[] {
  return files.flatMap((f) => {
    try {
      return parseKnownHosts(fs.readFileSync(f, 'utf8'), f)
    } catch {
      return []
    }
  })
}

export function appendKnownHost(file: string, name: string, blob: Buffer): void {
  // Like ssh: create ~/.ssh if needed, and never glue the entry to a last line that has no newline.
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const last = fs.existsSync(file) ? fs.readFileSync(file).at(-1) : undefined
  const sep = last !== undefined && last !== 0x0a ? '\n' : ''
  fs.appendFileSync(file, `${sep}${name} ${keyType(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 })
}
