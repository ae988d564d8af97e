import type * as v from 'valibot'
import { EdgeAuthError } from '../errors.js'
import { LegacyScheduleSchema, type LegacySchedule } from '../keyset/legacy-schedule-schema.js'

/**
 * The migration schedule of legacy serverless tokens (the key set's shape, see
 * src/keyset/legacy-schedule-schema.ts). Every field is optional.
 */
export const LegacyTokenPolicySchema = LegacyScheduleSchema
export type LegacyTokenPolicy = v.InferOutput<typeof LegacyTokenPolicySchema>

/**
 * The schedule in force: the key set's, when it carries one (set with
 * `PUT /legacy-schedule`, changed without a redeploy), else the fallback (the
 * `LEGACY_*` vars, or the `legacyTokens` option). The key set's schedule replaces
 * the fallback's dates and brownouts as a whole, so that a schedule read back is
 * the schedule that applies; only the guide URL falls back field by field, since
 * it rarely changes with the dates.
 *
 * @example
 * ```ts
 * effectiveLegacyPolicy(keySet.legacySchedule, settings.legacyTokens)
 * ```
 */
export function effectiveLegacyPolicy(keySetSchedule: LegacySchedule | undefined, fallback: LegacyTokenPolicy): LegacyTokenPolicy {
  if (!keySetSchedule) return fallback
  const migrationGuideUrl = keySetSchedule.migrationGuideUrl ?? fallback.migrationGuideUrl
  return { ...keySetSchedule, ...(migrationGuideUrl ? { migrationGuideUrl } : {}) }
}

/** Whether the admin API may still mint legacy tokens at `nowMs` (before `creationCutoffAt`, and before the sunset). */
export function legacyCreationOpen(policy: LegacyTokenPolicy, nowMs: number): boolean {
  if (policy.creationCutoffAt && nowMs >= Date.parse(policy.creationCutoffAt)) return false
  return !(policy.sunsetAt && nowMs >= Date.parse(policy.sunsetAt))
}

/** The brownout window in force at `nowMs`, or else the next one to start; `undefined` when none is left. */
export function currentOrNextBrownout(policy: LegacyTokenPolicy, nowMs: number): { start: string; end: string } | undefined {
  let next: { start: string; end: string } | undefined
  for (const window of policy.brownouts) {
    if (Date.parse(window.end) <= nowMs) continue
    if (!next || Date.parse(window.start) < Date.parse(next.start)) next = window
  }
  return next
}

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
