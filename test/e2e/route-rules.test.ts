import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { adminJson, clearKv, ADMIN_PATH } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { workerWithVars } from '../support/worker-with-vars.js'

// Route rules the admin API enforces when routes are saved: prefixes in the normal
// form request paths are matched in, and https:// for private targets.
const target = (url: string, privacy: 'private' | 'public' = 'private') => ({ url, kind: 'function', projectId: PROJECT, privacy })
const loopback = () => `${env.ORIGINS_URL}/functions/hello`
const save = (routes: unknown[]) => adminJson('PUT', '/routes', { routes })

beforeAll(() => clearKv())

describe('route prefixes', () => {
  it.each([
    ['/%7Ealice', '/~alice'],
    ['/a%2Db', '/a-b'],
    ['/app/./x', '/app/x'],
    ['/app/../admin', '/admin'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/café', '/caf%C3%A9'],
  ])('%s is refused, naming its normal form %s', async (prefix, normal) => {
    const res = await save([{ id: 'r', paths: [prefix], target: target('https://origin.example') }])
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_body' })
    expect(res.text).toContain(normal)
  })

  it.each(['/a;b=c', '/app/..;', '/a%3Bb', '/a%2Fb', '/a%5Cb', '/a%252e', '/a%00'])('%s (a form origins read differently) is refused', async (prefix) => {
    const res = await save([{ id: 'r', paths: [prefix], target: target('https://origin.example') }])
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_body' })
  })

  it('a prefix in normal form is saved', async () => {
    expect((await save([{ id: 'r', paths: ['/~alice', '/caf%C3%A9'], target: target('https://origin.example') }])).status).toBe(200)
  })
})

describe('target URLs', () => {
  it.each([
    ['a private http:// origin', 400, target('http://origin.example/fn')],
    ['a private http:// origin on a private address', 400, target('http://10.0.0.8/fn')],
    ['a private https:// origin', 200, target('https://origin.example/fn')],
    ['a public http:// origin (no origin credential goes there)', 200, target('http://origin.example/fn', 'public')],
    ['a private http:// loopback origin (ALLOW_INSECURE_LOOPBACK_ORIGINS is set in these tests)', 200, target(loopback())],
  ])('%s → %i', async (_, status, routeTarget) => {
    const res = await save([{ id: 'r', paths: ['/r'], target: routeTarget }])
    expect(res.status).toBe(status)
    if (status === 400) {
      expect(res.body).toMatchObject({ code: 'invalid_body' })
      expect(res.text).toContain('https://')
    }
  })

  it('without ALLOW_INSECURE_LOOPBACK_ORIGINS, a private http:// loopback origin is refused', async () => {
    const res = await workerWithVars({ ALLOW_INSECURE_LOOPBACK_ORIGINS: 'false' }, `https://gw.example${ADMIN_PATH}/routes`, {
      method: 'PUT',
      headers: { 'x-auth-token': env.ADMIN_TOKEN!, 'content-type': 'application/json' },
      body: JSON.stringify({ routes: [{ id: 'r', paths: ['/r'], target: target(loopback()) }] }),
    })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('ALLOW_INSECURE_LOOPBACK_ORIGINS')
  })
})

describe('CORS policies', () => {
  const route = (cors: unknown) => ({ id: 'r', paths: ['/r'], target: target('https://origin.example'), cors })

  it.each<[string, unknown, string]>([
    ['a wildcard with credentials', { origins: ['*'], credentials: true }, 'routes.0.cors.credentials: must not be true with origins ["*"]: browsers refuse a wildcard with credentials; list the origins'],
    ['an origin with a path', { origins: ['https://app.example/'] }, 'routes.0.cors.origins.0: not an origin as browsers send it; write "https://app.example"'],
    ['a pattern', { origins: ['https://*.app.example'] }, 'routes.0.cors.origins.0: not an origin: write scheme://host[:port] in lower case, without a path or a pattern, or "*"'],
    ['an unknown field', { origins: ['https://app.example'], allowCredentials: true }, 'routes.0.cors.allowCredentials: unknown field'],
  ])('%s is refused with 400 invalid_body naming the field', async (_, cors, detail) => {
    const res = await save([route(cors)])
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_body', detail })
  })

  it('a policy with exact origins and credentials is saved as written', async () => {
    const cors = { origins: ['https://app.example', 'http://localhost:5173'], credentials: true, exposedHeaders: ['X-Request-Id'], maxAgeSeconds: 600 }
    expect((await save([route(cors)])).status).toBe(200)
    expect((await adminJson('GET', '/routes')).body.routes[0].cors).toEqual(cors)
  })
})

describe('key-auth fields of a route', () => {
  const route = (auth: unknown) => ({ id: 'r', paths: ['/r'], target: target('https://origin.example'), auth })

  it('saves header names with "_", body fields, a body cap and requireNbf', async () => {
    const auth = { headerNames: ['api_key', 'X-Api-Key'], bodyFields: ['api_key'], bodyMaxBytes: 16384, requireNbf: true }
    expect((await save([route(auth)])).status).toBe(200)
    expect((await adminJson('GET', '/routes')).body.routes[0].auth).toMatchObject(auth)
  })

  it.each<[string, unknown, string]>([
    ['a body cap over 1 MiB', { bodyFields: ['api_key'], bodyMaxBytes: 1048577 }, 'routes.0.auth.bodyMaxBytes'],
    ['a body field that is no name', { bodyFields: ['api key'] }, 'routes.0.auth.bodyFields.0'],
    ['requireNbf that is no boolean', { requireNbf: 'yes' }, 'routes.0.auth.requireNbf'],
  ])('refuses %s, naming the field', async (_, auth, field) => {
    const res = await save([route(auth)])
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_body', detail: expect.stringContaining(field) })
  })
})
