import { EdgeAuthError } from '../errors.js'
import { apiKeyDigest } from '../keyset/digest.js'
import type { ApiKeyRecord } from '../keyset/schema.js'
import type { KeySetView } from '../keyset/store.js'

/**
 * Verifies an IAM API key secret: its SHA-256 digest must be in the key set and
 * the key must not have expired. The secret itself is hashed and dropped.
 *
 * @param nowMs Milliseconds since the epoch.
 * @throws {EdgeAuthError} `api_key_unknown`, `api_key_expired`, or `keyset_unavailable`
 *   when the shard holding the key cannot be read (never a 401 for a KV failure).
 */
export async function verifyApiKey(secret: string, keySet: KeySetView, nowMs: number): Promise<ApiKeyRecord> {
  const record = await keySet.findApiKey(await apiKeyDigest(secret))
  if (!record) throw new EdgeAuthError('api_key_unknown', 'API key not in the key set')
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= nowMs) {
    throw new EdgeAuthError('api_key_expired', `API key ${record.accessKey} expired at ${record.expiresAt}`)
  }
  return record
}
