import type { EdgeAuthIdentity } from '../middleware/identity.js'

interface Entry {
  identity: EdgeAuthIdentity
  snapshotId: string
  expiresAtMs: number
}

/** Options of {@link VerificationCache}. */
export interface VerificationCacheOptions {
  /** Entries per scope (route); the oldest is evicted first. Default 1000. */
  maxEntries?: number
  /** Longest time an entry is trusted, in seconds, even for a token without `exp`. Default 300. */
  maxTtlSeconds?: number
}

/**
 * Remembers the identity a credential was verified as (a JWT, or an API key with
 * its grants), so a repeated one costs a map lookup instead of a signature check or
 * a SHA-256 and a shard read. An entry holds until the credential's expiry (or
 * `maxTtlSeconds`) and only for the key-set snapshot it was verified against: any
 * change of the key set (a credential deleted, a token revoked, a key rotated)
 * makes every entry miss. Entries are kept per scope (the route's settings
 * object) and target, since what a token may do depends on both.
 */
export class VerificationCache {
  readonly #scopes = new WeakMap<object, Map<string, Entry>>()
  readonly #maxEntries: number
  readonly #maxTtlMs: number

  constructor(options: VerificationCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1000
    this.#maxTtlMs = 1000 * (options.maxTtlSeconds ?? 300)
  }

  get(scope: object, key: string, snapshotId: string, nowMs: number): EdgeAuthIdentity | undefined {
    const entries = this.#scopes.get(scope)
    const entry = entries?.get(key)
    if (!entry) return undefined
    if (entry.snapshotId !== snapshotId || nowMs >= entry.expiresAtMs) {
      entries!.delete(key)
      return undefined
    }
    return entry.identity
  }

  set(scope: object, key: string, snapshotId: string, identity: EdgeAuthIdentity, tokenExpiresAtMs: number | undefined, nowMs: number): void {
    let entries = this.#scopes.get(scope)
    if (!entries) this.#scopes.set(scope, (entries = new Map()))
    const expiresAtMs = Math.min(tokenExpiresAtMs ?? Number.POSITIVE_INFINITY, nowMs + this.#maxTtlMs)
    entries.delete(key)
    entries.set(key, { identity, snapshotId, expiresAtMs })
    if (entries.size > this.#maxEntries) entries.delete(entries.keys().next().value!)
  }
}
