/** Identifiers and timestamps in the platform's formats. */

const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A random RFC 9562 version-4 UUID, lower case, as every Scaleway id. */
export function newId(): string {
  return crypto.randomUUID()
}

/** Is this a UUID (any version, any case)? */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}

/**
 * A new access key: `SCW` followed by 17 upper-case alphanumerics
 * (e.g. `SCWZ2CNKDJ217YMA8XFD`, as the live API shows them).
 */
export function newAccessKey(): string {
  // 36^17 candidates; rejection sampling keeps the distribution uniform.
  let key = 'SCW'
  while (key.length < 20) {
    const bytes = crypto.getRandomValues(new Uint8Array(32))
    for (const byte of bytes) {
      if (byte < 252 && key.length < 20) key += ACCESS_KEY_ALPHABET[byte % 36]
    }
  }
  return key
}

/** Is this a well-formed access key? */
export function isAccessKey(value: string): boolean {
  return /^SCW[A-Z0-9]{17}$/.test(value)
}

/**
 * An RFC 3339 UTC timestamp with microseconds, the platform's format
 * (`2026-04-02T10:46:26.282392Z`). JavaScript clocks give milliseconds, so the
 * last three digits are zero.
 */
export function timestamp(at: Date = new Date()): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/**
 * A caller-given instant (e.g. `expires_at`) echoed back in UTC, without
 * fractional seconds when it has none (`2025-01-28T14:55:38Z`, as recorded).
 */
export function echoInstant(at: Date): string {
  const iso = at.toISOString()
  return iso.endsWith('.000Z') ? iso.replace('.000Z', 'Z') : iso.replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** Lower-case hex SHA-256 of a UTF-8 string. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}

/**
 * The digest under which an API key secret is kept. Secrets are UUIDs, which
 * compare case-insensitively (RFC 9562), so the lower-case form is hashed.
 */
export function secretDigest(secret: string): Promise<string> {
  return sha256Hex(secret.trim().toLowerCase())
}
