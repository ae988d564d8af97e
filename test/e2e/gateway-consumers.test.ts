import { env, exports } from 'cloudflare:workers'
import { SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { adminJson, clearKv, settled } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'

// Everything here goes through the real Worker: routes, consumers and credentials are
// created with the admin API, synced into KV, and used at the gateway.
let secret: Uint8Array
let key: string
let anonymousId: string
/** Generated HMAC credentials of alice, as their creation printed them. */
const printed: Record<string, { key: string; secret: string }> = {}

const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' }

beforeAll(async () => {
  await clearKv()
  const routes = [
    { id: 'consumers', paths: ['/consumers'], target, auth: { accept: ['consumer-jwt'], queryParameters: ['jwt'], cookies: ['session'], requireExp: true } },
    { id: 'billing-only', paths: ['/billing'], target, auth: { accept: ['consumer-jwt'], allowGroups: ['billing'] } },
    { id: 'open', paths: ['/open'], target, auth: { accept: ['consumer-jwt'] } },
  ]
  expect((await adminJson('PUT', '/routes', { routes })).status).toBe(200)
  const alice = await adminJson('POST', '/consumers', { username: 'alice', custom_id: 'crm-17', groups: ['support'] })
  expect(alice.status).toBe(201)
  const credential = await adminJson('POST', `/consumers/${alice.body.id}/jwt`, { algorithm: 'HS256' })
  expect(credential.status).toBe(201)
  key = credential.body.key
  // The secret as printed: its UTF-8 bytes are the key.
  secret = new TextEncoder().encode(credential.body.secret)
  for (const algorithm of ['HS256', 'HS384', 'HS512'] as const) {
    const generated = await adminJson('POST', `/consumers/${alice.body.id}/jwt`, { algorithm })
    expect(generated.status).toBe(201)
    printed[algorithm] = { key: generated.body.key, secret: generated.body.secret }
  }
  const anonymous = await adminJson('POST', '/consumers', { username: 'visitor' })
  anonymousId = anonymous.body.id
  routes.push({ id: 'anonymous-ok', paths: ['/anon'], target, auth: { accept: ['consumer-jwt'], anonymousConsumer: anonymousId } as never })
  expect((await adminJson('PUT', '/routes', { routes })).status).toBe(200)
  await settled()
  expect((await adminJson('POST', '/sync')).body).toMatchObject({ ok: true })
})

const sign = (claims: Record<string, unknown> = {}) =>
  new SignJWT({ iss: key, exp: Math.floor(Date.now() / 1000) + 300, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(secret)

describe('consumer JWTs through the Worker', () => {
  it('reach the origin with Kong’s consumer headers, the token removed from every place it came in', async () => {
    const token = await sign()
    const res = await exports.default.fetch(`https://gw.example/consumers/x?jwt=${token}&keep=1`, {
      headers: { cookie: `session=${token}; theme=dark`, 'x-consumer-id': 'spoofed', 'x-consumer-groups': 'admins' },
    })
    expect(res.status).toBe(200)
    const echo = (await res.json()) as OriginEcho
    expect(echo.query).toEqual({ keep: '1' })
    expect(echo.headers.cookie).toBe('theme=dark')
    expect(echo.headers).toMatchObject({
      'x-consumer-username': 'alice',
      'x-consumer-custom-id': 'crm-17',
      'x-consumer-groups': 'support',
      'x-credential-identifier': key,
      'x-auth-method': 'consumer-jwt',
      'x-auth-token': '[origin credential: valid]',
    })
    expect(echo.headers['x-consumer-id']).not.toBe('spoofed')
    expect(JSON.stringify(echo)).not.toContain(token)
  })

  it.each(['HS256', 'HS384', 'HS512'] as const)('%s: a generated secret works exactly as printed: a token signed with its UTF-8 bytes as the key (PyJWT: jwt.encode(payload, SECRET)) reaches the origin', async (algorithm) => {
    const { key: iss, secret: shown } = printed[algorithm]!
    const token = await new SignJWT({ some: 'payload', iss }).setProtectedHeader({ alg: algorithm, typ: 'JWT' }).sign(new TextEncoder().encode(shown))
    const res = await exports.default.fetch('https://gw.example/open', { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as OriginEcho).headers['x-credential-identifier']).toBe(iss)
  })

  it.each([
    ['a token without exp on a route that requires it', '/consumers', async () => new SignJWT({ iss: key }).setProtectedHeader({ alg: 'HS256' }).sign(secret), 401, 'token_invalid'],
    ['a consumer outside the allowed groups', '/billing', () => sign(), 403, 'permission_denied'],
    ['no credential on a route without an anonymous consumer', '/open', async () => '', 401, 'credentials_missing'],
  ])('refuses %s, and the origin never sees it', async (_, path, make, status, code) => {
    const marker = newMarker()
    const token = await make()
    const res = await exports.default.fetch(`https://gw.example${path}`, { headers: { 'x-test-marker': marker, ...(token ? { authorization: `Bearer ${token}` } : {}) } })
    expect(res.status).toBe(status)
    expect(await res.json()).toMatchObject({ code })
    expect(await originSaw(marker)).toBe(false)
  })

  it('lets a request without credential through as the anonymous consumer', async () => {
    const res = await exports.default.fetch('https://gw.example/anon')
    expect(res.status).toBe(200)
    const echo = (await res.json()) as OriginEcho
    expect(echo.headers).toMatchObject({ 'x-consumer-id': anonymousId, 'x-consumer-username': 'visitor', 'x-anonymous-consumer': 'true', 'x-auth-method': 'anonymous' })
    expect(echo.headers['x-credential-identifier']).toBeUndefined()
  })
})
