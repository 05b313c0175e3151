// The role the aws: vars name: aws.role_arn, else the first line of aws.iamroles_file; or none
// (no role_arn and no iamroles.txt: the Ray pods run without AWS credentials). Reads that file only.
import fs from 'node:fs'
import type { VarsSpec } from '../../lib/index.ts'
import { InventoryError } from '../../lib/base/errors.ts'
import { showJson } from '../../lib/base/yaml.ts'
import { ROLE_ARN, ROLE_ARN_FORM, awsDefaults, awsPath, type AwsVars } from './vars/aws.ts'

const show = showJson

/**
 * Why no role is configured, or undefined when one is. None is when aws.role_arn is empty and the
 * default iamroles.txt does not exist: then the AWS step is left out (a dev cluster, Ray without
 * S3). A file named other than the default, or one that exists, is a configured role that
 * resolveRoleArn must read.
 */
export function noRoleReason(vars: Pick<AwsVars, 'role_arn' | 'iamroles_file'>, inventoryDir: string): string | undefined {
  if (vars.role_arn || vars.iamroles_file !== awsDefaults.iamroles_file) return undefined
  const file = awsPath(vars.iamroles_file, inventoryDir)
  try {
    fs.lstatSync(file)
    return undefined
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined // there, but unreadable: resolveRoleArn says why
  }
  return `no AWS role configured: aws.role_arn is empty and ${file} does not exist, so the Ray pods get no AWS credentials; to add them, put the role ARN on the first line of ${file} or set aws.role_arn`
}

/**
 * The role to assume: aws.role_arn when set, else the first line of aws.iamroles_file (relative to
 * the inventory's directory; the original project's iamroles.txt). Reads that file and nothing else.
 * A missing file or a malformed ARN is an InventoryError naming the file and line, or the key.
 */
export function resolveRoleArn(vars: Pick<AwsVars, 'role_arn' | 'iamroles_file'>, inventoryDir: string, where = 'the inventory'): string {
  if (vars.role_arn) {
    if (!ROLE_ARN.test(vars.role_arn)) throw new InventoryError(where, 'aws.role_arn', `expected an IAM role ARN, ${ROLE_ARN_FORM}, got ${show(vars.role_arn)}`)
    return vars.role_arn
  }
  if (!vars.iamroles_file) throw new InventoryError(where, 'aws.iamroles_file', 'expected a file holding the role ARN on its first line, or set aws.role_arn')
  const file = awsPath(vars.iamroles_file, inventoryDir)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code ?? e)
    throw new InventoryError(where, 'aws.iamroles_file', `cannot read ${file} (${why}): put the role ARN on its first line, or set aws.role_arn`)
  }
  const first = (text.split('\n')[0] ?? '').replace(/\r$/, '').trim()
  if (!first) throw new InventoryError(file, 'line 1', `expected the role ARN to assume, ${ROLE_ARN_FORM}; the line is empty (this file is aws.iamroles_file)`)
  if (!ROLE_ARN.test(first)) throw new InventoryError(file, 'line 1', `expected an IAM role ARN, ${ROLE_ARN_FORM}, got ${show(first)} (this file is aws.iamroles_file)`)
  return first
}


/**
 * A configured role that cannot be read is bad input too (80-aws-credentials declares this spec):
 * listed with every other bad var before anything connects. Reads aws.iamroles_file once per host per run.
 */
export const awsRoleSpec: VarsSpec = {
  name: 'aws role',
  defaults: { aws: awsDefaults },
  check(v) {
    const aws = v.aws as AwsVars
    const dir = String(v.inventory_dir)
    if (noRoleReason(aws, dir)) return []
    try {
      resolveRoleArn(aws, dir, String(v.inventory_file))
      return []
    } catch (e) {
      if (!(e instanceof InventoryError)) throw e
      return [{ file: e.file, key: e.path, message: e.detail }]
    }
  },
}
