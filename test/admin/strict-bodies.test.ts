import { env, exports } from 'cloudflare:workers'
import { SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { registryKeys } from '../../src/sync/registry.js'
import { adminJson, clearKv, settled } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

// Every admin body is strict: an unknown field is refused with 400 invalid_body
// naming it, so a typo never silently drops an allow-list or falls back to a default.

const UUID = 'a1111111-1111-4111-8111-111111111111'
const PEM = '-----BEGIN RSA PUBLIC KEY-----\nMAoCAwEAAQIDAQAB\n-----END RSA PUBLIC KEY-----'
const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' }
const route = (extra: Record<string, unknown> = {}, auth: Record<string, unknown> = { accept: ['consumer-jwt'], allowGroups: ['billing'] }) => ({ id: 'billing', paths: ['/billing'], target, auth, ...extra })

let secret: Uint8Array
let key: string
let typoPut: { status: number; body: any }

beforeAll(async () => {
  await clearKv()
  // A route that only the billing group may use, and a consumer outside it.
  expect((await adminJson('PUT', '/routes', { routes: [route()] })).status).toBe(200)
  expect((await adminJson('POST', '/consumers', { username: 'alice', groups: ['support'] })).status).toBe(201)
  const credential = await adminJson('POST', '/consumers/alice/jwt', { algorithm: 'HS256' })
  key = credential.body.key
  secret = new TextEncoder().encode(credential.body.secret)
  // The typo of the issue: "alowGroups" for "allowGroups".
  typoPut = await adminJson('PUT', '/routes', { routes: [route({}, { accept: ['consumer-jwt'], alowGroups: ['billing'] })] })
  await settled()
  expect((await adminJson('POST', '/sync')).body).toMatchObject({ ok: true })
})

describe('a typo in PUT /routes', () => {
  it('is refused with 400 invalid_body naming the field, and the allow-list stays', async () => {
    expect(typoPut.status).toBe(400)
    expect(typoPut.body).toMatchObject({ code: 'invalid_body', detail: 'routes.0.auth.alowGroups: unknown field' })
    expect(JSON.parse((await env.KEYSET.get(registryKeys.routes))!)[0].auth.allowGroups).toEqual(['billing'])
  })

  it('leaves the route closed to consumers outside the group: 403, and the origin never sees the request', async () => {
    const marker = newMarker()
    const token = await new SignJWT({ iss: key, exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'HS256' }).sign(secret)
    const res = await exports.default.fetch('https://gw.example/billing', { headers: { authorization: `Bearer ${token}`, 'x-test-marker': marker } })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway", error="insufficient_scope", error_description="The credential does not allow this call."')
    expect(await res.json()).toMatchObject({ code: 'permission_denied' })
    expect(await originSaw(marker)).toBe(false)
  })
})

describe('every admin body refuses unknown fields', () => {
  it.each<[string, string, string, unknown]>([
    ['PUT', '/routes', 'routes.0.auth.allowConsumer: unknown field', { routes: [route({}, { allowConsumer: ['alice'] })] }],
    ['PUT', '/routes', 'routes.0.stripPaths: unknown field', { routes: [route({ stripPaths: false })] }],
    ['PUT', '/routes', 'routes.0.target.privcy: unknown field', { routes: [route({ target: { ...target, privcy: 'public' } })] }],
    ['PUT', '/routes', 'route: unknown field', { routes: [route()], route: [] }],
    ['POST', '/api-keys', 'descripton: unknown field', { application_id: UUID, descripton: 'ci' }],
    ['POST', '/api-keys/register', 'knd: unknown field', { access_key: 'SCW00000000000000001', secret_key: UUID, knd: 'ci' }],
    ['POST', '/legacy-tokens', 'expire_at: unknown field', { product: 'functions', namespace_id: UUID, expire_at: '2030-01-01T00:00:00Z' }],
    ['POST', '/legacy-namespace-keys', 'replace_key: unknown field', { product: 'functions', namespace_id: UUID, public_key: PEM, replace_key: true }],
    ['POST', '/consumers', 'group: unknown field', { username: 'bob', group: ['x'] }],
    ['PUT', '/consumers/alice/groups', 'group: unknown field', { groups: [], group: [] }],
    ['POST', '/consumers/alice/jwt', 'secret_base64: unknown field', { algorithm: 'HS256', secret_base64: true }],
    ['PUT', '/oidc-issuers/corp', 'audience: unknown field', { issuer: 'https://idp.example/', audiences: ['a'], jwks_uri: 'https://idp.example/jwks', audience: 'a' }],
  ])('%s %s: 400 invalid_body "%s"', async (method, path, detail, body) => {
    const res = await adminJson(method, path, body)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.body).toMatchObject({ code: 'invalid_body', detail })
  })
})

describe('messages say what is wrong', () => {
  it.each<[string, string, string, unknown, string]>([
    ['a missing field is "required"', 'POST', '/consumers', {}, 'username: required'],
    ['two missing fields', 'POST', '/api-keys/register', {}, 'access_key: required; secret_key: required'],
    ['a missing nested field', 'PUT', '/routes', { routes: [{ id: 'x', paths: ['/x'] }] }, 'routes.0.target: required'],
    ['a wrong type names the field once', 'POST', '/consumers', { username: 5 }, 'username: expected a string'],
    ['a wrong type in a list', 'PUT', '/consumers/alice/groups', { groups: 'ops' }, 'groups: expected an array of group names'],
    ['a body that is not an object', 'POST', '/consumers', ['alice'], 'body: expected a JSON object'],
    ['null', 'POST', '/consumers', 'null', 'body: expected a JSON object'],
    ['a bad UUID never quotes the value', 'POST', '/api-keys/register', { access_key: 'SCW00000000000000001', secret_key: 'not-a-uuid-secret' }, 'secret_key: expected a UUID'],
    ['a bad access key', 'POST', '/api-keys/register', { access_key: 'scw1', secret_key: UUID }, 'access_key: expected SCW followed by 17 capital letters or digits'],
  ])('%s', async (_, method, path, body, detail) => {
    const res = await adminJson(method, path, body)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_body', detail })
  })
})
