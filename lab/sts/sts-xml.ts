// The STS answers, in the AWS Query protocol's XML, shaped exactly like the real service's
// (namespace, element order, ResponseMetadata), so that @aws-sdk/client-sts parses them as it
// parses AWS's. Pure.

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/'

/** Text content only (no attributes are built from values), so quotes stay as they are, as in AWS's answers. */
export const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** <Tag>escaped text</Tag> */
const el = (tag: string, text: string) => `<${tag}>${xmlEscape(text)}</${tag}>`

export type IssuedCredentials = {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  /** epoch ms */
  expiration: number
}

export type AssumedRoleUser = { assumedRoleId: string; arn: string }

/** STS reports times in ISO 8601 UTC without milliseconds: 2019-11-09T13:34:41Z */
export const stsTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

export function assumeRoleResponse(c: IssuedCredentials, user: AssumedRoleUser, requestId: string): string {
  return [
    `<AssumeRoleResponse xmlns="${STS_NAMESPACE}">`,
    '  <AssumeRoleResult>',
    '    <AssumedRoleUser>',
    `      ${el('AssumedRoleId', user.assumedRoleId)}`,
    `      ${el('Arn', user.arn)}`,
    '    </AssumedRoleUser>',
    '    <Credentials>',
    `      ${el('AccessKeyId', c.accessKeyId)}`,
    `      ${el('SecretAccessKey', c.secretAccessKey)}`,
    `      ${el('SessionToken', c.sessionToken)}`,
    `      ${el('Expiration', stsTime(c.expiration))}`,
    '    </Credentials>',
    '  </AssumeRoleResult>',
    '  <ResponseMetadata>',
    `    ${el('RequestId', requestId)}`,
    '  </ResponseMetadata>',
    '</AssumeRoleResponse>',
    '',
  ].join('\n')
}

export function getCallerIdentityResponse(who: { arn: string; userId: string; account: string }, requestId: string): string {
  return [
    `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}">`,
    '  <GetCallerIdentityResult>',
    `    ${el('Arn', who.arn)}`,
    `    ${el('UserId', who.userId)}`,
    `    ${el('Account', who.account)}`,
    '  </GetCallerIdentityResult>',
    '  <ResponseMetadata>',
    `    ${el('RequestId', requestId)}`,
    '  </ResponseMetadata>',
    '</GetCallerIdentityResponse>',
    '',
  ].join('\n')
}

/** Sender: the caller's fault (4xx); Receiver: the service's (5xx). */
export function errorResponse(type: 'Sender' | 'Receiver', code: string, message: string, requestId: string): string {
  return [
    `<ErrorResponse xmlns="${STS_NAMESPACE}">`,
    '  <Error>',
    `    ${el('Type', type)}`,
    `    ${el('Code', code)}`,
    `    ${el('Message', message)}`,
    '  </Error>',
    `  ${el('RequestId', requestId)}`,
    '</ErrorResponse>',
    '',
  ].join('\n')
}
