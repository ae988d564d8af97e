import * as v from 'valibot'
import { EdgeAuthError } from '../errors.js'

const Time = v.pipe(v.string(), v.isoTimestamp())

/** The migration schedule of legacy serverless tokens. Every field is optional. */
export const LegacyTokenPolicySchema = v.pipe(
  v.object({
    /** When legacy tokens became deprecated: sent as `Deprecation` (RFC 9745). */
    deprecatedAt: v.optional(Time),
    /** After this instant legacy tokens are refused (`legacy_token_sunset`); before it, sent as `Sunset` (RFC 8594). */
    sunsetAt: v.optional(Time),
    /** The migration guide, sent as `Link: <…>; rel="deprecation"`. */
    migrationGuideUrl: v.optional(v.pipe(v.string(), v.url())),
    /** Windows in which legacy tokens are refused (`legacy_token_brownout`), to make late migrators notice. */
    brownouts: v.optional(v.array(v.pipe(v.object({ start: Time, end: Time }), v.check((w) => Date.parse(w.start) < Date.parse(w.end), 'a brownout must end after it starts'))), []),
  }),
  v.check((p) => !p.deprecatedAt || !p.sunsetAt || Date.parse(p.deprecatedAt) <= Date.parse(p.sunsetAt), 'sunsetAt must not come before deprecatedAt'),
)
export type LegacyTokenPolicy = v.InferOutput<typeof LegacyTokenPolicySchema>

/**
 * Refuses a legacy token after the sunset or during a brownout.
 * @throws {EdgeAuthError} `legacy_token_sunset`, `legacy_token_brownout`.
 */
export function assertLegacyAllowed(policy: LegacyTokenPolicy, nowMs: number): void {
  if (policy.sunsetAt && nowMs >= Date.parse(policy.sunsetAt)) throw new EdgeAuthError('legacy_token_sunset', `legacy tokens were switched off at ${policy.sunsetAt}`)
  const window = policy.brownouts.find((w) => nowMs >= Date.parse(w.start) && nowMs < Date.parse(w.end))
  if (window) {
    // Retry-After (RFC 9110 §10.2.3) in whole seconds, rounded up so a retry never lands inside the window.
    throw new EdgeAuthError('legacy_token_brownout', `legacy token brownout until ${window.end}`, { retryAfterSeconds: Math.ceil((Date.parse(window.end) - nowMs) / 1000) })
  }
}

/**
 * The next instant after `nowMs` at which the schedule starts refusing legacy
 * tokens: the earliest brownout start or the sunset, whichever comes first. A
 * legacy token accepted now may be trusted (cached) until then, never across it.
 *
 * @param nowMs Milliseconds since the epoch.
 * @returns Milliseconds since the epoch, or `undefined` when nothing is scheduled after `nowMs`.
 * @example
 * ```ts
 * nextLegacyRefusalAt({ sunsetAt: '2027-01-01T00:00:00Z', brownouts: [] }, Date.now()) // Date.parse('2027-01-01T00:00:00Z')
 * ```
 */
export function nextLegacyRefusalAt(policy: LegacyTokenPolicy, nowMs: number): number | undefined {
  let next: number | undefined
  const consider = (at: number) => {
    if (at > nowMs && (next === undefined || at < next)) next = at
  }
  if (policy.sunsetAt) consider(Date.parse(policy.sunsetAt))
  for (const window of policy.brownouts) consider(Date.parse(window.start))
  return next
}

/** The response headers that tell a legacy-token caller to migrate. */
export function legacyDeprecationHeaders(policy: LegacyTokenPolicy): [string, string][] {
  const headers: [string, string][] = []
  if (policy.deprecatedAt) headers.push(['deprecation', `@${Math.floor(Date.parse(policy.deprecatedAt) / 1000)}`])
  if (policy.sunsetAt) headers.push(['sunset', new Date(policy.sunsetAt).toUTCString()])
  if (policy.migrationGuideUrl) headers.push(['link', `<${policy.migrationGuideUrl}>; rel="deprecation"; type="text/html"`])
  return headers
}
