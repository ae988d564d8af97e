import { describe, expect, it } from 'vitest'
import { sinceQuery } from '../../src/cli/commands/usage.js'
import { UsageError } from '../../src/cli/lib/errors.js'
import { parseInstant, parsePastInstant, parseWindow } from '../../src/cli/lib/instant.js'

const NOW = Date.parse('2026-11-30T12:00:00Z')

describe('instants and windows of edgegw migrate', () => {
  it.each([
    ['2026-12-01T09:00:00Z', '2026-12-01T09:00:00.000Z'],
    ['2026-12-01T10:00:00+01:00', '2026-12-01T09:00:00.000Z'],
    ['2026-12-01', '2026-12-01T00:00:00.000Z'],
  ])('parseInstant(%s) is %s', (text, iso) => {
    expect(new Date(parseInstant(text, '--sunset-at')).toISOString()).toBe(iso)
  })

  it.each(['tomorrow', '2026-13-01', '1700000000', ''])('parseInstant refuses %j, naming the option', (text) => {
    expect(() => parseInstant(text, '--sunset-at')).toThrow(UsageError)
    expect(() => parseInstant(text, '--sunset-at')).toThrow(/^--sunset-at: /)
  })

  it.each([
    ['30d', NOW - 30 * 86_400_000],
    ['12h', NOW - 12 * 3_600_000],
    ['2026-11-01', Date.parse('2026-11-01T00:00:00Z')],
  ])('parsePastInstant(%s)', (text, ms) => {
    expect(parsePastInstant(text, '--idle-since', NOW)).toBe(ms)
  })

  it.each([
    ['2026-12-10T09:00:00Z/2026-12-10T10:00:00Z', { start: '2026-12-10T09:00:00.000Z', end: '2026-12-10T10:00:00.000Z' }],
    ['2026-12-10T09:00:00Z/1h30m', { start: '2026-12-10T09:00:00.000Z', end: '2026-12-10T10:30:00.000Z' }],
  ])('parseWindow(%s)', (text, window) => {
    expect(parseWindow(text, '--brownout')).toEqual(window)
  })

  it.each([
    ['2026-12-10T09:00:00Z', /is not a window/],
    ['2026-12-10T09:00:00Z/2026-12-10T08:00:00Z', /ends before it starts/],
    ['2026-12-10T09:00:00Z/0s', /ends before it starts/],
    ['soon/1h', /is not an RFC 3339 time/],
  ])('parseWindow refuses %s', (text, message) => {
    expect(() => parseWindow(text, '--brownout')).toThrow(message)
  })

  it.each([
    ['7d', '7d'],
    ['36h', '2d'],
    ['1m', '1d'],
    ['2026-11-01', '2026-11-01'],
  ])('usage --since %s is sent as %s', (text, query) => {
    expect(sinceQuery(text)).toBe(query)
  })
})
