import { BoundedMap } from '../util/bounded-map.js'

/**
 * The CEL timestamp getters that take a time zone (`request.time.getHours("Europe/Paris")`),
 * computed with one `Intl.DateTimeFormat` per zone, made once per isolate.
 *
 * The CEL library builds a new formatter on every call (`toLocaleString` with a
 * `timeZone`): about 130 µs each, twice for an office-hours rule, on every request.
 * A kept formatter answers in about 10 µs, and one rule asking several fields of the
 * same instant in the same zone formats it once.
 */

/** The fields of an instant in a zone, as CEL's getters number them. */
export interface ZonedFields {
  fullYear: number
  /** 0 (January) to 11. */
  month: number
  /** 1 to 31. */
  date: number
  /** 0 (Sunday) to 6. */
  dayOfWeek: number
  /** 0 (January 1st) to 365. */
  dayOfYear: number
  hours: number
  minutes: number
  seconds: number
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }
const MAX_ZONES = 64

interface Zone {
  format: Intl.DateTimeFormat
  lastMs: number
  last: ZonedFields | undefined
}

const zones = new BoundedMap<string, Zone>(MAX_ZONES)

function zoneOf(timeZone: string): Zone {
  let zone = zones.get(timeZone)
  if (!zone) {
    // Throws RangeError for an unknown zone: the condition fails closed on that request.
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    zone = zones.set(timeZone, { format, lastMs: Number.NaN, last: undefined })
  }
  return zone
}

/** The fields of `instant` in `timeZone` (an IANA name such as `Europe/Paris`, or an offset such as `+01:00`). */
export function zonedFields(instant: Date, timeZone: string): ZonedFields {
  const zone = zoneOf(timeZone)
  // Every field has a resolution of one second: the fields of the last second serve every instant in it
  // (in workerd the clock moves between requests, so a per-millisecond memo would miss on nearly each one).
  const ms = Math.floor(instant.getTime() / 1000) * 1000
  if (zone.last && zone.lastMs === ms) return zone.last
  const parts: Record<string, string> = {}
  for (const part of zone.format.formatToParts(instant)) parts[part.type] = part.value
  const fullYear = Number(parts.year)
  const month = Number(parts.month) - 1
  const date = Number(parts.day)
  const fields: ZonedFields = {
    fullYear,
    month,
    date,
    dayOfWeek: WEEKDAYS[parts.weekday!]!,
    dayOfYear: Math.round((Date.UTC(fullYear, month, date) - Date.UTC(fullYear, 0, 1)) / 86_400_000),
    hours: Number(parts.hour),
    minutes: Number(parts.minute),
    seconds: Number(parts.second),
  }
  zone.lastMs = ms
  zone.last = fields
  return fields
}

/** CEL getter name → the field it reads (`getDayOfMonth` counts from 0, `getDate` from 1). */
export const ZONED_GETTERS: Record<string, (fields: ZonedFields) => number> = {
  getFullYear: (f) => f.fullYear,
  getMonth: (f) => f.month,
  getDate: (f) => f.date,
  getDayOfMonth: (f) => f.date - 1,
  getDayOfWeek: (f) => f.dayOfWeek,
  getDayOfYear: (f) => f.dayOfYear,
  getHours: (f) => f.hours,
  getMinutes: (f) => f.minutes,
  getSeconds: (f) => f.seconds,
}
