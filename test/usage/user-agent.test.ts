import { describe, expect, it } from 'vitest'
import { cleanUserAgent, REDACTED } from '../../src/usage/user-agent.js'

const JWT = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJTQ0FMRVdBWSIsImF1ZCI6ImZ1bmN0aW9ucyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU'
const SECRET = '5f0c1e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f'
const HMAC = 'Xk3vQ9pL2mN8rT5wY1zB4cF7hJ0kD6gS'

describe('cleanUserAgent', () => {
  it.each([
    ['keeps an ordinary user agent', 'curl/8.5.0', 'curl/8.5.0'],
    ['keeps a browser user agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'],
    ['removes a JWT', `ci-bot/2 token=${JWT}`, `ci-bot/2 token=${REDACTED}`],
    ['removes two segments of a JWT', `ci-bot/2 ${JWT.split('.').slice(0, 2).join('.')}`, `ci-bot/2 ${REDACTED}`],
    ['removes an API key secret (UUID), in any letter case', `deploy/1 (${SECRET.toUpperCase()})`, `deploy/1 (${REDACTED})`],
    ['removes a long token-like run (an HMAC secret, a consumer key)', `svc/3 key=${HMAC}`, `svc/3 key=${REDACTED}`],
    ['replaces control characters by a space', 'a\tb\u0001c', 'a b c'],
  ])('%s', (_, raw, expected) => {
    expect(cleanUserAgent(raw)).toBe(expected)
  })

  it('redacts before truncating, so no prefix of a credential survives at the cut', () => {
    const raw = `${'x '.repeat(120)}${JWT}`
    const cleaned = cleanUserAgent(raw)!
    expect(cleaned.length).toBeLessThanOrEqual(255)
    expect(cleaned).not.toContain('eyJ')
  })

  it('cuts at 255 characters', () => {
    expect(cleanUserAgent(`agent/${'a.'.repeat(400)}`)).toHaveLength(255)
  })

  it.each([undefined, '', '   '])('is undefined for %j', (raw) => {
    expect(cleanUserAgent(raw)).toBeUndefined()
  })
})
