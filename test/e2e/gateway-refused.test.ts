import { exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { secrets, seedKeySet } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

beforeAll(() => seedKeySet())

const REALM = 'Bearer realm="edge-auth-gateway"'
const invalidToken = (description: string) => `${REALM}, error="invalid_token", error_description="${description}"`
const invalidRequest = (description: string) => `${REALM}, error="invalid_request", error_description="${description}"`
const insufficientScope = (scope: string) =>
  `${REALM}, error="insufficient_scope", error_description="The credential does not allow this call.", scope="${scope}"`

interface Case {
  name: string
  method?: string
  path: string
  headers: Record<string, string>
  status: number
  code: string
  challenge: string | null
  allow?: string
}

const cases: Case[] = [
  { name: 'no credential', path: '/hello', headers: {}, status: 401, code: 'credentials_missing', challenge: REALM },
  { name: 'another auth scheme only', path: '/hello', headers: { authorization: 'Basic dXNlcjpwYXNz' }, status: 401, code: 'credentials_missing', challenge: REALM },
  { name: 'a malformed X-Auth-Token', path: '/hello', headers: { 'x-auth-token': 'hello world' }, status: 400, code: 'credentials_malformed', challenge: invalidRequest('The credential is not well-formed.') },
  { name: 'an empty Bearer', path: '/hello', headers: { authorization: 'Bearer ' }, status: 400, code: 'credentials_malformed', challenge: invalidRequest('The credential is not well-formed.') },
  { name: 'a value that is neither a key nor a JWT', path: '/hello', headers: { 'x-auth-token': 'SCWXXXXXXXXXXXXXXXXX' }, status: 400, code: 'credentials_malformed', challenge: invalidRequest('The credential is not well-formed.') },
  { name: 'an unknown key', path: '/hello', headers: { 'x-auth-token': secrets.unknown }, status: 401, code: 'api_key_unknown', challenge: invalidToken('The API key is not known.') },
  { name: 'an expired key', path: '/hello', headers: { authorization: `Bearer ${secrets.expired}` }, status: 401, code: 'api_key_expired', challenge: invalidToken('The API key has expired.') },
  { name: 'a key with no grant', path: '/hello', headers: { 'x-auth-token': secrets.noGrant }, status: 403, code: 'permission_denied', challenge: insufficientScope('FunctionsPrivateAccess') },
  { name: 'a grant on another project', path: '/hello', headers: { 'x-auth-token': secrets.otherProject }, status: 403, code: 'permission_denied', challenge: insufficientScope('FunctionsPrivateAccess') },
  { name: 'a functions grant on a container', path: '/echo', headers: { 'x-auth-token': secrets.functions }, status: 403, code: 'permission_denied', challenge: insufficientScope('ContainersPrivateAccess') },
  { name: 'a full-access set (not counted by default)', path: '/hello', headers: { 'x-auth-token': secrets.fullAccess }, status: 403, code: 'permission_denied', challenge: insufficientScope('FunctionsPrivateAccess') },
  { name: 'a conditional grant (conditions not evaluated yet: fail closed)', path: '/hello', headers: { 'x-auth-token': secrets.conditional }, status: 403, code: 'permission_denied', challenge: insufficientScope('FunctionsPrivateAccess') },
  { name: 'two different credentials', path: '/hello', headers: { 'x-auth-token': secrets.functions, authorization: `Bearer ${secrets.containers}` }, status: 400, code: 'credentials_conflict', challenge: invalidRequest('The request carries different credentials in several places.') },
  { name: 'a JWT naming no known credential', path: '/hello', headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln' }, status: 401, code: 'credential_unknown', challenge: invalidToken('The token names no known credential.') },
  { name: 'a JWT on a route that takes API keys only', path: '/keys-only', headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln' }, status: 401, code: 'credentials_unsupported', challenge: invalidToken('This kind of credential is not accepted here.') },
  { name: 'an unknown route', path: '/nowhere', headers: { 'x-auth-token': secrets.functions }, status: 404, code: 'route_not_found', challenge: null },
  { name: 'a path that only looks like a route (/hellox)', path: '/hellox', headers: { 'x-auth-token': secrets.functions }, status: 404, code: 'route_not_found', challenge: null },
  { name: 'a dot-segment escape out of the route', path: '/hello/../admin', headers: { 'x-auth-token': secrets.functions }, status: 404, code: 'route_not_found', challenge: null },
  { name: 'an encoded slash', path: '/hello%2F..%2Fadmin', headers: { 'x-auth-token': secrets.functions }, status: 400, code: 'path_invalid', challenge: null },
  { name: 'a method not on the route', method: 'DELETE', path: '/hello', headers: { 'x-auth-token': secrets.functions }, status: 405, code: 'method_not_allowed', challenge: null, allow: 'GET, HEAD, POST' },
]

describe('a refused call', () => {
  it.each(cases)('$name → $status $code, and never reaches the origin', async ({ method, path, headers, status, code, challenge, allow }) => {
    const marker = newMarker()
    const res = await exports.default.fetch(`https://gw.example${path}`, { method: method ?? 'GET', headers: { ...headers, 'x-test-marker': marker } })
    expect(res.status).toBe(status)
    expect(res.headers.get('www-authenticate')).toBe(challenge)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    if (allow) expect(res.headers.get('allow')).toBe(allow)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ status, code, request_id: res.headers.get('x-request-id') })
    for (const value of Object.values(headers).map((v) => v.replace(/^\w+ /, '')).filter((v) => v.length >= 8)) {
      expect(JSON.stringify(body) + [...res.headers].join()).not.toContain(value)
    }
    expect(await originSaw(marker)).toBe(false)
  })
})

describe('an origin failure', () => {
  it('answers 502 origin_unreachable when the origin is down', async () => {
    const res = await exports.default.fetch('https://gw.example/down', { headers: { 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(502)
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ code: 'origin_unreachable' })
  })

  it('answers 504 origin_timeout when the origin sends no headers in time', async () => {
    const res = await exports.default.fetch('https://gw.example/hello?delay_ms=4000', { headers: { 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(504)
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ code: 'origin_timeout' })
  })
})
