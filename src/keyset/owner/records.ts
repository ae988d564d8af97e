/**
 * The key-set record of one API key, from what the sync knows of the key (IAM), of
 * its secret (the captured digest) and of its bearer (the principal's grants). The
 * one place the record is assembled: the in-memory compile (src/sync/compile-keys.ts)
 * and the Durable Object's shard builder both use it, so their shards hash alike.
 */
import type { ApiKeyRecord, Grant } from '../schema.js'

/** What the sync compiled for one application or user: everything a key record takes from its bearer. */
export interface PrincipalRecord {
  type: 'application' | 'user'
  /** The application's name or the user's email, when known. */
  name?: string
  /** The application's `edgegw:kind=ci` / `edgegw:kind=service` tag. */
  tagKind?: 'ci' | 'service'
  /** The organisation owner passes every check. */
  owner: boolean
  /** Own rules, then those of its groups, OR-ed. */
  grants: Grant[]
}

/** One IAM API key as the sync keeps it (no secret: IAM never lists one). */
export interface IamKeyEntry {
  accessKey: string
  bearerType: 'application' | 'user'
  bearerId: string
  expiresAt: string | null
}

/** What the gateway captured for one API key: the digest of its secret and, maybe, its kind. */
export interface CaptureEntry {
  accessKey: string
  digest: string
  kind?: 'personal' | 'ci' | 'service' | undefined
  /** When it was captured (ISO 8601); a revocation newer than this keeps it out. */
  capturedAt?: string | undefined
}

/**
 * The record of one key. A user's key is personal, always. An application's key
 * is what was recorded when it was captured, else what the application's tag
 * says, else a service key. A bearer the sync does not know gets no grants.
 */
export function apiKeyRecord(key: IamKeyEntry, capture: Pick<CaptureEntry, 'kind'>, principal: PrincipalRecord | undefined, organizationId: string): ApiKeyRecord {
  const kind = key.bearerType === 'user' ? 'personal' : capture.kind === 'ci' || capture.kind === 'service' ? capture.kind : (principal?.tagKind ?? 'service')
  return {
    accessKey: key.accessKey,
    bearer: { type: key.bearerType, id: key.bearerId, ...(principal?.name ? { name: principal.name } : {}) },
    organizationId,
    kind,
    expiresAt: key.expiresAt,
    owner: key.bearerType === 'user' && (principal?.owner ?? false),
    grants: principal?.grants ?? [],
  }
}
