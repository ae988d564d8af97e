import type { EdgeAuthIdentity } from '../identity.js'

/**
 * What the cache remembers of a verified credential: who it is, and, for an IAM key
 * whose only covering grants are conditional, the sources of those conditions.
 * Never what a condition said: conditions are evaluated on every request (time
 * moves, IPs differ).
 */
export interface VerifiedCredential {
  identity: EdgeAuthIdentity
  /** Conditions of which one must hold on each request; absent when nothing is conditional. */
  conditions?: readonly string[] | undefined
}

interface Entry {
  identity: VerifiedCredential
  snapshotId: string
  expiresAtMs: number
  /** What {@link VerificationCache} counts this entry as, in bytes. */
  bytes: number
}

/** Options of {@link VerificationCache}; every field has a default. */
export interface VerificationCacheOptions {
  /** Entries in all, across every route; the least recently used is evicted first. Default 10,000. */
  maxEntries?: number
  /**
   * Approximate memory the entries may take in all, in bytes: the characters of each
   * entry's key, identity and snapshot id at two bytes each, plus 256 bytes of
   * bookkeeping per entry. The least recently used is evicted first; an entry larger
   * than the whole budget is not kept. Default 4 MiB.
   */
  maxMemoryBytes?: number
  /** Longest time an entry is trusted, in seconds, even for a credential without an expiry. Default 300. */
  maxTtlSeconds?: number
}

/** Defaults of {@link VerificationCacheOptions}. */
const VERIFICATION_CACHE_DEFAULTS = { maxEntries: 10_000, maxMemoryBytes: 4 * 1024 * 1024, maxTtlSeconds: 300 } as const

const ENTRY_OVERHEAD_BYTES = 256

/**
 * Remembers the identity a credential was verified as (a JWT, or an API key with
 * its grants), so a repeated one costs a map lookup instead of a signature check or
 * a SHA-256 and a shard read. An entry holds until the expiry its caller gives (the
 * credential's, or an earlier one such as the next legacy-token brownout), at most
 * `maxTtlSeconds`, and only for the key-set snapshot it was verified against: any
 * change of the key set (a credential deleted, a token revoked, a key rotated)
 * makes every entry miss. Entries are kept per scope (the route's settings object)
 * and key (target and credential), since what a token may do depends on both; the
 * bounds hold for the whole cache, whatever the number of routes.
 */
export class VerificationCache {
  /** Scope number + key → entry, least recently used first. */
  readonly #entries = new Map<string, Entry>()
  /** A number per scope object: entries of a scope that is gone are never hit again, and age out of the LRU. */
  readonly #scopeIds = new WeakMap<object, number>()
  #nextScopeId = 0
  #bytes = 0
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #maxTtlMs: number

  constructor(options: VerificationCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? VERIFICATION_CACHE_DEFAULTS.maxEntries
    this.#maxBytes = options.maxMemoryBytes ?? VERIFICATION_CACHE_DEFAULTS.maxMemoryBytes
    this.#maxTtlMs = 1000 * (options.maxTtlSeconds ?? VERIFICATION_CACHE_DEFAULTS.maxTtlSeconds)
  }

  /** Entries held, across every scope. */
  get size(): number {
    return this.#entries.size
  }

  /** Bytes the entries are counted as (see {@link VerificationCacheOptions.maxMemoryBytes}). */
  get memoryBytes(): number {
    return this.#bytes
  }

  get(scope: object, key: string, snapshotId: string, nowMs: number): VerifiedCredential | undefined {
    const scopeId = this.#scopeIds.get(scope)
    if (scopeId === undefined) return undefined
    const id = `${scopeId}|${key}`
    const entry = this.#entries.get(id)
    if (!entry) return undefined
    this.#delete(id, entry)
    if (entry.snapshotId !== snapshotId || nowMs >= entry.expiresAtMs) return undefined
    // Back in as the most recently used.
    this.#entries.set(id, entry)
    this.#bytes += entry.bytes
    return entry.identity
  }

  /** Remembers `identity` until `expiresAtMs` (or `maxTtlSeconds` from now, if sooner). */
  set(scope: object, key: string, snapshotId: string, identity: VerifiedCredential, expiresAtMs: number | undefined, nowMs: number): void {
    const until = Math.min(expiresAtMs ?? Number.POSITIVE_INFINITY, nowMs + this.#maxTtlMs)
    if (until <= nowMs) return
    let scopeId = this.#scopeIds.get(scope)
    if (scopeId === undefined) this.#scopeIds.set(scope, (scopeId = this.#nextScopeId++))
    const id = `${scopeId}|${key}`
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * (id.length + snapshotId.length + JSON.stringify(identity).length)
    const previous = this.#entries.get(id)
    if (previous) this.#delete(id, previous)
    if (bytes > this.#maxBytes) return
    this.#entries.set(id, { identity, snapshotId, expiresAtMs: until, bytes })
    this.#bytes += bytes
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const [oldestId, oldest] = this.#entries.entries().next().value!
      this.#delete(oldestId, oldest)
    }
  }

  #delete(id: string, entry: Entry): void {
    this.#entries.delete(id)
    this.#bytes -= entry.bytes
  }
}
