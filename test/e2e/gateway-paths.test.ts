import { env, exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROJECT, secrets, seedKeySet, testKeySet } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'

// What is matched is what is forwarded: every path form that Tomcat, Jetty, Spring,
// IIS or a double-decoding server would read differently from the gateway is refused.
const hello = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function' as const, projectId: PROJECT, privacy: 'private' as const }

beforeAll(async () => {
  const source = await testKeySet()
  source.routes.push(
    { id: 'api', paths: ['/api'], target: hello },
    { id: 'api-admin', paths: ['/api/admin'], methods: ['GET'], target: hello },
    { id: 'tilde', paths: ['/~alice'], target: hello },
  )
  await seedKeySet(source)
})

const gateway = (path: string, init: RequestInit = {}) => exports.default.fetch(`https://gw.example${path}`, init)

describe('an ambiguous path is refused before any route is matched', () => {
  it.each([
    ['Tomcat path parameter climbing out (..;)', '/hello/..;/admin'],
    ['a session id path parameter', '/hello;jsessionid=0123'],
    ['a matrix parameter in a segment', '/hello/a;b=c/d'],
    ['an encoded semicolon', '/hello/%3B/x'],
    ['an encoded semicolon, lower case', '/hello/..%3b/admin'],
    ['a double-encoded dot segment', '/hello/%252e%252e/admin'],
    ['a double-encoded slash', '/hello%252Fadmin'],
    ['an encoded NUL', '/hello/%00.json'],
    ['an encoded control character', '/hello/a%0Ab'],
    ['an encoded backslash', '/hello/..%5Cadmin'],
    ['an encoded slash', '/hello%2F..%2Fadmin'],
  ])('%s: %s → 400 path_invalid, origin never reached', async (_, path) => {
    const marker = newMarker()
    const res = await gateway(path, { headers: { 'x-auth-token': secrets.functions, 'x-test-marker': marker } })
    expect(res.status).toBe(400)
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ status: 400, code: 'path_invalid' })
    expect(await originSaw(marker)).toBe(false)
  })

  it.each([
    ['/%7Ealice/x', '/functions/hello/x'],
    ['/api/%61dmin/x', '/functions/hello/x'],
    ['/hello/caf%c3%a9', '/functions/hello/caf%C3%A9'],
  ])('a path that normalises to a route: %s reaches the origin as %s', async (path, forwarded) => {
    const res = await gateway(path, { headers: { 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as OriginEcho).path).toBe(forwarded)
  })
})

describe('the most specific route decides the method', () => {
  it('a method not on /api/admin is 405 from that route, never the /api route above it', async () => {
    const marker = newMarker()
    const res = await gateway('/api/admin/users', { method: 'DELETE', headers: { 'x-auth-token': secrets.functions, 'x-test-marker': marker } })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD')
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ status: 405, code: 'method_not_allowed' })
    expect(await originSaw(marker)).toBe(false)
  })

  it('the methods /api/admin takes still reach it, and other paths under /api still take every method', async () => {
    expect((await gateway('/api/admin/users', { headers: { 'x-auth-token': secrets.functions } })).status).toBe(200)
    expect((await gateway('/api/other', { method: 'DELETE', headers: { 'x-auth-token': secrets.functions } })).status).toBe(200)
  })
})
