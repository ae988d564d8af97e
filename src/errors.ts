/**
 * Every reason the gateway refuses a request, as a stable machine code.
 *
 * Codes are part of the public contract: clients may `switch` on them, and they
 * appear as `code` in every `application/problem+json` body.
 */
export type EdgeAuthErrorCode =
  // 400: the request itself is unusable (RFC 6750 `invalid_request`).
  | 'credentials_malformed'
  | 'credentials_conflict'
  | 'path_invalid'
  | 'body_invalid'
  // 413: a body the route reads for credentials is larger than it reads.
  | 'body_too_large'
  // 401: no credential, or one that proves nothing (RFC 6750 `invalid_token`).
  | 'credentials_missing'
  | 'credentials_unsupported'
  | 'api_key_unknown'
  | 'api_key_expired'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'credential_unknown'
  | 'legacy_token_brownout'
  | 'legacy_token_sunset'
  // 403: a valid credential that may not do this (RFC 6750 `insufficient_scope`).
  | 'permission_denied'
  // Routing.
  | 'route_not_found'
  | 'method_not_allowed'
  // Infrastructure: never a credential failure.
  | 'keyset_unavailable'
  | 'origin_unreachable'
  | 'origin_timeout'
  | 'config_invalid'

/**
 * The one error class the gateway throws for a refused request.
 *
 * `message` is written for operators and never contains credential material;
 * the wire response is derived from `code` alone (see `problemResponse`). A
 * refusal (every code but {@link INFRASTRUCTURE_CODES}) has no stack trace: it is an
 * outcome of the request, and its code says where it came from.
 *
 * @example
 * ```ts
 * try { await verify() } catch (err) {
 *   if (err instanceof EdgeAuthError && err.code === 'api_key_expired') renew()
 * }
 * ```
 */
export class EdgeAuthError extends Error {
  override readonly name: string
  readonly code: EdgeAuthErrorCode
  /** Extra fields for the response, e.g. `allow` for 405 or `retryAfterSeconds` for 503 and brownouts. */
  readonly details: EdgeAuthErrorDetails

  constructor(code: EdgeAuthErrorCode, message: string, details: EdgeAuthErrorDetails = {}, options?: { cause?: unknown }) {
    // A refusal (any code but the infrastructure ones) carries no stack trace: see withoutStackIf.
    const limit = StackLimit.stackTraceLimit
    const stackless = limit !== undefined && !INFRASTRUCTURE_CODES.has(code)
    if (stackless) StackLimit.stackTraceLimit = 0
    super(message, options)
    if (stackless) StackLimit.stackTraceLimit = limit
    this.name = 'EdgeAuthError'
    this.code = code
    this.details = details
  }
}

// V8's (workerd, Node, Deno) and JavaScriptCore's (Bun) limit on captured frames; not in the ES lib types.
const StackLimit = Error as ErrorConstructor & { stackTraceLimit?: number }

/** The codes of failures (5xx: the key set, the origin, the configuration), which keep their stack trace. */
export const INFRASTRUCTURE_CODES: ReadonlySet<EdgeAuthErrorCode> = new Set<EdgeAuthErrorCode>(['keyset_unavailable', 'origin_unreachable', 'origin_timeout', 'config_invalid'])

/**
 * Builds an error without capturing a stack trace when `expected` (a refusal: an
 * outcome of the request, not a fault). Its code and message say what happened;
 * V8's capture of the stack was about a tenth of a refused request's CPU
 * (docs/benchmarks.md). Failures keep their stack.
 */
export function withoutStackIf<T>(expected: boolean, make: () => T): T {
  const limit = StackLimit.stackTraceLimit
  if (!expected || limit === undefined) return make()
  StackLimit.stackTraceLimit = 0
  try {
    return make()
  } finally {
    StackLimit.stackTraceLimit = limit
  }
}

/** Optional facts that shape the wire response of an {@link EdgeAuthError}. */
export interface EdgeAuthErrorDetails {
  /** Methods the matched route accepts; sent as `Allow` with 405. */
  allow?: readonly string[]
  /** Seconds a client should wait; sent as `Retry-After` (with every 503, default 30; and with a 401 `legacy_token_brownout`, until the window ends). */
  retryAfterSeconds?: number
  /** The permission set that would have allowed the call; sent as the challenge `scope` with 403. */
  requiredScope?: string
  /**
   * A more precise human text for the problem body than the code's generic one,
   * written by the gateway from facts safe to show the caller (a key kind, never a
   * key or a claim). The challenge keeps the generic text.
   */
  publicDetail?: string
  /** The Worker setting (var, secret or binding) that is missing or wrong; sent as `setting` with `config_invalid`, never its value. */
  setting?: string
  /** The public id (access key) of a credential that was valid but not allowed: for logs, never sent. */
  credentialId?: string
}
