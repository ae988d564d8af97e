import { decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose'
import { EdgeAuthError } from '../errors.js'

/** Header parameters that point at key material outside the key set (RFC 7515 §4.1.2–4.1.6). */
const KEY_HINTS = ['jku', 'jwk', 'x5u', 'x5c'] as const

/**
 * Reads a token's protected header (jose) and refuses one that tries to choose its
 * own key: the gateway takes keys from the key set only, never from a URL or a key
 * embedded in the token. jose would ignore these; refusing them makes a forged
 * token's intent visible as a 401.
 *
 * @throws {EdgeAuthError} `token_invalid`.
 */
export function checkedHeader(token: string, options: { forbidKid?: boolean } = {}): ProtectedHeaderParameters {
  let header: ProtectedHeaderParameters
  try {
    header = decodeProtectedHeader(token)
  } catch (cause) {
    throw new EdgeAuthError('token_invalid', 'token header is not valid', {}, { cause })
  }
  for (const name of [...KEY_HINTS, ...(options.forbidKid ? (['kid'] as const) : [])]) {
    if (name in header) throw new EdgeAuthError('token_invalid', `token header has "${name}"`)
  }
  return header
}
