import { errors as joseErrors, jwtVerify } from 'jose'
import { checkRegisteredClaims } from './jwt-claims.js'
import { checkedHeader } from './jwt-header.js'
import { EdgeAuthError } from '../errors.js'
import type { LegacyPart, Target } from '../keyset/schema.js'
import type { KeySetView } from '../keyset/store.js'
import { importPkcs1PublicKey } from './pkcs1.js'
import { BoundedMap } from '../util/bounded-map.js'

/** The issuer every legacy serverless token carries. */
export const LEGACY_ISSUER = 'SCALEWAY'

/** What a verified legacy token proves. */
export interface LegacyTokenIdentity {
  /** The token id (`jti`), as the serverless tokens API names it. */
  tokenId: string
  namespaceId: string
  /** The function or container a resource token is limited to. */
  resourceId: string | undefined
  /** `exp` in milliseconds, when the token has one: no cached verification may outlive it. */
  expiresAtMs: number | undefined
}

/** Options of {@link LegacyJwtVerifier}. */
export interface LegacyJwtVerifierOptions {
  /** Seconds of clock skew allowed on `exp` and `nbf`. Default 30. */
  clockToleranceSeconds?: number
  /** Imported namespace keys kept in memory. Default 256. */
  maxCachedKeys?: number
}

/**
 * Verifies legacy serverless JWTs (RS256, `iss` SCALEWAY, `aud` functions,
 * `application_claim`, `jti` = token id) against the target namespace's
 * captured public key: signature first (jose), then claims (with the types
 * RFC 7519 gives them, {@link checkRegisteredClaims}), then that the token
 * is still live in the synced list and that its claim covers the target.
 * Imported keys are cached by PEM, so a warm request imports nothing.
 */
export class LegacyJwtVerifier {
  readonly #keys: BoundedMap<string, CryptoKey>
  readonly #tolerance: number

  constructor(options: LegacyJwtVerifierOptions = {}) {
    this.#tolerance = options.clockToleranceSeconds ?? 30
    const maxKeys = options.maxCachedKeys ?? 256
    if (!(this.#tolerance >= 0)) throw new TypeError('LegacyJwtVerifier: clockToleranceSeconds must be 0 or more')
    if (!(maxKeys > 0)) throw new TypeError('LegacyJwtVerifier: maxCachedKeys must be a positive number')
    this.#keys = new BoundedMap(maxKeys)
  }

  /**
   * @throws {EdgeAuthError} `credentials_unsupported` when the route's target has no
   *   legacy namespace key; `token_invalid`, `token_expired`, `token_revoked`;
   *   `permission_denied` for a valid token of the namespace that does not cover this resource.
   */
  async verify(token: string, target: Target, keySet: KeySetView, nowMs: number): Promise<LegacyTokenIdentity> {
    const namespaceId = target.namespaceId ?? (target.resourceId ? keySet.resource(target.resourceId)?.namespaceId : undefined)
    const legacy = await keySet.legacy()
    const namespace = namespaceId && legacy ? legacy.namespaces[namespaceId] : undefined
    if (!namespaceId || !namespace?.publicKeyPem) {
      throw new EdgeAuthError('credentials_unsupported', 'no legacy token key is known for the target namespace')
    }
    // A legacy token has no kid (the namespace picks the key) and no key hints.
    checkedHeader(token, { forbidKid: true })
    let payload: Record<string, unknown>
    try {
      ;({ payload } = await jwtVerify(token, await this.#key(namespace.publicKeyPem), {
        algorithms: ['RS256'],
        issuer: LEGACY_ISSUER,
        audience: 'functions',
        clockTolerance: this.#tolerance,
        currentDate: new Date(nowMs),
      }))
    } catch (cause) {
      if (cause instanceof joseErrors.JWTExpired) throw new EdgeAuthError('token_expired', 'legacy token expired', {}, { cause })
      throw new EdgeAuthError('token_invalid', `legacy token rejected: ${cause instanceof joseErrors.JOSEError ? cause.code : 'error'}`, {}, { cause })
    }
    checkRegisteredClaims(payload, Math.floor(nowMs / 1000), this.#tolerance)
    const tokenId = payload.jti
    if (typeof tokenId !== 'string') throw new EdgeAuthError('token_invalid', 'legacy token has no jti')
    const live = checkLive(tokenId, payload.application_claim, namespaceId, target, legacy!)
    return { ...live, expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined }
  }

  /** Only resolved keys are cached: two cold requests each import, neither awaits the other's promise. */
  async #key(pem: string): Promise<CryptoKey> {
    const cached = this.#keys.get(pem)
    if (cached) return cached
    let key: CryptoKey
    try {
      key = await importPkcs1PublicKey(pem)
    } catch (cause) {
      throw new EdgeAuthError('keyset_unavailable', 'a captured namespace key cannot be imported', { retryAfterSeconds: 60 }, { cause })
    }
    return this.#keys.set(pem, key)
  }
}

function checkLive(tokenId: string, claim: unknown, namespaceId: string, target: Target, legacy: LegacyPart): Omit<LegacyTokenIdentity, 'expiresAtMs'> {
  const live = Object.hasOwn(legacy.tokens, tokenId) ? legacy.tokens[tokenId] : undefined
  if (!live || live.namespaceId !== namespaceId) throw new EdgeAuthError('token_revoked', `legacy token ${tokenId} is not live`)
  const entries = Array.isArray(claim) ? (claim as { namespace_id?: unknown; application_id?: unknown }[]) : []
  const covers = entries.some(
    (entry) => (typeof entry.namespace_id === 'string' && entry.namespace_id === namespaceId && !entry.application_id) ||
      (typeof entry.application_id === 'string' && entry.application_id !== '' && entry.application_id === target.resourceId),
  )
  const rowCovers = live.resourceId === undefined || live.resourceId === target.resourceId
  if (!covers || !rowCovers) {
    throw new EdgeAuthError('permission_denied', `legacy token ${tokenId} does not cover this resource`, { credentialId: tokenId })
  }
  return { tokenId, namespaceId, resourceId: live.resourceId }
}
