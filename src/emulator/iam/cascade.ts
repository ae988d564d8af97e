/** What the platform does to other resources when a principal or a group goes. */
import { eq } from '../db/table.js'
import type { Tables } from '../db/tables.js'
import { timestamp } from '../http/ids.js'

/**
 * A user or application leaves: its API keys are deleted, it leaves every
 * group, and the policies attached to it are kept without a principal
 * ("orphaned", as the IAM API reference puts it).
 */
export function removePrincipal(tables: Tables, kind: 'user' | 'application', id: string, now: Date): void {
  tables.apiKeys.deleteWhere([eq('bearer_type', kind), eq('bearer_id', id)])
  const field = kind === 'user' ? 'user_ids' : 'application_ids'
  for (const group of tables.groups.all()) {
    if (!group[field].includes(id)) continue
    tables.groups.update({ ...group, [field]: group[field].filter((member) => member !== id), updated_at: timestamp(now) })
  }
  orphanPolicies(tables, kind, id, now)
}

/** Policies attached to this principal lose it and become `no_principal`. */
export function orphanPolicies(tables: Tables, kind: 'user' | 'application' | 'group', id: string, now: Date): void {
  for (const policy of tables.policies.all([eq('principal_type', kind), eq('principal_id', id)])) {
    const { user_id: _u, group_id: _g, application_id: _a, ...rest } = policy
    tables.policies.update({ ...rest, no_principal: true, updated_at: timestamp(now) })
  }
}
