import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { LegacyTokenPolicySchema, currentOrNextBrownout, effectiveLegacyPolicy, legacyCreationOpen, nextLegacyRefusalAt } from '../../src/authz/legacy-policy.js'

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

describe('effectiveLegacyPolicy', () => {
  const configured = v.parse(LegacyTokenPolicySchema, { sunsetAt: '2026-02-01T00:00:00Z', creationCutoffAt: '2026-01-01T00:00:00Z', brownouts: [{ start: '2026-01-10T10:00:00Z', end: '2026-01-10T11:00:00Z' }], migrationGuideUrl: 'https://docs.example/migrate' })

  it('is the configured schedule when the key set carries none', () => {
    expect(effectiveLegacyPolicy(undefined, configured)).toBe(configured)
  })

  it('is the key set’s schedule as a whole (no date or brownout of the configured one survives), with the configured guide URL when it names none', () => {
    const keySet = v.parse(LegacyTokenPolicySchema, { deprecatedAt: '2026-05-01T00:00:00Z' })
    expect(effectiveLegacyPolicy(keySet, configured)).toEqual({ deprecatedAt: '2026-05-01T00:00:00Z', brownouts: [], migrationGuideUrl: 'https://docs.example/migrate' })
  })

  it('keeps the key set’s own guide URL', () => {
    const keySet = v.parse(LegacyTokenPolicySchema, { migrationGuideUrl: 'https://docs.example/v2' })
    expect(effectiveLegacyPolicy(keySet, configured).migrationGuideUrl).toBe('https://docs.example/v2')
  })
})

describe('legacyCreationOpen', () => {
  it.each([
    ['before the cut-off', { creationCutoffAt: '2026-06-01T00:00:00Z' }, '2026-05-31T23:59:59Z', true],
    ['at the cut-off', { creationCutoffAt: '2026-06-01T00:00:00Z' }, '2026-06-01T00:00:00Z', false],
    ['after the sunset, without a cut-off', { sunsetAt: '2026-06-01T00:00:00Z' }, '2026-06-02T00:00:00Z', false],
    ['without any schedule', {}, '2030-01-01T00:00:00Z', true],
  ])('%s: %s', (_, input, now, open) => {
    expect(legacyCreationOpen(v.parse(LegacyTokenPolicySchema, input), at(now))).toBe(open)
  })
})

describe('currentOrNextBrownout', () => {
  it.each([
    ['the earliest window still to come', '2026-05-01T00:00:00Z', '2026-06-01T10:00:00Z'],
    ['the window in force', '2026-06-01T10:30:00Z', '2026-06-01T10:00:00Z'],
    ['the next one once a window has ended', '2026-06-01T11:00:00Z', '2026-07-01T10:00:00Z'],
  ])('is %s', (_, now, start) => {
    expect(currentOrNextBrownout(policy, at(now))?.start).toBe(start)
  })

  it('is undefined after the last window', () => {
    expect(currentOrNextBrownout(policy, at('2026-08-01T00:00:00Z'))).toBeUndefined()
  })
})
