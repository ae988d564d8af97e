/** Who a secret in `X-Auth-Token` belongs to, and what their rules allow. */
import type { EmulatorConfig } from '../config.js'
import type { RuleDoc } from '../db/docs.js'
import { docArrayHasAny, eq, oneOf, raw } from '../db/table.js'
import type { Tables } from '../db/tables.js'
import { deniedAuthentication } from '../http/errors.js'
import { isUuid, secretDigest, sha256Hex } from '../http/ids.js'

/** The bearer of an authenticated API key. */
export interface Principal {
  bearerType: 'user' | 'application'
  bearerId: string
  /** The Organization owner passes every check, as on the platform. */
  owner: boolean
  accessKey: string
}

/**
 * Resolves an `X-Auth-Token` value: the admin secret (the owner's key), or
 * the secret of a live API key.
 * @throws {ScalewayError} 401 `denied_authentication` (`invalid_argument` when
 * missing or not a UUID, `not_found` when unknown, `expired`).
 */
export async function authenticate(tables: Tables, config: EmulatorConfig, adminSecret: string, token: string | null, now: Date): Promise<Principal> {
  if (token === null || token.trim() === '') throw deniedAuthentication('invalid_argument')
  // Compare digests, not the strings, so the comparison's timing says nothing of the secret.
  if ((await sha256Hex(token.trim())) === (await sha256Hex(adminSecret))) {
    return { bearerType: 'user', bearerId: config.ownerUserId, owner: true, accessKey: config.adminAccessKey }
  }
  if (!isUuid(token.trim())) throw deniedAuthentication('invalid_argument')
  const key = tables.apiKeys.find([eq('secret_digest', await secretDigest(token))])
  if (key === undefined) throw deniedAuthentication('not_found')
  if (key.expires_at !== null && Date.parse(key.expires_at) <= now.getTime()) throw deniedAuthentication('expired')
  if (key.user_id !== undefined) {
    const user = tables.users.get(key.user_id)
    if (user === undefined) throw deniedAuthentication('not_found')
    return { bearerType: 'user', bearerId: user.id, owner: user.type === 'owner', accessKey: key.access_key }
  }
  return { bearerType: 'application', bearerId: key.application_id ?? '', owner: false, accessKey: key.access_key }
}

/**
 * The rules that apply to a bearer: those of policies attached to it, and to
 * the groups that list it. Rules with a condition are left out: the emulator
 * does not evaluate CEL, and an unevaluated condition must not grant.
 */
export function rulesOf(tables: Tables, bearerType: 'user' | 'application', bearerId: string): RuleDoc[] {
  const groupIds = tables.groups.all([docArrayHasAny(bearerType === 'user' ? 'user_ids' : 'application_ids', [bearerId])]).map((group) => group.id)
  const policies = tables.policies.all([
    raw(
      `(principal_type = ? AND principal_id = ?)${groupIds.length ? ` OR (principal_type = 'group' AND principal_id IN (${groupIds.map(() => '?').join(', ')}))` : ''}`,
      bearerType,
      bearerId,
      ...groupIds,
    ),
  ])
  if (policies.length === 0) return []
  return tables.rules.all([oneOf('policy_id', policies.map((policy) => policy.id))]).filter((rule) => rule.condition === '')
}

/** Where an action happens: the Organization, and the Project when there is one. */
export interface Scope {
  organizationId: string
  projectId?: string
}

/**
 * Does one of the bearer's rules grant one of `sets` on the scope? A rule on
 * the Organization covers all its Projects; a rule on Projects covers those.
 */
export function isAllowed(tables: Tables, principal: Principal, sets: readonly string[], scope: Scope): boolean {
  if (principal.owner) return true
  return rulesOf(tables, principal.bearerType, principal.bearerId).some(
    (rule) =>
      rule.permission_set_names.some((name) => sets.includes(name)) &&
      (rule.organization_id === scope.organizationId || (scope.projectId !== undefined && (rule.project_ids ?? []).includes(scope.projectId))),
  )
}

/**
 * The Projects on which the bearer holds one of `sets`: `'all'` for the owner
 * or a rule on the Organization, else the listed Projects (maybe none).
 */
export function allowedProjects(tables: Tables, principal: Principal, sets: readonly string[], organizationId: string): 'all' | string[] {
  if (principal.owner) return 'all'
  const projects = new Set<string>()
  for (const rule of rulesOf(tables, principal.bearerType, principal.bearerId)) {
    if (!rule.permission_set_names.some((name) => sets.includes(name))) continue
    if (rule.organization_id === organizationId) return 'all'
    for (const project of rule.project_ids ?? []) projects.add(project)
  }
  return [...projects]
}
