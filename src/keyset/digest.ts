const encoder = new TextEncoder()

/** Lower-case hex SHA-256 of a UTF-8 string, through WebCrypto. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text))
  let hex = ''
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0')
  return hex
}

/**
 * The digest under which an IAM API key secret is stored. Secrets are UUIDs,
 * which are case-insensitive (RFC 9562 §4), so the canonical lower-case form is
 * hashed: `X-Auth-Token: 0A1B…` and `0a1b…` are the same key.
 */
export function apiKeyDigest(secret: string): Promise<string> {
  return sha256Hex(secret.trim().toLowerCase())
}
