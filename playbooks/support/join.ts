// The join command kubeadm prints, turned into a JoinConfiguration so the token travels in a
// 0600 file rather than in any process's arguments. Pure.
import { shq } from '../../lib/transport/shell.ts'

export type Join = { endpoint: string; token: string; caCertHash: string }

export function parseJoinCommand(text: string): Join {
  const line = text.replace(/\\\n/g, ' ').split('\n').find((l) => l.includes('kubeadm join')) ?? ''
  const endpoint = /kubeadm join\s+(\S+)/.exec(line)?.[1]
  const token = /--token\s+(\S+)/.exec(line)?.[1]
  const caCertHash = /--discovery-token-ca-cert-hash\s+(\S+)/.exec(line)?.[1]
  if (!endpoint || !token || !caCertHash) throw new Error('kubeadm token create --print-join-command printed no usable join command')
  return { endpoint, token, caCertHash }
}

export function joinConfig(j: Join, o: { nodeName: string; criSocket: string }): string {
  return [
    'apiVersion: kubeadm.k8s.io/v1beta4',
    'kind: JoinConfiguration',
    'discovery:',
    '  bootstrapToken:',
    `    apiServerEndpoint: ${JSON.stringify(j.endpoint)}`,
    `    token: ${JSON.stringify(j.token)}`,
    `    caCertHashes: [${JSON.stringify(j.caCertHash)}]`,
    'nodeRegistration:',
    `  name: ${JSON.stringify(o.nodeName)}`,
    `  criSocket: ${JSON.stringify(o.criSocket)}`,
    '',
  ].join('\n')
}

/**
 * The join, in one command: the configuration arrives on stdin, goes to a 0600 file and is removed
 * by the same shell's EXIT trap on every path (done, failed, stopped by a TERM), so the token is
 * never left on the worker by a Ctrl-C between two commands.
 */
export function joinScript(file: string): string {
  const f = shq(file)
  return [`trap 'rm -f -- ${f}' EXIT`, `(umask 077; cat > ${f})`, `kubeadm join --config ${f}`].join('\n')
}
