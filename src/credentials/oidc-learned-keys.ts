import type { JWK } from 'jose'
import { EdgeAuthError } from '../errors.js'
import type { OidcIssuer } from '../keyset/jwt-schema.js'
import { fetchJwks, publicSigningKeys } from './jwks-document.js'

/** Limits of {@link LearnedOidcKeys}, resolved and checked by the verifier. */
export interface LearnedOidcKeysSettings {
  /** Milliseconds between two fetches of one issuer's JWKS. */
  cooldownMs: number
  /** Milliseconds a learned key may be used after the fetch that found it. */
  maxAgeMs: number
  /** Milliseconds one fetch may take, body included. */
  timeoutMs: number
  /** Largest JWKS read, in bytes. */
  maxBytes: number
  fetch: typeof fetch
}

/** A key learned for a `kid`, and when its use ends (ms since the epoch). */
export interface LearnedKey {
  key: JWK
  usableUntilMs: number
}

interface Learned {
  /** The synced issuer entry these keys complement (see `#bindingOf`). */
  binding: string
  /** Keys of the last successful fetch whose `kid` the synced entry lacks (first of a repeated `kid`). */
  keys: JWK[]
  /** When `keys` were fetched (ms since the epoch). */
  fetchedAtMs: number
  /** When the last fetch started, successful or not: the cooldown runs from here. */
  attemptedAtMs: number
}

/**
 * Keys an isolate learned on the request path: a token's `kid` that the synced
 * snapshot of its issuer lacks (a key rotation since the last sync) makes it
 * fetch the issuer's JWKS, at most once per cooldown. The synced snapshot stays
 * the truth:
 *
 * - only keys whose `kid` the synced entry lacks are kept, one per `kid`, so a
 *   `kid` never matches two keys;
 * - they belong to one synced entry of the issuer (its `jwksUri`, `issuer`,
 *   algorithms and keys): a newer snapshot of it drops them, so a re-pointed
 *   issuer id never accepts the previous provider's keys;
 * - they are used for `maxAgeMs` after the fetch that found them at most (one
 *   sync interval), so a key the provider withdrew is refused once the sync has
 *   had its turn, even when the snapshot itself did not change.
 *
 * A request that finds the cooldown running is refused at once, never kept
 * waiting; it never awaits another request's fetch.
 */
export class LearnedOidcKeys {
  readonly #settings: LearnedOidcKeysSettings
  /** By issuer id: bounded by the issuers the key set names. */
  readonly #learned = new Map<string, Learned>()
  readonly #bindings = new WeakMap<OidcIssuer, string>()

  constructor(settings: LearnedOidcKeysSettings) {
    this.#settings = settings
  }

  /**
   * The learned key of this issuer for `kid`: one found by an earlier fetch, or
   * by a fetch now when the cooldown allows; with the time its use ends.
   * @throws {EdgeAuthError} `token_invalid` when no such key is known (cooldown running, fetch failed, `kid` not in the JWKS).
   */
  async keyFor(issuer: OidcIssuer, kid: string, nowMs: number): Promise<LearnedKey> {
    const binding = this.#bindingOf(issuer)
    let entry = this.#learned.get(issuer.id)
    if (entry && entry.binding !== binding) {
      this.#learned.delete(issuer.id)
      entry = undefined
    }
    const usable = entry && nowMs - entry.fetchedAtMs < this.#settings.maxAgeMs ? entry.keys : []
    const known = usable.find((key) => key.kid === kid)
    if (known) return { key: known, usableUntilMs: entry!.fetchedAtMs + this.#settings.maxAgeMs }
    if (entry && nowMs - entry.attemptedAtMs < this.#settings.cooldownMs) {
      throw new EdgeAuthError('token_invalid', `kid unknown to issuer ${issuer.id} (JWKS refresh cooling down)`)
    }
    const next: Learned = { binding, keys: usable, fetchedAtMs: entry?.fetchedAtMs ?? nowMs, attemptedAtMs: nowMs }
    this.#learned.set(issuer.id, next)
    let fetched: JWK[]
    try {
      const document = await fetchJwks(issuer.jwksUri, { timeoutMs: this.#settings.timeoutMs, maxBytes: this.#settings.maxBytes, fetch: this.#settings.fetch })
      fetched = (await publicSigningKeys(document, issuer.algorithms)).keys as JWK[]
    } catch (cause) {
      throw new EdgeAuthError('token_invalid', `kid unknown to issuer ${issuer.id} (JWKS refresh failed)`, {}, { cause })
    }
    const synced = new Set(issuer.keys.map((key) => key.kid))
    next.keys = fetched.filter((key) => !synced.has(key.kid!))
    next.fetchedAtMs = nowMs
    const found = next.keys.find((key) => key.kid === kid)
    if (!found) throw new EdgeAuthError('token_invalid', `kid unknown to issuer ${issuer.id}`)
    return { key: found, usableUntilMs: nowMs + this.#settings.maxAgeMs }
  }

  /** What identifies one synced entry of an issuer: where its keys come from, whose they are, and the keys themselves. */
  #bindingOf(issuer: OidcIssuer): string {
    let binding = this.#bindings.get(issuer)
    if (binding === undefined) {
      binding = JSON.stringify([issuer.jwksUri, issuer.issuer, issuer.algorithms, issuer.fetchedAt, issuer.keys])
      this.#bindings.set(issuer, binding)
    }
    return binding
  }
}
