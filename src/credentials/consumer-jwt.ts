import { decodeJwt, errors as joseErrors, importSPKI, jwtVerify, type JWTPayload } from 'jose'
import { EdgeAuthError } from '../errors.js'
import type { Consumer, ConsumersPart, JwtCredential, RouteAuth } from '../keyset/jwt-schema.js'
import { openSecret } from '../keyset/secret-box.js'
import { checkRegisteredClaims } from './jwt-claims.js'
import { checkedHeader } from './jwt-header.js'
import { BoundedMap } from '../util/bounded-map.js'

/** What a verified consumer JWT proves. */
export interface ConsumerTokenIdentity {
  consumer: Consumer
  credential: JwtCredential
  /** `exp` in milliseconds, when the token has one. */
  expiresAtMs: number | undefined
}

/**
 * Verifies Kong-style consumer JWTs: the key claim (`iss` by default, the header
 * `kid` as fallback) selects one credential; the token's `alg` must be the
 * credential's (jose is given only that algorithm, so `none`, a confused HMAC
 * "secret" made of a public key, or any other algorithm fails); then `exp`/`nbf`
 * with the route's leeway, `exp` and `nbf` when required, the registered claims' types
 * ({@link checkRegisteredClaims}), and the maximum lifetime, measured as
 * `exp − now` (Kong's `maximum_expiration`): a token's own `iat` cannot stretch it.
 * Keys are imported (or HMAC secrets opened) once per credential and kept.
 */
export class ConsumerJwtVerifier {
  /** Imported keys, by credential id and the material they came from. */
  readonly #keys: BoundedMap<string, CryptoKey | Uint8Array>

  constructor(maxCachedKeys = 1024) {
    this.#keys = new BoundedMap(maxCachedKeys)
  }

  /**
   * @param encryptionKey The Worker secret that seals HMAC secrets (`CREDENTIAL_ENCRYPTION_KEY`).
   * @throws {EdgeAuthError} `credential_unknown`, `token_invalid`, `token_expired`;
   *   `keyset_unavailable` when a stored credential cannot be opened (a configuration fault, never the client's).
   */
  async verify(token: string, consumers: ConsumersPart | undefined, auth: RouteAuth, encryptionKey: string | undefined, nowMs: number): Promise<ConsumerTokenIdentity> {
    const credential = findCredential(token, consumers, auth.keyClaim)
    const consumer = consumers?.consumers[credential.consumerId]
    if (!consumer) throw new EdgeAuthError('credential_unknown', `credential ${credential.key} has no consumer`)
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, await this.#key(credential, encryptionKey), {
        algorithms: [credential.algorithm],
        clockTolerance: auth.clockToleranceSeconds,
        currentDate: new Date(nowMs),
        requiredClaims: [...(auth.requireExp ? ['exp'] : []), ...(auth.requireNbf ? ['nbf'] : [])],
      }))
    } catch (cause) {
      if (cause instanceof EdgeAuthError) throw cause
      if (cause instanceof joseErrors.JWTExpired) throw new EdgeAuthError('token_expired', `token of credential ${credential.key} expired`, {}, { cause })
      throw new EdgeAuthError('token_invalid', `token of credential ${credential.key} rejected: ${cause instanceof joseErrors.JOSEError ? cause.code : 'error'}`, {}, { cause })
    }
    const nowSeconds = Math.floor(nowMs / 1000)
    checkRegisteredClaims(payload, nowSeconds, auth.clockToleranceSeconds)
    if (auth.maxLifetimeSeconds !== undefined) {
      if (payload.exp === undefined) throw new EdgeAuthError('token_invalid', 'a maximum lifetime is set and the token has no exp')
      const remaining = payload.exp - nowSeconds
      if (remaining > auth.maxLifetimeSeconds) throw new EdgeAuthError('token_invalid', `token valid ${remaining} s more, over the maximum of ${auth.maxLifetimeSeconds} s`)
    }
    return { consumer, credential, expiresAtMs: payload.exp === undefined ? undefined : payload.exp * 1000 }
  }

  async #key(credential: JwtCredential, encryptionKey: string | undefined): Promise<CryptoKey | Uint8Array> {
    const material = credential.secret?.ct ?? credential.publicKeyPem ?? ''
    const cacheKey = `${credential.id}|${credential.algorithm}|${material}`
    const cached = this.#keys.get(cacheKey)
    if (cached) return cached
    let key: CryptoKey | Uint8Array
    try {
      if (credential.algorithm.startsWith('HS')) {
        if (!credential.secret || !encryptionKey) throw new Error('HMAC credential without a sealed secret or without CREDENTIAL_ENCRYPTION_KEY')
        key = await openSecret(credential.secret, encryptionKey, credential.id)
      } else {
        if (!credential.publicKeyPem) throw new Error('asymmetric credential without a public key')
        key = await importSPKI(credential.publicKeyPem, credential.algorithm)
      }
    } catch (cause) {
      throw new EdgeAuthError('keyset_unavailable', `credential ${credential.key} cannot be opened`, { retryAfterSeconds: 60 }, { cause })
    }
    return this.#keys.set(cacheKey, key)
  }
}

/** The credential named by the key claim, or by the header `kid` when the claim is absent. */
function findCredential(token: string, consumers: ConsumersPart | undefined, keyClaim: string): JwtCredential {
  let claimed: unknown
  let kid: unknown
  try {
    // Unverified, only to pick the credential; the signature is checked next, with that credential's key.
    claimed = decodeJwt(token)[keyClaim]
    kid = checkedHeader(token).kid
  } catch (cause) {
    if (cause instanceof EdgeAuthError) throw cause
    throw new EdgeAuthError('token_invalid', 'the token cannot be decoded', {}, { cause })
  }
  // RFC 7519: a claim that names a key is a string; any other type is not "absent", so no fallback to the kid.
  if (claimed !== undefined && typeof claimed !== 'string') throw new EdgeAuthError('token_invalid', `the "${keyClaim}" claim is not a string`)
  const name = typeof claimed === 'string' && claimed !== '' ? claimed : typeof kid === 'string' && kid !== '' ? kid : undefined
  if (name === undefined) throw new EdgeAuthError('credential_unknown', `the token has no "${keyClaim}" claim and no kid`)
  const credential = consumers && Object.hasOwn(consumers.credentials, name) ? consumers.credentials[name] : undefined
  if (!credential) throw new EdgeAuthError('credential_unknown', 'no credential has the key the token names')
  return credential
}
