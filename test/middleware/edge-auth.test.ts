import { Hono, type Context } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import { EdgeAuthError, edgeAuth, staticKeySet, type EdgeAuthOptions, type KeySetSource, type KeySetStore, type Target, type EdgeAuthVariables } from '../../src/index.js'
import { PROJECT, OTHER_PROJECT, secrets, testKeySet } from '../support/fixtures.js'

const fn: Target = { url: 'https://origin.test', kind: 'function', projectId: PROJECT, privacy: 'private' }

let source: KeySetSource
beforeAll(async () => {
  source = await testKeySet('https://origin.test')
})

function app(options: Partial<EdgeAuthOptions> = {}): Hono {
  const hono = new Hono()
  hono.use('/fn/*', edgeAuth({ keySet: staticKeySet(source), target: fn, ...options }))
  hono.get('/fn/whoami', (c: Context<{ Variables: EdgeAuthVariables }>) => c.json(c.var.edgeAuth))
  return hono
}

const call = (hono: Hono, headers: Record<string, string> = {}) => hono.request('/fn/whoami', { headers })

describe('edgeAuth as a Hono middleware', () => {
  it('sets the identity on the context, with identifiers only', async () => {
    const res = await call(app(), { 'x-auth-token': secrets.functions })
    expect(res.status).toBe(200)
    const identity = await res.json()
    expect(identity).toEqual({
      method: 'iam-api-key',
      credentialId: 'SCW00000000000000001',
      principal: { type: 'application', id: expect.any(String), name: 'app-functions' },
      organizationId: expect.any(String),
      // An application's key without a recorded kind is a service key.
      keyKind: 'service',
    })
    expect(JSON.stringify(identity)).not.toContain(secrets.functions)
  })

  it.each<[string, Record<string, string>, number, string, string]>([
    ['no credential', {}, 401, 'credentials_missing', 'Bearer realm="edge-auth-gateway"'],
    ['an unknown key', { 'x-auth-token': secrets.unknown }, 401, 'api_key_unknown', 'Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The API key is not known."'],
    ['an expired key', { authorization: `Bearer ${secrets.expired}` }, 401, 'api_key_expired', 'Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The API key has expired."'],
    ['a key without grant', { 'x-auth-token': secrets.noGrant }, 403, 'permission_denied', 'Bearer realm="edge-auth-gateway", error="insufficient_scope", error_description="The credential does not allow this call.", scope="FunctionsPrivateAccess"'],
    ['a malformed credential', { 'x-auth-token': 'not a token' }, 400, 'credentials_malformed', 'Bearer realm="edge-auth-gateway", error="invalid_request", error_description="The credential is not well-formed."'],
  ])('refuses %s', async (_, headers, status, code, challenge) => {
    const res = await call(app(), headers)
    expect(res.status).toBe(status)
    expect(res.headers.get('www-authenticate')).toBe(challenge)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toMatchObject({ status, code, request_id: res.headers.get('x-request-id') })
  })

  it('lets an app catch the refusal: the HTTPException carries the EdgeAuthError as its cause', async () => {
    const hono = app()
    hono.onError((error, c) => c.json({ caught: (error.cause as { code?: string }).code }, 418))
    const res = await call(hono, { 'x-auth-token': secrets.otherProject })
    expect(res.status).toBe(418)
    expect(await res.json()).toEqual({ caught: 'permission_denied' })
  })

  it('takes the target per request', async () => {
    const hono = app({ target: (c) => ({ ...fn, projectId: c.req.header('x-project') ?? PROJECT }) })
    expect((await call(hono, { 'x-auth-token': secrets.otherProject, 'x-project': OTHER_PROJECT })).status).toBe(200)
    expect((await call(hono, { 'x-auth-token': secrets.otherProject, 'x-project': PROJECT })).status).toBe(403)
  })

  it('uses the realm it was given', async () => {
    const res = await call(app({ realm: 'payments' }))
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="payments"')
  })

  it('answers 503, never 401, when the key set cannot be read', async () => {
    const healthy = await staticKeySet(source).current({ waitUntil() {} })
    const broken: KeySetStore = {
      current: async () => ({ ...healthy, findApiKey: () => Promise.reject(new EdgeAuthError('keyset_unavailable', 'shard unreadable')) }),
    }
    const res = await call(app({ keySet: broken }), { 'x-auth-token': secrets.functions })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('30')
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ code: 'keyset_unavailable' })
  })

  it('counts full-access permission sets only when told to', async () => {
    expect((await call(app(), { 'x-auth-token': secrets.fullAccess })).status).toBe(403)
    expect((await call(app({ fullAccessAllowsInvoke: true }), { 'x-auth-token': secrets.fullAccess })).status).toBe(200)
  })

  it.each<[string, Partial<EdgeAuthOptions>, RegExp]>([
    ['a missing key set', { keySet: undefined as never }, /options\.keySet/],
    ['a missing target', { target: undefined as never }, /options\.target/],
    ['a realm with a quote', { realm: 'a"b' }, /options\.realm/],
    ['an empty realm', { realm: '' }, /options\.realm/],
    ['a query parameter name with a space', { auth: { queryParameters: ['access token'] } }, /options\.auth\.queryParameters/],
    ['a negative clock tolerance', { auth: { clockToleranceSeconds: -1 } }, /options\.auth\.clockToleranceSeconds/],
    ['a clock that is not a function', { clock: 5 as never }, /options\.clock/],
    ['a verification cache of no entries', { verificationCache: { maxEntries: 0 } }, /options\.verificationCache\.maxEntries/],
    ['a fractional verification-cache budget', { verificationCache: { maxMemoryBytes: 1.5 } }, /options\.verificationCache\.maxMemoryBytes/],
    ['a negative verification-cache TTL', { verificationCache: { maxTtlSeconds: -1 } }, /options\.verificationCache\.maxTtlSeconds/],
  ])('throws a TypeError at construction for %s', (_, options, message) => {
    const build = () => edgeAuth({ keySet: staticKeySet(source), target: fn, ...options })
    expect(build).toThrow(TypeError)
    expect(build).toThrow(message)
  })
})

describe('edgeAuth behind hono/cors (docs/routes.md, "CORS")', () => {
  const corsApp = async () => {
    const { cors } = await import('hono/cors')
    const hono = new Hono()
    hono.use('/fn/*', cors({ origin: ['https://app.example'], credentials: true }))
    hono.use('/fn/*', edgeAuth({ keySet: staticKeySet(source), target: fn }))
    hono.get('/fn/whoami', (c: Context<{ Variables: EdgeAuthVariables }>) => c.json(c.var.edgeAuth))
    return hono
  }

  it('answers a preflight before edgeAuth asks for a credential', async () => {
    const res = await (await corsApp()).request('/fn/whoami', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
  })

  it("decorates edgeAuth's refusals, so the browser app can read them", async () => {
    const res = await (await corsApp()).request('/fn/whoami', { headers: { origin: 'https://app.example' } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway"')
    expect(await res.json()).toMatchObject({ code: 'credentials_missing' })
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
  })
})
