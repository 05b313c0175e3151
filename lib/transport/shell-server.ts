// The host side of the persistent shell (persistent-shell.ts): one bash per host and privilege
// level that runs every task's command, so a command costs a round trip and one fork of that bash,
// not an SSH channel, sshd's session process and a login shell. Pure: the script and its protocol.
//
// Requests (client → channel stdin): a line `<script bytes> <input bytes> <limit ms> <how>`, the
// script, then, when the input is not empty, the input and a line `go`. <how> is `s` (a subshell, as
// below), `t` (the same, its input short text that bash reads itself; see textInput) or `i` (inline: a
// lone `test` the client vetted, run by the server itself; see inlineTest).
// Answers, on two streams, each framed so that no output can forge one:
//   channel stdout: `L<n>` then n raw bytes of the command's stdout, `o<base64…>` more of it
//                   (past the first KiB), `x<exit status>` its end (`X<exit status>`: the end
//                   of stderr too, for an inline command that wrote nothing there);
//   channel stderr: the same `L` and `o` frames for stderr, `.` its end;
//   `R<version> <pid>` once on each stream when the shell is ready.
// Per command the server forks once: the command, in a subshell in its own process group (job
// control), with the server's descriptors, variables and functions gone, so what it changes (cd,
// export, set, trap, ulimit) ends with it. Three helpers forked once per shell do the rest: a
// framer per stream, reading the command's output from a FIFO until its last writer closes it
// (bash reads the first KiB itself, a byte per read(2), and hands the rest to base64), and a
// watchdog that ends the command's group at its time limit (TERM, KILL 2 s later) or at once when
// the server is gone. A command that prints little starts no program; a builtin starts none at all.
// A TERM to the session (Ctrl-C) stops the command, which exits 143 (its EXIT trap runs, as over a
// channel, shell.ts); the server and its helpers ignore it. Bash's messages count the script's lines
// from where the server evals it, not from 1.

/** The protocol's version, in the ready line: a client and a server of different versions refuse each other. */
export const SERVER_VERSION = 4

/** The exit status the server reports for a command stopped at its time limit (timeout(1)'s). */
const TIMED_OUT = 124

/**
 * Whether the server may run `script` itself instead of forking for it: a single `test` or `[`
 * whose words are plain (no quoting, expansion, redirection, glob or separator), so that it can read
 * nothing of the server (no `-v` variables, `-o` options, `-t` descriptors) and change nothing.
 * Such a check (`test -d /etc`, `test -f /x -a -s /y`) then costs the host no process at all; its
 * error message, if any, comes back on stderr as from a subshell. Anything else gets the subshell.
 */
export function inlineTest(script: string): boolean {
  const words = script.split(' ')
  if (words[0] !== 'test' && !(words[0] === '[' && words.at(-1) === ']')) return false
  return words.slice(1, words[0] === '[' ? -1 : undefined).every((w) => /^[\w/.@:=!%+,-]+$/.test(w) && !/^-[vRot]$/.test(w))
}

/**
 * Whether the server may read a command's input itself rather than start `head` for it: bash cannot
 * hold a NUL, and reads a pipe a byte per read(2), cheaper than a program start up to a few KiB.
 * A converged upload or template check then starts one program fewer.
 */
const TEXT_INPUT_MAX = 8 * 1024
export const textInput = (input: Buffer): boolean => input.length <= TEXT_INPUT_MAX && !input.includes(0)

/** Bytes of a stream that bash frames itself before it hands the rest to base64 (one program start). */
const IN_BASH = 1024

export const SERVER_SCRIPT = [
  // fd 3 and 4: the frames; the shell's own messages (job notices) go nowhere
  'exec 3>&1 4>&2 >/dev/null 2>&1',
  // the FIFOs for the output and the input file: in memory where there is /dev/shm (an input may be a secret)
  '__zd=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d) || exit 1',
  'mkfifo -m 600 "$__zd/o" "$__zd/e" || { rm -rf -- "$__zd"; exit 1; }',
  // pipes between the server and its helpers: start/done to the watchdog (wq), the group it stopped
  // at its limit (wa), the exit status to the stdout framer (sp), and one nothing is ever written to
  // (`read -t` on it is a sleep that starts no program)
  'exec {__zwq}<> <(:) {__zwa}<> <(:) {__zsp}<> <(:) {__zblk}<> <(:)',
  '__zd_in=$__zd/in __zpid= __zhit=',
  // the server ($1: that process) is there, and not a zombie waiting for its parent (the helpers ask; $$ is the server's)
  '__zup() { local p=${1:-$$}; if [ -r /proc/$p/stat ]; then local _a _b s; read -r _a _b s _a < /proc/$p/stat && [ "$s" != Z ]; else kill -0 $p; fi; }',
  // a line from fd $1 within $2 s (0: got one; 1: end of file; >128: none yet). A line cut by the
  // timer is finished, not lost: read keeps what it read so far
  '__zrd() { local r m; IFS= read -r -t "$2" -u "$1" __zl; r=$?; [ $r -gt 128 ] && [ -n "$__zl" ] || return $r; IFS= read -r -u "$1" m; __zl=$__zl$m; }',
  // an inline command's stderr, as one frame (its length in bytes, whatever the locale)
  "__zie() { local LC_ALL=C __zl; IFS= read -r -d '' __zl <\"$__zd/ie\"; printf 'L%d\\n%s' ${#__zl} \"$__zl\" >&4; }",
  // a framer: $1 its stream's FIFO, $2 what ends a command's output (`x` + the status, or `.`)
  '__zfr() {',
  "  trap '' TERM; LC_ALL=C; local c n r",
  '  while __zup; do',
  // waits for the server to open the FIFO for the next command; fails (and exits) once it is removed
  '    exec 0<"$1" || exit 0',
  '    __zup || exit 0',
  '    n=0',
  // what came within 50 ms (output streams), or up to a NUL byte, until a KiB has come
  `    while [ $n -lt ${IN_BASH} ]; do`,
  `      c=; IFS= read -r -d '' -n ${IN_BASH} -t 0.05 c; r=$?`,
  `      if [ $r -eq 0 ] && [ \${#c} -lt ${IN_BASH} ]; then printf 'L%d\\n%s\\0' $((\${#c} + 1)) "$c"; n=$((n + 1))`,
  "      elif [ -n \"$c\" ]; then printf 'L%d\\n%s' \${#c} \"$c\"; fi",
  '      [ $r -eq 0 ] || [ $r -gt 128 ] || break',
  '      n=$((n + ${#c}))',
  '    done',
  "    if [ $r -ne 1 ]; then printf o; base64 -w 0; printf '\\n'; fi",
  // let go of the FIFO before the end frame: an open read end would let the server's next open
  // return before this framer has the new one, and the next command's output could be lost
  '    exec 0</dev/null',
  '    if [ "$2" = x ]; then',
  '      until __zrd "$__zsp" 1; do __zup || exit 0; done',
  "      printf 'x%s\\n' \"$__zl\"",
  "    else printf '.\\n'; fi",
  '  done',
  '}',
  // the watchdog: "<group> <limit ms>" starts a command's clock (0: no limit), "d" ends it; nothing
  // answers either. At the limit it writes the group to wa, then stops it. When the server is gone:
  // the command's group ends, the framers are let out of their FIFOs, the folder goes
  '__zwdog() {',
  "  trap '' TERM; local p ms l w t",
  '  while :; do',
  '    __zrd "$__zwq" 1; r=$?',
  '    if [ $r -eq 0 ]; then',
  '      p=${__zl% *} ms=${__zl#* }; l=$ms',
  '      while :; do',
  '        w=1000; [ "$ms" -eq 0 ] || [ "$l" -ge 1000 ] || w=$l',
  "        printf -v t '%d.%03d' $((w / 1000)) $((w % 1000))",
  '        __zrd "$__zwq" "$t" && break',
  '        __zup || { kill -TERM -- "-$p"; break 2; }',
  '        l=$((l - w))',
  '        if [ "$ms" -gt 0 ] && [ "$l" -le 0 ]; then',
  `          printf '%s\\n' "$p" >&"$__zwa"; kill -TERM -- "-$p"`,
  '          __zrd "$__zwq" 2 || { kill -KILL -- "-$p"; until __zrd "$__zwq" 1; do __zup || break 3; done; }',
  '          break',
  '        fi',
  '      done',
  '    elif [ $r -eq 1 ] || ! __zup; then p=; break',
  // a framer gone: the server may be waiting on its FIFO for good (a HUP ends it; it traps only TERM)
  "    elif ! __zup $__zf1 || ! __zup $__zf2; then kill -HUP $$; p=; break",
  '    fi',
  '  done',
  '  exec {__zfo}<>"$__zd/o" {__zfe}<>"$__zd/e"; rm -rf -- "$__zd"; exec {__zfo}>&- {__zfe}>&-',
  '  [ -z "$p" ] || { read -t 2 -u "$__zblk"; kill -KILL -- "-$p"; }',
  '}',
  '( exec 4>&- >&3 3>&-; __zfr "$__zd/o" x ) & __zf1=$!',
  '( exec 3>&- >&4 4>&-; __zfr "$__zd/e" . ) & __zf2=$!',
  '( exec 3>&- 4>&- </dev/null; __zwdog ) & __zwd=$!',
  // a TERM to the session (Ctrl-C: sshd signals the session's process group) stops the command, not the shell
  `trap '__zhit=1; [ -z "$__zpid" ] || kill -TERM -- "-$__zpid"' TERM`,
  `trap 'kill -KILL $__zf1 $__zf2 $__zwd; rm -rf -- "$__zd"' EXIT`,
  // job control from here on: each command is a job in its own process group, which its time limit ends whole
  'set -m',
  // ready, on both streams: what the login scripts printed before it is not a frame
  `printf 'R%s %s\\n' ${SERVER_VERSION} "$$" >&3`,
  `printf 'R%s %s\\n' ${SERVER_VERSION} "$$" >&4`,
  "while IFS=' ' read -r __zn __zin __zms __zhow; do",
  '  LC_ALL=C read -r -N "$__zn" __zs || break',
  // inline (inlineTest): no fork, no framer, no watchdog; its stderr through a file, framed here
  '  if [ "$__zhow" = i ]; then',
  '    eval "$__zs" 2>"$__zd/ie" && __zst=0 || __zst=$?',
  '    if [ -s "$__zd/ie" ]; then __zie; printf \'x%s\\n\' "$__zst" >&3; printf \'.\\n\' >&4',
  // nothing on stderr: one frame ends both streams, one packet on the wire instead of two
  "    else printf 'X%s\\n' \"$__zst\" >&3; fi",
  '    continue',
  '  fi',
  '  __zio=/dev/null',
  '  if [ "$__zin" -gt 0 ]; then',
  // the whole input first, then `go`: a connection cut during the input runs nothing
  '    if [ "$__zhow" = t ]; then LC_ALL=C read -r -N "$__zin" __zx || break; printf %s "$__zx" >"$__zd_in"; __zx=',
  '    else head -c "$__zin" >"$__zd_in"; fi',
  '    IFS= read -r __zgo && [ "$__zgo" = go ] || break',
  '    __zio=$__zd_in',
  '  fi',
  // the FIFOs' write ends: each open returns once its framer holds the read end (the two opens
  // meet), so after the server's close the command holds the only writers, and its output ends when
  // the last of its processes closes them. A framer gone (killed) would leave the open waiting: the
  // server ends instead (and the watchdog ends a server that waits there on a framer killed since)
  '  kill -0 $__zf1 $__zf2 $__zwd || break',
  '  exec {__zo}>"$__zd/o" {__ze}>"$__zd/e"',
  // the command: none of the server's descriptors, variables or functions
  '  ( exec 3>&- 4>&- {__zwq}>&- {__zwa}>&- {__zsp}>&- {__zblk}>&- {__zo}>&- {__ze}>&- <"$__zio"',
  '    eval "unset -v \\"\\${!__z@}\\" BASH_EXECUTION_STRING; unset -f __zup __zrd __zie __zfr __zwdog; trap - EXIT; trap \\"exit 143\\" TERM; set +m; $__zs" ) >&"$__zo" 2>&"$__ze" &',
  '  __zpid=$!',
  '  exec {__zo}>&- {__ze}>&-',
  `  printf '%s %s\\n' "$__zpid" "$__zms" >&"$__zwq"`,
  // a TERM (trapped) ends `wait` early: wait again for the command it stopped
  '  while :; do __zhit=; wait "$__zpid"; __zst=$?; [ -n "$__zhit" ] || break; done',
  `  printf 'd\\n' >&"$__zwq"`,
  // stopped at its limit: the watchdog wrote the group before its TERM, so the line is there now
  // (one for an earlier command, stopped as it ended, is skipped)
  `  while read -t 0 -u "$__zwa" && __zrd "$__zwa" 1; do [ "$__zl" != "$__zpid" ] || __zst=${TIMED_OUT}; done`,
  // the input is kept no longer than its command ran
  '  [ "$__zio" = /dev/null ] || : >"$__zio"',
  '  __zpid=',
  `  printf '%s\\n' "$__zst" >&"$__zsp"`,
  'done',
].join('\n')
