import { env, exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROJECT, secrets, seedKeySet, testKeySet } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'

// CORS per route, through the real Worker: preflights answered at the edge without a
// credential (the origin never sees them), real responses decorated, refused origins
// given nothing. docs/routes.md, "CORS".
const APP = 'https://app.example'
const hello = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function' as const, projectId: PROJECT, privacy: 'private' as const }

beforeAll(async () => {
  const source = await testKeySet()
  source.routes.push(
    {
      id: 'cors-app',
      paths: ['/cors'],
      methods: ['GET', 'POST'],
      target: hello,
      cors: { origins: [APP, 'http://localhost:5173'], credentials: true, headers: ['Authorization', 'X-Auth-Token', 'Content-Type'], exposedHeaders: ['X-Request-Id', 'WWW-Authenticate'], maxAgeSeconds: 600 },
    },
    { id: 'cors-reflect', paths: ['/cors-reflect'], target: hello, cors: { origins: [APP] } },
    { id: 'cors-any', paths: ['/cors-any'], target: hello, cors: { origins: ['*'] } },
  )
  await seedKeySet(source)
})

const gateway = (path: string, init: RequestInit = {}) => exports.default.fetch(`https://gw.example${path}`, init)
const preflight = (path: string, origin: string, method = 'POST', requestHeaders = 'x-auth-token, content-type', marker = newMarker()) =>
  gateway(path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders, 'x-test-marker': marker } })
const corsHeaders = (res: Response) => Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-')))
const varyOf = (res: Response) => (res.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase())

describe('a preflight (OPTIONS with Origin and Access-Control-Request-Method, no credential)', () => {
  it('from an allowed origin: 204 at the edge with the route policy, and the origin never sees it', async () => {
    const marker = newMarker()
    const res = await preflight('/cors/items', APP, 'POST', 'x-auth-token, content-type', marker)
    expect(res.status).toBe(204)
    expect(corsHeaders(res)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'Authorization,X-Auth-Token,Content-Type',
      'access-control-max-age': '600',
    })
    expect(varyOf(res)).toContain('origin')
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await res.text()).toBe('')
    expect(await originSaw(marker)).toBe(false)
  })

  it('on a route without cors.headers: the requested headers are allowed, and the default methods listed', async () => {
    const res = await preflight('/cors-reflect', APP, 'PUT', 'X-Auth-Token, X-Trace')
    expect(res.status).toBe(204)
    expect(corsHeaders(res)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET,HEAD,PUT,POST,DELETE,PATCH',
      'access-control-allow-headers': 'X-Auth-Token,X-Trace',
    })
    expect(varyOf(res)).toEqual(expect.arrayContaining(['origin', 'access-control-request-headers']))
  })

  it('on a wildcard route: Access-Control-Allow-Origin *, never with credentials', async () => {
    const res = await preflight('/cors-any', 'https://anyone.example')
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
  })

  it.each([
    ['another site', 'https://evil.example'],
    ['a suffix of an allowed host', 'https://app.example.evil.example'],
    ['an allowed host on another port', 'https://app.example:8443'],
    ['an allowed host over http', 'http://app.example'],
    ['an opaque origin', 'null'],
    ['an allowed origin with a path', 'https://app.example/x'],
  ])('from a refused origin (%s: %s): 204 without any CORS header, and the origin never sees it', async (_, origin) => {
    const marker = newMarker()
    const res = await preflight('/cors', origin, 'POST', 'x-auth-token', marker)
    expect(res.status).toBe(204)
    expect(corsHeaders(res)).toEqual({})
    expect(varyOf(res)).toContain('origin')
    expect(await originSaw(marker)).toBe(false)
  })

  it('on a route without cors: refused as any request without a credential (401, no CORS header)', async () => {
    const marker = newMarker()
    const res = await preflight('/echo', APP, 'POST', 'x-auth-token', marker)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway"')
    expect(await res.json()).toMatchObject({ code: 'credentials_missing' })
    expect(corsHeaders(res)).toEqual({})
    expect(await originSaw(marker)).toBe(false)
  })

  it('for a method the route does not take: the answer an OPTIONS request gets (405, no CORS header)', async () => {
    const marker = newMarker()
    const res = await preflight('/cors', APP, 'DELETE', 'x-auth-token', marker)
    expect(res.status).toBe(405)
    expect(await res.json()).toMatchObject({ code: 'method_not_allowed' })
    expect(corsHeaders(res)).toEqual({})
    expect(await originSaw(marker)).toBe(false)
  })
})

describe('a real request with an Origin', () => {
  it('credentialed, from an allowed origin: forwarded, the answer decorated for that origin', async () => {
    const res = await gateway('/cors/items', { method: 'POST', headers: { origin: APP, 'x-auth-token': secrets.functions, 'content-type': 'application/json' }, body: '{"a":1}' })
    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Request-Id,WWW-Authenticate',
    })
    expect(varyOf(res)).toContain('origin')
    const echo = (await res.json()) as OriginEcho
    expect(echo.headers.origin).toBe(APP)
    expect(echo.body).toBe('{"a":1}')
  })

  it('from a refused origin: forwarded (the credential decides), no Access-Control-Allow-Origin', async () => {
    const res = await gateway('/cors/items', { headers: { origin: 'https://evil.example', 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual({})
    expect(varyOf(res)).toContain('origin')
  })

  it.each([
    ['no credential', {}, 401, 'credentials_missing', 'Bearer realm="edge-auth-gateway"'],
    ['a key without a grant', { 'x-auth-token': secrets.noGrant }, 403, 'permission_denied', 'Bearer realm="edge-auth-gateway", error="insufficient_scope", error_description="The credential does not allow this call.", scope="FunctionsPrivateAccess"'],
    ['an unknown key', { 'x-auth-token': secrets.unknown }, 401, 'api_key_unknown', 'Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The API key is not known."'],
  ])('refused (%s) from an allowed origin: the refusal carries the CORS headers, so the app can read it', async (_, credential, status, code, challenge) => {
    const marker = newMarker()
    const res = await gateway('/cors/items', { headers: { origin: APP, ...credential, 'x-test-marker': marker } })
    expect(res.status).toBe(status)
    expect(res.headers.get('www-authenticate')).toBe(challenge)
    expect(await res.json()).toMatchObject({ code })
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(varyOf(res)).toContain('origin')
    expect(await originSaw(marker)).toBe(false)
  })

  it('refused, from a refused origin: no CORS header', async () => {
    const marker = newMarker()
    const res = await gateway('/cors/items', { headers: { origin: 'https://evil.example', 'x-test-marker': marker } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway"')
    expect(await res.json()).toMatchObject({ code: 'credentials_missing' })
    expect(corsHeaders(res)).toEqual({})
    expect(await originSaw(marker)).toBe(false)
  })

  it('an OPTIONS request that is not a preflight (no Access-Control-Request-Method) goes through authentication', async () => {
    const marker = newMarker()
    const res = await gateway('/cors-reflect', { method: 'OPTIONS', headers: { origin: APP, 'x-test-marker': marker } })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'credentials_missing' })
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(await originSaw(marker)).toBe(false)
  })

  it("replaces the origin's own CORS headers with the route's", async () => {
    const allowed = await gateway('/cors/own-cors', { headers: { origin: APP, 'x-auth-token': secrets.functions } })
    expect(allowed.status).toBe(200)
    expect(corsHeaders(allowed)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Request-Id,WWW-Authenticate',
    })
    const refused = await gateway('/cors/own-cors', { headers: { origin: 'https://evil.example', 'x-auth-token': secrets.functions } })
    expect(refused.status).toBe(200)
    expect(corsHeaders(refused)).toEqual({})
  })

  it('on a wildcard route: Access-Control-Allow-Origin *, without credentials or Vary', async () => {
    const res = await gateway('/cors-any', { headers: { origin: 'https://anyone.example', 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual({ 'access-control-allow-origin': '*' })
  })

  it("on a route without cors: the origin's answer as it is (no CORS header added)", async () => {
    const res = await gateway('/hello', { headers: { origin: APP, 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual({})
  })
})
