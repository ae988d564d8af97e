/**
 * Turns a `POST /consumers/{consumer}/jwt` body into a credential ready for the
 * registry: the key chosen or generated, the HMAC secret checked or generated
 * and sealed, or the public key imported with jose for the credential's
 * algorithm and stored as SPKI PEM.
 */
import { base64url, exportJWK, exportSPKI, importSPKI } from 'jose'
import * as v from 'valibot'
import { CONSUMER_ALGORITHMS, type ConsumerAlgorithm } from '../keyset/jwt-schema.js'
import { sealSecret } from '../keyset/secret-box.js'
import type { JwtCredentialEntry } from '../sync/consumer-registry.js'
import { AdminError } from './admin-http.js'

/** The body of `POST /consumers/{consumer}/jwt` (Kong's jwt credential fields). */
export const JwtCredentialBody = v.strictObject({
  key: v.optional(
    v.pipe(
      v.string('expected a string'),
      v.minLength(1, 'must not be empty'),
      v.maxLength(256, 'at most 256 characters'),
      v.regex(/^[^\p{Cc}]+$/u, 'no control characters'),
    ),
  ),
  algorithm: v.optional(v.picklist(CONSUMER_ALGORITHMS, `expected one of ${CONSUMER_ALGORITHMS.join(', ')}`), 'HS256'),
  secret: v.optional(v.pipe(v.string('expected a string'), v.minLength(1, 'must not be empty'), v.maxLength(1024, 'at most 1024 characters'))),
  secret_is_base64: v.optional(v.boolean('expected true or false'), false),
  rsa_public_key: v.optional(v.pipe(v.string('expected a PEM string'), v.maxLength(16_384, 'at most 16384 characters'))),
})
export type JwtCredentialBodyInput = v.InferOutput<typeof JwtCredentialBody>

/** Smallest HMAC key, in bytes: the hash output size (RFC 7518 §3.2). */
export const HMAC_MIN_BYTES: Record<'HS256' | 'HS384' | 'HS512', number> = { HS256: 32, HS384: 48, HS512: 64 }

/** What {@link prepareCredential} returns: the entry to store, and the generated secret to show once. */
export interface PreparedCredential {
  entry: JwtCredentialEntry
  /**
   * A secret the gateway generated (HMAC credentials without a `secret`): the
   * exact string to sign with, whose UTF-8 bytes are the key. Shown in the answer
   * that made it, never again. Absent when the caller gave the secret.
   */
  secret?: string
}

/** Options of {@link prepareCredential}. */
export interface PrepareCredentialOptions {
  consumerId: string
  /** The credential's id: a new UUID unless it is an existing credential's (PATCH), which the sealed secret is bound to. */
  id?: string
  /** The Worker secret `CREDENTIAL_ENCRYPTION_KEY`; needed for HMAC credentials only. */
  encryptionKey: string | undefined
  createdAt: string
}

/**
 * Checks a credential body and builds the stored credential.
 * @throws {AdminError} 400 (`invalid_body`, `secret_too_short`, `secret_invalid`,
 *   `public_key_invalid`, `public_key_unsupported` for an Ed448 key) naming the field; 503 `credential_encryption_unconfigured`
 *   for an HMAC credential without a usable `CREDENTIAL_ENCRYPTION_KEY`.
 */
export async function prepareCredential(body: JwtCredentialBodyInput, options: PrepareCredentialOptions): Promise<PreparedCredential> {
  const id = options.id ?? crypto.randomUUID()
  const key = body.key ?? randomKey()
  const base = { id, consumerId: options.consumerId, key, algorithm: body.algorithm, createdAt: options.createdAt }
  if (isHmac(body.algorithm)) {
    if (body.rsa_public_key !== undefined) throw new AdminError(400, 'invalid_body', `rsa_public_key: not used by ${body.algorithm} credentials (an HMAC secret is)`)
    if (!options.encryptionKey || options.encryptionKey.length < 32) {
      throw new AdminError(503, 'credential_encryption_unconfigured', 'HMAC credentials need the CREDENTIAL_ENCRYPTION_KEY secret (at least 32 characters) to seal their secret')
    }
    if (body.secret !== undefined) {
      return { entry: { ...base, secret: await sealSecret(givenSecret(body.secret, body.secret_is_base64, body.algorithm), options.encryptionKey, id) } }
    }
    const generated = generateSecret(body.algorithm)
    return { entry: { ...base, secret: await sealSecret(new TextEncoder().encode(generated), options.encryptionKey, id) }, secret: generated }
  }
  if (body.secret !== undefined) throw new AdminError(400, 'invalid_body', `secret: not used by ${body.algorithm} credentials (rsa_public_key is)`)
  if (body.rsa_public_key === undefined) throw new AdminError(400, 'invalid_body', `rsa_public_key: required for ${body.algorithm} credentials (an SPKI PEM public key)`)
  return { entry: { ...base, publicKeyPem: await spkiFor(body.rsa_public_key, body.algorithm) } }
}

export function isHmac(algorithm: ConsumerAlgorithm): algorithm is 'HS256' | 'HS384' | 'HS512' {
  return algorithm === 'HS256' || algorithm === 'HS384' || algorithm === 'HS512'
}

/**
 * A printable HMAC secret whose UTF-8 bytes are the key, so it works exactly as
 * shown (`jwt.encode(payload, SECRET)` in PyJWT, `jwt.sign(payload, SECRET)` in
 * jsonwebtoken): as many random bytes as the hash output (RFC 7518 §3.2: 32, 48,
 * 64), base64url: 43, 64 or 86 characters, 256 bits of entropy or more, and at
 * least as many key bytes as the hash output.
 */
export function generateSecret(algorithm: 'HS256' | 'HS384' | 'HS512'): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(HMAC_MIN_BYTES[algorithm])))
}

/**
 * 16 random bytes as 32 lowercase hex characters (128 bits), as Kong generates a JWT
 * credential's key. Never base64url: a key starting with `-` would read as an option
 * in `edgegw jwt update <consumer> <key>`.
 */
function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

function givenSecret(secret: string, isBase64: boolean, algorithm: 'HS256' | 'HS384' | 'HS512'): Uint8Array {
  let bytes: Uint8Array
  if (isBase64) {
    // Standard or URL-safe alphabet, padding optional (Kong accepts either).
    const normalised = secret.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    if (!/^[A-Za-z0-9_-]*$/.test(normalised) || normalised.length % 4 === 1) throw new AdminError(400, 'secret_invalid', 'secret: not valid base64, and secret_is_base64 is true')
    bytes = base64url.decode(normalised)
  } else {
    bytes = new TextEncoder().encode(secret)
  }
  const minimum = HMAC_MIN_BYTES[algorithm]
  if (bytes.byteLength < minimum) {
    throw new AdminError(400, 'secret_too_short', `secret: ${algorithm} needs at least ${minimum} bytes${isBase64 ? ' once base64-decoded' : ''} (RFC 7518 §3.2), got ${bytes.byteLength}`)
  }
  return bytes
}

/**
 * Imports the PEM with jose for this algorithm (which refuses a private key, a
 * certificate, PKCS#1, or a key of the wrong type or curve) and re-exports it
 * as canonical SPKI PEM. RSA keys under 2,048 bits are refused, as jose's
 * verification would refuse them.
 */
async function spkiFor(pem: string, algorithm: Exclude<ConsumerAlgorithm, 'HS256' | 'HS384' | 'HS512'>): Promise<string> {
  if (isEd448Spki(pem)) {
    throw new AdminError(400, 'public_key_unsupported', `rsa_public_key: an Ed448 key; EdDSA credentials take Ed25519 keys only (the Workers runtime cannot verify Ed448 signatures)`)
  }
  const invalid = () => new AdminError(400, 'public_key_invalid', `rsa_public_key: not an SPKI PEM public key (-----BEGIN PUBLIC KEY-----) usable with ${algorithm} (${KEY_TYPE[algorithm].hint})`)
  let key: CryptoKey
  try {
    key = await importSPKI(pem.trim(), algorithm, { extractable: true })
    // workerd imports a P-256 SPKI as "Ed25519" without complaint (the key then fails
    // at use): check that the key really is of the algorithm's type and curve.
    const jwk = await exportJWK(key)
    if (jwk.kty !== KEY_TYPE[algorithm].kty || jwk.crv !== KEY_TYPE[algorithm].crv) throw invalid()
  } catch {
    throw invalid()
  }
  const modulusLength = (key.algorithm as { modulusLength?: number }).modulusLength
  if (modulusLength !== undefined && modulusLength < 2048) {
    throw new AdminError(400, 'public_key_invalid', `rsa_public_key: ${algorithm} needs an RSA key of at least 2048 bits, got ${modulusLength}`)
  }
  return (await exportSPKI(key)).trim()
}

// SubjectPublicKeyInfo of an Ed448 key (RFC 8410 §4): SEQUENCE { SEQUENCE { OID 1.3.101.113 } BIT STRING }.
const ED448_SPKI_PREFIX = [0x30, 0x43, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71]

/**
 * Does the PEM hold an Ed448 public key? WebCrypto in workerd (BoringSSL) has no
 * Ed448, and jose 6 none either: such a credential could never verify a token.
 */
function isEd448Spki(pem: string): boolean {
  const body = pem.trim().replace(/^-----BEGIN PUBLIC KEY-----|-----END PUBLIC KEY-----$/g, '').replace(/\s/g, '')
  let der: string
  try {
    der = atob(body)
  } catch {
    return false
  }
  return ED448_SPKI_PREFIX.every((byte, i) => der.charCodeAt(i) === byte)
}

/** The JWK type (and curve) each asymmetric algorithm needs. */
const KEY_TYPE: Record<Exclude<ConsumerAlgorithm, 'HS256' | 'HS384' | 'HS512'>, { kty: string; crv?: string; hint: string }> = {
  RS256: { kty: 'RSA', hint: 'an RSA key' },
  RS384: { kty: 'RSA', hint: 'an RSA key' },
  RS512: { kty: 'RSA', hint: 'an RSA key' },
  PS256: { kty: 'RSA', hint: 'an RSA key' },
  PS384: { kty: 'RSA', hint: 'an RSA key' },
  PS512: { kty: 'RSA', hint: 'an RSA key' },
  ES256: { kty: 'EC', crv: 'P-256', hint: 'an EC P-256 key' },
  ES384: { kty: 'EC', crv: 'P-384', hint: 'an EC P-384 key' },
  ES512: { kty: 'EC', crv: 'P-521', hint: 'an EC P-521 key' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', hint: 'an Ed25519 key' },
}
