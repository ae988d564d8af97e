import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { LegacyTokenPolicySchema, nextLegacyRefusalAt } from '../../src/authz/legacy-policy.js'

const at = (iso: string) => Date.parse(iso)
const policy = v.parse(LegacyTokenPolicySchema, {
  sunsetAt: '2026-09-01T00:00:00Z',
  brownouts: [
    { start: '2026-07-01T10:00:00Z', end: '2026-07-01T11:00:00Z' },
    { start: '2026-06-01T10:00:00Z', end: '2026-06-01T11:00:00Z' },
  ],
})

describe('nextLegacyRefusalAt', () => {
  it.each([
    ['before every window: the earliest brownout start, whatever the listed order', '2026-05-01T00:00:00Z', '2026-06-01T10:00:00Z'],
    ['inside a window: the next window, not the end of this one', '2026-06-01T10:30:00Z', '2026-07-01T10:00:00Z'],
    ['exactly at a window start: the next one (this one refuses already)', '2026-06-01T10:00:00Z', '2026-07-01T10:00:00Z'],
    ['after the last window: the sunset', '2026-08-01T00:00:00Z', '2026-09-01T00:00:00Z'],
  ])('%s', (_, now, next) => {
    expect(nextLegacyRefusalAt(policy, at(now))).toBe(at(next))
  })

  it('is the sunset when it comes before the next brownout', () => {
    const early = v.parse(LegacyTokenPolicySchema, { sunsetAt: '2026-06-01T00:00:00Z', brownouts: [{ start: '2026-07-01T10:00:00Z', end: '2026-07-01T11:00:00Z' }] })
    expect(nextLegacyRefusalAt(early, at('2026-05-01T00:00:00Z'))).toBe(at('2026-06-01T00:00:00Z'))
  })

  it.each([
    ['no schedule at all', {}],
    ['a schedule entirely in the past', { sunsetAt: '2026-01-01T00:00:00Z', brownouts: [{ start: '2025-12-01T10:00:00Z', end: '2025-12-01T11:00:00Z' }] }],
    ['a deprecation date only (it refuses nothing)', { deprecatedAt: '2026-07-01T00:00:00Z' }],
  ])('is undefined for %s', (_, input) => {
    expect(nextLegacyRefusalAt(v.parse(LegacyTokenPolicySchema, input), at('2026-05-01T00:00:00Z'))).toBeUndefined()
  })
})
