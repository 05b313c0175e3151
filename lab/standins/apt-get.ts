// apt-get stand-in: update, install, remove, purge against the catalogue in _apt.ts, with the node's
// packages in /var/lib/zxlab/node.json. Strict where real apt is: repositories must be configured,
// signed and fetched, versions must be offered, held packages and downgrades need their flags, and
// without -y a non-interactive run aborts when apt would ask.
import { available, candidate, indexName, k8sMinor, K8S_MINORS, readSources, releaseKey, verifySource, type Offer } from './_apt.ts'
import { startService } from './_containerd.ts'
import { io, isEntry, isRoot, say, warn } from './_io.ts'
import { readState, writeState } from './_node.ts'
import type { NodeState, Package } from './_node.ts'
import { compareVersions } from './_os.ts'

type Opts = {
  yes: boolean
  quiet: number
  allowHeld: boolean
  allowDowngrades: boolean
  purge: boolean
}

const NOT_ROOT_DPKG = [
  'E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)',
  'E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?',
]
const NOT_ROOT_LISTS = ['E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)', 'E: Unable to lock directory /var/lib/apt/lists/']

const USAGE = `apt 2.6.1 (amd64)
Usage: apt-get [options] command
       apt-get [options] install|remove pkg1 [pkg2 ...]

Most used commands (in this stand-in):
  update - Retrieve new lists of packages
  install - Install new packages (pkg is libc6 not libc6.deb)
  remove - Remove packages
  purge - Remove packages and config files
`

const fail = (...lines: string[]) => {
  for (const l of lines) warn(l)
  return 100
}

export async function main(argv: string[]): Promise<number> {
  const opts: Opts = { yes: false, quiet: 0, allowHeld: false, allowDowngrades: false, purge: false }
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      words.push(...argv.slice(i + 1))
      break
    }
    if (a === '--version' || a === '-v' || a === '--help' || a === '-h') {
      io.out(a.includes('v') ? 'apt 2.6.1 (amd64)\n' : USAGE)
      return 0
    }
    if (a.startsWith('--')) {
      const [name, value] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), undefined]
      if (name === 'yes' || name === 'assume-yes') opts.yes = true
      else if (name === 'quiet') opts.quiet = value === undefined ? opts.quiet + 1 : Number(value)
      else if (name === 'no-install-recommends' || name === 'install-recommends' || name === 'no-install-suggests') {
        // recommends are not modelled: nothing the catalogue installs has any
      } else if (name === 'allow-change-held-packages') opts.allowHeld = true
      else if (name === 'allow-downgrades') opts.allowDowngrades = true
      else if (name === 'purge') opts.purge = true
      else if (name === 'option') i++ // -o X=Y: accepted, ignored (Dpkg::Options, APT::…)
      else return fail(`E: Command line option --${name} is not understood in combination with the other options`)
      continue
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!
        if (c === 'y') opts.yes = true
        else if (c === 'q') {
          if (a[j + 1] === '=') {
            opts.quiet = Number(a.slice(j + 2))
            break
          }
          opts.quiet++
        } else if (c === 'o') {
          if (j === a.length - 1) i++ // -o X=Y
          break // -oX=Y
        } else return fail(`E: Command line option '${c}' [from ${a}] is not understood in combination with the other options.`)
      }
      continue
    }
    words.push(a)
  }
  // "Quiet level 2 implies -y" (apt-get(8))
  if (opts.quiet >= 2) opts.yes = true

  const [cmd, ...pkgs] = words
  switch (cmd) {
    case undefined:
      io.out(USAGE)
      return 1
    case 'update':
      if (pkgs.length) return fail('E: The update command takes no arguments')
      if (!isRoot()) return fail(...NOT_ROOT_LISTS)
      return update(opts)
    case 'install':
      if (!isRoot()) return fail(...NOT_ROOT_DPKG)
      return install(pkgs, opts)
    case 'remove':
    case 'purge':
      if (!isRoot()) return fail(...NOT_ROOT_DPKG)
      return remove(pkgs, { ...opts, purge: opts.purge || cmd === 'purge' })
    case 'clean':
    case 'autoclean':
    case 'check':
      return isRoot() ? 0 : fail(...NOT_ROOT_DPKG)
    case 'upgrade':
    case 'dist-upgrade':
    case 'full-upgrade':
    case 'autoremove':
    case 'source':
    case 'build-dep':
    case 'download':
    case 'changelog':
    case 'satisfy':
    case 'dselect-upgrade':
    case 'autopurge':
      return fail(`E: zxlab stand-in: apt-get ${cmd} is not modelled (update, install, remove, purge are)`)
    default:
      return fail(`E: Invalid operation ${cmd}`)
  }
}

// ---------------------------------------------------------------------------
// update

function update(opts: Opts): number {
  const { sources, errors } = readSources()
  const fatal = errors.filter((e) => e.startsWith('E:'))
  for (const e of errors.filter((e) => !e.startsWith('E:'))) warn(e)
  if (fatal.length) return fail(...fatal, 'E: The list of sources could not be read.')
  const state = readState()
  const lines: string[] = [
    'Hit:1 http://deb.debian.org/debian bookworm InRelease',
    'Hit:2 http://deb.debian.org/debian bookworm-updates InRelease',
    'Hit:3 http://deb.debian.org/debian-security bookworm-security InRelease',
  ]
  const errs: string[] = []
  const warns: string[] = []
  const fetched: string[] = []
  let n = 4
  let bytes = 0
  for (const s of sources) {
    const minor = k8sMinor(s.uri)
    const host = /^\w+:\/\/([^/:]+)/.exec(s.uri)?.[1] ?? s.uri
    if (minor === undefined) {
      // offline: every other repository is unreachable
      lines.push(`Ign:${n} ${indexName(s)} InRelease`, `Err:${n} ${indexName(s)} Release`, `  Could not resolve '${host}'`)
      warns.push(`W: Failed to fetch ${s.uri}${s.suite === '/' ? '' : `dists/${s.suite}/`}InRelease  Could not resolve '${host}'`)
      n++
      continue
    }
    if (s.suite !== '/' || minor < K8S_MINORS.first || minor > K8S_MINORS.last) {
      lines.push(`Ign:${n} ${indexName(s)} InRelease`, `Err:${n} ${indexName(s)} Release`, '  404  Not Found [IP: 10.77.0.1 443]')
      errs.push(
        `E: The repository '${indexName(s)}Release' does not have a Release file.`,
        "N: Updating from such a repository can't be done securely, and is therefore disabled by default.",
        'N: See apt-secure(8) manpage for repository creation and user configuration details.'
      )
      n++
      continue
    }
    const v = verifySource(s)
    warns.push(...v.warnings)
    if (!v.ok) {
      const { keyId } = releaseKey()
      lines.push(
        `Get:${n} ${indexName(s)}InRelease [1,186 B]`,
        `Err:${n} ${indexName(s)}InRelease`,
        `  The following signatures couldn't be verified because the public key is not available: NO_PUBKEY ${keyId}`
      )
      errs.push(
        `E: The repository '${indexName(s)}InRelease' is not signed.`,
        "N: Updating from such a repository can't be done securely, and is therefore disabled by default.",
        'N: See apt-secure(8) manpage for repository creation and user configuration details.'
      )
      n++
      continue
    }
    lines.push(`Get:${n} ${indexName(s)}InRelease [1,186 B]`, `Get:${n + 1} ${indexName(s)}Packages [${(4_000 + minor * 31).toLocaleString('en-US')} B]`)
    bytes += 1_186 + 4_000 + minor * 31
    n += 2
    fetched.push(s.uri)
  }
  if (bytes) lines.push(`Fetched ${bytes.toLocaleString('en-US')} B in 0s (${(bytes * 4).toLocaleString('en-US')} B/s)`)
  lines.push('Reading package lists...')
  if (opts.quiet < 2) for (const l of lines) say(l)
  // apt keeps the lists it could fetch; a repository that failed verification is not used
  state.lists = { updated: Date.now(), repos: fetched }
  writeState(state)
  for (const w of warns) warn(w)
  if (warns.some((w) => w.startsWith('W: Failed to fetch'))) warn('W: Some index files failed to download. They have been ignored, or old ones used instead.')
  if (errs.length) return fail(...errs)
  return 0
}

// ---------------------------------------------------------------------------
// install

type Change = { name: string; from?: string; to: string; auto: boolean; offer: Offer }

function header(opts: Opts) {
  if (opts.quiet < 2) say('Reading package lists...\nBuilding dependency tree...\nReading state information...')
}

/** apt's wrapped package lists: two spaces, then names, lines of at most 80 columns. */
function listing(title: string, names: string[]): string {
  const lines: string[] = []
  let cur = ' '
  for (const n of names) {
    if (cur.length + 1 + n.length > 79 && cur.trim()) {
      lines.push(cur)
      cur = ' '
    }
    cur += ' ' + n
  }
  lines.push(cur)
  return `${title}\n${lines.join('\n')}`
}

const mb = (kb: number) => (kb >= 1000 ? `${(kb / 1000).toFixed(1)} MB` : `${kb} kB`)

function notUpgraded(state: NodeState, avail: Map<string, Offer>, changing: Set<string>): number {
  return Object.entries(state.packages).filter(([name, pkg]) => {
    const o = avail.get(name)
    return o && !changing.has(name) && compareVersions(candidate(o), pkg.version) > 0
  }).length
}

/** apt's prompt when stdin is not a terminal or says no: "Abort.", exit 1. */
function confirm(): boolean {
  io.out('Do you want to continue? [Y/n] ')
  const answer = io.stdin().toString('utf8')
  const line = answer.split('\n')[0]
  if (answer.length > 0 && line !== undefined && /^\s*(y(es)?)?\s*$/i.test(line)) {
    io.out('\n')
    return true
  }
  say('Abort.')
  return false
}

function install(specs: string[], opts: Opts): number {
  const { errors } = readSources()
  const fatal = errors.filter((e) => e.startsWith('E:'))
  if (fatal.length) return fail(...fatal, 'E: The list of sources could not be read.')
  const state = readState()
  const avail = available(state)
  header(opts)

  const errs: string[] = []
  const requested: { name: string; version: string; offer: Offer }[] = []
  for (const spec of specs) {
    const eq = spec.indexOf('=')
    const name = eq >= 0 ? spec.slice(0, eq) : spec
    const version = eq >= 0 ? spec.slice(eq + 1) : undefined
    if (name.includes('/')) {
      errs.push(`E: zxlab stand-in: release selection (${spec}) is not modelled`)
      continue
    }
    const offer = avail.get(name)
    if (!offer) {
      errs.push(`E: Unable to locate package ${name}`)
      continue
    }
    if (version !== undefined && !offer.versions.includes(version)) {
      errs.push(`E: Version '${version}' for '${name}' was not found`)
      continue
    }
    requested.push({ name, version: version ?? candidate(offer), offer })
  }
  if (errs.length) return fail(...errs)

  const changes: Change[] = []
  const manual: string[] = []
  for (const r of requested) {
    const have = state.packages[r.name]
    if (have && have.version === r.version) {
      say(`${r.name} is already the newest version (${r.version}).`)
      if (have.auto) manual.push(r.name)
      continue
    }
    if (changes.some((c) => c.name === r.name)) continue
    changes.push({ name: r.name, from: have?.version, to: r.version, auto: false, offer: r.offer })
  }
  for (const name of manual) say(`${name} set to manually installed.`)
  // dependencies that are not installed come along, marked automatic
  const extra: Change[] = []
  const queue = [...changes]
  while (queue.length) {
    const c = queue.shift()!
    for (const dep of c.offer.deps) {
      if (state.packages[dep] || changes.some((x) => x.name === dep) || extra.some((x) => x.name === dep)) continue
      const offer = avail.get(dep)
      if (!offer) {
        return fail(
          'Some packages could not be installed. This may mean that you have',
          'requested an impossible situation.',
          '',
          'The following packages have unmet dependencies:',
          ` ${c.name} : Depends: ${dep} but it is not installable`,
          'E: Unable to correct problems, you have held broken packages.'
        )
      }
      const d = { name: dep, to: candidate(offer), auto: true, offer }
      extra.push(d)
      queue.push(d)
    }
  }
  const all = [...changes, ...extra]
  for (const name of manual) state.packages[name]!.auto = false
  if (!all.length) {
    if (opts.quiet < 2) say(`0 upgraded, 0 newly installed, 0 to remove and ${notUpgraded(state, avail, new Set())} not upgraded.`)
    if (manual.length) writeState(state)
    return 0
  }

  const fresh = all.filter((c) => !c.from)
  const upgraded = all.filter((c) => c.from && compareVersions(c.to, c.from) > 0)
  const downgraded = all.filter((c) => c.from && compareVersions(c.to, c.from) < 0)
  const held = all.filter((c) => c.from && state.packages[c.name]?.held)
  const sorted = (cs: Change[]) => cs.map((c) => c.name).sort()
  const out: string[] = []
  if (extra.length) out.push(listing('The following additional packages will be installed:', sorted(extra)))
  if (held.length) out.push(listing('The following held packages will be changed:', sorted(held)))
  if (fresh.length) out.push(listing('The following NEW packages will be installed:', sorted(fresh)))
  if (upgraded.length) out.push(listing('The following packages will be upgraded:', sorted(upgraded)))
  if (downgraded.length) out.push(listing('The following packages will be DOWNGRADED:', sorted(downgraded)))
  out.push(
    `${upgraded.length} upgraded, ${fresh.length} newly installed, ${downgraded.length ? `${downgraded.length} downgraded, ` : ''}0 to remove and ${notUpgraded(state, avail, new Set(all.map((c) => c.name)))} not upgraded.`
  )
  const kb = all.reduce((s, c) => s + c.offer.kb, 0)
  out.push(`Need to get ${mb(kb)} of archives.`, `After this operation, ${mb(kb * 3)} of additional disk space will be used.`)
  if (opts.quiet < 2) for (const l of out) say(l)

  if (held.length && opts.yes && !opts.allowHeld) return fail('E: Held packages were changed and -y was used without --allow-change-held-packages.')
  if (downgraded.length && opts.yes && !opts.allowDowngrades) return fail('E: Packages were downgraded and -y was used without --allow-downgrades.')
  // apt asks unless exactly the requested packages are installed and nothing else changes
  const ask = extra.length > 0 || held.length > 0 || downgraded.length > 0
  if (ask && !opts.yes && !confirm()) return 1

  // dpkg sets up dependencies first
  all.sort((a, b) => Number(b.auto) - Number(a.auto))
  if (opts.quiet < 2) {
    all.forEach((c, i) => {
      const arch = c.offer.origin.startsWith('http://deb.debian.org') ? ' amd64' : ''
      say(`Get:${i + 1} ${c.offer.origin} ${c.name}${arch} ${c.to} [${mb(c.offer.kb)}]`)
    })
  }
  for (const c of all) {
    if (!c.from) say(`Selecting previously unselected package ${c.name}.`)
    say(`Preparing to unpack .../${c.name}_${c.to.replace(':', '%3a')}_amd64.deb ...`)
    say(c.from ? `Unpacking ${c.name} (${c.to}) over (${c.from}) ...` : `Unpacking ${c.name} (${c.to}) ...`)
  }
  for (const c of all) {
    const prev: Package | undefined = state.packages[c.name]
    state.packages[c.name] = { version: c.to, held: prev?.held ?? false, ...(prev ? (prev.auto ? { auto: true } : {}) : c.auto ? { auto: true } : {}) }
  }
  const failed: string[] = []
  for (const c of all) {
    say(`Setting up ${c.name} (${c.to}) ...`)
    if (!postinst(state, c)) failed.push(c.name)
  }
  writeState(state)
  if (failed.length) {
    // the package stays installed, but dpkg and apt report the failed maintainer script
    for (const name of failed) {
      warn(`invoke-rc.d: initscript ${name}, action "restart" failed.`)
      warn(`dpkg: error processing package ${name} (--configure):`)
      warn(` installed ${name} package post-installation script subprocess returned error exit status 1`)
    }
    warn(`Errors were encountered while processing:\n ${failed.join('\n ')}`)
    return fail('E: Sub-process /usr/bin/dpkg returned an error code (1)')
  }
  return 0
}

/** What the packages' maintainer scripts do: units appear, enabled; containerd (re)starts. */
function postinst(state: NodeState, c: Change): boolean {
  if (c.name === 'containerd') {
    const svc = state.services.containerd ?? { enabled: true, active: false }
    if (!state.services.containerd) say('Created symlink /etc/systemd/system/multi-user.target.wants/containerd.service → /lib/systemd/system/containerd.service.')
    state.services.containerd = svc
    const err = startService(state, 'containerd', svc)
    if (err) {
      warn('Job for containerd.service failed because the control process exited with error code.')
      warn('See "systemctl status containerd.service" and "journalctl -xeu containerd.service" for details.')
      return false
    }
  } else if (c.name === 'kubelet') {
    const svc = state.services.kubelet ?? { enabled: true, active: false }
    if (!state.services.kubelet) say('Created symlink /etc/systemd/system/multi-user.target.wants/kubelet.service → /lib/systemd/system/kubelet.service.')
    state.services.kubelet = svc
    startService(state, 'kubelet', svc) // crash-loops until kubeadm init/join
  }
  return true
}

// ---------------------------------------------------------------------------
// remove / purge

function remove(names: string[], opts: Opts): number {
  const state = readState()
  const avail = available(state)
  header(opts)
  const errs: string[] = []
  const targets = new Set<string>()
  for (const name of names) {
    if (state.packages[name]) targets.add(name)
    else if (avail.has(name)) say(`Package '${name}' is not installed, so not removed`)
    else errs.push(`E: Unable to locate package ${name}`)
  }
  if (errs.length) return fail(...errs)
  // what depends on a removed package goes too
  let grew = true
  while (grew) {
    grew = false
    for (const [name] of Object.entries(state.packages)) {
      if (targets.has(name)) continue
      const deps = avail.get(name)?.deps ?? []
      if (deps.some((d) => targets.has(d))) {
        targets.add(name)
        grew = true
      }
    }
  }
  const list = [...targets].sort()
  if (!list.length) {
    if (opts.quiet < 2) say(`0 upgraded, 0 newly installed, 0 to remove and ${notUpgraded(state, avail, new Set())} not upgraded.`)
    return 0
  }
  const held = list.filter((n) => state.packages[n]!.held)
  if (opts.quiet < 2) {
    if (held.length) say(listing('The following held packages will be changed:', held))
    say(listing('The following packages will be REMOVED:', list.map((n) => (opts.purge ? `${n}*` : n))))
    say(`0 upgraded, 0 newly installed, ${list.length} to remove and ${notUpgraded(state, avail, new Set(list))} not upgraded.`)
    say(`After this operation, ${mb(list.reduce((s, n) => s + (avail.get(n)?.kb ?? 1000) * 3, 0))} disk space will be freed.`)
  }
  if (held.length && opts.yes && !opts.allowHeld) return fail('E: Held packages were changed and -y was used without --allow-change-held-packages.')
  if (!opts.yes && !confirm()) return 1
  for (const n of list) {
    const v = state.packages[n]!.version
    say(`Removing ${n} (${v}) ...`)
    if (opts.purge) say(`Purging configuration files for ${n} (${v}) ...`)
    delete state.packages[n]
    delete state.services[n]
  }
  writeState(state)
  return 0
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
