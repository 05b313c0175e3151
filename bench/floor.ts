// The floor: what the same commands cost over ssh2 with nothing else around them. One connection
// per host (TCP_NODELAY, host key checked against the lab's known_hosts), the commands one after
// another on each host, hosts in parallel. Measured as a whole process, like zxplay and Ansible.
//
//   node --import=tsx bench/floor.ts SPEC.json
//
// SPEC: { user, key, knownHosts, hosts: [address…], commands: [{ cmd, input?, ok? }] } where
// `input` is base64 for stdin and `ok` lists the exit codes that count as success (default [0]).
// Prints one JSON line: { hosts, commands, failed }.
import fs from 'node:fs'
import ssh2 from 'ssh2'

type Spec = {
  user: string
  key: string
  knownHosts: string
  hosts: string[]
  commands: { cmd: string; input?: string; ok?: number[] }[]
}

const spec = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as Spec
const privateKey = fs.readFileSync(spec.key)
const known = fs
  .readFileSync(spec.knownHosts, 'utf8')
  .split('\n')
  .map((l) => l.trim().split(/\s+/))
  .filter((f) => f.length >= 3)
const inputs = spec.commands.map((c) => (c.input === undefined ? undefined : Buffer.from(c.input, 'base64')))

function connect(address: string): Promise<ssh2.Client> {
  const client = new ssh2.Client()
  return new Promise((resolve, reject) => {
    client.once('ready', () => {
      client.setNoDelay(true)
      resolve(client)
    })
    client.once('error', reject)
    client.connect({
      host: address,
      username: spec.user,
      privateKey,
      hostVerifier: (blob: Buffer) => known.some(([name, , b64]) => name === address && b64 === blob.toString('base64')),
    })
  })
}

function run(client: ssh2.Client, cmd: string, input: Buffer | undefined): Promise<number | null> {
  return new Promise((resolve, reject) => {
    client.exec(cmd, (err, ch) => {
      if (err) return reject(err)
      let code: number | null = null
      ch.on('exit', (c: number | null) => (code = c))
      ch.on('close', () => resolve(code))
      ch.on('data', () => {})
      ch.stderr.on('data', () => {})
      ch.end(input)
    })
  })
}

let failed = 0
await Promise.all(
  spec.hosts.map(async (address) => {
    const client = await connect(address)
    for (const [i, c] of spec.commands.entries()) {
      const code = await run(client, c.cmd, inputs[i])
      if (code === null || !(c.ok ?? [0]).includes(code)) failed++
    }
    client.end()
  })
)
console.log(JSON.stringify({ hosts: spec.hosts.length, commands: spec.commands.length, failed }))
process.exitCode = failed ? 1 : 0
