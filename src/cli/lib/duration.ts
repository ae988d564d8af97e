/**
 * Durations on the command line (`90d`, `7d`, `12h`, `1d12h`, `30m`, `45s`, `2w`)
 * and how times are shown to people.
 */
import { UsageError } from './errors.js'

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }
const DURATION = /^(?:\d+[smhdw])+$/
const PART = /(\d+)([smhdw])/g

/** The longest duration accepted: ten years, far beyond any key's useful life. */
export const MAX_DURATION_SECONDS = 10 * 365 * 86_400

/**
 * Parses a duration into whole seconds: one or more `<integer><unit>` parts,
 * units `s`, `m`, `h`, `d` (24 h), `w` (7 d), e.g. `90d`, `12h`, `1d12h`.
 * @param option The option it came from, named in the error.
 * @throws {UsageError} for anything else, or more than ten years.
 * @example parseDuration('7d', '--overlap') // 604800
 */
export function parseDuration(text: string, option: string): number {
  const trimmed = text.trim().toLowerCase()
  if (!DURATION.test(trimmed)) throw new UsageError(`${option}: "${text}" is not a duration; use e.g. 90d, 7d, 12h, 30m, 45s or 1d12h`)
  let seconds = 0
  for (const [, amount, unit] of trimmed.matchAll(PART)) seconds += Number(amount) * UNIT_SECONDS[unit!]!
  if (seconds > MAX_DURATION_SECONDS) throw new UsageError(`${option}: "${text}" is longer than ten years`)
  return seconds
}

/**
 * A number of seconds in the largest units that fit, at most two: `7d`, `1d 12h`, `45s`.
 * @example formatDuration(129600) // '1d 12h'
 */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds))
  if (rest === 0) return '0s'
  const parts: string[] = []
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
    if (parts.length === 2) break
  }
  return parts.join(' ')
}

/**
 * How long ago (or in how long) an RFC 3339 time is, from `nowMs`: `12s ago`, `in 6d 23h`.
 * @example formatRelative('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:01:30Z')) // '1m 30s ago'
 */
export function formatRelative(iso: string, nowMs: number): string {
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return iso
  const seconds = (at - nowMs) / 1000
  return seconds < 0 ? `${formatDuration(-seconds)} ago` : `in ${formatDuration(seconds)}`
}
