// crictl stand-in: info, version, images [-q], ps/pods (empty until a kubelet runs pods). The
// runtime endpoint comes from -r/--runtime-endpoint, else /etc/crictl.yaml, else crictl's
// deprecated defaults (with its warning). containerd must be active.
import fs from 'node:fs'
import { SOCKET } from './_containerd.ts'
import { dialError } from './_cri.ts'
import { p } from './_fs.ts'
import { isEntry, readText, say, warn } from './_io.ts'
import { readState } from './_node.ts'
import { requirePackage } from './_os.ts'

const DEFAULT_ENDPOINTS = ['unix:///run/containerd/containerd.sock', 'unix:///run/crio/crio.sock', 'unix:///var/run/cri-dockerd.sock']

function cniConfigured(): boolean {
  try {
    return fs.readdirSync(p('/etc/cni/net.d')).some((f) => /\.(conf|conflist|json)$/.test(f))
  } catch {
    return false
  }
}

export async function main(argv: string[]): Promise<number> {
  if (!requirePackage('crictl', 'cri-tools')) return 127
  let endpoint: string | undefined
  let configFile = '/etc/crictl.yaml'
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '-r' || a === '--runtime-endpoint') endpoint = argv[++i]
    else if (a.startsWith('--runtime-endpoint=')) endpoint = a.slice('--runtime-endpoint='.length)
    else if (a === '-c' || a === '--config') configFile = argv[++i] ?? configFile
    else if (a === '-i' || a === '--image-endpoint' || a === '-t' || a === '--timeout') i++
    else if (a === '-D' || a === '--debug') {
      // accepted
    } else words.push(a)
  }
  const [cmd, ...rest] = words
  const state = readState()
  const version = state.packages['cri-tools']!.version.replace(/-[^-]*$/, '')
  if (cmd === '--version' || cmd === '-v') {
    say(`crictl version v${version}`)
    return 0
  }
  if (!endpoint) {
    const yaml = readText(p(configFile))
    endpoint = yaml ? /^\s*runtime-endpoint:\s*["']?([^"'\s]+)/m.exec(yaml)?.[1] : undefined
    if (!endpoint) {
      if (!yaml) warn(`WARN[0000] Config "${configFile}" does not exist, trying next: "/usr/bin/crictl.yaml"`)
      warn(
        `WARN[0000] runtime connect using default endpoints: [${DEFAULT_ENDPOINTS.join(' ')}]. As the default settings are now deprecated, you should set the endpoint instead.`
      )
      endpoint = DEFAULT_ENDPOINTS[0]!
    }
  }
  const dial = dialError(state, endpoint)
  if (dial) {
    warn(
      `FATA[0000] validate service connection: validate CRI v1 runtime API for endpoint "${endpoint}": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: ${dial}"`
    )
    return 1
  }
  const containerd = state.services.containerd!
  const ctrVersion = state.packages.containerd!.version.replace(/-[^-]*$/, '')
  const images = state.images?.['k8s.io'] ?? []
  const quiet = rest.includes('-q') || rest.includes('--quiet')
  switch (cmd) {
    case 'version':
      say(`Version:  0.1.0\nRuntimeName:  containerd\nRuntimeVersion:  v${ctrVersion}\nRuntimeApiVersion:  v1`)
      return 0
    case 'info': {
      const net = cniConfigured()
      const cfg = containerd.config
      const info = {
        status: {
          conditions: [
            { type: 'RuntimeReady', status: true, reason: '', message: '' },
            net
              ? { type: 'NetworkReady', status: true, reason: '', message: '' }
              : { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'Network plugin returns error: cni plugin not initialized' },
          ],
        },
        cniconfig: { PluginDirs: ['/opt/cni/bin'], PluginConfDir: '/etc/cni/net.d', PluginMaxConfNum: 1 },
        config: {
          containerd: { defaultRuntimeName: 'runc', runtimes: { runc: { runtimeType: 'io.containerd.runc.v2', options: { SystemdCgroup: cfg?.systemdCgroup ?? false } } } },
          cni: { binDirs: ['/opt/cni/bin'], confDir: '/etc/cni/net.d', maxConfNum: 1 },
          sandboxImage: cfg?.sandbox,
          containerdEndpoint: SOCKET,
        },
        lastCNILoadStatus: net ? 'OK' : 'cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config',
      }
      say(JSON.stringify(info, null, 2))
      return 0
    }
    case 'images':
    case 'image':
    case 'img': {
      if (quiet) {
        for (const im of images) say(im.digest)
        return 0
      }
      say('IMAGE                                     TAG                 IMAGE ID            SIZE')
      for (const im of images) {
        const at = im.ref.lastIndexOf(':')
        const repo = im.ref.slice(0, at)
        const tag = im.ref.slice(at + 1)
        say(`${repo.padEnd(41)} ${tag.padEnd(19)} ${im.digest.slice(7, 20).padEnd(19)} ${(im.size / 1e6).toFixed(1)}MB`)
      }
      return 0
    }
    case 'ps':
      if (!quiet) say('CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD')
      return 0
    case 'pods':
      if (!quiet) say('POD ID              CREATED             STATE               NAME                NAMESPACE           ATTEMPT             RUNTIME')
      return 0
    case undefined:
      warn('zxlab stand-in: crictl needs a command (info, version, images, ps, pods)')
      return 1
    default:
      warn(`zxlab stand-in: crictl ${cmd} is not modelled (info, version, images, ps, pods are)`)
      return 1
  }
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
