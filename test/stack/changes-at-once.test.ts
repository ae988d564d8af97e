/**
 * What the admin API accepted works on the next request (docs/revocation.md,
 * "Changes made through the admin API"): through the local stack as `npm start`
 * runs it (the default 30 s memory TTL, no timed sync), each admin call is followed
 * at once by one gateway request, with no polling and no sleep in between.
 */
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Route } from '../../src/keyset/schema.js'
import { startTestStack, through, type PlatformEcho, type TestStack } from './support.js'

let t: TestStack
let helloRoute: Route

beforeAll(async () => {
  t = await startTestStack()
  helloRoute = t.stack.routes.find((route) => route.id === 'hello')!
})
afterAll(() => t?.cleanup())

const demoSecret = () => t.stack.secrets.apiKeys.demo!.secretKey

/** `PUT /routes` with the seeded routes plus `extra`; the answer's `X-Edgegw-Sync` header and body. */
async function putRoutes(extra: Route[]): Promise<{ status: number; sync: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${t.stack.adminUrl}/routes`, {
    method: 'PUT',
    headers: { 'x-auth-token': t.stack.secrets.adminToken, 'content-type': 'application/json' },
    body: JSON.stringify({ routes: [...t.stack.routes, ...extra] }),
  })
  return { status: res.status, sync: res.headers.get('x-edgegw-sync'), body: (await res.json()) as Record<string, unknown> }
}

function problemCode(text: string): unknown {
  return (JSON.parse(text) as { code?: unknown }).code
}

describe('a route change', () => {
  it('routes the very next gateway request after PUT /routes returns, and a removed route is 404 on the next one', async () => {
    // The isolate holds the key set in memory: this request reads it, so the next ones are warm.
    const before = await through(t.stack, '/hello-again', demoSecret())
    expect(before.status).toBe(404)
    expect(problemCode(before.text)).toBe('route_not_found')

    const added = await putRoutes([{ ...helloRoute, id: 'hello-again', paths: ['/hello-again'] }])
    expect(added).toMatchObject({ status: 200, sync: 'synced', body: { routes: t.stack.routes.length + 1, sync: 'synced' } })
    const routed = await through(t.stack, '/hello-again', demoSecret())
    expect(routed.status).toBe(200)
    expect((JSON.parse(routed.text) as PlatformEcho).resource.name).toBe('hello')

    const removed = await putRoutes([])
    expect(removed).toMatchObject({ status: 200, sync: 'synced' })
    const gone = await through(t.stack, '/hello-again', demoSecret())
    expect(gone.status).toBe(404)
    expect(problemCode(gone.text)).toBe('route_not_found')
  })
})

describe('a new credential', () => {
  it('works on the next request after the admin call that created it returns: a consumer JWT credential, then its deletion', async () => {
    const route: Route = { ...helloRoute, id: 'hello-consumers', paths: ['/hello-consumers'], auth: { accept: ['consumer-jwt'] } as Route['auth'] }
    expect((await putRoutes([route])).sync).toBe('synced')
    const consumer = await t.admin.call<{ id: string }>('POST', '/consumers', { username: `stack-${process.pid}` })
    const credential = await t.admin.call<{ id: string; key: string; secret: string }>('POST', `/consumers/${consumer.id}/jwt`, { algorithm: 'HS256' })
    const token = await new SignJWT({ iss: credential.key })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(credential.secret))

    const allowed = await fetch(`${t.stack.gatewayUrl}/hello-consumers`, { headers: { authorization: `Bearer ${token}` } })
    const echo = (await allowed.json()) as PlatformEcho
    expect(allowed.status).toBe(200)
    expect(echo.headers).toMatchObject({ 'x-consumer-id': consumer.id, 'x-credential-identifier': credential.key, 'x-auth-method': 'consumer-jwt' })

    const deleted = await fetch(`${t.stack.adminUrl}/consumers/${consumer.id}/jwt/${credential.id}`, { method: 'DELETE', headers: { 'x-auth-token': t.stack.secrets.adminToken } })
    expect(deleted.status).toBe(204)
    expect(deleted.headers.get('x-edgegw-sync')).toBe('synced')
    const refused = await fetch(`${t.stack.gatewayUrl}/hello-consumers`, { headers: { authorization: `Bearer ${token}` } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect((await refused.json()) as unknown).toMatchObject({ code: 'credential_unknown' })
  })

  it('works on the next request after POST /api-keys returns: an IAM key minted through the gateway', async () => {
    const minted = await t.admin.call<{ access_key: string; secret_key: string }>('POST', '/api-keys', {
      application_id: t.stack.secrets.applications.demo,
      description: 'changes at once',
      default_project_id: t.stack.fixture.projectId,
    })
    const res = await through(t.stack, '/hello', minted.secret_key)
    expect(res.status).toBe(200)
    expect((JSON.parse(res.text) as PlatformEcho).headers['x-credential-identifier']).toBe(minted.access_key)
  })
})
