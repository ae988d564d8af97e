import { exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { APP, secrets, seedKeySet } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'

beforeAll(() => seedKeySet())

const gateway = (path: string, init: RequestInit<RequestInitCfProperties> = {}) => exports.default.fetch(`https://gw.example${path}`, init)

describe('an allowed call', () => {
  it('reaches the private function with identity headers and the origin credential, never the client secret', async () => {
    const marker = newMarker()
    const res = await gateway('/hello/a/b?x=1&y=2', {
      headers: {
        'x-auth-token': secrets.functions,
        'x-test-marker': marker,
        'cf-connecting-ip': '198.51.100.4',
        // Identity headers a client makes up must not survive.
        'x-consumer-id': 'spoofed',
        'x-credential-identifier': 'spoofed',
        'x-forwarded-for': '10.0.0.1',
        'x-request-id': 'client-chosen',
      },
      // As on Cloudflare, where the edge sets request.cf and CF-Connecting-IP.
      cf: { colo: 'CDG' },
    })
    expect(res.status).toBe(200)
    const echo = (await res.json()) as OriginEcho
    expect(echo.path).toBe('/functions/hello/a/b')
    expect(echo.query).toEqual({ x: '1', y: '2' })
    expect(echo.headers).toMatchObject({
      'x-auth-token': '[origin credential: valid]',
      'x-consumer-id': APP,
      'x-consumer-username': 'app-functions',
      'x-credential-identifier': 'SCW00000000000000001',
      'x-auth-method': 'iam-api-key',
      'x-forwarded-for': '198.51.100.4',
      'x-forwarded-host': 'gw.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-prefix': '/hello',
    })
    expect(echo.headers['x-request-id']).toBe(res.headers.get('x-request-id'))
    expect(echo.headers['x-request-id']).not.toBe('client-chosen')
    expect(echo.headers.authorization).toBeUndefined()
    expect(JSON.stringify(echo)).not.toContain(secrets.functions)
    expect(await originSaw(marker)).toBe(true)
  })

  it('reaches the private container with a Bearer credential, removed before the origin', async () => {
    const res = await gateway('/echo', { headers: { authorization: `Bearer ${secrets.containers}` } })
    expect(res.status).toBe(200)
    const echo = (await res.json()) as OriginEcho
    expect(echo.resource).toEqual({ kind: 'container', name: 'echo' })
    expect(echo.path).toBe('/containers/echo')
    expect(echo.headers.authorization).toBeUndefined()
    expect(JSON.stringify(echo)).not.toContain(secrets.containers)
  })

  it.each([
    ['an organisation-wide grant', secrets.orgWide],
    ['the organisation owner', secrets.owner],
    ['an upper-case secret (UUIDs are case-insensitive)', secrets.functions.toUpperCase()],
  ])('lets %s through', async (_, secret) => {
    expect((await gateway('/hello', { headers: { 'x-auth-token': secret } })).status).toBe(200)
  })

  it('streams a request body to the origin and its answer back', async () => {
    const body = 'x'.repeat(100_000)
    const res = await gateway('/hello/upload', { method: 'POST', body, headers: { 'x-auth-token': secrets.functions, 'content-type': 'text/plain' } })
    expect(res.status).toBe(200)
    const echo = (await res.json()) as OriginEcho
    expect(echo.method).toBe('POST')
    expect(echo.body).toHaveLength(64 * 1024) // the demo origin echoes at most 64 KiB
  })

  it('normalises the path before matching and forwards the normalised path', async () => {
    const res = await gateway('/%68ello//a/./b/../c', { headers: { 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as OriginEcho).path).toBe('/functions/hello/a/c')
  })

  it('forwards the query string exactly as the client encoded it', async () => {
    const res = await gateway('/hello?q=a%20b&r=c+d&empty=&dup=1&dup=2', { headers: { 'x-auth-token': secrets.functions, 'x-test-marker': 'query' } })
    expect(res.status).toBe(200)
    const echo = (await res.json()) as OriginEcho
    expect(echo.search).toBe('?q=a%20b&r=c+d&empty=&dup=1&dup=2')
    expect(res.headers.get('x-request-id')).toBe(echo.headers['x-request-id'])
  })

  it('keeps the route prefix when the route does not strip it', async () => {
    const res = await gateway('/keep/x', { headers: { 'x-auth-token': secrets.functions } })
    const echo = (await res.json()) as OriginEcho
    expect(echo.path).toBe('/functions/keep/keep/x')
    expect(echo.headers['x-forwarded-prefix']).toBeUndefined()
  })

  it('passes a redirect back without following it', async () => {
    const res = await gateway('/hello/redirect', { headers: { 'x-auth-token': secrets.functions }, redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/functions/hello/elsewhere')
  })

  it('does not send the origin credential to a public origin', async () => {
    const res = await gateway('/public', { headers: { 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as OriginEcho).headers['x-auth-token']).toBeUndefined()
  })

  it('logs one line per request with identifiers, never the secret or the query', async () => {
    const spies = (['log', 'warn', 'error'] as const).map((method) => vi.spyOn(console, method).mockImplementation(() => {}))
    try {
      await gateway('/hello?token=secret-in-query', { headers: { 'x-auth-token': secrets.functions } })
      await gateway('/hello', { headers: { 'x-auth-token': secrets.unknown } })
      await gateway('/hello', { headers: { 'x-auth-token': secrets.noGrant } })
      const [log, warn, error] = spies.map((spy) => spy.mock.calls.map((args) => String(args[0])))
      expect(error).toEqual([])
      expect(log).toHaveLength(1)
      expect(warn).toHaveLength(2)
      const lines = [...(log ?? []), ...(warn ?? [])]
      const [ok, refused, denied] = lines.map((line) => JSON.parse(line))
      expect(denied).toMatchObject({ level: 'warn', status: 403, code: 'permission_denied', route: 'hello-fn', credential_id: 'SCW00000000000000005' })
      expect(ok).toMatchObject({ level: 'info', status: 200, path: '/hello', route: 'hello-fn', auth_method: 'iam-api-key', credential_id: 'SCW00000000000000001', code: null })
      expect(refused).toMatchObject({ level: 'warn', status: 401, code: 'api_key_unknown', route: 'hello-fn', principal: null })
      expect(lines.join('\n')).not.toMatch(new RegExp(`${secrets.functions}|${secrets.unknown}|${secrets.noGrant}|secret-in-query`))
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  })
})
