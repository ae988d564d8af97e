import { compileCondition, ConditionError } from '../authz/conditions.js'
import { apiKeyRecord, type IamKeyEntry, type PrincipalRecord } from '../keyset/owner/records.js'
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

/** The IAM sources of principals' grants: everything {@link IamSnapshot} holds but the keys. */
export type PrincipalSources = Omit<IamSnapshot, 'apiKeys'>

/**
 * Compiles IAM principals, groups, policies and rules into what each application
 * and user brings to its keys, as IAM evaluates them: a principal's rules are
 * those of the policies attached to it and to every group it belongs to; rules
 * are OR-ed; the organisation owner passes every check. Every application and
 * user gets a record, and so does every other bearer a policy or a group names.
 */
export function compilePrincipals(iam: PrincipalSources): { principals: Map<string, PrincipalRecord>; warnings: string[] } {
  const warnings: string[] = []
  const groupsOf = new Map<string, string[]>()
  // Bearers known from groups and policies alone (the lists of applications and users may not hold them).
  const policyBearers = new Map<string, 'application' | 'user'>()
  for (const group of iam.groups) {
    for (const member of [...group.user_ids, ...group.application_ids]) groupsOf.set(member, [...(groupsOf.get(member) ?? []), group.id])
    for (const id of group.user_ids) policyBearers.set(id, 'user')
    for (const id of group.application_ids) policyBearers.set(id, 'application')
  }
  const grantsByPrincipal = new Map<string, Grant[]>()
  for (const policy of iam.policies) {
    const principal = policy.application_id ?? policy.user_id ?? policy.group_id
    if (!principal) continue
    if (policy.application_id) policyBearers.set(policy.application_id, 'application')
    else if (policy.user_id) policyBearers.set(policy.user_id, 'user')
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
  const principals = new Map<string, PrincipalRecord>()
  for (const [id, type] of policyBearers) principals.set(id, { type, owner: false, grants: grantsFor(id) })
  for (const app of iam.applications) {
    const tagged = app.tags.find((tag) => tag.startsWith(KIND_TAG_PREFIX))?.slice(KIND_TAG_PREFIX.length)
    principals.set(app.id, { type: 'application', ...(app.name ? { name: app.name } : {}), ...(tagged === 'ci' || tagged === 'service' ? { tagKind: tagged } : {}), owner: false, grants: grantsFor(app.id) })
  }
  for (const user of iam.users) {
    principals.set(user.id, { type: 'user', ...(user.email ? { name: user.email } : {}), owner: user.type === 'owner', grants: grantsFor(user.id) })
  }
  return { principals, warnings }
}

/**
 * Compiles every key IAM lists that has a captured digest into its key-set record
 * ({@link compilePrincipals}, then {@link apiKeyRecord} per key).
 */
export function compileApiKeys(iam: IamSnapshot, captured: ReadonlyMap<string, CapturedKey>): CompiledKeys {
  const { principals, warnings } = compilePrincipals(iam)
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
    const entry = iamKeyEntry(key)
    if (!entry) continue
    apiKeys[capture.digest] = apiKeyRecord(entry, capture, principals.get(entry.bearerId), iam.organizationId)
  }
  return { apiKeys, withoutDigest, orphanedDigests: [...captured.keys()].filter((k) => !seen.has(k)).length, warnings }
}

/** An IAM key as the key set needs it; `undefined` for a key without a bearer (it grants nothing). */
export function iamKeyEntry(key: IamApiKey): IamKeyEntry | undefined {
  const bearerId = key.application_id ?? key.user_id
  if (!bearerId) return undefined
  return { accessKey: key.access_key, bearerType: key.application_id ? 'application' : 'user', bearerId, expiresAt: key.expires_at ?? null }
}
