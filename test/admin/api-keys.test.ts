import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createGateway } from '../../src/gateway.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import { registryKeys } from '../../src/sync/registry.js'
import { clearKv } from '../support/admin-api.js'
import { emulator, emulatorAdmin, emulatorOrganization } from '../support/emulator-admin.js'
import { newMarker, originSaw } from '../support/origin.js'
import { audited } from '../support/audited.js'

// Listing, rotating and revoking API keys against a real IAM API (the emulator over HTTP).

const REALM = 'Bearer realm="edge-auth-gateway"'

let org: string
let call: ReturnType<typeof emulatorAdmin>['call']
let ctx: ExecutionContext

/** A request at a gateway reading the key set afresh, at `now`. */
async function atGateway(secret: string, now = Date.now()) {
  const gateway = createGateway({ keySet: () => new KvKeySetStore(env.KEYSET), originToken: () => env.ORIGIN_AUTH_TOKEN, log: () => undefined, allowInsecureLoopbackOrigins: true, clock: () => now })
  const marker = newMarker()
  const res = await gateway.request('https://gw.example/fn', { headers: { 'x-auth-token': secret, 'x-test-marker': marker } }, env, ctx)
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as any, saw: await originSaw(marker) }
}

let counter = 0
/** An application allowed to invoke the project's functions. */
async function application(): Promise<{ id: string; name: string }> {
  counter += 1
  const name = `keys-${crypto.randomUUID().slice(0, 8)}-${counter}`
  const app = (await emulator('POST', '/iam/v1alpha1/applications', { name, organization_id: org })).body
  await emulator('POST', '/iam/v1alpha1/policies', { name: `${name}-policy`, organization_id: org, application_id: app.id, rules: [{ permission_set_names: ['FunctionsPrivateAccess'], project_ids: [org] }] })
  return { id: app.id, name }
}

beforeAll(async () => {
  org = await emulatorOrganization()
  ;({ call, ctx } = emulatorAdmin(org))
})

beforeEach(async () => {
  await clearKv()
  const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: org, privacy: 'private' }
  expect((await call('PUT', '/routes', { routes: [{ id: 'fn', paths: ['/fn'], target }] })).status).toBe(200)
})

afterEach(() => vi.restoreAllMocks())

describe('GET /api-keys', () => {
  it('lists the keys page by page: bearer with its name, kind, expiry, captured or not; never a secret', async () => {
    const app = await application()
    const minted = await call('POST', '/api-keys', { application_id: app.id, kind: 'ci', expires_at: '2099-01-01T00:00:00Z' })
    expect(minted.status).toBe(201)
    const outside = (await emulator('POST', '/iam/v1alpha1/api-keys', { application_id: app.id, description: 'made in IAM' })).body

    const page = await call('GET', `/api-keys?application_id=${app.id}&page_size=1`)
    expect(page.status).toBe(200)
    expect(page.body).toMatchObject({ total_count: 2, page: 1, page_size: 1 })
    expect(page.body.data).toHaveLength(1)
    const both = [...page.body.data, ...(await call('GET', `/api-keys?application_id=${app.id}&page_size=1&page=2`)).body.data]
    const byKey = Object.fromEntries(both.map((k: { access_key: string }) => [k.access_key, k]))
    expect(byKey[minted.body.access_key]).toEqual({
      access_key: minted.body.access_key,
      bearer: { type: 'application', id: app.id, name: app.name },
      kind: 'ci',
      description: '',
      created_at: expect.any(String),
      expires_at: expect.stringMatching(/^2099-01-01T00:00:00/),
      default_project_id: expect.any(String),
      captured: true,
      captured_at: expect.any(String),
      captured_via: 'mint',
    })
    expect(byKey[outside.access_key]).toMatchObject({ kind: null, captured: false, captured_at: null, captured_via: null, expires_at: null })
    for (const secret of [minted.body.secret_key, outside.secret_key]) expect(JSON.stringify(both)).not.toContain(secret)
  })

  it.each([
    ['page_size=0', 'page_size: expected an integer from 1 to 100'],
    ['page_size=101', 'page_size: expected an integer from 1 to 100'],
    ['page=x', 'page: expected an integer from 1 to 100000'],
    ['application_id=nope', 'application_id: expected a UUID'],
  ])('refuses %s (400 invalid_query)', async (query, detail) => {
    expect((await call('GET', `/api-keys?${query}`)).body).toMatchObject({ status: 400, code: 'invalid_query', detail })
  })
})

describe('GET /applications?name=', () => {
  it('answers the applications with exactly this name', async () => {
    const app = await application()
    await emulator('POST', '/iam/v1alpha1/applications', { name: `${app.name}-longer`, organization_id: org })
    const res = await call('GET', `/applications?name=${app.name}`)
    expect(res.body).toEqual({ data: [{ id: app.id, name: app.name, description: '' }] })
    expect((await call('GET', '/applications')).body).toMatchObject({ status: 400, code: 'invalid_query' })
  })
})

describe('POST /api-keys/{access key}/rotate', () => {
  it('mints a key for the same bearer, captured with the same kind; the old one works until the end of the overlap, then only the new one', async () => {
    const app = await application()
    const old = (await call('POST', '/api-keys', { application_id: app.id, kind: 'ci' })).body
    expect((await atGateway(old.secret_key)).status).toBe(200)

    const before = Date.now()
    const { result: rotated, audit } = await audited(() => call('POST', `/api-keys/${old.access_key}/rotate`, { overlap_seconds: 7 * 86_400 }))
    expect(rotated.status).toBe(201)
    expect(rotated.headers.get('cache-control')).toBe('no-store')
    expect(rotated.body).toMatchObject({ application_id: app.id, secret_key: expect.any(String), kind: 'ci', sync: { ok: true, changed: true, error: null }, previous: { access_key: old.access_key } })
    expect(rotated.body.access_key).not.toBe(old.access_key)
    expect(audit).toEqual([expect.objectContaining({ action: 'api_key.rotate', target: old.access_key })])
    const overlapEnd = Date.parse(rotated.body.previous.expires_at)
    expect(overlapEnd).toBeGreaterThanOrEqual(before + 7 * 86_400_000 - 1000)
    expect(overlapEnd).toBeLessThanOrEqual(Date.now() + 7 * 86_400_000)
    // IAM itself holds the new expiry.
    expect(Date.parse((await emulator('GET', `/iam/v1alpha1/api-keys/${old.access_key}`)).body.expires_at)).toBe(overlapEnd)
    expect(JSON.parse((await env.KEYSET.get(registryKeys.apiKey(rotated.body.access_key)))!)).toMatchObject({ kind: 'ci', via: 'mint' })

    // During the overlap: both. After it (the gateway's clock a second past the end): only the new one.
    expect((await atGateway(old.secret_key)).status).toBe(200)
    expect((await atGateway(rotated.body.secret_key)).status).toBe(200)
    const after = overlapEnd + 1000
    const refused = await atGateway(old.secret_key, after)
    expect(refused.status).toBe(401)
    expect(refused.body.code).toBe('api_key_expired')
    expect(refused.challenge).toBe(`${REALM}, error="invalid_token", error_description="The API key has expired."`)
    expect(refused.saw).toBe(false)
    expect((await atGateway(rotated.body.secret_key, after)).status).toBe(200)
  })

  it('keeps an old key\'s earlier expiry, and gives the new key the old one\'s lifetime', async () => {
    const app = await application()
    const expiresAt = new Date(Date.now() + 3600_000).toISOString()
    const old = (await call('POST', '/api-keys', { application_id: app.id, expires_at: expiresAt })).body
    const rotated = await call('POST', `/api-keys/${old.access_key}/rotate`, { overlap_seconds: 86_400 })
    expect(rotated.status).toBe(201)
    expect(Date.parse(rotated.body.previous.expires_at)).toBe(Date.parse(old.expires_at))
    const lifetime = Date.parse(old.expires_at) - Date.parse(old.created_at)
    expect(Math.abs(Date.parse(rotated.body.expires_at) - Date.parse(rotated.body.created_at) - lifetime)).toBeLessThan(2000)
  })

  it.each([
    [{}, 400, 'invalid_body', 'overlap_seconds: required'],
    [{ overlap_seconds: 0 }, 400, 'invalid_body', 'overlap_seconds: at least 1'],
    [{ overlap_seconds: 1.5 }, 400, 'invalid_body', 'overlap_seconds: expected a whole number of seconds'],
    [{ overlap_seconds: 60, extra: true }, 400, 'invalid_body', 'extra: unknown field'],
  ])('refuses %j', async (body, status, code, detail) => {
    const app = await application()
    const old = (await call('POST', '/api-keys', { application_id: app.id })).body
    expect((await call('POST', `/api-keys/${old.access_key}/rotate`, body)).body).toMatchObject({ status, code, detail })
  })

  it('404 api_key_not_found for a key IAM does not have; 400 invalid_id for something else', async () => {
    expect((await call('POST', '/api-keys/SCW00000000000000000/rotate', { overlap_seconds: 60 })).body).toMatchObject({ status: 404, code: 'api_key_not_found' })
    expect((await call('POST', '/api-keys/nope/rotate', { overlap_seconds: 60 })).body).toMatchObject({ status: 400, code: 'invalid_id' })
  })
})

describe('DELETE /api-keys/{access key}', () => {
  it('deletes the key in IAM, forgets its digest and syncs before answering: the edge refuses it at once', async () => {
    const app = await application()
    const key = (await call('POST', '/api-keys', { application_id: app.id })).body
    expect((await atGateway(key.secret_key)).status).toBe(200)
    const { result: res, audit } = await audited(() => call('DELETE', `/api-keys/${key.access_key}`))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ access_key: key.access_key, deleted: true, capture_forgotten: true, sync: { ok: true, changed: true, error: null } })
    expect(audit).toEqual([expect.objectContaining({ action: 'api_key.revoke', target: key.access_key })])
    expect((await emulator('GET', `/iam/v1alpha1/api-keys/${key.access_key}`)).status).toBe(404)
    expect(await env.KEYSET.get(registryKeys.apiKey(key.access_key))).toBeNull()
    const refused = await atGateway(key.secret_key)
    expect(refused.status).toBe(401)
    expect(refused.body.code).toBe('api_key_unknown')
    expect(refused.challenge).toBe(`${REALM}, error="invalid_token", error_description="The API key is not known."`)
    expect(refused.saw).toBe(false)
  })

  it('a key already deleted in IAM: its capture still goes (deleted: false); neither in IAM nor captured: 404', async () => {
    const app = await application()
    const key = (await call('POST', '/api-keys', { application_id: app.id })).body
    await emulator('DELETE', `/iam/v1alpha1/api-keys/${key.access_key}`)
    expect((await call('DELETE', `/api-keys/${key.access_key}`)).body).toMatchObject({ deleted: false, capture_forgotten: true, sync: { ok: true } })
    expect((await call('DELETE', `/api-keys/${key.access_key}`)).body).toMatchObject({ status: 404, code: 'api_key_not_found' })
  })
})
