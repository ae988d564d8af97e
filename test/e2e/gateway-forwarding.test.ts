import { env, exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROJECT, secrets, seedKeySet, testKeySet } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'
import { workerWithVars } from '../support/worker-with-vars.js'

// What the origin receives, through the real Worker: the demo origins echo every header,
// the raw query string and record each request's marker.
const KEY = secrets.functions
const hello = (query = '') => ({ url: `${env.ORIGINS_URL}/functions/hello${query}`, kind: 'function' as const, projectId: PROJECT, privacy: 'private' as const })

beforeAll(async () => {
  const source = await testKeySet()
  source.routes.push(
    { id: 'sources', paths: ['/sources'], target: hello(), auth: { queryParameters: ['apikey'], cookies: ['session'], headerNames: ['x-api-key'] } },
    { id: 'fixed-query', paths: ['/fixed'], target: hello('?fixed=1&b=a%20b') },
  )
  await seedKeySet(source)
})

const gateway = (path: string, init: RequestInit<RequestInitCfProperties> = {}) => exports.default.fetch(`https://gw.example${path}`, init)
const echoOf = async (res: Response): Promise<OriginEcho> => {
  expect(res.status).toBe(200)
  return (await res.json()) as OriginEcho
}
const REALM = 'Bearer realm="edge-auth-gateway"'
const canonical = (name: string) => name.toLowerCase().replaceAll('_', '-')

describe('headers a client must not control, in any spelling', () => {
  it.each([
    ['x_consumer_groups', 'admins'],
    ['x_consumer_id', 'spoofed-consumer'],
    ['X_Consumer_Username', 'spoofed-username'],
    ['x_consumer_custom_id', 'spoofed-custom'],
    ['x_credential_identifier', 'spoofed-credential'],
    ['x_anonymous_consumer', 'spoofed-anonymous'],
    ['x_auth_method', 'spoofed-method'],
    ['x_forwarded_for', '203.0.113.66'],
    ['x_forwarded_host', 'spoofed.example'],
    ['x_real_ip', '203.0.113.67'],
    ['x_request_id', 'spoofed-request-id'],
    ['x_auth_token', secrets.containers],
    ['X-Original-URL', '/admin/spoofed-original'],
    ['X-Rewrite-URL', '/admin/spoofed-rewrite'],
    ['X-HTTP-Method-Override', 'DELETE'],
    ['X-HTTP-Method', 'PATCH'],
    ['X-Method-Override', 'PUT'],
    ['True-Client-IP', '203.0.113.68'],
    ['X-Client-IP', '203.0.113.69'],
    // The route reads x-api-key in every spelling: the same key is one credential, removed
    // (a different one is a conflict: test/e2e/gateway-key-habits.test.ts).
    ['x_api_key', KEY],
  ])('%s never reaches the origin', async (name, value) => {
    const echo = await echoOf(await gateway('/sources', { headers: [['x-auth-token', KEY], [name, value]] }))
    expect(echo.headers[name.toLowerCase()]).toBeUndefined()
    expect(Object.entries(echo.headers).filter(([header, sent]) => canonical(header) === canonical(name) && sent === value)).toEqual([])
    expect(JSON.stringify(echo)).not.toContain(value)
    // The gateway's own identity headers are still there.
    expect(echo.headers).toMatchObject({ 'x-consumer-id': expect.any(String), 'x-auth-method': 'iam-api-key' })
  })
})

describe('the query string and cookies arrive as the client sent them, less the credential', () => {
  it.each([
    ['?x=a%20b&apikey=KEY&flag', '?x=a%20b&flag'],
    ['?apikey=KEY', ''],
    ['?z=%2B&apikey=KEY&apikey=KEY&q=1+2&empty=', '?z=%2B&q=1+2&empty='],
    ['?api%6Bey=KEY&x=%7e', '?x=%7e'],
    ['?x=1&apikey=KEY', '?x=1'],
  ])('%s → %s', async (query, expected) => {
    const echo = await echoOf(await gateway(`/sources/x${query.replaceAll('KEY', KEY)}`))
    expect(echo.search).toBe(expected)
    expect(echo.headers['x-credential-identifier']).toBe('SCW00000000000000001')
  })

  it.each([
    ['b="q w"; session=KEY; a=1; c=%41', 'b="q w"; a=1; c=%41'],
    ['a=1; session=KEY; b=2; a=3', 'a=1; b=2; a=3'],
    ['session=KEY;theme=dark', 'theme=dark'],
    ['theme=dark; session="KEY"', 'theme=dark'],
    ['session=KEY', null],
  ])('Cookie: %s → %s', async (cookie, expected) => {
    const echo = await echoOf(await gateway('/sources/x', { headers: { cookie: cookie.replaceAll('KEY', KEY) } }))
    expect(echo.headers.cookie).toBe(expected ?? undefined)
    expect(JSON.stringify(echo)).not.toContain(KEY)
  })

  it('reads and removes a credential cookie sent in a second Cookie header', async () => {
    const echo = await echoOf(await gateway('/sources/x', { headers: [['cookie', 'theme=dark'], ['cookie', `session=${KEY}`]] }))
    expect(echo.headers['x-credential-identifier']).toBe('SCW00000000000000001')
    expect(echo.headers.cookie).toBe('theme=dark')
    expect(JSON.stringify(echo)).not.toContain(KEY)
  })

  it('removes the credential cookie of a second Cookie header when the key came in X-Auth-Token', async () => {
    const echo = await echoOf(await gateway('/sources/x', { headers: [['x-auth-token', KEY], ['cookie', 'theme=dark; lang=fr'], ['cookie', `session=${KEY}; a=1`]] }))
    expect(echo.headers.cookie).toBe('theme=dark; lang=fr, a=1')
    expect(JSON.stringify(echo)).not.toContain(KEY)
  })

  it('refuses a different credential hidden in a second Cookie header as a conflict, before the origin', async () => {
    const marker = newMarker()
    const res = await gateway('/sources/x', { headers: [['x-auth-token', KEY], ['cookie', 'theme=dark'], ['cookie', `session=${secrets.orgWide}`], ['x-test-marker', marker]] })
    expect(res.status).toBe(400)
    expect(res.headers.get('www-authenticate')).toBe(`${REALM}, error="invalid_request", error_description="The request carries different credentials in several places."`)
    expect(await res.json()).toMatchObject({ code: 'credentials_conflict' })
    expect(await originSaw(marker)).toBe(false)
  })

  it.each([
    ['/fixed/y?x=2', '?fixed=1&b=a%20b&x=2'],
    ['/fixed', '?fixed=1&b=a%20b'],
    ['/fixed?', '?fixed=1&b=a%20b'],
  ])("keeps the target URL's own query string before the client's: %s → %s", async (path, expected) => {
    const echo = await echoOf(await gateway(path, { headers: { 'x-auth-token': KEY } }))
    expect(echo.search).toBe(expected)
  })
})

describe('the client IP the origin sees (X-Forwarded-For)', () => {
  const ipHeaders = { 'cf-connecting-ip': '203.0.113.9', 'true-client-ip': '203.0.113.10', 'x-client-ip': '203.0.113.11', 'x-real-ip': '203.0.113.12' }
  const spoofedIps = Object.values(ipHeaders)

  it('off Cloudflare (no request.cf), a client-sent CF-Connecting-IP is not the client IP, and no client IP header passes', async () => {
    const echo = await echoOf(await gateway('/hello', { headers: { 'x-auth-token': KEY, ...ipHeaders } }))
    expect(echo.headers['x-forwarded-for']).toBeUndefined()
    for (const ip of spoofedIps) expect(JSON.stringify(echo.headers)).not.toContain(ip)
  })

  it("on Cloudflare (request.cf set), CF-Connecting-IP is the platform's client IP; the other client IP headers are removed", async () => {
    const echo = await echoOf(await gateway('/hello', { headers: { 'x-auth-token': KEY, ...ipHeaders, 'cf-connecting-ip': '198.51.100.4' }, cf: { colo: 'CDG' } }))
    expect(echo.headers['x-forwarded-for']).toBe('198.51.100.4')
    for (const ip of spoofedIps.slice(1)) expect(JSON.stringify(echo.headers)).not.toContain(ip)
  })

  it.each([
    ['x-real-ip (a proxy of yours in front)', { CLIENT_IP_HEADER: 'x-real-ip' }, undefined, '203.0.113.12'],
    ['x-real-ip, on Cloudflare too', { CLIENT_IP_HEADER: 'X-Real-IP' }, { colo: 'CDG' }, '203.0.113.12'],
    ['none, on Cloudflare', { CLIENT_IP_HEADER: 'none' }, { colo: 'CDG' }, undefined],
  ])('CLIENT_IP_HEADER=%s', async (_, vars, cf, expected) => {
    const res = await workerWithVars(vars, 'https://gw.example/hello', { headers: { 'x-auth-token': KEY, ...ipHeaders }, ...(cf ? { cf } : {}) })
    const echo = await echoOf(res)
    expect(echo.headers['x-forwarded-for']).toBe(expected)
    for (const ip of spoofedIps.filter((ip) => ip !== expected)) expect(JSON.stringify(echo.headers)).not.toContain(ip)
  })
})
