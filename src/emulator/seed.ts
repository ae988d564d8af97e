/** First-start seeding: the Organization, its owner, and the admin key's record. */
import type { EmulatorConfig } from './config.js'
import type { ApiKeyDoc } from './db/docs.js'
import { writeSetting } from './db/schema.js'
import type { Tables } from './db/tables.js'
import { timestamp } from './http/ids.js'
import { ownerUser } from './iam/users.js'

/**
 * Seeds an empty database once: the owner user (`type: owner`) and an API-key
 * record for the admin secret (access key {@link EmulatorConfig.adminAccessKey},
 * not deletable, no digest: the secret lives only in the Worker's bindings).
 */
export function seed(tables: Tables, config: EmulatorConfig, now: Date): void {
  if (tables.users.get(config.ownerUserId)) return
  const at = timestamp(now)
  writeSetting(tables.sql, 'organization_id', config.organizationId)
  tables.users.insert(ownerUser(config.ownerUserId, config.organizationId, at))
  const adminKey: ApiKeyDoc = {
    access_key: config.adminAccessKey,
    secret_key: null,
    description: 'emulator admin secret (EMULATOR_ADMIN_SECRET)',
    created_at: at,
    updated_at: at,
    expires_at: null,
    default_project_id: config.defaultProjectId,
    editable: false,
    deletable: false,
    managed: true,
    creation_ip: '127.0.0.1',
    user_id: config.ownerUserId,
  }
  tables.apiKeys.insert(adminKey)
}
