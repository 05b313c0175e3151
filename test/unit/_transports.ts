// One suite, both transports: every case runs a task command through HostSession.command on a
// `connection: local` host, once over a channel per command (transports.test.ts) and once over the
// persistent shell (transports-persistent.test.ts: two files, so that a pool of processes runs them
// side by side), and expects the same behaviour. The SSH side of the same cases is
// test/e2e/transports.test.ts. Not a test file itself.
import fs from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { task } from '../../lib/engine/playbook.ts'
import { HostSession } from '../../lib/transport/session.ts'
import { SUDO_PROMPT } from '../../lib/transport/shell.ts'
import { alive, localHostsWith, processesWith, runLocal, tempDir } from './_helpers.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// A stand-in sudo first on the PATH: it logs its arguments and each prompt it shows, answers like
// `sudo -S -p PROMPT` (one retry, then refuses) or `sudo -n`, then runs the command as this user.
const PASSWORD = 'becomes3cret'
const sudo = (fake: string) => `#!/bin/bash
printf 'CALL %s\\n' "$*" >> ${fake}/argv
ask= prompt=
while [ $# -gt 0 ]; do case $1 in -S) ask=1;; -n) ;; -p) shift; prompt=$1;; -H) ;; -u) shift;; --) shift; break;; *) break;; esac; shift; done
if [ -n "$ask" ]; then
  printf '%s' "$prompt" >&2; IFS= read -r pw; echo p >> ${fake}/prompts
  [ "$pw" = ${PASSWORD} ] || { echo 'Sorry, try again.' >&2; printf '%s' "$prompt" >&2; IFS= read -r pw; echo 'sudo: 1 incorrect password attempt' >&2; exit 1; }
elif [ ! -e ${fake}/nopasswd ]; then
  echo 'sudo: a password is required' >&2; exit 1
fi
exec "$@"
`
const PATH = process.env.PATH

/** The suite on one transport, run. */
export function transportSuite(persistent: boolean): void {
  const { dir: fake, remove } = tempDir(persistent ? 'transports-persistent' : 'transports')
  fs.writeFileSync(path.join(fake, 'sudo'), sudo(fake), { mode: 0o755 })
  /** Lines of one of the stand-in's logs (argv: calls) */
  const count = (file: string) => (fs.existsSync(path.join(fake, file)) ? fs.readFileSync(path.join(fake, file), 'utf8').split('\n').filter((l) => l && (file !== 'argv' || l.startsWith('CALL '))).length : 0)
  const transport = persistent ? 'persistent shell' : 'channel per command'
  const test = suite(transport)
  let on: ReturnType<typeof localHostsWith>
  let s: HostSession
  const run = (script: string, o: Partial<Parameters<HostSession['command']>[1]> = {}) => s.command(script, { timeoutMs: 20_000, ...o })

  test.before.each(() => {
    on = localHostsWith({ persistentShell: persistent }, 'me', 'two', 'three')
    s = on.sessions.get('me')!
  })
  test.after.each(async () => {
    for (const x of on.sessions.values()) await x.close()
    process.env.PATH = PATH
    for (const f of ['argv', 'prompts', 'nopasswd']) fs.rmSync(path.join(fake, f), { force: true })
  })

  test('stdout, stderr and the exit status, each its own', async () => {
    const r = await run('echo out; echo err >&2; exit 3')
    assert.equal([r.stdout, r.stderr, r.exitCode, r.lost, r.timedOut], ['out\n', 'err\n', 3, false, false])
    assert.is((await run('test -d /etc')).exitCode, 0)
    assert.is((await run('test -d /nonexistent')).exitCode, 1)
  })

  // On the persistent shell a lone plain `test` runs in the server itself (inlineTest): the same
  // answers as in a subshell, its message on stderr, and nothing of the server's state visible
  test('a lone `test` or `[`: status and message as from a subshell; the shell\'s own state unseen', async () => {
    const msg = async (c: string) => {
      const r = await run(c)
      return [r.exitCode, r.stdout, r.stderr.replace(/^.*?line \d+: /, '')]
    }
    assert.equal(await msg('test -d /etc'), [0, '', ''])
    assert.equal(await msg('[ ! -e /nonexistent ]'), [0, '', ''])
    assert.equal(await msg('test -f /etc -o -d /etc'), [0, '', ''])
    assert.equal(await msg('test a b c'), [2, '', 'test: b: binary operator expected\n'])
    assert.equal(await msg('[ 1 -eq ]'), [2, '', '[: 1: unary operator expected\n'])
    assert.equal(await msg('[ 1 -eq 1'), [2, '', "[: missing `]'\n"])
    // what the server holds (its variables, options, descriptors) is not the command's
    for (const c of ['test -v __zs', 'test -v __zd', 'test -o monitor', 'test -t 3', '[ -v __zpid ]']) assert.is((await run(c)).exitCode, 1, c)
    assert.is((await run('test -o errexit')).exitCode, 0, 'strict mode')
    const back = await run('echo after')
    assert.equal([back.stdout, back.stderr, back.exitCode], ['after\n', '', 0])
  })

  test('commands back to back: each gets its own output and exit status, none of the one before', async () => {
    for (let i = 0; i < 120; i++) {
      const r = await run(i % 3 ? `echo o${i}; echo e${i} >&2; exit ${i % 5}` : `exit ${i % 5}`)
      assert.equal([r.stdout, r.stderr, r.exitCode], i % 3 ? [`o${i}\n`, `e${i}\n`, i % 5] : ['', '', i % 5], `command ${i}`)
    }
  })

  test('hostile output: frame-looking lines, NUL bytes, no trailing newline', async () => {
    const forged = 'x0\\n.\\nO41\\noQUJD\\nR1 1\\ne\\nE00\\n'
    const r = await run(`printf '${forged}'; printf '${forged}' >&2; printf 'a\\0b\\0'; printf '\\0' >&2; printf 'end'`)
    const want = 'x0\n.\nO41\noQUJD\nR1 1\ne\nE00\n'
    assert.equal([r.stdout, r.stderr, r.exitCode], [`${want}a\0b\0end`, `${want}\0`, 0])
    assert.is((await run('printf "\\0"')).stdout, '\0')
    assert.is((await run('printf x')).stdout, 'x')
    assert.is((await run('printf "\\xff\\xfe"')).stdout, '\ufffd\ufffd')
  })

  test('output streams: a line printed before a pause arrives during the pause', async () => {
    let text = ''
    let at = 0
    const t0 = performance.now()
    const onStdout = (t: string) => {
      text += t
      if (!at && text.includes('first line\n')) at = performance.now()
    }
    const r = await run("printf 'first line\\n'; sleep 2; printf end", { onStdout })
    assert.is(r.stdout, 'first line\nend')
    assert.ok(at > 0 && performance.now() - at > 1000, `the first line came ${Math.round(at - t0)} ms after the start, ${Math.round(performance.now() - at)} ms before the end`)
  })

  test('large output: 100 MB arrive whole in count, the middle left out as always', async () => {
    // its own limit: under a load of 17 it took the persistent shell more than the 20 s of the others
    const r = await run("head -c 100000000 /dev/zero | tr '\\0' x; printf 'the end'", { timeoutMs: 90_000 })
    assert.is(r.exitCode, 0)
    const left = /\[… (\d+) characters of output left out by zxplay …\]/.exec(r.stdout)
    assert.ok(left, r.stdout.slice(0, 100))
    assert.is(r.stdout.length - left[0].length - 2 + Number(left[1]), 100_000_007)
    assert.ok(r.stdout.endsWith('xthe end'))
  })

  test('state does not leak from one command to the next: cd, export, set, trap, ulimit, umask, functions', async () => {
    const probe = 'pwd; echo "${ZX_T-unset}"; ulimit -n; echo $-; trap -p; umask; type zx_f 2>&1 || true; shopt -p extglob; echo "$OLDPWD"'
    const before = await run(probe)
    const change = await run(`cd /; export ZX_T=1; trap 'echo bye' EXIT; trap '' INT; ulimit -n 64; set +e -x; umask 077; zx_f() { :; }; shopt -s extglob`)
    assert.is(change.stdout, 'bye\n')
    const after = await run(probe)
    assert.equal(after, { ...before, ms: after.ms })
    assert.ok(before.stdout.includes('unset\n'), before.stdout)
  })

  test('stdin: a command gets its own input, byte for byte; one that ignores it leaves nothing behind', async () => {
    const input = Buffer.from([0, 1, 2, 10, 255, 0, 120, 10])
    const r = await run('od -An -tx1 | tr -s " \\n" " "', { input })
    assert.is(r.stdout.trim(), '00 01 02 0a ff 00 78 0a')
    assert.is((await run('exit 0', { input: 'x'.repeat(1 << 20) })).exitCode, 0)
    assert.is((await run('cat; echo eof')).stdout, 'eof\n')
    assert.is((await run('wc -c', { input: 'y'.repeat(3 << 20) })).stdout.trim(), String(3 << 20))
  })

  test('stdin: short text input (which the persistent shell reads in bash) arrives byte for byte, whatever it holds', async () => {
    const tricky = ['', 'go\n', '12 0 0 s\ngo\n', 'a\\b\\\\\r\n\t $x `y` "q" \'s\'\n\n\n', '\xe9\u00fc\ud83d\ude00 no newline at the end', 'L3\nabcx0\n.\nR4 1\n']
    const cases = [...tricky.map((t) => Buffer.from(t)), Buffer.from([0xff, 0xfe, 0x80, 0x0a]), Buffer.alloc(8 * 1024, 'z'), Buffer.alloc(8 * 1024 + 1, 'w')]
    for (const input of cases) {
      const r = await run('od -An -tx1 -v | tr -d " \\n"', { input })
      assert.is(r.stdout, input.toString('hex'), JSON.stringify(input.toString('latin1').slice(0, 40)))
      assert.is(r.exitCode, 0)
    }
    assert.is((await run('cat; echo after')).stdout, 'after\n', 'the next command gets no input left over')
  })

  test('a hung command is stopped at its limit, its children too; the next command runs', async () => {
    const r = await run('sleep 30 & echo $!; wait', { timeoutMs: 700 })
    const pids = r.stdout.trim().split(/\s+/).map(Number)
    assert.ok(r.timedOut, JSON.stringify(r))
    assert.is(r.exitCode, 124)
    assert.ok(r.ms >= 650 && r.ms < 5000, `${r.ms} ms`)
    await sleep(100)
    assert.ok(pids.length === 1 && pids[0]! > 1, r.stdout)
    for (const pid of pids) assert.not.ok(alive(pid), `pid ${pid} still runs`)
    const next = await run('echo next')
    assert.equal([next.stdout, next.exitCode, next.timedOut], ['next\n', 0, false])
  })

  test('the shell that runs a command is killed: the command fails clearly, the next one runs', async () => {
    let pid = 0
    let text = ''
    const onStdout = (t: string) => {
      text += t
      if (pid || !text.includes('\n')) return
      pid = Number(text.trim())
      if (pid > 1) process.kill(pid, 'SIGKILL')
    }
    // the pid arrives while the command runs (output streams on both transports)
    const r = await run('echo $$; sleep 6', { onStdout })
    assert.ok(r.lost || r.signal === 'SIGKILL' || r.exitCode === 137, JSON.stringify(r))
    if (persistent) assert.match(r.lostReason ?? '', /^the persistent shell ended .*while the command ran; the next command starts a new one$/)
    // the persistent shell's watchdog ends the command with its shell; over a channel, the orphaned
    // sleep holds the channel's output open until it ends
    assert.ok(r.ms < (persistent ? 5000 : 10_000), `${r.ms} ms`)
    if (r.lost) await s.close() // what a task does on a lost command (context.ts)
    assert.is((await run('echo again')).stdout, 'again\n')
  })

  if (persistent)
    test('a helper of the shell killed while it is idle: the shell ends with all its helpers, the next command gets a new one', async () => {
      // the server is the command's parent; its stdout framer is the child reading the FIFO `o`
      const r = await run('p=$BASHPID; s=$(cut -d" " -f4 /proc/$p/stat); echo $s; for c in $(cat /proc/$s/task/$s/children); do case $(readlink /proc/$c/fd/0) in */o) echo $c;; esac; done')
      const [server, framer] = r.stdout.trim().split('\n').map(Number)
      assert.ok(server! > 1 && framer! > 1, r.stdout)
      const helpers = fs.readFileSync(`/proc/${server}/task/${server}/children`, 'utf8').trim().split(/\s+/).map(Number)
      process.kill(framer!, 'SIGKILL')
      // the watchdog looks once a second
      for (let i = 0; i < 60 && alive(server!); i++) await sleep(50)
      assert.not.ok(alive(server!), 'the shell still runs')
      await sleep(200)
      for (const pid of helpers) assert.not.ok(alive(pid), `helper ${pid} still runs`)
      const next = await run('echo next')
      assert.equal([next.stdout, next.exitCode, next.lost], ['next\n', 0, false])
    })

  test('become with a password: answered over stdin, never in argv; the input reaches the command', async () => {
    process.env.PATH = `${fake}:${PATH}`
    const become = { user: 'root', withPassword: true }
    for (let i = 0; i < 3; i++) {
      const r = await run('cat; echo " as $(id -un)"', { become, becomePassword: PASSWORD, input: `in${i}` })
      assert.equal([r.stdout, r.stderr, r.exitCode], [`in${i} as root\n`, '', 0])
    }
    // the persistent shell asks once per run, the channel path once per command
    assert.is(count('prompts'), persistent ? 1 : 3)
    assert.not.match(fs.readFileSync(path.join(fake, 'argv'), 'utf8'), PASSWORD)
    assert.ok(fs.readFileSync(path.join(fake, 'argv'), 'utf8').includes(SUDO_PROMPT))
  })

  test('become without a password (NOPASSWD), and where sudo wants one', async () => {
    process.env.PATH = `${fake}:${PATH}`
    const become = { user: 'root', withPassword: false }
    const refused = await run('echo never', { become })
    assert.equal([refused.exitCode, refused.stdout], [1, ''])
    assert.match(refused.stderr, /sudo: a password is required/)
    await s.close()
    fs.rmSync(path.join(fake, 'argv'))
    fs.writeFileSync(path.join(fake, 'nopasswd'), '')
    for (let i = 0; i < 2; i++) assert.is((await run('id -un', { become })).stdout, 'root\n')
    assert.is(count('argv'), persistent ? 1 : 2)
    assert.is(count('prompts'), 0)
  })

  test('a wrong become password: refused, nothing runs', async () => {
    process.env.PATH = `${fake}:${PATH}`
    const r = await run('echo ran', { become: { user: 'root', withPassword: true }, becomePassword: 'wrong-one', input: 'x' })
    assert.not.ok(r.stdout.includes('ran'))
    assert.ok(r.exitCode !== 0)
    assert.match(r.stderr, /password was refused|incorrect password/)
  })

  test('Ctrl-C on 3 hosts: what runs on each is stopped at once, nothing after it runs', async () => {
    const marker = `9.${process.pid}${persistent ? 1 : 2}`
    let interrupted = false
    let t0 = 0
    const events = await runLocal(
      on,
      [
        [
          task('slow', async (ctx) => {
            // Ctrl-C once the command runs on all three
            if (ctx.host.name === 'me')
              void (async () => {
                // (under load the three may take seconds to start: the time counts from the Ctrl-C). The
                // sleeps themselves: the shells that run them name them in their command lines too, so
                // counting those, a host still gathering facts was interrupted (reported unreachable)
                const sleeping = () => processesWith(`sleep ${marker}`).filter((cmd) => cmd.trim() === `sleep ${marker}`).length
                for (let i = 0; i < 1200 && sleeping() < 3; i++) await sleep(50)
                interrupted = true
                t0 = performance.now()
                for (const x of on.sessions.values()) void x.end('the run was interrupted')
              })()
            await ctx.$`sleep ${marker}`
          }),
          task('after', async (ctx) => void (await ctx.$`true`)),
        ],
      ],
      { interrupted: () => interrupted, taskTimeoutMs: 30_000 }
    )
    assert.ok(t0 > 0 && performance.now() - t0 < 5000, `took ${Math.round(performance.now() - t0)} ms after the Ctrl-C`)
    const results = events.flatMap((e) => (e.kind === 'result' ? [`${e.host}:${e.task}:${e.status}`] : []))
    assert.equal(results.sort(), ['me:slow:failed', 'three:slow:failed', 'two:slow:failed'])
    await sleep(200)
    assert.equal(processesWith(`sleep ${marker}`), [])
  })

  test.after(remove)
  test.run()
}
