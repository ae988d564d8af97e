const encoder = new TextEncoder()

/** Lower-case hex SHA-256 of a UTF-8 string, through WebCrypto. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text))
  let hex = ''
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0')
  return hex
}

/**
 * The canonical form of an IAM API key secret. Secrets are UUIDs, which are
 * case-insensitive (RFC 9562 §4): `0A1B…` and `0a1b…` are the same key, so
 * anything keyed by a secret (its digest, the verification cache) uses this form.
 */
export function canonicalApiKeySecret(secret: string): string {
  return secret.trim().toLowerCase()
}

/** The digest under which an IAM API key secret is stored: SHA-256 of its {@link canonicalApiKeySecret canonical form}. */
export function apiKeyDigest(secret: string): Promise<string> {
  return sha256Hex(canonicalApiKeySecret(secret))
}
