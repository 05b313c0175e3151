// Real X.509 certificates for the stand-in cluster (a tiny DER writer + node:crypto), so that
// `openssl x509 -pubkey -in ca.crt | openssl rsa -pubin -outform der | openssl dgst -sha256`
// gives the same discovery hash kubeadm prints, and kubectl can check that a kubeconfig's
// client certificate was signed by the cluster's CA.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

const tlv = (tag: number, content: Buffer): Buffer => {
  const n = content.length
  let len: number[]
  if (n < 0x80) len = [n]
  else {
    const bytes: number[] = []
    for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff)
    len = [0x80 | bytes.length, ...bytes]
  }
  return Buffer.concat([Buffer.from([tag, ...len]), content])
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items))
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items))
const intBuf = (b: Buffer) => tlv(0x02, (b[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b)
const int = (n: number) => intBuf(Buffer.from([n]))
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]))
const octets = (b: Buffer) => tlv(0x04, b)
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]))
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'))
const explicit = (n: number, b: Buffer) => tlv(0xa0 + n, b)
const NULL = Buffer.from([0x05, 0x00])

function oid(s: string): Buffer {
  const parts = s.split('.').map(Number)
  const out = [(parts[0] as number) * 40 + (parts[1] as number)]
  for (const v of parts.slice(2)) {
    const enc = [v & 0x7f]
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) enc.unshift((x & 0x7f) | 0x80)
    out.push(...enc)
  }
  return tlv(0x06, Buffer.from(out))
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`))
}

const name = (cn: string, orgs: string[] = []) =>
  seq(...orgs.map((o) => set(seq(oid('2.5.4.10'), utf8(o)))), set(seq(oid('2.5.4.3'), utf8(cn))))

const ext = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value))

const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), NULL)
const SHA256_ECDSA = seq(oid('1.2.840.10045.4.3.2'))

export type Pem = { cert: string; key: string }

export type CertSpec = {
  cn: string
  orgs?: string[]
  ca?: boolean
  days: number
  usage?: 'client' | 'server' | 'both'
  dnsNames?: string[]
  ips?: string[]
}

function spkiOf(key: KeyObject): Buffer {
  return (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' })
}

/** Build and sign a certificate. issuer undefined = self-signed. */
function buildCert(spec: CertSpec, subjectKey: KeyObject, issuer?: { cert: X509Certificate; key: KeyObject; cn: string }): string {
  const signer = issuer?.key ?? subjectKey
  const alg = signer.asymmetricKeyType === 'rsa' ? SHA256_RSA : SHA256_ECDSA
  const spki = spkiOf(subjectKey)
  const skid = createHash('sha1').update(spki).digest()
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 5 * 60_000)
  const notAfter = new Date(now.getTime() + spec.days * 86_400_000)
  const exts: Buffer[] = [
    // keyUsage: digitalSignature, keyEncipherment (+ keyCertSign for a CA)
    ext('2.5.29.15', true, spec.ca ? bits(Buffer.from([0xa4]), 2) : bits(Buffer.from([0xa0]), 5)),
  ]
  if (!spec.ca) {
    const ekus = { client: ['1.3.6.1.5.5.7.3.2'], server: ['1.3.6.1.5.5.7.3.1'], both: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] }[spec.usage ?? 'client']
    exts.push(ext('2.5.29.37', false, seq(...ekus.map(oid))))
  }
  exts.push(ext('2.5.29.19', true, spec.ca ? seq(bool(true)) : seq()))
  if (spec.ca) exts.push(ext('2.5.29.14', false, octets(skid)))
  if (issuer) {
    const akid = createHash('sha1').update(spkiOf(issuer.key)).digest()
    exts.push(ext('2.5.29.35', false, seq(tlv(0x80, akid))))
  }
  if (spec.dnsNames?.length || spec.ips?.length) {
    const sans = [
      ...(spec.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d))),
      ...(spec.ips ?? []).map((ip) => tlv(0x87, Buffer.from(ip.split('.').map(Number)))),
    ]
    exts.push(ext('2.5.29.17', false, seq(...sans)))
  }
  // a positive serial whose first byte is neither 0 (DER forbids the padding) nor ≥ 0x80
  const serial = randomBytes(8)
  serial[0] = 0x40 | ((serial[0] as number) & 0x3f)
  const tbs = seq(
    explicit(0, int(2)),
    intBuf(serial),
    alg,
    issuer ? name(issuer.cn) : name(spec.cn, spec.orgs),
    seq(time(now), time(notAfter)),
    name(spec.cn, spec.orgs),
    spki,
    explicit(3, seq(...exts))
  )
  const sig = sign('sha256', tbs, signer)
  const der = seq(tbs, alg, bits(sig))
  return toPem('CERTIFICATE', der)
}

const toPem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`

/** A new self-signed CA (RSA 2048, 10 years, CN=kubernetes, as kubeadm makes it). */
export function newCA(cn = 'kubernetes'): Pem {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const cert = buildCert({ cn, ca: true, days: 3650 }, privateKey)
  return { cert, key: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string }
}

/** A leaf certificate signed by the CA (1 year, EC P-256 key). */
export function newLeaf(ca: Pem, spec: Omit<CertSpec, 'days' | 'ca'> & { days?: number }): Pem {
  const caCert = new X509Certificate(ca.cert)
  const caKey = createPrivateKey(ca.key)
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const cn = /CN=([^\n,]+)/.exec(caCert.subject)?.[1] ?? 'kubernetes'
  const cert = buildCert({ days: 365, ...spec }, privateKey, { cert: caCert, key: caKey, cn })
  return { cert, key: privateKey.export({ type: 'sec1', format: 'pem' }) as string }
}

/** kubeadm's discovery hash: sha256 of the CA certificate's SubjectPublicKeyInfo (DER). */
export function caCertHash(caCertPem: string): string {
  const cert = new X509Certificate(caCertPem)
  return 'sha256:' + createHash('sha256').update(spkiOf(cert.publicKey)).digest('hex')
}

/** True when certPem was signed by caCertPem's key. */
export function signedBy(certPem: string, caCertPem: string): boolean {
  try {
    return new X509Certificate(certPem).verify(new X509Certificate(caCertPem).publicKey)
  } catch {
    return false
  }
}

/** The subject's CN and O values. */
export function subjectOf(certPem: string): { cn: string; orgs: string[] } | undefined {
  try {
    const subject = new X509Certificate(certPem).subject
    const lines = subject.split('\n')
    return {
      cn: lines.find((l) => l.startsWith('CN='))?.slice(3) ?? '',
      orgs: lines.filter((l) => l.startsWith('O=')).map((l) => l.slice(2)),
    }
  } catch {
    return undefined
  }
}

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
export const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')
