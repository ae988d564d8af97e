/**
 * What `POST /api-keys/register` checks before it records a secret's digest:
 * whose key it is (never the owner's, never an `IAMManager`'s), and that the
 * caller holds a live secret IAM's answers fit. docs/admin-api.md, "Registering a key".
 */
import type { ApiKeyRecord } from '../keyset/schema.js'
import { ApiCallError } from '../sync/api-error.js'
import { compileApiKeys, type IamSnapshot } from '../sync/compile-keys.js'
import type { IamApi, IamApiKey, IamRule } from '../sync/iam-api.js'
import { inParallel } from '../util/in-parallel.js'
import { ADMIN_PERMISSION_SET } from './admin-auth.js'
import { AdminError } from './admin-http.js'

/** Permission sets that let a key read IAM API keys (the platform's catalogue, as the emulator has it). */
const IAM_READ_SETS = ['IAMReadOnly', ADMIN_PERMISSION_SET]

/**
 * The key as the sync would compile it: bearer, owner flag and every grant
 * (its own policies' rules and its groups'), read from IAM with the gateway's token.
 * @throws {ApiCallError} when IAM cannot be read (404 when the key does not exist).
 */
export async function keyAsCompiled(iam: IamApi, organizationId: string, accessKey: string): Promise<ApiKeyRecord | undefined> {
  const key = await iam.getApiKey(accessKey)
  const bearerId = key.application_id ?? key.user_id
  if (!bearerId) return undefined
  const [users, groups, policies] = await Promise.all([key.user_id ? iam.getUser(key.user_id).then((user) => [user]) : Promise.resolve([]), iam.listGroups(organizationId), iam.listPolicies(organizationId)])
  const principals = new Set([bearerId, ...groups.filter((g) => g.user_ids.includes(bearerId) || g.application_ids.includes(bearerId)).map((g) => g.id)])
  const relevant = policies.filter((p) => principals.has(p.application_id ?? p.user_id ?? p.group_id ?? ''))
  const rules = new Map<string, IamRule[]>()
  await inParallel(relevant, 6, async (policy) => void rules.set(policy.id, await iam.listRules(policy.id)))
  const snapshot: IamSnapshot = { organizationId, apiKeys: [key], applications: [], users, groups, policies: relevant, rules }
  return Object.values(compileApiKeys(snapshot, new Map([[accessKey, { digest: '0'.repeat(64) }]])).apiKeys)[0]
}

/**
 * Refuses keys that would carry the admin API and every permission at the edge:
 * the organisation owner's, and any whose bearer holds `IAMManager` (on any
 * scope, under any condition).
 * @throws {AdminError} 403 `key_not_registrable`.
 */
export function assertRegistrable(key: ApiKeyRecord): void {
  const why = key.owner ? 'is the organisation owner' : key.grants.some((g) => g.permissionSets.includes(ADMIN_PERMISSION_SET)) ? `holds ${ADMIN_PERMISSION_SET}` : undefined
  if (why) throw new AdminError(403, 'key_not_registrable', `${key.accessKey}: its bearer ${why}; such keys are not registered (use ADMIN_TOKEN for the admin API)`)
}

/**
 * Proves, as far as IAM v1alpha1 allows, that `secret` is the secret of `key`:
 * it reads the key from IAM *with that secret*. IAM has no "who am I" call, so
 * the answer proves that the secret is a live key of the organisation, and it
 * must fit this key's rights: IAM answers the key (200) only to a secret whose
 * bearer may read IAM, and refuses (403 `permissions_denied`: authenticated, not
 * allowed) one whose bearer may not. A 200 for a key without any IAM permission
 * set, or a 403 for a key with `IAMReadOnly` on the organisation (no condition),
 * is another key's secret.
 *
 * @param iamAsSecret The IAM client authenticating with `secret`.
 * @throws {AdminError} 400 `secret_invalid` (IAM answers 401: unknown, expired or
 *   deleted), 400 `secret_mismatch` (the answer does not fit the key's rights).
 * @throws {ApiCallError} when IAM fails otherwise (the admin API answers 502).
 */
export async function provePossession(iamAsSecret: IamApi, key: ApiKeyRecord, organizationId: string): Promise<void> {
  const mismatch = () => new AdminError(400, 'secret_mismatch', `secret_key: IAM's answer to this secret does not fit ${key.accessKey}'s rights: it is another key's secret`)
  let answer: IamApiKey | 'denied'
  try {
    answer = await iamAsSecret.getApiKey(key.accessKey)
  } catch (error) {
    if (!(error instanceof ApiCallError) || error.kind !== 'http') throw error
    if (error.status === 401) throw new AdminError(400, 'secret_invalid', 'secret_key: IAM does not accept this secret (unknown, expired or deleted key)')
    // 404: the secret reads IAM, yet not this key: a key of another organisation.
    if (error.status === 404) throw mismatch()
    if (error.status !== 403) throw error
    answer = 'denied'
  }
  const mayRead = key.grants.some((g) => g.permissionSets.some((set) => set.startsWith('IAM')))
  const mustRead = key.grants.some(
    (g) => g.condition === undefined && g.scope.type === 'organization' && g.scope.organizationId === organizationId && g.permissionSets.some((set) => IAM_READ_SETS.includes(set)),
  )
  const fits = answer === 'denied' ? !mustRead : answer.access_key === key.accessKey && mayRead
  if (!fits) throw mismatch()
}
