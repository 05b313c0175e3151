// Ensure-style operations (pyinfra's operations, Ansible's modules): each reads the host's state,
// compares it with what is wanted and changes only the difference. They change the host only
// through `$` and `upload`, so --check (planned, never run: the task reports it would change),
// --diff (with secrets hidden) and `changed` are decided there, once; nothing to do is said
// through `noop`, which becomes the task's ok reason. Commands only: no I/O of its own.
import { normalizeMode } from '../transport/upload.ts'
import { quote, raw } from '../transport/shell.ts'

/**
 * `apt-get update` with a few bounded tries, as Ansible's apt module retries its cache update
 * (update_cache_retries): a mirror or proxy can stall a fetch for good (apt 2.6 through the lab's
 * apt-cacher-ng once waited 14 minutes on an InRelease whose connection the proxy had closed).
 */
export const APT_UPDATE =
  'for __t in 1 2 3; do timeout -k 10 180 apt-get update -q && break; [ "$__t" != 3 ] || exit 1; echo "apt-get update: try $__t failed or stalled; trying again" >&2; sleep 5; done'

/** What an operation needs of the task context (its `$`, a read that never throws, upload). */
type Out = { ok: boolean; stdout: string; lines(): string[] }
type Cmd = (pieces: TemplateStringsArray, ...args: unknown[]) => Promise<Out>
export type FileOptions = {
  mode?: string | number
  owner?: string
  group?: string
  /** the content is a secret: never logged, its diff hidden */
  secret?: boolean
  become?: boolean
  /** the mode of the parent folder when it has to be made (default 0755) */
  dirMode?: string | number
  /** a command that must accept the new content before it replaces the file; `%s` is its temporary name (Ansible's validate) */
  validate?: string
}
export type OpsBase = {
  $: Cmd
  read: Cmd
  /** a read with this on its stdin */
  readWith: (input: string) => Cmd
  upload: (dest: string, content: string | Buffer, opts: FileOptions & { dirMode: string }) => Promise<boolean>
  noop: (reason: string) => void
  log: (text: string) => void
}

/** `ctx.ensure`: each returns true when it changed the host (or would, under --check). */
export type Ensure = {
  /** a file with this content, mode and owner; its folder made when missing (pyinfra's files.put, Ansible's copy) */
  file(path: string, content: string | Buffer, opts?: FileOptions): Promise<boolean>
  /** a folder (Ansible's file state=directory) */
  directory(path: string, opts?: { mode?: string | number }): Promise<boolean>
  /** no line of `file` matches `regexp` (ERE) unless rewritten by `replacement` (sed's, \1 for groups); a backup beside it (Ansible's replace) */
  replaced(file: string, regexp: string, replacement: string, opts?: { backup?: string }): Promise<boolean>
  /** Debian packages installed, at `version` when given (apt; pyinfra's apt.packages) */
  packages(names: readonly string[], opts?: { version?: string; update?: boolean }): Promise<boolean>
  /** Debian packages held against upgrades (apt-mark; Ansible's dpkg_selections) */
  held(names: readonly string[]): Promise<boolean>
  /** a systemd unit enabled and/or running (pyinfra's systemd.service) */
  service(name: string, want: { enabled?: boolean; running?: boolean }): Promise<boolean>
  /** kernel modules loaded now and listed in a modules-load.d file for boot (pyinfra's server.modprobe) */
  modules(names: readonly string[], opts: { file: string; comment: string }): Promise<boolean>
  /** sysctl settings persisted in a sysctl.d file and in effect (Ansible's sysctl, pyinfra's server.sysctl) */
  sysctl(values: Readonly<Record<string, string>>, opts: { file: string; comment: string }): Promise<boolean>
  /**
   * A Kubernetes manifest applied (Ansible's kubernetes.core.k8s): kept at `file` (0600, its folder
   * 0700) so a rerun compares; applied when that copy changes or an object in it is missing.
   * `kubectl` is the command line to use; `exists: true` when the caller has just seen every object.
   */
  manifest(file: string, manifest: string, opts: { kubectl: readonly string[]; exists?: boolean }): Promise<boolean>
}

export function createEnsure({ $, read, readWith, upload, noop, log }: OpsBase): Ensure {
  const ensure: Ensure = {
    async file(path, content, opts = {}) {
      const changed = await upload(path, content, { ...opts, dirMode: normalizeMode(opts.dirMode, '755') })
      if (!changed) noop(`${path} is current`)
      return changed
    },

    async directory(path, opts = {}) {
      if ((await read`[ -d ${path} ]`).ok) {
        noop(`${path} exists`)
        return false
      }
      await $`mkdir -p -m ${`0${normalizeMode(opts.mode, '755')}`} ${path}`
      return true
    },

    async replaced(file, regexp, replacement, opts = {}) {
      if (regexp.includes('|') || replacement.includes('|')) throw new TypeError(`ensure.replaced: '|' is sed's delimiter here, and '${regexp}' or '${replacement}' has one`)
      if (!(await read`grep -Eq ${regexp} ${file}`).ok) {
        noop(`no line of ${file} matches`)
        return false
      }
      await $`sed -Ei${opts.backup ?? '.zxplay-bak'} ${`s|${regexp}|${replacement}|`} ${file}`
      return true
    },

    async packages(names, opts = {}) {
      // one query for all (it exits 1 when one is missing, and still lists the others)
      const listed = await read`dpkg-query -W -f=${'${Package} ${Version}\n'} ${names}`
      const have = new Map(listed.lines().map((l) => l.split(' ') as [string, string]))
      const good = (n: string) => (opts.version ? have.get(n) === opts.version : !!have.get(n))
      if (names.every(good)) {
        noop(names.map((n) => `${n} ${have.get(n)}`).join(', '))
        return false
      }
      const spec = names.map((n) => (opts.version ? `${n}=${opts.version}` : n))
      if (opts.version) log(`installed: ${names.map((n) => `${n} ${have.get(n) || 'none'}`).join(', ')}; want ${opts.version}`)
      // a pinned version may be older than what is installed, or held: apt must be let change both
      const words = [...(opts.version ? ['--allow-change-held-packages', '--allow-downgrades'] : []), ...spec]
      const install = `DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${words.map(quote).join(' ')}`
      await $(raw(opts.update ? `${APT_UPDATE} && ${install}` : install))
      return true
    },

    async held(names) {
      const holds = (await read`apt-mark showhold`).lines()
      const loose = names.filter((p) => !holds.includes(p))
      if (!loose.length) {
        noop('held')
        return false
      }
      await $`apt-mark hold ${loose}`
      return true
    },

    async service(name, want) {
      const { enabled = false, running = false } = want
      if (!enabled && !running) throw new TypeError(`ensure.service(${name}): say enabled and/or running`)
      const is = enabled && running ? read`systemctl is-enabled --quiet ${name} && systemctl is-active --quiet ${name}` : enabled ? read`systemctl is-enabled --quiet ${name}` : read`systemctl is-active --quiet ${name}`
      if ((await is).ok) {
        noop([enabled && 'enabled', running && 'active'].filter(Boolean).join(', '))
        return false
      }
      if (enabled && running) await $`systemctl enable --now ${name}`
      else if (enabled) await $`systemctl enable ${name}`
      else await $`systemctl start ${name}`
      return true
    },

    async modules(names, opts) {
      const listedForBoot = await ensure.file(opts.file, `${opts.comment}\n${names.join('\n')}\n`, { mode: '0644' })
      // a module built into the kernel is never in lsmod (nor is there a /proc/modules without
      // loadable modules): modules.builtin counts too, or every run would modprobe again
      const listed = await read`{ lsmod || true; cat /lib/modules/"$(uname -r)"/modules.builtin || true; } 2>/dev/null`
      const loaded = listed.lines().map((l) => (l.split(/\s+/)[0] ?? '').replace(/^.*\//, '').replace(/\.ko$/, ''))
      const missing = names.filter((m) => !loaded.includes(m))
      if (!missing.length) {
        noop(`${names.join(' and ')} loaded`)
        return listedForBoot
      }
      await $`modprobe -a ${missing}`
      return true
    },

    async sysctl(values, opts) {
      const text = Object.entries(values).map(([k, v]) => `${k} = ${v}`).join('\n')
      const persisted = await ensure.file(opts.file, `${opts.comment}\n${text}\n`, { mode: '0644' })
      // unknown keys (a module not loaded yet) make sysctl exit 255 and print the others
      const current = (await read`sysctl -n ${Object.keys(values)}`).lines()
      if (Object.values(values).every((v, i) => current[i] === v)) {
        noop('in effect')
        return persisted
      }
      await $`sysctl -p ${opts.file}`
      return true
    },

    async manifest(file, manifest, { kubectl, exists = false }) {
      // A converged cluster answers in one round trip: the kept copy has this content (compared with
      // the manifest on stdin) and mode, and every object in it exists. Anything else takes the steps below.
      const kept = readWith(manifest)
      const same = exists
        ? kept`[ "$(stat -c %a ${file} 2>/dev/null)" = 600 ] && cmp -s - ${file}`
        : kept`[ "$(stat -c %a ${file} 2>/dev/null)" = 600 ] && cmp -s - ${file} && ${kubectl} get -f ${file} -o name >/dev/null`
      if ((await same).ok) {
        noop('unchanged')
        return false
      }
      const written = await upload(file, manifest, { mode: '0600', dirMode: '700' })
      if (!written && (await read`${kubectl} get -f ${file} -o name`).ok) {
        noop('unchanged')
        return false
      }
      await $`${kubectl} apply -f ${file}`
      return true
    },
  }
  return ensure
}
