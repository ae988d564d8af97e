/** User agents as the usage ledger keeps them: short, printable, and never holding a credential. */

/** Characters kept of a user agent (as `request.user_agent` in conditions). */
export const USER_AGENT_MAX_LENGTH = 255

/** Where a removed run of characters was. */
export const REDACTED = '[redacted]'

// A client may paste a credential into its User-Agent. Anything shaped like one goes:
// a JWT or JWS piece (base64url JSON starting `eyJ`), a UUID (an API key secret), and any
// run of 32 or more token characters (an HMAC secret, a consumer key, an admin token).
// No real product token is that long without a separator.
const CREDENTIAL_SHAPED = /eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)*|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9+/_~-]{32,}=*/gi
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]+/g

/**
 * A user agent fit for the ledger: credential-shaped runs replaced by
 * `[redacted]` (before truncation, so that no prefix of a credential survives),
 * control characters by a space, then cut to {@link USER_AGENT_MAX_LENGTH}.
 *
 * @returns `undefined` for an absent or empty user agent.
 * @example
 * ```ts
 * cleanUserAgent('ci-bot/2 token=eyJhbGciOi.eyJzdWIi.c2ln') // 'ci-bot/2 token=[redacted]'
 * ```
 */
export function cleanUserAgent(raw: string | undefined): string | undefined {
  if (!raw) return undefined
  // Headers are bounded by the platform; this only bounds the regex's work.
  const cleaned = raw.slice(0, 8192).replace(CREDENTIAL_SHAPED, REDACTED).replace(CONTROL, ' ').trim().slice(0, USER_AGENT_MAX_LENGTH)
  return cleaned === '' ? undefined : cleaned
}
