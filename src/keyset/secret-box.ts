import { base64url } from 'jose'
import type { SealedSecret } from './jwt-schema.js'

const encoder = new TextEncoder()
const SALT = encoder.encode('edge-auth-gateway/credential-secrets/v1')
/** Derived keys by master secret; only resolved keys are kept. */
const derived = new Map<string, CryptoKey>()

/**
 * The AES-256-GCM key for sealing credential secrets, derived with HKDF-SHA-256
 * from the Worker secret `CREDENTIAL_ENCRYPTION_KEY` (at least 32 characters).
 * @throws {TypeError} for a master secret shorter than 32 characters.
 */
async function sealingKey(masterSecret: string): Promise<CryptoKey> {
  if (typeof masterSecret !== 'string' || masterSecret.length < 32) {
    throw new TypeError('CREDENTIAL_ENCRYPTION_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)')
  }
  const cached = derived.get(masterSecret)
  if (cached) return cached
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(masterSecret), 'HKDF', false, ['deriveKey'])
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: encoder.encode('aes-256-gcm') },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
  derived.set(masterSecret, key)
  return key
}

/**
 * Seals a credential secret for storage in KV. `context` (the credential's id) is
 * bound as additional data: a sealed secret copied onto another credential does
 * not open.
 */
export async function sealSecret(secret: Uint8Array, masterSecret: string, context: string): Promise<SealedSecret> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(context) }, await sealingKey(masterSecret), new Uint8Array(secret))
  return { v: 1, iv: base64url.encode(iv), ct: base64url.encode(new Uint8Array(ct)) }
}

/**
 * Opens a sealed secret.
 * @throws {Error} when the master secret or the context is not the one it was sealed with, or the value was altered.
 */
export async function openSecret(sealed: SealedSecret, masterSecret: string, context: string): Promise<Uint8Array> {
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: base64url.decode(sealed.iv) as Uint8Array<ArrayBuffer>, additionalData: encoder.encode(context) },
    await sealingKey(masterSecret),
    base64url.decode(sealed.ct) as Uint8Array<ArrayBuffer>,
  )
  return new Uint8Array(plain)
}

