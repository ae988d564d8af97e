import { describe, expect, it } from 'vitest'
import { formatDuration, formatRelative, parseDuration } from '../../src/cli/lib/duration.js'
import { UsageError } from '../../src/cli/lib/errors.js'

describe('parseDuration', () => {
  it.each([
    ['90d', 90 * 86_400],
    ['7d', 7 * 86_400],
    ['12h', 12 * 3600],
    ['30m', 1800],
    ['45s', 45],
    ['2w', 14 * 86_400],
    ['1d12h', 86_400 + 12 * 3600],
    ['1h30m15s', 5415],
    ['0s', 0],
    [' 7D ', 7 * 86_400],
  ])('%s → %i seconds', (text, seconds) => {
    expect(parseDuration(text, '--overlap')).toBe(seconds)
  })

  it.each(['', '7', 'd', '7 d', '-7d', '1.5h', '7y', '7days', 'h12', '3650d1s'])('refuses %j, naming the option', (text) => {
    expect(() => parseDuration(text, '--overlap')).toThrow(UsageError)
    expect(() => parseDuration(text, '--overlap')).toThrow(/^--overlap: /)
  })

  it('takes ten years exactly', () => {
    expect(parseDuration('3650d', '--expires')).toBe(3650 * 86_400)
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [90, '1m 30s'],
    [7 * 86_400, '7d'],
    [86_400 + 12 * 3600 + 60, '1d 12h'],
    [3 * 3600 + 5, '3h 5s'],
  ])('%i s → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text)
  })
})

describe('formatRelative', () => {
  const now = Date.parse('2026-11-22T12:00:00Z')
  it.each([
    ['2026-11-22T11:59:48Z', '12s ago'],
    ['2026-11-29T12:00:00Z', 'in 7d'],
    ['2026-11-22T13:30:00Z', 'in 1h 30m'],
    ['not a time', 'not a time'],
  ])('%s → %s', (iso, text) => {
    expect(formatRelative(iso, now)).toBe(text)
  })
})
