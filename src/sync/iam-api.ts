import * as v from 'valibot'
import { ApiClient } from './api-client.js'

const Id = v.string()
const Time = v.nullish(v.string())

/** An API key as `GET /iam/v1alpha1/api-keys` lists it (the secret is never there). */
export const IamApiKeySchema = v.object({
  access_key: v.string(),
  secret_key: v.nullish(v.string()),
  application_id: v.nullish(Id),
  user_id: v.nullish(Id),
  description: v.optional(v.string(), ''),
  created_at: Time,
  expires_at: Time,
  default_project_id: v.optional(v.string(), ''),
  editable: v.optional(v.boolean(), true),
})
export type IamApiKey = v.InferOutput<typeof IamApiKeySchema>

export const IamApplicationSchema = v.object({ id: Id, name: v.string(), organization_id: Id, description: v.optional(v.string(), ''), tags: v.optional(v.array(v.string()), []) })
export type IamApplication = v.InferOutput<typeof IamApplicationSchema>

export const IamUserSchema = v.object({ id: Id, email: v.optional(v.string(), ''), organization_id: Id, type: v.optional(v.string(), 'guest') })
export type IamUser = v.InferOutput<typeof IamUserSchema>

export const IamGroupSchema = v.object({
  id: Id,
  name: v.string(),
  organization_id: Id,
  user_ids: v.optional(v.array(Id), []),
  application_ids: v.optional(v.array(Id), []),
})
export type IamGroup = v.InferOutput<typeof IamGroupSchema>

export const IamPolicySchema = v.object({
  id: Id,
  name: v.string(),
  organization_id: Id,
  user_id: v.nullish(Id),
  group_id: v.nullish(Id),
  application_id: v.nullish(Id),
  no_principal: v.nullish(v.boolean()),
})
export type IamPolicy = v.InferOutput<typeof IamPolicySchema>

export const IamRuleSchema = v.object({
  id: Id,
  permission_set_names: v.nullish(v.array(v.string())),
  project_ids: v.nullish(v.array(Id)),
  organization_id: v.nullish(Id),
  condition: v.nullish(v.string()),
})
export type IamRule = v.InferOutput<typeof IamRuleSchema>

/** A created API key: the only response that carries `secret_key`. */
export const CreatedApiKeySchema = v.object({ ...IamApiKeySchema.entries, secret_key: v.string() })

/** One page of `GET /iam/v1alpha1/api-keys`. */
export const ApiKeyPageSchema = v.object({ api_keys: v.array(IamApiKeySchema), total_count: v.pipe(v.number(), v.integer(), v.minValue(0)) })

/** The lists the sync reads page by page, with the schema of their items. */
const PAGED = {
  'api-keys': { field: 'api_keys', item: IamApiKeySchema },
  applications: { field: 'applications', item: IamApplicationSchema },
  users: { field: 'users', item: IamUserSchema },
  groups: { field: 'groups', item: IamGroupSchema },
  policies: { field: 'policies', item: IamPolicySchema },
} as const
type Paged = typeof PAGED

/** The IAM v1alpha1 calls the gateway makes. */
export class IamApi {
  constructor(private readonly client: ApiClient) {}

  /** Attempts per call: what one call may cost in subrequests. */
  get attempts(): number {
    return this.client.attempts
  }

  /**
   * One page of an organisation's list. API keys come in access-key order, so that a
   * page covers a range of access keys (the sync diffs its index by range).
   */
  listPage<L extends keyof Paged>(list: L, organizationId: string, page: number): Promise<{ items: v.InferOutput<Paged[L]['item']>[]; total: number; last: boolean }> {
    const { field, item } = PAGED[list]
    return this.client.page(`/iam/v1alpha1/${list}`, field, item, { organization_id: organizationId, ...(list === 'api-keys' ? { order_by: 'access_key_asc' } : {}) }, page) as never
  }
  /** One page of a policy's rules. */
  rulesPage(policyId: string, page: number): Promise<{ items: IamRule[]; total: number; last: boolean }> {
    return this.client.page('/iam/v1alpha1/rules', 'rules', IamRuleSchema, { policy_id: policyId }, page)
  }

  listApiKeys(organizationId: string): Promise<IamApiKey[]> {
    return this.client.list('/iam/v1alpha1/api-keys', 'api_keys', IamApiKeySchema, { organization_id: organizationId })
  }
  listApplications(organizationId: string): Promise<IamApplication[]> {
    return this.client.list('/iam/v1alpha1/applications', 'applications', IamApplicationSchema, { organization_id: organizationId })
  }
  listUsers(organizationId: string): Promise<IamUser[]> {
    return this.client.list('/iam/v1alpha1/users', 'users', IamUserSchema, { organization_id: organizationId })
  }
  listGroups(organizationId: string): Promise<IamGroup[]> {
    return this.client.list('/iam/v1alpha1/groups', 'groups', IamGroupSchema, { organization_id: organizationId })
  }
  listPolicies(organizationId: string): Promise<IamPolicy[]> {
    return this.client.list('/iam/v1alpha1/policies', 'policies', IamPolicySchema, { organization_id: organizationId })
  }
  listRules(policyId: string): Promise<IamRule[]> {
    return this.client.list('/iam/v1alpha1/rules', 'rules', IamRuleSchema, { policy_id: policyId })
  }
  getUser(userId: string): Promise<IamUser> {
    return this.client.call('GET', `/iam/v1alpha1/users/${encodeURIComponent(userId)}`, IamUserSchema)
  }
  getApiKey(accessKey: string): Promise<IamApiKey> {
    return this.client.call('GET', `/iam/v1alpha1/api-keys/${encodeURIComponent(accessKey)}`, IamApiKeySchema)
  }
  /**
   * One page of the organisation's API keys (the admin API lists them page by page, for `edgegw key ls`).
   * @param pageSize 1–100, the API's bound.
   */
  listApiKeysPage(organizationId: string, page: number, pageSize: number, filter: { application_id?: string } = {}): Promise<v.InferOutput<typeof ApiKeyPageSchema>> {
    const query = new URLSearchParams({ organization_id: organizationId, page: String(page), page_size: String(pageSize), order_by: 'created_at_asc' })
    if (filter.application_id) query.set('application_id', filter.application_id)
    return this.client.call('GET', `/iam/v1alpha1/api-keys?${query}`, ApiKeyPageSchema)
  }
  /** Applications of the organisation whose name contains `name` (IAM's filter); the caller keeps the exact matches. */
  listApplicationsNamed(organizationId: string, name: string): Promise<IamApplication[]> {
    return this.client.list('/iam/v1alpha1/applications', 'applications', IamApplicationSchema, { organization_id: organizationId, name })
  }
  getApplication(applicationId: string): Promise<IamApplication> {
    return this.client.call('GET', `/iam/v1alpha1/applications/${encodeURIComponent(applicationId)}`, IamApplicationSchema)
  }
  /** Updates an API key: `expires_at` ends a rotated key's overlap. */
  updateApiKey(accessKey: string, request: { expires_at?: string | null; description?: string }): Promise<IamApiKey> {
    return this.client.call('PATCH', `/iam/v1alpha1/api-keys/${encodeURIComponent(accessKey)}`, IamApiKeySchema, request)
  }
  /** Deletes an API key in IAM (it stops working at IAM at once; at the edge after the next sync). */
  async deleteApiKey(accessKey: string): Promise<void> {
    await this.client.call('DELETE', `/iam/v1alpha1/api-keys/${encodeURIComponent(accessKey)}`, v.unknown())
  }
  /** Creates an API key; the response is the only time IAM returns its secret. */
  createApiKey(request: { application_id?: string; user_id?: string; description: string; expires_at?: string; default_project_id?: string }) {
    return this.client.call('POST', '/iam/v1alpha1/api-keys', CreatedApiKeySchema, request)
  }
}
