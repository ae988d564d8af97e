import { describe, expect, it } from 'vitest'
import { zonedFields } from '../../src/authz/zoned-time.js'

describe('zonedFields across instants', () => {
  it.each([
    // Paris is UTC+1 in winter.
    ['2026-11-30T08:59:59.000Z', { hours: 9, minutes: 59, seconds: 59 }],
    ['2026-11-30T08:59:59.999Z', { hours: 9, minutes: 59, seconds: 59 }],
    ['2026-11-30T09:00:00.000Z', { hours: 10, minutes: 0, seconds: 0 }],
    ['2026-11-30T09:00:00.001Z', { hours: 10, minutes: 0, seconds: 0 }],
    ['2026-12-31T22:59:59.500Z', { hours: 23, minutes: 59, seconds: 59 }],
    ['2026-12-31T23:00:00.000Z', { hours: 0, minutes: 0, seconds: 0 }],
  ])('%s in Europe/Paris, one after the other', (iso, expected) => {
    expect(zonedFields(new Date(iso), 'Europe/Paris')).toMatchObject(expected)
  })

  it('gives the year, month and day of the second asked, not of the one before', () => {
    expect(zonedFields(new Date('2026-12-31T22:59:59.900Z'), 'Europe/Paris')).toMatchObject({ fullYear: 2026, month: 11, date: 31 })
    expect(zonedFields(new Date('2026-12-31T23:00:00.100Z'), 'Europe/Paris')).toMatchObject({ fullYear: 2027, month: 0, date: 1 })
  })
})
