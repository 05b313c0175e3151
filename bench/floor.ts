// The floor: what the same commands cost over ssh2 with nothing else around them. One connection
// per host (TCP_NODELAY from the start, the host key checked against the lab's known_hosts), each
// host's commands one after another, hosts in parallel. Measured as a whole process, like zxplay
// and ansible-playbook, and loaded the same way as zxplay (Node 20 + tsx).
//
//   node --import=tsx bench/floor.ts SPEC.json
//
// SPEC: { user, key, knownHosts, hosts: [{ address, commands: [{ cmd, input? }] }] }, `input`
// base64 for stdin. Prints one JSON line: { hosts, commands, failed } (a failure: exit code not 0).
import fs from 'node:fs'
import ssh2 from 'ssh2'

type Spec = {
  user: string
  key: string
  knownHosts: string
  hosts: { address: string; commands: { cmd: string; input?: string }[] }[]
}

const spec = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as Spec
const privateKey = fs.readFileSync(spec.key)
const known = fs
  .readFileSync(spec.knownHosts, 'utf8')
  .split('\n')
  .map((l) => l.trim().split(/\s+/))
  .filter((f) => f.length >= 3)

function connect(address: string): Promise<ssh2.Client> {
  const client = new ssh2.Client()
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve(client))
    client.once('error', reject)
    client.connect({
      host: address,
      username: spec.user,
      privateKey,
      authHandler: ['publickey'],
      hostVerifier: (blob: Buffer) => known.some(([name, , b64]) => name === address && b64 === blob.toString('base64')),
    })
    client.setNoDelay(true)
  })
}

function run(client: ssh2.Client, cmd: string, input: Buffer | undefined): Promise<number | null> {
  return new Promise((resolve, reject) => {
    client.exec(cmd, (err, ch) => {
      if (err) return reject(err)
      let code: number | null = null
      ch.on('exit', (c: number | null) => (code = c))
      ch.on('close', () => resolve(code))
      ch.resume()
      ch.stderr.resume()
      ch.end(input)
    })
  })
}

let commands = 0
let failed = 0
await Promise.all(
  spec.hosts.map(async ({ address, commands: list }) => {
    const client = await connect(address)
    for (const c of list) {
      const code = await run(client, c.cmd, c.input === undefined ? undefined : Buffer.from(c.input, 'base64'))
      commands++
      if (code !== 0) failed++
    }
    client.end()
  })
)
console.log(JSON.stringify({ hosts: spec.hosts.length, commands, failed }))
process.exitCode = failed ? 1 : 0
