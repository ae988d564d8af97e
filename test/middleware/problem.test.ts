import { describe, expect, it } from 'vitest'
import { EdgeAuthError, type EdgeAuthErrorCode } from '../../src/errors.js'
import { problemResponse, wireErrorFor } from '../../src/middleware/problem.js'

const codes: EdgeAuthErrorCode[] = [
  'credentials_malformed', 'credentials_conflict', 'path_invalid', 'credentials_missing', 'credentials_unsupported', 'api_key_unknown',
  'api_key_expired', 'token_invalid', 'token_expired', 'token_revoked', 'credential_unknown', 'legacy_token_brownout', 'legacy_token_sunset', 'permission_denied', 'route_not_found', 'method_not_allowed', 'keyset_unavailable', 'origin_unreachable', 'origin_timeout',
]

describe('problemResponse', () => {
  it.each(codes)('%s renders as problem+json with its code, status and the request id', async (code) => {
    const res = problemResponse(new EdgeAuthError(code, 'internal reason with SECRET-MATERIAL'), { realm: 'r', requestId: 'req-1' })
    const body = await res.json()
    expect(res.status).toBe(wireErrorFor(code).status)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('x-request-id')).toBe('req-1')
    expect(body).toMatchObject({ code, status: res.status, request_id: 'req-1', type: `urn:edge-auth-gateway:problem:${code}` })
    // The internal message never reaches the wire.
    expect(JSON.stringify(body) + [...res.headers].join()).not.toContain('SECRET-MATERIAL')
  })

  it('challenges 400, 401 and 403 only', () => {
    for (const code of codes) {
      const { status } = wireErrorFor(code)
      const challenge = problemResponse(new EdgeAuthError(code, ''), { realm: 'r', requestId: 'x' }).headers.get('www-authenticate')
      expect(challenge !== null, code).toBe([400, 401, 403].includes(status) && code !== 'path_invalid')
    }
  })

  it('sends Allow with 405 and Retry-After with 503', () => {
    const allow = problemResponse(new EdgeAuthError('method_not_allowed', '', { allow: ['GET', 'HEAD'] }), { realm: 'r', requestId: 'x' })
    expect(allow.headers.get('allow')).toBe('GET, HEAD')
    const retry = problemResponse(new EdgeAuthError('keyset_unavailable', '', { retryAfterSeconds: 12 }), { realm: 'r', requestId: 'x' })
    expect(retry.headers.get('retry-after')).toBe('12')
    expect(problemResponse(new EdgeAuthError('origin_unreachable', ''), { realm: 'r', requestId: 'x' }).headers.get('retry-after')).toBeNull()
  })

  it.each<[EdgeAuthErrorCode, number | undefined, string | null]>([
    ['keyset_unavailable', undefined, '30'],
    ['legacy_token_brownout', 900, '900'],
    ['legacy_token_sunset', undefined, null],
    ['token_expired', undefined, null],
  ])('%s with retryAfterSeconds %s sends Retry-After %s', (code, retryAfterSeconds, header) => {
    const details = retryAfterSeconds === undefined ? {} : { retryAfterSeconds }
    expect(problemResponse(new EdgeAuthError(code, '', details), { realm: 'r', requestId: 'x' }).headers.get('retry-after')).toBe(header)
  })
})
