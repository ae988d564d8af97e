/**
 * The secret files of `edgegw migrate apply`: one per token, mode 0600, created
 * before the key is minted (so a name that is taken fails before a secret
 * exists), written once, never overwritten. Each says what to send, and to
 * whom (the token's owner as usage saw it).
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { PlanGroup, PlannedToken } from './migration-plan.js'
import { claimSecretFile, type SecretFile } from './secrets.js'

/** The file of a token's new key in `dir`. */
export function secretFilePath(dir: string, tokenId: string): string {
  return join(dir, `${tokenId}.key`)
}

/** The description the new key carries in IAM: how apply finds it again after a crash. */
export function keyDescription(tokenId: string): string {
  return `edgegw migrate: replaces legacy token ${tokenId}`
}

/** The text of a secret file: comments for the owner, then `ACCESS_KEY=` and `SECRET_KEY=` lines. */
export function secretFileText(group: PlanGroup, token: PlannedToken, accessKey: string, secretKey: string): string {
  const agents = token.owner.user_agents.length > 0 ? token.owner.user_agents.join(' | ') : 'none recorded'
  return [
    `# edgegw migrate: the IAM API key that replaces legacy token ${token.token_id} (${token.description || 'no description'})`,
    `# For: whoever calls routes ${token.owner.routes.join(', ') || '(none recorded)'} with user agents: ${agents}`,
    `# Reach: ${group.scope.label}, as the token had (policy ${group.policy.name}: ${group.policy.rule.condition})`,
    '# Send the secret key in the X-Auth-Token header instead of the legacy token:',
    '#   X-Auth-Token: <SECRET_KEY below>',
    '# It is shown here only: IAM never returns it again. Keep this file private (mode 0600).',
    `ACCESS_KEY=${accessKey}`,
    `SECRET_KEY=${secretKey}`,
    '',
  ].join('\n')
}

/** The access and secret key of a secret file, or undefined when it is missing, empty or not one. */
export async function readSecretFile(path: string): Promise<{ accessKey: string; secretKey: string } | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const accessKey = /^ACCESS_KEY=(\S+)$/m.exec(text)?.[1]
  const secretKey = /^SECRET_KEY=(\S+)$/m.exec(text)?.[1]
  return accessKey && secretKey ? { accessKey, secretKey } : undefined
}

/** Claims a token's secret file; a leftover that holds no key (a claim a crash interrupted) is removed first. */
export async function claimTokenSecretFile(path: string): Promise<SecretFile> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === '') await rm(path, { force: true })
  return claimSecretFile(path)
}
