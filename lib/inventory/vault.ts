// Ansible Vault: `!vault` values and whole encrypted files, decrypted with the password from
// --vault-password-file or --ask-vault-pass (the npm ansible-vault package implements the format).

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { InventoryError, UsageError } from '../base/errors.ts'
import { describeFsError } from '../base/yaml.ts'

export type VaultPassword = string

// Loaded on first use: most runs have nothing encrypted, and every run reads the inventory (~15 ms).
let vault: typeof import('ansible-vault') | undefined
const vaultModule = () => (vault ??= createRequire(import.meta.url)('ansible-vault') as typeof import('ansible-vault'))

export function isVaultText(text: string): boolean {
  return text.trimStart().startsWith('$ANSIBLE_VAULT;')
}

/** The plain text; an InventoryError naming `file` and `what` without a password or with a wrong one. */
export function decryptVault(ciphertext: string, password: VaultPassword | undefined, file: string, what: string, at = ''): string {
  if (password === undefined) {
    throw new InventoryError(file, at, `${what} is encrypted with Ansible Vault: pass --vault-password-file FILE or --ask-vault-pass`)
  }
  try {
    const text = ciphertext.trim().split(/\s*\n\s*/).join('\n')
    const plain = new (vaultModule().Vault)({ password }).decryptSync(text, undefined)
    if (plain === undefined) throw new Error('no data')
    return plain
  } catch (e) {
    throw new InventoryError(file, at, `${what} cannot be decrypted with the vault password given (${e instanceof Error ? e.message : String(e)})`)
  }
}

/** As Ansible reads --vault-password-file: an executable file is run and prints the password; otherwise its text, trimmed. */
export function readVaultPasswordFile(file: string): VaultPassword {
  let password: string
  try {
    const executable = (fs.statSync(file).mode & 0o111) !== 0
    password = executable ? execFileSync(file, { encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'] }) : fs.readFileSync(file, 'utf8')
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ? describeFsError(e) : `the script failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`
    throw new UsageError(`--vault-password-file ${file}: ${why}`)
  }
  password = password.trim()
  if (!password) throw new UsageError(`--vault-password-file ${file}: the password is empty`)
  return password
}
