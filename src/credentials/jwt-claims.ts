import { EdgeAuthError } from '../errors.js'

/** Registered claims that are a StringOrURI (RFC 7519 §4.1.1, §4.1.2, §4.1.7). */
const STRING_CLAIMS = ['iss', 'sub', 'jti'] as const
/** Registered claims that are a NumericDate (RFC 7519 §4.1.4–4.1.6). */
const DATE_CLAIMS = ['exp', 'nbf', 'iat'] as const

/**
 * Checks, after the signature, that the registered claims a verified token
 * carries have the types RFC 7519 gives them, and that it was not issued in the
 * future. jose checks that `exp`, `nbf` and `iat` are numbers, not that they are
 * finite: `1e309` parses to `Infinity`, an `exp` that never comes. It checks no
 * type of `sub` or `jti` at all; an object there would reach the origin as
 * `[object Object]`.
 *
 * - `iss`, `sub`, `jti`: a string when present;
 * - `aud`: a string or an array of strings when present;
 * - `exp`, `nbf`, `iat`: a finite number when present;
 * - `iat` no later than now plus the clock tolerance (as jose does when
 *   `maxTokenAge` is set, and PyJWT always).
 *
 * @param nowSeconds The verifier's clock, in seconds since the epoch.
 * @param clockToleranceSeconds The skew allowed on `iat` (the route's, as for `exp` and `nbf`).
 * @throws {EdgeAuthError} `token_invalid`, naming the claim (never its value).
 * @example
 * ```ts
 * const { payload } = await jwtVerify(token, key, options)
 * checkRegisteredClaims(payload, Math.floor(nowMs / 1000), 30)
 * ```
 */
export function checkRegisteredClaims(payload: Readonly<Record<string, unknown>>, nowSeconds: number, clockToleranceSeconds: number): void {
  for (const claim of STRING_CLAIMS) {
    if (Object.hasOwn(payload, claim) && typeof payload[claim] !== 'string') throw new EdgeAuthError('token_invalid', `the "${claim}" claim is not a string`)
  }
  if (Object.hasOwn(payload, 'aud')) {
    const aud = payload.aud
    if (typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((member) => typeof member === 'string'))) {
      throw new EdgeAuthError('token_invalid', 'the "aud" claim is neither a string nor an array of strings')
    }
  }
  for (const claim of DATE_CLAIMS) {
    if (Object.hasOwn(payload, claim) && !Number.isFinite(payload[claim])) throw new EdgeAuthError('token_invalid', `the "${claim}" claim is not a finite NumericDate`)
  }
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + clockToleranceSeconds) {
    throw new EdgeAuthError('token_invalid', 'the "iat" claim is in the future')
  }
}
