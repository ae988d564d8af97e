/** Instants on the command line: an RFC 3339 time, or a duration meaning "that long ago" (`30d`). */
import { parseDuration } from './duration.js'
import { UsageError } from './errors.js'

const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/i

/**
 * Milliseconds since the epoch of an RFC 3339 time (a bare day is its UTC midnight).
 * @throws {UsageError} naming the option.
 */
export function parseInstant(text: string, option: string): number {
  const trimmed = text.trim()
  const ms = RFC3339.test(trimmed) ? Date.parse(/T/i.test(trimmed) ? trimmed : `${trimmed}T00:00:00Z`) : Number.NaN
  if (Number.isNaN(ms)) throw new UsageError(`${option}: "${text}" is not an RFC 3339 time (e.g. 2026-12-01T09:00:00Z)`)
  return ms
}

/**
 * An instant in the past: an RFC 3339 time, or a duration back from `nowMs` (`30d` → thirty days ago).
 * @throws {UsageError} naming the option.
 */
export function parsePastInstant(text: string, option: string, nowMs: number): number {
  if (/^\s*\d+[smhdw]/i.test(text) && !/^\s*\d{4}-/.test(text)) return nowMs - 1000 * parseDuration(text, option)
  return parseInstant(text, option)
}

/**
 * A brownout window: `<start>/<end>` or `<start>/<duration>` (`2026-12-01T09:00:00Z/1h`).
 * @throws {UsageError} for anything else, or a window that ends before it starts.
 */
export function parseWindow(text: string, option: string): { start: string; end: string } {
  const slash = text.indexOf('/')
  if (slash < 0) throw new UsageError(`${option}: "${text}" is not a window; use <start>/<end> or <start>/<duration>, e.g. 2026-12-01T09:00:00Z/1h`)
  const start = parseInstant(text.slice(0, slash), option)
  const rest = text.slice(slash + 1)
  const end = /^\d+[smhdw]/i.test(rest) ? start + 1000 * parseDuration(rest, option) : parseInstant(rest, option)
  if (end <= start) throw new UsageError(`${option}: "${text}" ends before it starts`)
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() }
}
