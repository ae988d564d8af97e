import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { admin, adminJson, clearKv, settled, ADMIN_PATH } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { audited } from '../support/audited.js'

const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' }
const route = (id: string, path: string, extra: Record<string, unknown> = {}) => ({ id, paths: [path], target, ...extra })

beforeEach(async () => {
  await settled()
  await clearKv()
})

/** One admin call with `If-Match`. */
async function withIfMatch(method: string, path: string, etag: string, body?: unknown) {
  const res = await admin(method, path, body, { 'if-match': etag })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null }
}

describe('POST /routes', () => {
  it('creates one route: 201, its ETag and Location, one audit line; the table holds it', async () => {
    const { result: res, audit } = await audited(() => adminJson('POST', '/routes', route('app', '/app', { auth: { accept: ['consumer-jwt'] } })))
    expect(res.status).toBe(201)
    expect(res.headers.get('location')).toBe(`${ADMIN_PATH}/routes/app`)
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
    expect(res.body).toMatchObject({ id: 'app', paths: ['/app'], stripPath: true, target, auth: { accept: ['consumer-jwt'] } })
    expect(audit).toEqual([expect.objectContaining({ action: 'route.create', target: 'app', actor: { kind: 'admin-token', id: 'ADMIN_TOKEN' } })])
    expect((await adminJson('GET', '/routes')).body.routes.map((r: { id: string }) => r.id)).toEqual(['app'])
  })

  it.each([
    ['an id that exists', [route('app', '/app')], route('app', '/other'), 409, 'route_exists'],
    ['a path and method another route claims', [route('app', '/app')], route('other', '/app'), 400, 'invalid_body'],
    ['the admin prefix', [], route('admin', '/__edgegw/admin'), 400, 'invalid_body'],
    ['an unknown field (a typo in auth)', [], route('app', '/app', { auth: { alowGroups: ['x'] } }), 400, 'invalid_body'],
    ['a private http:// target off loopback', [], { ...route('app', '/app'), target: { ...target, url: 'http://origin.example/fn' } }, 400, 'invalid_body'],
    ['cors with a wildcard and credentials', [], route('app', '/app', { cors: { origins: ['*'], credentials: true } }), 400, 'invalid_body'],
  ])('refuses %s', async (_, existing, body, status, code) => {
    for (const r of existing) expect((await adminJson('POST', '/routes', r)).status).toBe(201)
    const res = await adminJson('POST', '/routes', body)
    expect(res.status).toBe(status)
    expect(res.body.code).toBe(code)
    expect((await adminJson('GET', '/routes')).body.routes).toHaveLength(existing.length)
  })
})

describe('GET /routes/{id}', () => {
  it('answers the route and the same ETag as its creation; 404 route_not_found; 400 invalid_id', async () => {
    const created = await adminJson('POST', '/routes', route('app', '/app'))
    const read = await adminJson('GET', '/routes/app')
    expect(read.status).toBe(200)
    expect(read.body).toEqual(created.body)
    expect(read.headers.get('etag')).toBe(created.headers.get('etag'))
    expect((await adminJson('GET', '/routes/nope')).body).toMatchObject({ status: 404, code: 'route_not_found' })
    expect((await adminJson('GET', '/routes/-bad')).body).toMatchObject({ status: 400, code: 'invalid_id' })
  })
})

describe('PATCH /routes/{id} and If-Match', () => {
  it('two operators: the second change made from a stale read is refused (412), the first one stays', async () => {
    const created = await adminJson('POST', '/routes', route('app', '/app'))
    const readByA = created.headers.get('etag')!
    const readByB = (await adminJson('GET', '/routes/app')).headers.get('etag')!

    const byB = await withIfMatch('PATCH', '/routes/app', readByB, { methods: ['GET'] })
    expect(byB.status).toBe(200)
    expect(byB.body.methods).toEqual(['GET'])
    expect(byB.headers.get('etag')).not.toBe(readByB)

    const byA = await withIfMatch('PATCH', '/routes/app', readByA, { auth: { accept: ['api-key'] } })
    expect(byA.status).toBe(412)
    expect(byA.body).toMatchObject({ code: 'precondition_failed', detail: expect.stringContaining('changed since it was read') })
    const now = await adminJson('GET', '/routes/app')
    expect(now.body).toMatchObject({ methods: ['GET'] })
    expect(now.body.auth.accept).toEqual(['api-key', 'legacy-jwt', 'consumer-jwt', 'oidc-jwt'])

    const again = await withIfMatch('PATCH', '/routes/app', now.headers.get('etag')!, { auth: { accept: ['api-key'] }, methods: null })
    expect(again.status).toBe(200)
    expect(again.body.methods).toBeUndefined()
    expect(again.body.auth.accept).toEqual(['api-key'])
  })

  it('replaces the fields given; without If-Match it applies; 404 for no route; the id does not change', async () => {
    await adminJson('POST', '/routes', route('app', '/app'))
    const res = await adminJson('PATCH', '/routes/app', { paths: ['/app', '/app2'], stripPath: false })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: 'app', paths: ['/app', '/app2'], stripPath: false })
    expect((await adminJson('PATCH', '/routes/app', { id: 'renamed' })).body).toMatchObject({ status: 400, code: 'invalid_body', detail: 'id: unknown field' })
    expect((await adminJson('PATCH', '/routes/nope', { stripPath: true })).body).toMatchObject({ status: 404, code: 'route_not_found' })
    expect((await withIfMatch('PATCH', '/routes/nope', '*', { stripPath: true })).status).toBe(412)
  })
})

describe('DELETE /routes/{id}', () => {
  it('with a stale If-Match: 412 and the route stays; with the current one or none: 204', async () => {
    const created = await adminJson('POST', '/routes', route('app', '/app'))
    await adminJson('PATCH', '/routes/app', { methods: ['POST'] })
    expect((await withIfMatch('DELETE', '/routes/app', created.headers.get('etag')!)).status).toBe(412)
    expect((await adminJson('GET', '/routes/app')).status).toBe(200)
    const current = (await adminJson('GET', '/routes/app')).headers.get('etag')!
    const { result, audit } = await audited(() => withIfMatch('DELETE', '/routes/app', current))
    expect(result.status).toBe(204)
    expect(audit).toEqual([expect.objectContaining({ action: 'route.delete', target: 'app' })])
    expect((await adminJson('DELETE', '/routes/app')).body).toMatchObject({ status: 404, code: 'route_not_found' })
  })
})

describe('the table: GET/PUT /routes', () => {
  it('answers an ETag of the table; PUT with a stale If-Match is 412 and changes nothing', async () => {
    const empty = await adminJson('GET', '/routes')
    const emptyTag = empty.headers.get('etag')!
    expect(emptyTag).toMatch(/^"[0-9a-f]{32}"$/)
    const put = await withIfMatch('PUT', '/routes', emptyTag, { routes: [route('a', '/a')] })
    expect(put.status).toBe(200)
    expect(put.headers.get('etag')).toBe((await adminJson('GET', '/routes')).headers.get('etag'))
    const stale = await withIfMatch('PUT', '/routes', emptyTag, { routes: [] })
    expect(stale).toMatchObject({ status: 412, body: { code: 'precondition_failed' } })
    expect((await adminJson('GET', '/routes')).body.routes).toHaveLength(1)
  })
})

describe('the anonymous consumer by username', () => {
  it('is stored as the consumer id, in POST, PATCH and PUT; an unknown username is 400', async () => {
    const visitor = await adminJson('POST', '/consumers', { username: 'visitor' })
    const created = await adminJson('POST', '/routes', route('anon', '/anon', { auth: { anonymousConsumer: 'visitor' } }))
    expect(created.status).toBe(201)
    expect(created.body.auth.anonymousConsumer).toBe(visitor.body.id)
    const byId = await adminJson('PATCH', '/routes/anon', { auth: { anonymousConsumer: visitor.body.id } })
    expect(byId.body.auth.anonymousConsumer).toBe(visitor.body.id)
    const put = await adminJson('PUT', '/routes', { routes: [route('anon', '/anon', { auth: { anonymousConsumer: 'visitor' } })] })
    expect(put.status).toBe(200)
    expect((await adminJson('GET', '/routes/anon')).body.auth.anonymousConsumer).toBe(visitor.body.id)
    const unknown = await adminJson('PUT', '/routes', { routes: [route('x', '/x', { auth: { anonymousConsumer: 'nobody' } })] })
    expect(unknown.body).toMatchObject({ status: 400, code: 'invalid_body', detail: 'routes.0.auth.anonymousConsumer: no consumer has this username' })
    expect((await adminJson('POST', '/routes', route('y', '/y', { auth: { anonymousConsumer: 'nobody' } }))).body).toMatchObject({ status: 400, detail: 'auth.anonymousConsumer: no consumer has this username' })
  })
})
