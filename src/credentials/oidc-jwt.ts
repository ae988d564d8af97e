import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWK } from 'jose'
import { EdgeAuthError } from '../errors.js'
import { checkedHeader } from './jwt-header.js'
import { OIDC_ALGORITHMS, type OidcIssuer, type OidcPart, type RouteAuth } from '../keyset/jwt-schema.js'

/** What a verified OIDC token proves. */
export interface OidcTokenIdentity {
  issuer: OidcIssuer
  subject: string
  expiresAtMs: number | undefined
}

/** Options of {@link OidcJwtVerifier}. */
export interface OidcJwtVerifierOptions {
  /** Seconds between two JWKS fetches for one issuer, triggered by an unknown `kid`. Default 60. */
  refreshCooldownSeconds?: number
  /** Milliseconds a JWKS fetch may take. Default 3000. */
  fetchTimeoutMs?: number
  fetch?: typeof fetch
}

interface Refreshed {
  keys: JWK[]
  /** When the fetch was made (ms), successful or not: the cooldown runs from here. */
  attemptedAt: number
}

/**
 * Verifies OIDC JWTs against the JWKS the sync stored in the key set: `kid`
 * required, asymmetric algorithms only (the issuer's allow-list), `iss` and one of
 * the audiences. A `kid` the synced JWKS lacks (a key rotation since the last sync)
 * triggers one fetch of the JWKS per issuer per cooldown; a request that finds the
 * cooldown running is refused rather than kept waiting.
 */
export class OidcJwtVerifier {
  readonly #cooldownMs: number
  readonly #timeoutMs: number
  readonly #fetch: typeof fetch
  readonly #refreshed = new Map<string, Refreshed>()

  constructor(options: OidcJwtVerifierOptions = {}) {
    this.#cooldownMs = 1000 * (options.refreshCooldownSeconds ?? 60)
    this.#timeoutMs = options.fetchTimeoutMs ?? 3000
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init))
  }

  /** The issuer this route trusts whose `issuer` is the token's (unverified) `iss`, if any. */
  static issuerFor(iss: unknown, oidc: OidcPart | undefined, auth: RouteAuth): OidcIssuer | undefined {
    if (typeof iss !== 'string' || !oidc) return undefined
    return auth.oidcIssuers.map((id) => oidc.issuers[id]).find((issuer) => issuer?.issuer === iss)
  }

  /**
   * @throws {EdgeAuthError} `token_invalid` (no `kid`, unknown `kid`, bad signature,
   *   wrong audience, an algorithm the issuer does not use), `token_expired`.
   */
  async verify(token: string, issuer: OidcIssuer, auth: RouteAuth, nowMs: number): Promise<OidcTokenIdentity> {
    const kid = checkedHeader(token).kid
    if (typeof kid !== 'string' || kid === '') throw new EdgeAuthError('token_invalid', `token of issuer ${issuer.id} has no kid`)
    const keys = await this.#keysWith(issuer, kid, nowMs)
    const algorithms = issuer.algorithms.filter((alg) => (OIDC_ALGORITHMS as readonly string[]).includes(alg))
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys } as JSONWebKeySet), {
        algorithms,
        issuer: issuer.issuer,
        audience: issuer.audiences,
        clockTolerance: auth.clockToleranceSeconds,
        currentDate: new Date(nowMs),
        requiredClaims: ['sub', 'exp'],
      })
      return { issuer, subject: payload.sub!, expiresAtMs: payload.exp === undefined ? undefined : payload.exp * 1000 }
    } catch (cause) {
      if (cause instanceof joseErrors.JWTExpired) throw new EdgeAuthError('token_expired', `token of issuer ${issuer.id} expired`, {}, { cause })
      throw new EdgeAuthError('token_invalid', `token of issuer ${issuer.id} rejected: ${cause instanceof joseErrors.JOSEError ? cause.code : 'error'}`, {}, { cause })
    }
  }

  /** The issuer's keys, refreshed from its JWKS URL when `kid` is unknown and the cooldown allows. */
  async #keysWith(issuer: OidcIssuer, kid: string, nowMs: number): Promise<JWK[]> {
    const refreshed = this.#refreshed.get(issuer.id)
    const known = [...(refreshed?.keys ?? []), ...(issuer.keys as JWK[])]
    if (known.some((key) => key.kid === kid)) return known
    if (refreshed && nowMs - refreshed.attemptedAt < this.#cooldownMs) {
      throw new EdgeAuthError('token_invalid', `kid unknown to issuer ${issuer.id} (JWKS refresh cooling down)`)
    }
    const entry: Refreshed = { keys: refreshed?.keys ?? [], attemptedAt: nowMs }
    this.#refreshed.set(issuer.id, entry)
    entry.keys = await this.#fetchKeys(issuer).catch(() => entry.keys)
    const all = [...entry.keys, ...(issuer.keys as JWK[])]
    if (!all.some((key) => key.kid === kid)) throw new EdgeAuthError('token_invalid', `kid unknown to issuer ${issuer.id}`)
    return all
  }

  async #fetchKeys(issuer: OidcIssuer): Promise<JWK[]> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs)
    try {
      const res = await this.#fetch(issuer.jwksUri, { signal: controller.signal, headers: { accept: 'application/json' } })
      if (!res.ok) throw new Error(`JWKS ${res.status}`)
      const body = (await res.json()) as { keys?: unknown }
      if (!Array.isArray(body.keys)) throw new Error('JWKS without keys')
      // Public keys with a kid only: a JWK with private members is never used.
      return (body.keys as JWK[]).filter((key) => typeof key.kid === 'string' && key.kty !== 'oct' && !('d' in key))
    } finally {
      clearTimeout(timer)
    }
  }
}
