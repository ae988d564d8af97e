import type { RouteAuth } from '../keyset/jwt-schema.js'
import type { EdgeAuthIdentity } from '../identity.js'

// Consumer ids are UUIDs: an entry shaped like one names an id, anything else a username.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * A route's consumer allow-list (Kong's ACL): with no list set, everyone the
 * credential checks let through passes. With `allowConsumers` and/or
 * `allowGroups` set, only a consumer named in the first, or belonging to a group
 * in the second, passes; an identity that is not a consumer (an IAM key, a
 * legacy token, an OIDC subject) never does.
 *
 * An `allowConsumers` entry is matched against one field only: a UUID against
 * consumer ids, anything else against usernames. A consumer whose username is
 * another consumer's id therefore never passes in that consumer's place.
 */
export function aclAllows(identity: EdgeAuthIdentity, auth: RouteAuth): boolean {
  if (auth.allowConsumers === undefined && auth.allowGroups === undefined) return true
  const consumer = identity.consumer
  if (!consumer) return false
  if (auth.allowConsumers?.some((entry) => (UUID.test(entry) ? entry.toLowerCase() === consumer.id.toLowerCase() : entry === consumer.username))) return true
  return auth.allowGroups?.some((group) => consumer.groups.includes(group)) ?? false
}
