// The host side of the persistent shell (persistent-shell.ts): one bash per host and privilege
// level that runs every task's command, so a command costs a round trip and forks of that bash,
// not an SSH channel, sshd's session process and a login shell. Pure: the script and its protocol.
//
// Requests (client → channel stdin): a line `<script bytes> <input bytes> <limit ms>`, the script,
// then, when the input is not empty, the input and a line `go`.
// Answers, on two streams, each line-framed so that no output can forge one:
//   channel stdout: `O<hex>` the command's first stdout byte, `o<base64…>` the rest of it,
//                   `x<exit status>` its end;
//   channel stderr: `E<hex>`, `e<base64…>` the same for stderr, `.` its end;
//   `R<version> <pid>` once on each stream when the shell is ready.
// A command that prints nothing costs no program start (the first byte is read by bash); one
// that prints starts base64 once per stream. Each command runs in a subshell forked from the
// server, in its own process group, with the server's own file descriptors and variables gone:
// what it changes (cd, export, set, trap, ulimit) ends with it. A TERM (its time limit, Ctrl-C)
// makes it exit 143, so its EXIT trap runs (an upload's temp file), as over a channel (shell.ts).
// Bash's messages count the script's lines from where the server evals it, not from 1.

/** The protocol's version, in the ready line: a client and a server of different versions refuse each other. */
export const SERVER_VERSION = 1

/** The exit status the server reports for a command stopped at its time limit (timeout(1)'s). */
const TIMED_OUT = 124

export const SERVER_SCRIPT = [
  // fd 3 and 4: the frames; the shell's own messages (job notices) go nowhere
  'exec 3>&1 4>&2 >/dev/null 2>&1',
  // three pipes of its own: a command's exit status to its stdout framer, the watchdog's "fired",
  // and one nothing is ever written to (`read -t` on it is a sleep that starts no program)
  'exec {__zsp}<> <(:) {__zfp}<> <(:) {__zblk}<> <(:)',
  // job control: each command is a job in its own process group, which its time limit ends whole
  'set -m',
  '__zd= __zpid= __zhit=',
  // a TERM to the session (Ctrl-C: sshd signals the session's process group) stops the command, not the shell
  `trap '__zhit=1; [ -z "$__zpid" ] || kill -TERM -- "-$__zpid"' TERM`,
  `trap '[ -z "$__zd" ] || rm -rf -- "$__zd"' EXIT`,
  // one stream's frames: its first byte read by bash (NUL included: -d ''), the rest by base64
  '__zf() {',
  "  trap '' TERM; LC_ALL=C",
  '  local c',
  "  IFS= read -r -d '' -n 1 c || return 0",
  `  printf '%s%02x\\n' "\${1^^}" "'$c"`,
  "  printf '%s' \"$1\"; base64 -w 0; printf '\\n'",
  '}',
  // ready, on both streams: what the login scripts printed before it is not a frame
  `printf 'R%s %s\\n' ${SERVER_VERSION} "$$" >&3`,
  `printf 'R%s %s\\n' ${SERVER_VERSION} "$$" >&4`,
  "while IFS=' ' read -r __zn __zin __zms; do",
  '  LC_ALL=C read -r -N "$__zn" __zs || break',
  '  __zio=/dev/null',
  '  if [ "$__zin" -gt 0 ]; then',
  // in memory where there is /dev/shm: an input (a secret upload's content) is never on a disk
  '    [ -n "$__zd" ] || __zd=$(mktemp -d -p /dev/shm || mktemp -d) || break',
  // the whole input first, then `go`: a connection cut during the input runs nothing
  '    head -c "$__zin" >"$__zd/in"',
  '    IFS= read -r __zgo && [ "$__zgo" = go ] || break',
  '    __zio=$__zd/in',
  '  fi',
  // the stdout framer ends with the exit status the shell hands it; if the shell died, with nothing
  `  exec {__zo}> >(__zf o >&3; until read -r -t 1 -u "$__zsp" __zst; do kill -0 "$$" 2>/dev/null || exit 0; done; printf 'x%s\\n' "$__zst" >&3)`,
  `  exec {__ze}> >(exec {__zo}>&-; __zf e >&4; printf '.\\n' >&4)`,
  // the command: none of the server's descriptors, variables or functions
  '  ( exec 3>&- 4>&- {__zsp}>&- {__zfp}>&- {__zblk}>&- {__zo}>&- {__ze}>&- <"$__zio"',
  '    eval "unset -v \\"\\${!__z@}\\" BASH_EXECUTION_STRING; unset -f __zf; trap - EXIT; trap \\"exit 143\\" TERM; set +m; $__zs" ) >&"$__zo" 2>&"$__ze" &',
  '  __zpid=$!',
  '  exec {__zo}>&- {__ze}>&-',
  // the watchdog: at the limit (0: none) TERM to the command's process group, KILL 2 s later
  // (timeout -k 2's behaviour); the same, at once, when the shell itself is gone (killed)
  '  ( exec 0</dev/null 3>&- 4>&-; trap - TERM; __zl=$__zms',
  '    while :; do',
  '      __zw=1000; [ "$__zms" -eq 0 ] || [ "$__zl" -ge 1000 ] || __zw=$__zl',
  "      printf -v __zt '%d.%03d' $((__zw / 1000)) $((__zw % 1000))",
  '      read -t "$__zt" -u "$__zblk"',
  '      kill -0 "$$" 2>/dev/null || break',
  '      __zl=$((__zl - __zw))',
  '      [ "$__zms" -eq 0 ] || [ "$__zl" -gt 0 ] || { printf 1 >&"$__zfp"; break; }',
  '    done',
  '    kill -TERM -- "-$__zpid"; read -t 2 -u "$__zblk"; kill -KILL -- "-$__zpid" ) &',
  '  __zwd=$!',
  // a TERM (trapped) ends `wait` early: wait again for the command it stopped
  '  while :; do __zhit=; wait "$__zpid"; __zst=$?; [ -n "$__zhit" ] || break; done',
  '  kill "$__zwd"; wait "$__zwd"',
  `  if read -t 0 -u "$__zfp"; then read -r -N 1 -u "$__zfp" __zx; __zst=${TIMED_OUT}; fi`,
  // the input is kept no longer than its command ran
  '  [ "$__zio" = /dev/null ] || : >"$__zio"',
  '  __zpid=',
  `  printf '%s\\n' "$__zst" >&"$__zsp"`,
  'done',
].join('\n')
