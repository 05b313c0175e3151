// The session-token Secret: the Ray pods' AWS session credentials in the cluster (envFrom and
// /etc/awstoken), its keys, and the two annotations that say when they expire: on the Secret, and on
// the Ray pod templates (the credentials the pods were started with; a new value rolls them). The
// env.list form for `docker run --env-file`. Pure.

export type SessionCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date }

/** The Secret's name, in the Ray namespace. */
export const SESSION_SECRET = 'session-token'
/** Its keys, as the pods' environment names them. */
export const SESSION_KEYS = ['AWS_ACCESS_KEY_ID_SESS', 'AWS_SECRET_ACCESS_KEY_SESS', 'AWS_SESSION_TOKEN'] as const
/** On the Secret: when its credentials expire. */
export const SECRET_EXPIRES_AT = 'zxplay.io/expires-at'
/** On the Ray pod templates: the expiry of the credentials they were started with. */
export const POD_EXPIRES_AT = 'zxplay.io/session-token-expires-at'

/** The `docker run --env-file` form: KEY=value lines, values taken literally (so no quotes). */
export function envListText(creds: SessionCredentials): string {
  return (
    Object.entries(secretValues(creds))
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  )
}

/** The Secret ray pods read: v1 Opaque `session-token`, stringData with the three keys, expiry annotated. */
export function sessionSecret(creds: SessionCredentials, namespace: string) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SESSION_SECRET, namespace, annotations: { [SECRET_EXPIRES_AT]: creds.expiration.toISOString() } },
    type: 'Opaque',
    stringData: secretValues(creds),
  }
}

function secretValues(creds: SessionCredentials): Record<(typeof SESSION_KEYS)[number], string> {
  const values = {
    AWS_ACCESS_KEY_ID_SESS: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY_SESS: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken,
  }
  for (const [k, v] of Object.entries(values)) {
    // an env file is line-based and docker takes values literally: a line break would split the value
    if (!v || /[\r\n\0]/.test(v)) throw new Error(`${k}: STS returned an empty value or one with a line break; refusing to write it`)
  }
  return values
}

/**
 * True when credentials expiring at `expiresAtIso` should be renewed now: unknown or unreadable
 * expiry, or no more than `marginSeconds` left (exactly the margin left counts as due).
 */
export function needsRefresh(expiresAtIso: string | undefined, marginSeconds: number, now: Date | number): boolean {
  if (!expiresAtIso) return true
  const expires = Date.parse(expiresAtIso)
  if (Number.isNaN(expires)) return true
  const t = typeof now === 'number' ? now : now.getTime()
  return expires - t <= marginSeconds * 1000
}
