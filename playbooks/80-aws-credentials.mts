// AWS session credentials for the Ray pods. STS AssumeRole runs here, on the control machine;
// the Secret ray/session-token goes to the cluster over stdin (never argv), env.list is a
// 0600 copy for `docker run --env-file`. Credentials are kept while more than
// aws.refresh_margin_seconds is left; --refresh (or near expiry) renews them and rolls the
// Ray Deployments, since envFrom is read only when a container starts. With no role configured
// (no aws.role_arn, no iamroles.txt) only the namespace is made: the Ray pods run without credentials.
import fs from 'node:fs'
import path from 'node:path'
import { writePrivate } from '../lib/base/files.ts'
import { changed, ok, playbook, skip, task, type Context } from '../lib/index.ts'
import { awsRoleSpec, resolveRoleArn } from './support/aws-role.ts'
import { KUBECTL, CONTROL_PLANE, applyManifest } from './support/kube.ts'
import { DEPLOYMENTS, RAY, deploymentExpiries, minutesLeft, noRole, readRayState, waitForRollouts, type RayVars, type SecretState } from './support/ray.ts'
import { POD_EXPIRES_AT, SESSION_SECRET, envListText, needsRefresh, sessionSecret, type SessionCredentials } from './support/session-token.ts'
import { assumeRole } from './support/sts.ts'

/** What the first task found (the Secret, and the expiry each Ray Deployment's pods started with) and obtained. */
type Credentials = { current: SecretState; deployed: Map<string, string | undefined>; renewed?: SessionCredentials; due?: string }
function creds(ctx: Context<RayVars, { credentials: Credentials }>): Credentials {
  const found = ctx.registered.credentials
  if (!found) throw new Error(`this task acts on what 'session credentials are valid' found, and that task did not run in this run: start at it, or at the playbook (--start-at 80-aws-credentials)`)
  return found
}

const NO_ROLE = 'no AWS role configured: see the first task'

const envFile = (ctx: Context<RayVars>) => path.resolve(ctx.vars.inventory_dir, ctx.vars.aws.env_file)

export default playbook<RayVars, { credentials: Credentials }>(
  {
    name: 'AWS credentials',
    hosts: CONTROL_PLANE,
    ...RAY,
    // The role to assume is input too: a configured one that cannot be read stops the run before
    // anything connects, listed with any other bad var.
    specs: [...RAY.specs, awsRoleSpec],
    tasks: [
      task('session credentials are valid', async (ctx) => {
        const v = ctx.vars
        const none = noRole(v)
        if (none) return skip(none)
        const roleArn = resolveRoleArn(v.aws, v.inventory_dir, v.inventory_file)
        const state = await readRayState(ctx)
        const current = state.secret
        const deployed = deploymentExpiries(state)
        const due = v.refresh
          ? '--refresh'
          : !current.values
            ? `no Secret ${v.ray.namespace}/${SESSION_SECRET} yet`
            : !current.expiresAt
              ? 'the Secret has no expiry annotation'
              : needsRefresh(current.expiresAt, v.aws.refresh_margin_seconds, new Date())
                ? `it expires at ${current.expiresAt}`
                : undefined
        ctx.register('credentials', { current, deployed, due } satisfies Credentials)
        if (!due) return ok(`valid until ${current.expiresAt} (${minutesLeft(current.expiresAt!)} min left)`)
        if (ctx.check) return changed(`would assume ${roleArn} (${due})`)
        const renewed = await assumeRole(v.aws, roleArn, { inventoryDir: v.inventory_dir, log: ctx.log })
        for (const value of [renewed.accessKeyId, renewed.secretAccessKey, renewed.sessionToken]) ctx.secret(value)
        ctx.register('credentials', { current, deployed, due, renewed } satisfies Credentials)
        return changed(`assumed ${roleArn} (${due}); valid until ${renewed.expiration.toISOString()}`)
      }),

      task('namespace exists', async (ctx) => {
        const manifest = await ctx.render('ray/namespace.yaml')
        await applyManifest(ctx, 'ray-namespace', manifest, { seen: (await readRayState(ctx)).seen })
      }),

      task('Secret session-token holds them', async (ctx) => {
        if (noRole(ctx.vars)) return skip(NO_ROLE)
        const { renewed, due } = creds(ctx)
        if (!due) return ok('unchanged')
        if (!renewed) return changed(`would update Secret ${SESSION_SECRET} (${due})`) // --check
        // Server-side apply: no last-applied annotation, which would hold a second copy of the values.
        await ctx.$({ input: JSON.stringify(sessionSecret(renewed, ctx.vars.ray.namespace)) })`${KUBECTL} apply --server-side --field-manager=zxplay -f -`
      }),

      task('env.list holds them (mode 0600)', async (ctx) => {
        if (noRole(ctx.vars)) return skip(NO_ROLE)
        const { renewed, current, due } = creds(ctx)
        const file = envFile(ctx)
        if (due && !renewed) return changed(`would write ${file}`) // --check
        const wanted = renewed ? envListText(renewed) : current.values ? envListText(fromSecret(current)) : undefined
        if (!wanted) throw new Error(`no credentials to write to ${file}`) // unreachable: due is set without a Secret
        if (readIf(file) === wanted && (fs.statSync(file).mode & 0o777) === 0o600) return ok(`${file} is current`)
        if (ctx.check) return changed(`would write ${file}`)
        writePrivate(file, wanted)
        return changed(`wrote ${file}`)
      }),

      task('the Ray pods run with them', async (ctx) => {
        if (noRole(ctx.vars)) return skip(NO_ROLE)
        const { renewed, current, deployed, due } = creds(ctx)
        const expiresAt = renewed?.expiration.toISOString() ?? current.expiresAt
        const namespace = ctx.vars.ray.namespace
        if (!deployed.size) return skip('no Ray Deployments yet')
        if (due && !renewed) return changed(`would restart ${[...deployed.keys()].join(', ')}`) // --check
        const stale = DEPLOYMENTS.filter((d) => deployed.has(d) && deployed.get(d) !== expiresAt)
        if (!stale.length) return ok('started with the current credentials')
        // A new pod-template annotation rolls the pods, as `kubectl rollout restart` does, and
        // says which credentials they run with (85-ray renders the same value).
        const patch = JSON.stringify({ spec: { template: { metadata: { annotations: { [POD_EXPIRES_AT]: expiresAt ?? '' } } } } })
        for (const name of stale) await ctx.$`${KUBECTL} patch deployment ${name} -n ${namespace} --type merge -p ${patch}`
        await waitForRollouts(ctx, stale)
        return changed(`restarted ${stale.join(', ')}`)
      }),
    ],
  },
  import.meta
)

function fromSecret(s: SecretState): SessionCredentials {
  const v = s.values!
  return { accessKeyId: v.AWS_ACCESS_KEY_ID_SESS, secretAccessKey: v.AWS_SECRET_ACCESS_KEY_SESS, sessionToken: v.AWS_SESSION_TOKEN, expiration: new Date(s.expiresAt ?? 0) }
}

function readIf(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
