/**
 * CORS per route through the local stack: a route given a CORS policy through the
 * admin API, synced, then called the way a browser app on another origin calls it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pollUntil, startTestStack, type PlatformEcho, type TestStack } from './support.js'

const APP = 'https://app.example'
let t: TestStack

const preflight = (origin: string) =>
  fetch(`${t.stack.gatewayUrl}/hello`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-auth-token, content-type' } })
const corsHeaders = (res: Response) => Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-')))

beforeAll(async () => {
  t = await startTestStack({ memoryTtlSeconds: 1 })
  const { routes } = await t.admin.call<{ routes: Record<string, unknown>[] }>('GET', '/routes')
  const withCors = routes.map((route) => (route.id === 'hello' ? { ...route, cors: { origins: [APP], credentials: true, exposedHeaders: ['X-Request-Id'], maxAgeSeconds: 300 } } : route))
  await t.admin.call('PUT', '/routes', { routes: withCors })
  await t.admin.call('POST', '/sync', {})
  // The gateway's memory TTL is 1 s: wait until it serves the new route table.
  await pollUntil(() => preflight(APP).then((res) => res.status), (status) => status === 204, { timeoutMs: 10_000 })
})
afterAll(() => t?.cleanup())

describe('a browser app on an allowed origin', () => {
  it('gets its preflight answered by the gateway without a credential: 204 with the policy, nothing from the platform', async () => {
    const res = await preflight(APP)
    expect(res.status).toBe(204)
    expect(corsHeaders(res)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,HEAD,PUT,POST,DELETE,PATCH',
      'access-control-allow-headers': 'x-auth-token,content-type',
      'access-control-max-age': '300',
    })
    expect(res.headers.get('vary')).toContain('Origin')
    // The platform answers every call with a JSON echo: an empty body never came from it.
    expect(await res.text()).toBe('')
  })

  it('reads the answer to its credentialed call: Allow-Origin its origin, Allow-Credentials, Vary: Origin', async () => {
    const res = await fetch(`${t.stack.gatewayUrl}/hello`, { headers: { origin: APP, 'x-auth-token': t.stack.secrets.apiKeys.demo!.secretKey } })
    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual({ 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Request-Id' })
    expect(res.headers.get('vary')).toContain('Origin')
    const echo = (await res.json()) as PlatformEcho
    expect(echo.credential).toBe('iam_api_key')
  })

  it('reads a refusal too (401 without a credential carries the CORS headers)', async () => {
    const res = await fetch(`${t.stack.gatewayUrl}/hello`, { headers: { origin: APP } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway"')
    expect(await res.json()).toMatchObject({ code: 'credentials_missing' })
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
  })
})

describe('another origin', () => {
  it('gets a preflight answer without any CORS header, and no Allow-Origin on a real call', async () => {
    const answer = await preflight('https://evil.example')
    expect(answer.status).toBe(204)
    expect(corsHeaders(answer)).toEqual({})
    const res = await fetch(`${t.stack.gatewayUrl}/hello`, { headers: { origin: 'https://evil.example', 'x-auth-token': t.stack.secrets.apiKeys.demo!.secretKey } })
    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual({})
  })

  it('on a route without a policy, a preflight is refused as a request without a credential', async () => {
    const res = await fetch(`${t.stack.gatewayUrl}/echo`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'GET' } })
    expect(res.status).toBe(401)
    expect(corsHeaders(res)).toEqual({})
  })
})
