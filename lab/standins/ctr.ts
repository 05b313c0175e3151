// ctr stand-in: `ctr [-n NS] images ls|list [-q]`, `images import FILE`, `images rm REF…`,
// `version`. Images live in node.json per namespace: the kubelet only sees namespace k8s.io.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { dialError, normalizeRef } from './_cri.ts'
import { p } from './_fs.ts'
import { io, isEntry, say, warn } from './_io.ts'
import { readState, writeState } from './_node.ts'
import type { Image } from './_node.ts'
import { requirePackage } from './_os.ts'

/** The files of a tar archive (enough for `docker save` and OCI layouts). */
function tarFiles(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  let off = 0
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512)
    if (h.every((b) => b === 0)) break
    const str = (a: number, b: number) => h.subarray(a, b).toString('utf8').replace(/\0.*$/s, '')
    const magic = str(257, 263)
    if (!magic.startsWith('ustar') && !/^[0-7 ]+$/.test(str(124, 136).trim() || 'x')) throw new Error('not a tar')
    const name = (magic.startsWith('ustar') && str(345, 500) ? `${str(345, 500)}/` : '') + str(0, 100)
    const size = parseInt(str(124, 136).trim() || '0', 8)
    if (!Number.isFinite(size)) throw new Error('not a tar')
    const type = str(156, 157)
    if (type === '0' || type === '') out.set(name.replace(/^\.\//, ''), buf.subarray(off + 512, off + 512 + size))
    off += 512 + Math.ceil(size / 512) * 512
  }
  return out
}

/** Image names in an archive: docker save's manifest.json RepoTags, or OCI index.json annotations. */
function imageRefs(files: Map<string, Buffer>): string[] {
  const manifest = files.get('manifest.json')
  if (manifest) {
    const list = JSON.parse(manifest.toString('utf8')) as { RepoTags?: string[] }[]
    return list.flatMap((m) => m.RepoTags ?? []).map(normalizeRef)
  }
  const index = files.get('index.json')
  if (index) {
    const idx = JSON.parse(index.toString('utf8')) as { manifests?: { annotations?: Record<string, string> }[] }
    return (idx.manifests ?? [])
      .map((m) => m.annotations?.['io.containerd.image.name'] ?? m.annotations?.['org.opencontainers.image.ref.name'])
      .filter((r): r is string => Boolean(r && /[:/]/.test(r)))
      .map(normalizeRef)
  }
  return []
}

export async function main(argv: string[]): Promise<number> {
  if (!requirePackage('ctr', 'containerd')) return 127
  let ns = process.env.CONTAINERD_NAMESPACE ?? 'default'
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '-n' || a === '--namespace') ns = argv[++i] ?? ''
    else if (a.startsWith('--namespace=')) ns = a.slice('--namespace='.length)
    else if (a === '-a' || a === '--address') i++
    else words.push(a)
  }
  const [group, cmd, ...rest] = words
  const state = readState()
  const version = state.packages.containerd!.version.replace(/-[^-]*$/, '')
  if (group === '--version' || group === '-v') {
    say(`ctr github.com/containerd/containerd${version.startsWith('1.') ? '' : '/v2'} v${version}`)
    return 0
  }
  if (group === 'version') say(`Client:\n  Version:  v${version}\n  Go version: go1.24.11\n`)
  const dial = dialError(state)
  if (dial) {
    warn(`ctr: failed to dial "/run/containerd/containerd.sock": connection error: desc = "transport: error while dialing: ${dial}"`)
    return 1
  }
  if (group === 'version') {
    say(`Server:\n  Version:  v${version}\n  UUID: ${createHash('sha256').update(version).digest('hex').slice(0, 8)}-zxlab`)
    return 0
  }
  if (group !== 'images' && group !== 'image' && group !== 'i') {
    warn(group === undefined ? 'zxlab stand-in: ctr needs a command (images ls|import|rm, version)' : `ctr: No help topic for '${group}'`)
    return group === undefined ? 1 : 3
  }
  const images = state.images ?? {}
  const mine = [...(images[ns] ?? [])]
  switch (cmd) {
    case 'ls':
    case 'list': {
      if (rest.includes('-q') || rest.includes('--quiet')) {
        for (const im of mine) say(im.ref)
        return 0
      }
      say('REF TYPE DIGEST SIZE PLATFORMS LABELS')
      for (const im of mine) say(`${im.ref} application/vnd.oci.image.manifest.v1+json ${im.digest} ${(im.size / 1048576).toFixed(1)} MiB linux/amd64 -`)
      return 0
    }
    case 'import': {
      const file = rest.filter((r) => !r.startsWith('-'))[0]
      if (!file) {
        warn('ctr: expected 1 argument: the tar archive (- for stdin)')
        return 1
      }
      let buf: Buffer
      try {
        buf = file === '-' ? io.stdin() : fs.readFileSync(p(path.posix.resolve(io.cwd(), file)))
      } catch {
        warn(`ctr: open ${file}: no such file or directory`)
        return 1
      }
      let refs: string[]
      try {
        refs = imageRefs(tarFiles(buf))
      } catch {
        warn('ctr: unrecognized image format')
        return 1
      }
      if (!refs.length) {
        warn('ctr: unrecognized image format')
        return 1
      }
      const digest = `sha256:${createHash('sha256').update(buf).digest('hex')}`
      for (const ref of refs) {
        say(`unpacking ${ref} (${digest})...done`)
        const im: Image = { ref, digest, size: buf.length }
        const i = mine.findIndex((m) => m.ref === ref)
        if (i >= 0) mine[i] = im
        else mine.push(im)
      }
      state.images = { ...images, [ns]: mine }
      writeState(state)
      return 0
    }
    case 'rm':
    case 'remove':
    case 'delete':
    case 'del': {
      let code = 0
      for (const ref of rest.filter((r) => !r.startsWith('-'))) {
        const i = mine.findIndex((m) => m.ref === ref)
        if (i < 0) {
          warn(`ctr: image "${ref}": not found`)
          code = 1
          continue
        }
        mine.splice(i, 1)
        say(ref)
      }
      state.images = { ...images, [ns]: mine }
      writeState(state)
      return code
    }
    default:
      warn(`zxlab stand-in: ctr images ${cmd ?? ''} is not modelled (ls, import, rm are)`)
      return 1
  }
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
