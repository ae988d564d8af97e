import type { RouteAuth } from '../keyset/jwt-schema.js'
import type { EdgeAuthIdentity } from '../middleware/identity.js'

/**
 * A route's consumer allow-list (Kong's ACL): with no list set, everyone the
 * credential checks let through passes. With `allowConsumers` and/or
 * `allowGroups` set, only a consumer named in the first, or belonging to a group
 * in the second, passes; an identity that is not a consumer (an IAM key, a
 * legacy token, an OIDC subject) never does.
 */
export function aclAllows(identity: EdgeAuthIdentity, auth: RouteAuth): boolean {
  if (auth.allowConsumers === undefined && auth.allowGroups === undefined) return true
  const consumer = identity.consumer
  if (!consumer) return false
  if (auth.allowConsumers?.some((name) => name === consumer.id || name === consumer.username)) return true
  return auth.allowGroups?.some((group) => consumer.groups.includes(group)) ?? false
}
