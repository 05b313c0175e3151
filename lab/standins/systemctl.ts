// systemctl stand-in for the units in node.json (containerd, kubelet: installed by apt-get).
// start/restart read containerd's config and fail like containerd on a bad one; the kubelet
// crash-loops until /var/lib/kubelet/config.yaml exists. Unknown units fail as in systemd.
import os from 'node:os'
import { startService, stopService } from './_containerd.ts'
import { isEntry, isRoot, say, warn } from './_io.ts'
import { readState, writeState } from './_node.ts'
import type { NodeState, Service } from './_node.ts'

const UNITS: Record<string, { description: string; docs: string; dropIn?: string }> = {
  containerd: { description: 'containerd container runtime', docs: 'https://containerd.io' },
  kubelet: {
    description: 'kubelet: The Kubernetes Node Agent',
    docs: 'https://kubernetes.io/docs/',
    dropIn: '/usr/lib/systemd/system/kubelet.service.d\n             └─10-kubeadm.conf',
  },
}

const MUTATING = new Set(['start', 'stop', 'restart', 'try-restart', 'reload', 'reload-or-restart', 'enable', 'disable', 'daemon-reload', 'reset-failed'])
const QUERY = new Set(['is-active', 'is-enabled', 'is-failed', 'status'])
const NOT_MODELLED = new Set(['mask', 'unmask', 'show', 'cat', 'edit', 'kill', 'list-unit-files', 'set-property', 'daemon-reexec', 'isolate', 'link', 'preset', 'revert', 'reenable'])

const unitName = (u: string) => (u.endsWith('.service') ? u : u.includes('.') ? u : `${u}.service`)
const serviceKey = (u: string) => (u.endsWith('.service') ? u.slice(0, -'.service'.length) : u.includes('.') ? undefined : u)

function activeState(svc: Service | undefined): string {
  if (!svc) return 'inactive'
  if (svc.active) return 'active'
  if (svc.sub === 'auto-restart') return 'activating'
  if (svc.sub === 'failed') return 'failed'
  return 'inactive'
}

function when(iso: string | undefined): string {
  const d = iso ? new Date(iso) : new Date()
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const pad = (n: number) => String(n).padStart(2, '0')
  const secs = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000))
  return `${days[d.getUTCDay()]} ${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC; ${secs}s ago`
}

function status(name: string, svc: Service): string {
  const u = UNITS[name] ?? { description: name, docs: '' }
  const state = activeState(svc)
  const active =
    state === 'active'
      ? 'active (running)'
      : state === 'activating'
        ? 'activating (auto-restart) (Result: exit-code)'
        : state === 'failed'
          ? 'failed (Result: exit-code)'
          : 'inactive (dead)'
  const lines = [
    `${state === 'active' ? '●' : state === 'inactive' ? '○' : '×'} ${name}.service - ${u.description}`,
    `     Loaded: loaded (/lib/systemd/system/${name}.service; ${svc.enabled ? 'enabled' : 'disabled'}; preset: enabled)`,
    ...(u.dropIn ? [`    Drop-In: ${u.dropIn}`] : []),
    `     Active: ${active} since ${when(svc.since)}`,
    ...(u.docs ? [`       Docs: ${u.docs}`] : []),
  ]
  if (state === 'active') lines.push(`   Main PID: ${4000 + name.length} (${name})`)
  if (svc.error) {
    const d = new Date()
    const stamp = `${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, '0')} ${d.toISOString().slice(11, 19)}`
    lines.push('', `${stamp} ${os.hostname()} ${name}[${4000 + name.length}]: ${svc.error}`)
  }
  return lines.join('\n')
}

export async function main(argv: string[]): Promise<number> {
  let now = false
  let quiet = false
  const words: string[] = []
  for (const a of argv) {
    if (a === '--now') now = true
    else if (a === '-q' || a === '--quiet') quiet = true
    else if (['--no-pager', '--no-block', '--system', '--no-legend', '--plain', '--full', '-l', '--no-ask-password'].includes(a)) {
      // accepted: no effect here
    } else if (a.startsWith('-')) {
      warn(`systemctl: unrecognized option '${a}'`)
      return 1
    } else words.push(a)
  }
  const [verb, ...units] = words
  const state = readState()

  if (verb === undefined || verb === 'list-units') return listUnits(state)
  if (NOT_MODELLED.has(verb)) {
    warn(`zxlab stand-in: systemctl ${verb} is not modelled`)
    return 1
  }
  if (!MUTATING.has(verb) && !QUERY.has(verb)) {
    warn(`Unknown command verb '${verb}'.`)
    return 1
  }
  if (verb === 'daemon-reload') {
    if (!isRoot()) {
      warn('Failed to reload daemon: Interactive authentication required.')
      return 1
    }
    return 0
  }
  if (!units.length) {
    if (verb === 'status') return listUnits(state)
    warn('Too few arguments.')
    return 1
  }
  if (MUTATING.has(verb) && !isRoot()) {
    const what = verb === 'enable' || verb === 'disable' ? `${verb} unit` : `${verb} ${unitName(units[0]!)}`
    warn(`Failed to ${what}: Interactive authentication required.`)
    if (!verb.endsWith('able')) warn(`See system logs and 'systemctl status ${unitName(units[0]!)}' for details.`)
    return 1
  }

  switch (verb) {
    case 'is-active':
    case 'is-failed': {
      const states = units.map((u) => activeState(state.services[serviceKey(u) ?? '']))
      if (!quiet) for (const s of states) say(s)
      const hit = states.some((s) => (verb === 'is-active' ? s === 'active' : s === 'failed'))
      return hit ? 0 : verb === 'is-active' ? 3 : 1
    }
    case 'is-enabled': {
      let any = false
      let code = 0
      for (const u of units) {
        const svc = state.services[serviceKey(u) ?? '']
        if (!svc) {
          warn(`Failed to get unit file state for ${unitName(u)}: No such file or directory`)
          code = 1
          continue
        }
        if (!quiet) say(svc.enabled ? 'enabled' : 'disabled')
        any ||= svc.enabled
      }
      return code || (any ? 0 : 1)
    }
    case 'status': {
      let code = 0
      const out: string[] = []
      for (const u of units) {
        const key = serviceKey(u) ?? ''
        const svc = state.services[key]
        if (!svc) {
          warn(`Unit ${unitName(u)} could not be found.`)
          code = 4
          continue
        }
        out.push(status(key, svc))
        if (!svc.active && code === 0) code = 3
      }
      if (out.length) say(out.join('\n\n'))
      return code
    }
  }

  // mutations: check every unit first, as systemd resolves them all before acting
  for (const u of units) {
    if (state.services[serviceKey(u) ?? '']) continue
    if (verb === 'enable' || verb === 'disable') warn(`Failed to ${verb} unit: Unit file ${unitName(u)} does not exist.`)
    else if (verb === 'stop') warn(`Failed to stop ${unitName(u)}: Unit ${unitName(u)} not loaded.`)
    else warn(`Failed to ${verb} ${unitName(u)}: Unit ${unitName(u)} not found.`)
    return verb === 'enable' || verb === 'disable' ? 1 : 5
  }
  let code = 0
  for (const u of units) {
    const key = serviceKey(u)!
    const svc = state.services[key]!
    const start = (restart: boolean) => {
      if (svc.active && !restart) return
      const err = startService(state, key, svc)
      if (err) {
        warn(`Job for ${key}.service failed because the control process exited with error code.`)
        warn(`See "systemctl status ${key}.service" and "journalctl -xeu ${key}.service" for details.`)
        code = 1
      }
    }
    switch (verb) {
      case 'enable':
        if (!svc.enabled) warn(`Created symlink /etc/systemd/system/multi-user.target.wants/${key}.service → /lib/systemd/system/${key}.service.`)
        svc.enabled = true
        if (now) start(false)
        break
      case 'disable':
        if (svc.enabled) warn(`Removed "/etc/systemd/system/multi-user.target.wants/${key}.service".`)
        svc.enabled = false
        if (now) stopService(svc)
        break
      case 'start':
        start(false)
        break
      case 'stop':
        stopService(svc)
        break
      case 'restart':
      case 'reload-or-restart':
        start(true)
        break
      case 'try-restart':
        if (svc.active) start(true)
        break
      case 'reload':
        warn(`Failed to reload ${key}.service: Job type reload is not applicable for unit ${key}.service.`)
        code = 1
        break
      case 'reset-failed':
        if (svc.sub === 'failed') delete svc.sub
        break
    }
  }
  writeState(state)
  return code
}

function listUnits(state: NodeState): number {
  const rows = Object.entries(state.services).sort(([a], [b]) => a.localeCompare(b))
  say('  UNIT                 LOAD   ACTIVE     SUB          DESCRIPTION')
  for (const [name, svc] of rows) {
    const a = activeState(svc)
    const sub = a === 'active' ? 'running' : a === 'activating' ? 'auto-restart' : a === 'failed' ? 'failed' : 'dead'
    say(`  ${`${name}.service`.padEnd(20)} loaded ${a.padEnd(10)} ${sub.padEnd(12)} ${UNITS[name]?.description ?? name}`)
  }
  say(`\n${rows.length} loaded units listed.`)
  return 0
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
