import { compileCondition, ConditionError } from '../authz/conditions.js'
import type { ApiKeyRecord, Grant } from '../keyset/schema.js'
import type { IamApiKey, IamApplication, IamGroup, IamPolicy, IamRule, IamUser } from './iam-api.js'

/** Everything the sync read from IAM for one organisation. */
export interface IamSnapshot {
  organizationId: string
  apiKeys: IamApiKey[]
  applications: IamApplication[]
  users: IamUser[]
  groups: IamGroup[]
  policies: IamPolicy[]
  /** Rules by policy id. */
  rules: Map<string, IamRule[]>
}

/** What the gateway captured for one API key (docs/storage.md, registry). */
export interface CapturedKey {
  digest: string
  kind?: 'personal' | 'ci' | 'service' | undefined
}

/** The result of {@link compileApiKeys}. */
export interface CompiledKeys {
  /** Key records by digest, ready for the key set. */
  apiKeys: Record<string, ApiKeyRecord>
  /** Keys IAM knows whose secret the gateway never saw: they cannot be used at the edge. */
  withoutDigest: number
  /** Captured digests whose key IAM no longer has (deleted): dropped. */
  orphanedDigests: number
  /** Rules left out because their condition does not parse or type-check (for the sync status). */
  warnings: string[]
}

/** The application tag that marks its keys as CI keys (or, explicitly, service keys): `edgegw:kind=ci`. */
export const KIND_TAG_PREFIX = 'edgegw:kind='

/**
 * One IAM rule as a gateway grant; a rule with no scope grants nothing.
 * @throws {ConditionError} when the rule's condition does not parse or type-check: the rule grants nothing.
 */
export function ruleToGrant(rule: IamRule): Grant | undefined {
  const permissionSets = rule.permission_set_names ?? []
  const source = rule.condition?.trim() ?? ''
  // Checked here, once per sync, so the status names the rule; the reader compiles it again once per snapshot.
  const condition = compileCondition(source) ? { condition: source } : {}
  if (rule.project_ids && rule.project_ids.length > 0) return { permissionSets, scope: { type: 'projects', projectIds: [...rule.project_ids] }, ...condition }
  if (rule.organization_id) return { permissionSets, scope: { type: 'organization', organizationId: rule.organization_id }, ...condition }
  return undefined
}

/**
 * Compiles IAM principals, groups, policies and rules into the grants each API
 * key carries, as IAM evaluates them: a principal's rules are those of the
 * policies attached to it and to every group it belongs to; rules are OR-ed; the
 * organisation owner passes every check.
 */
export function compileApiKeys(iam: IamSnapshot, captured: ReadonlyMap<string, CapturedKey>): CompiledKeys {
  const warnings: string[] = []
  const groupsOf = new Map<string, string[]>()
  for (const group of iam.groups) {
    for (const member of [...group.user_ids, ...group.application_ids]) groupsOf.set(member, [...(groupsOf.get(member) ?? []), group.id])
  }
  const grantsByPrincipal = new Map<string, Grant[]>()
  for (const policy of iam.policies) {
    const principal = policy.application_id ?? policy.user_id ?? policy.group_id
    if (!principal) continue
    const grants: Grant[] = []
    for (const rule of iam.rules.get(policy.id) ?? []) {
      try {
        const grant = ruleToGrant(rule)
        if (grant) grants.push(grant)
      } catch (error) {
        if (!(error instanceof ConditionError)) throw error
        warnings.push(`policy ${policy.id} rule ${rule.id}: ${error.message}; the rule grants nothing`)
      }
    }
    grantsByPrincipal.set(principal, [...(grantsByPrincipal.get(principal) ?? []), ...grants])
  }
  const grantsFor = (principal: string): Grant[] => [
    ...(grantsByPrincipal.get(principal) ?? []),
    ...(groupsOf.get(principal) ?? []).flatMap((group) => grantsByPrincipal.get(group) ?? []),
  ]
  const applications = new Map(iam.applications.map((a) => [a.id, a]))
  const users = new Map(iam.users.map((u) => [u.id, u]))

  const apiKeys: Record<string, ApiKeyRecord> = {}
  let withoutDigest = 0
  const seen = new Set<string>()
  for (const key of iam.apiKeys) {
    const capture = captured.get(key.access_key)
    if (!capture) {
      withoutDigest++
      continue
    }
    seen.add(key.access_key)
    const bearerId = key.application_id ?? key.user_id
    if (!bearerId) continue
    const type = key.application_id ? 'application' : 'user'
    const name = type === 'application' ? applications.get(bearerId)?.name : users.get(bearerId)?.email
    apiKeys[capture.digest] = {
      accessKey: key.access_key,
      bearer: { type, id: bearerId, ...(name ? { name } : {}) },
      organizationId: iam.organizationId,
      kind: keyKind(type, capture, applications.get(bearerId)?.tags ?? []),
      expiresAt: key.expires_at ?? null,
      owner: type === 'user' && users.get(bearerId)?.type === 'owner',
      grants: grantsFor(bearerId),
    }
  }
  return { apiKeys, withoutDigest, orphanedDigests: [...captured.keys()].filter((k) => !seen.has(k)).length, warnings }
}

/**
 * A user's key is personal, always. An application's key is what was recorded when
 * it was minted or registered through the gateway, else what the application's
 * `edgegw:kind=ci` / `edgegw:kind=service` tag says, else a service key.
 */
function keyKind(bearer: 'application' | 'user', capture: CapturedKey, tags: readonly string[]): 'personal' | 'ci' | 'service' {
  if (bearer === 'user') return 'personal'
  if (capture.kind === 'ci' || capture.kind === 'service') return capture.kind
  const tagged = tags.find((tag) => tag.startsWith(KIND_TAG_PREFIX))?.slice(KIND_TAG_PREFIX.length)
  return tagged === 'ci' ? 'ci' : 'service'
}
