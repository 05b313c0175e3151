// The lab's HTTPS file server for its pkgs.k8s.io: GET/HEAD of files under a folder, nothing else.
// Usage: node --import tsx lab/hosts/repo-server.ts ROOT ADDRESS PORT CERT KEY
import fs from 'node:fs'
import https from 'node:https'
import path from 'node:path'

const [root, address, port, cert, key] = process.argv.slice(2)
if (!root || !address || !port || !cert || !key) throw new Error('usage: repo-server.ts ROOT ADDRESS PORT CERT KEY')
const base = path.resolve(root)

const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  const url = new URL(req.url ?? '/', 'https://lab')
  const file = path.resolve(base, `.${decodeURIComponent(url.pathname)}`)
  let st: fs.Stats | undefined
  try {
    st = file.startsWith(base + path.sep) ? fs.statSync(file) : undefined
  } catch {
    // not there
  }
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !st?.isFile()) {
    res.writeHead(st || req.method === 'GET' || req.method === 'HEAD' ? 404 : 405).end()
    return
  }
  res.writeHead(200, { 'content-length': st.size, 'last-modified': st.mtime.toUTCString(), 'content-type': 'application/octet-stream' })
  if (req.method === 'HEAD') res.end()
  else fs.createReadStream(file).pipe(res)
})
server.listen(Number(port), address, () => console.log(`serving ${base} on https://${address}:${port}`))
