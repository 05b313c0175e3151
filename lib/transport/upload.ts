// Uploading a file in one round trip: the content goes on stdin to a script that compares the
// content (its SHA-256, or byte for byte in bash: currentContent), mode and owner first and only
// writes (to a temporary name, then rename) when they differ. Pure: builds the script and reads its answer.
import { createHash } from 'node:crypto'
import { quote } from './shell.ts'

export type UploadSpec = {
  dest: string
  content: Buffer
  mode: string // octal, e.g. '644'
  owner?: string
  group?: string
  /** only report what would happen (--check) */
  dryRun: boolean
  /** also send back the current content, base64, when it differs (--diff) */
  wantOld: boolean
  /** make a missing parent folder with this mode (octal) before writing; else a missing one is an error */
  dirMode?: string
  /** a command that checks the new content before it replaces the file, `%s` standing for it (Ansible's validate) */
  validate?: string
}

export type UploadAnswer = { state: 'same' | 'differs'; existed: boolean; old?: Buffer }

export function normalizeMode(mode: string | number | undefined, fallback = '644'): string {
  const m = mode === undefined ? fallback : typeof mode === 'number' ? mode.toString(8) : mode
  if (!/^0?[0-7]{3,4}$/.test(m)) throw new TypeError(`mode '${mode}' is not an octal file mode like '0644'`)
  return String(parseInt(m, 8).toString(8))
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

export function uploadScript(s: UploadSpec): string {
  // stat prints 644, not 0644: compare (and chmod) in that form, whatever the caller passed.
  if (!/^[0-7]{1,5}$/.test(s.mode)) throw new TypeError(`mode '${s.mode}' is not an octal file mode like '0644'`)
  // A relative name would depend on the login folder, and one starting with '-' is an option to mktemp and mv.
  if (!s.dest.startsWith('/')) throw new TypeError(`upload destination '${s.dest}' is not an absolute path (expected one starting with /)`)
  if (s.dirMode !== undefined && !/^[0-7]{1,5}$/.test(s.dirMode)) throw new TypeError(`mode '${s.dirMode}' is not an octal folder mode like '0755'`)
  if (s.validate !== undefined && !s.validate.includes('%s')) throw new TypeError(`validate command '${s.validate}' has no %s (where the new file's name goes)`)
  const mode = s.mode.replace(/^0+(?=.)/, '')
  const want = `${mode}${s.owner ? ` ${s.owner}` : ''}${s.group ? `:${s.group}` : ''}`
  const fmt = `%a${s.owner ? ' %U' : ''}${s.group ? ':%G' : ''}`
  const hash = sha256(s.content)
  return [
    `d=${quote(s.dest)}`,
    `cur=; meta=; existed=0`,
    // mv onto a folder would move the file into it, and report a change on every run.
    `if [ -d "$d" ] && [ ! -L "$d" ]; then echo "$d is a directory" >&2; exit 1; fi`,
    // A symlink is replaced by the file (mv renames over the link): its target is never read, not even for --diff.
    `if [ -L "$d" ]; then existed=1; cur=link; elif [ -f "$d" ]; then existed=1; ${currentContent(s.content, hash)}; meta=$(stat -c ${quote(fmt)} -- "$d"); fi`,
    `if [ "$cur" = ${hash} ] && [ "$meta" = ${quote(want)} ]; then echo "same $existed"; exit 0; fi`,
    `echo "differs $existed"`,
    s.wantOld ? `if [ "$existed" = 1 ] && [ "$cur" != link ]; then base64 -w0 < "$d"; echo; fi` : '',
    s.dryRun
      ? 'exit 0'
      : [
          // the folder in the same round trip: a converged host pays nothing for it
          s.dirMode !== undefined ? `dir=$(dirname -- "$d"); [ -d "$dir" ] || mkdir -p -m ${s.dirMode} -- "$dir"` : '',
          `tmp=; trap '[ -z "$tmp" ] || rm -f -- "$tmp"' EXIT`,
          `tmp=$(mktemp -- "$(dirname -- "$d")/.zxplay.XXXXXX")`,
          `cat > "$tmp"`,
          // stdin ends early when the connection drops (sshd, or a killed local runner): never install a cut file.
          // The temp file goes first, before any output that could fail on a closed stream.
          `got=$(sha256sum < "$tmp"); got=\${got%% *}`,
          `if [ "$got" != ${hash} ]; then size=$(stat -c %s -- "$tmp"); rm -f -- "$tmp"; echo "the content arrived incomplete ($size of ${s.content.length} bytes): $d was left as it was" >&2; exit 1; fi`,
          `chmod ${mode} -- "$tmp"`,
          s.owner || s.group ? `chown -- ${quote(`${s.owner ?? ''}${s.group ? `:${s.group}` : ''}`)} "$tmp"` : '',
          // checked as it will be (content, mode, owner), and only then put in place
          s.validate !== undefined
            ? `if ! out=$( { ${s.validate.replaceAll('%s', '"$tmp"')} ; } 2>&1 ); then echo "$d was left as it was: the new content failed its check "${quote(s.validate)}": $(printf '%s' "$out" | tail -c 2000)" >&2; exit 1; fi`
            : '',
          `mv -fT -- "$tmp" "$d"`,
          `trap - EXIT`,
        ].join('\n'),
  ].join('\n')
}

/** Content bash compares itself: short, and without a NUL (a bash string cannot hold one). */
const BASH_COMPARE_MAX = 64 * 1024

/**
 * What sets `cur` to the file's SHA-256. Where the content came as a file (the persistent shell's
 * input; not a pipe, as over a channel) and bash can hold it, bash compares the two byte for byte,
 * and a converged upload starts no sha256sum: the file's `read` stops at a NUL only if it has one,
 * which the content has not, and the content is read through /dev/stdin, a new open of that file,
 * so `cat` below still gets it from the start.
 */
function currentContent(content: Buffer, hash: string): string {
  const hashed = 'cur=$(sha256sum < "$d"); cur=${cur%% *}'
  if (content.length > BASH_COMPARE_MAX || content.includes(0)) return hashed
  const same = `{ local LC_ALL=C have want; if IFS= read -r -d '' have < "$d"; then return 1; fi; IFS= read -r -d '' want < /dev/stdin || :; [ "$have" = "$want" ]; }`
  return `zxplay_same() ${same}; if [ -f /dev/stdin ] && [ -r "$d" ]; then if zxplay_same; then cur=${hash}; else cur=other; fi; else ${hashed}; fi`
}

export function parseUploadAnswer(stdout: string): UploadAnswer {
  const [head = '', ...rest] = stdout.split('\n')
  const [state, existed] = head.split(' ')
  if (state !== 'same' && state !== 'differs') throw new Error(`unexpected answer from the upload script: ${head}`)
  // With wantOld, an existing file's content follows as one base64 line: an empty line for an empty file.
  const old = rest.length > 1 ? Buffer.from(rest[0] ?? '', 'base64') : undefined
  return { state, existed: existed === '1', old }
}
