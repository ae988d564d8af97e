import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWK } from 'jose'
import { EdgeAuthError } from '../errors.js'
import { OIDC_ALGORITHMS, type OidcIssuer, type OidcPart, type RouteAuth } from '../keyset/jwt-schema.js'
import { checkRegisteredClaims } from './jwt-claims.js'
import { checkedHeader } from './jwt-header.js'
import { LearnedOidcKeys } from './oidc-learned-keys.js'

/** What a verified OIDC token proves. */
export interface OidcTokenIdentity {
  issuer: OidcIssuer
  subject: string
  /**
   * Until when this verification holds (ms): the token's `exp`, or sooner when its
   * key was learned between two syncs, the end of that key's use.
   */
  expiresAtMs: number | undefined
}

/** Options of {@link OidcJwtVerifier} (`edgeAuth`'s `oidc` option). */
export interface OidcJwtVerifierOptions {
  /**
   * Seconds before a `kid` that the synced JWKS lacks may make this isolate fetch
   * that issuer's JWKS again. Anyone can send a token with a random `kid`: this is
   * the longest such a token can hold back a real key rotation, and it bounds the
   * fetches a client can cause (one per issuer per isolate per cooldown).
   * At least 1 (Envoy refetches after 1 s; jose's `cooldownDuration` is 30 s). Default 5.
   */
  refreshCooldownSeconds?: number
  /**
   * Seconds a key learned by such a fetch may be used, at most: one sync interval,
   * after which the synced snapshot is the only truth again (a key the provider
   * withdrew is refused). Learned keys are dropped sooner, as soon as the key set
   * holds a newer snapshot of the issuer. Set it to your sync interval.
   * At least 1. Default 300 (the Worker's Cron Trigger runs every 5 minutes).
   */
  learnedKeysMaxAgeSeconds?: number
  /** Milliseconds such a fetch may take, body included. Default 3000. */
  fetchTimeoutMs?: number
  /** Largest JWKS such a fetch reads, in bytes (as the sync). Default 262,144 (256 KiB). */
  maxJwksBytes?: number
  /** Default the global `fetch`. Redirects are never followed. */
  fetch?: typeof fetch
}

/**
 * Verifies OIDC JWTs against the JWKS the sync stored in the key set: `kid`
 * required, asymmetric algorithms only (the issuer's allow-list), `iss`, one of
 * the audiences, a non-empty string `sub`, `exp`, and every registered claim of
 * the type RFC 7519 gives it. A `kid` the synced JWKS lacks (a key rotation since
 * the last sync) is looked up in the issuer's live JWKS, within the limits of
 * {@link LearnedOidcKeys}; a `kid` the synced JWKS has is verified with the
 * synced key only.
 *
 * @throws {TypeError} at construction, naming a bad option.
 */
export class OidcJwtVerifier {
  readonly #learned: LearnedOidcKeys
  /** One jose key set per synced issuer entry, so its keys are imported once per snapshot. */
  readonly #synced = new WeakMap<OidcIssuer, ReturnType<typeof createLocalJWKSet>>()
  /** One per learned key, likewise. */
  readonly #learnedSets = new WeakMap<JWK, ReturnType<typeof createLocalJWKSet>>()

  constructor(options: OidcJwtVerifierOptions = {}) {
    const cooldown = checked('refreshCooldownSeconds', options.refreshCooldownSeconds, 5, 1, 'a number of seconds')
    const maxAge = checked('learnedKeysMaxAgeSeconds', options.learnedKeysMaxAgeSeconds, 300, 1, 'a number of seconds')
    const timeoutMs = checked('fetchTimeoutMs', options.fetchTimeoutMs, 3000, 1, 'a number of milliseconds')
    const maxBytes = checked('maxJwksBytes', options.maxJwksBytes, 262_144, 1, 'a number of bytes')
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new TypeError('OidcJwtVerifier (edgeAuth options.oidc): fetch must be a function')
    this.#learned = new LearnedOidcKeys({
      cooldownMs: cooldown * 1000,
      maxAgeMs: maxAge * 1000,
      timeoutMs,
      maxBytes,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    })
  }

  /** The issuer this route trusts whose `issuer` is the token's (unverified) `iss`, if any. */
  static issuerFor(iss: unknown, oidc: OidcPart | undefined, auth: RouteAuth): OidcIssuer | undefined {
    if (typeof iss !== 'string' || !oidc) return undefined
    return auth.oidcIssuers.map((id) => oidc.issuers[id]).find((issuer) => issuer?.issuer === iss)
  }

  /**
   * @throws {EdgeAuthError} `token_invalid` (no `kid`, unknown `kid`, bad signature,
   *   wrong audience, an algorithm the issuer does not use, a claim of the wrong type), `token_expired`.
   */
  async verify(token: string, issuer: OidcIssuer, auth: RouteAuth, nowMs: number): Promise<OidcTokenIdentity> {
    const kid = checkedHeader(token).kid
    if (typeof kid !== 'string' || kid === '') throw new EdgeAuthError('token_invalid', `token of issuer ${issuer.id} has no kid`)
    const learned = issuer.keys.some((key) => key.kid === kid) ? undefined : await this.#learned.keyFor(issuer, kid, nowMs)
    const keySet = learned ? this.#learnedSet(learned.key) : this.#syncedSet(issuer)
    const algorithms = issuer.algorithms.filter((alg) => (OIDC_ALGORITHMS as readonly string[]).includes(alg))
    let payload
    try {
      ;({ payload } = await jwtVerify(token, keySet, {
        algorithms,
        issuer: issuer.issuer,
        audience: issuer.audiences,
        clockTolerance: auth.clockToleranceSeconds,
        currentDate: new Date(nowMs),
        requiredClaims: ['sub', 'exp'],
      }))
    } catch (cause) {
      if (cause instanceof joseErrors.JWTExpired) throw new EdgeAuthError('token_expired', `token of issuer ${issuer.id} expired`, {}, { cause })
      throw new EdgeAuthError('token_invalid', `token of issuer ${issuer.id} rejected: ${cause instanceof joseErrors.JOSEError ? cause.code : 'error'}`, {}, { cause })
    }
    checkRegisteredClaims(payload, Math.floor(nowMs / 1000), auth.clockToleranceSeconds)
    // The subject becomes the principal the origin sees (X-Consumer-ID): an empty one names nobody.
    if (payload.sub === '') throw new EdgeAuthError('token_invalid', `token of issuer ${issuer.id} has an empty sub`)
    const expiresAtMs = payload.exp! * 1000
    return { issuer, subject: payload.sub!, expiresAtMs: learned ? Math.min(expiresAtMs, learned.usableUntilMs) : expiresAtMs }
  }

  #syncedSet(issuer: OidcIssuer): ReturnType<typeof createLocalJWKSet> {
    let set = this.#synced.get(issuer)
    if (!set) {
      set = createLocalJWKSet({ keys: issuer.keys as JWK[] } as JSONWebKeySet)
      this.#synced.set(issuer, set)
    }
    return set
  }

  #learnedSet(key: JWK): ReturnType<typeof createLocalJWKSet> {
    let set = this.#learnedSets.get(key)
    if (!set) {
      set = createLocalJWKSet({ keys: [key] } as JSONWebKeySet)
      this.#learnedSets.set(key, set)
    }
    return set
  }
}

/** An option's value, or its default; a `TypeError` naming it when it is not a finite number of at least `min`. */
function checked(name: string, value: unknown, fallback: number, min: number, unit: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`OidcJwtVerifier (edgeAuth options.oidc): ${name} must be ${unit}, ${min} or more`)
  }
  return value
}
