import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { createGateway, EdgeAuthError, staticKeySet, type KeySetSource, type KeySetStore } from '../../src/index.js'
import { secrets, testKeySet } from '../support/fixtures.js'

let source: KeySetSource
beforeAll(async () => {
  source = await testKeySet()
})

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext

function gatewayLogging(options: { accessLog?: 'all' | 'refusals' | 'off' | 'counted'; keySet?: () => KeySetStore; clock?: () => number; refusalSummaryIntervalMs?: number } = {}) {
  const lines: Record<string, unknown>[] = []
  const app = createGateway({
    keySet: options.keySet ?? (() => staticKeySet(source)),
    originToken: () => env.ORIGIN_AUTH_TOKEN,
    allowInsecureLoopbackOrigins: true,
    ...(options.accessLog ? { accessLog: options.accessLog } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.refusalSummaryIntervalMs ? { refusalSummaryIntervalMs: options.refusalSummaryIntervalMs } : {}),
    log: (line) => void lines.push(line),
  })
  return { lines, request: (path: string, init: RequestInit = {}) => app.request(`https://gw.example${path}`, init, env, ctx) }
}

it.each([
  ['all', [200, 401]],
  ['refusals', [401]],
  ['off', []],
] as const)('ACCESS_LOG=%s logs the statuses %o', async (accessLog, expected) => {
  const { lines, request } = gatewayLogging({ accessLog })
  expect((await request('/hello', { headers: { 'x-auth-token': secrets.functions } })).status).toBe(200)
  expect((await request('/hello')).status).toBe(401)
  expect(lines.map((line) => line.status)).toEqual(expected)
})

it('ACCESS_LOG=counted: each accepted request its line; refusals counted per status, code and route, and summarised once per interval', async () => {
  let now = Date.parse('2026-11-30T10:00:00Z')
  const { lines, request } = gatewayLogging({ accessLog: 'counted', clock: () => now, refusalSummaryIntervalMs: 60_000 })
  expect((await request('/hello', { headers: { 'x-auth-token': secrets.functions } })).status).toBe(200)
  for (let i = 0; i < 3; i++) expect((await request('/hello')).status).toBe(401)
  for (let i = 0; i < 2; i++) expect((await request('/hello', { headers: { 'x-auth-token': secrets.unknown } })).status).toBe(401)
  now += 59_999
  expect((await request('/nowhere')).status).toBe(404)
  expect(lines.map((line) => line.status ?? line.event)).toEqual([200])

  now += 1
  expect((await request('/hello', { headers: { 'x-auth-token': secrets.functions } })).status).toBe(200)
  expect(lines.map((line) => line.status ?? line.event)).toEqual([200, 'refusals', 200])
  expect(lines[1]).toEqual({
    time: '2026-11-30T10:01:00.000Z',
    level: 'warn',
    event: 'refusals',
    since: '2026-11-30T10:00:00.000Z',
    counts: [
      { status: 401, code: 'credentials_missing', route: 'hello-fn', count: 3 },
      { status: 401, code: 'api_key_unknown', route: 'hello-fn', count: 2 },
      { status: 404, code: 'route_not_found', route: null, count: 1 },
    ],
  })
  expect(JSON.stringify(lines)).not.toContain(secrets.unknown)

  // A fresh window: nothing more to summarise until the next refusal's interval has passed.
  now += 120_000
  expect((await request('/hello', { headers: { 'x-auth-token': secrets.functions } })).status).toBe(200)
  expect(lines.filter((line) => line.event === 'refusals')).toHaveLength(1)
})

it('refuses an unknown access-log level', () => {
  expect(() => createGateway({ keySet: () => staticKeySet(source), originToken: () => undefined, accessLog: 'verbose' as never })).toThrow(/accessLog/)
})

describe('the access-log line', () => {
  it.each([
    ['an allowed request', '/hello?token=secret-in-query', { 'x-auth-token': secrets.functions }, { status: 200, level: 'info', path: '/hello', route: 'hello-fn', code: null }],
    ['a refusal on a route', '/hello', {}, { status: 401, level: 'warn', path: '/hello', route: 'hello-fn', code: 'credentials_missing' }],
    ['a denial on a route', '/echo/x', { 'x-auth-token': secrets.noGrant }, { status: 403, level: 'warn', path: '/echo/x', route: 'echo-ctr', code: 'permission_denied' }],
    ['a path no route matches, normalised', '/%6Eowhere//a/./b/../c?x=1', {}, { status: 404, level: 'warn', path: '/nowhere/a/c', route: null, code: 'route_not_found' }],
    ['a path that cannot be normalised', '/hello/..;/admin', {}, { status: 400, level: 'warn', path: null, route: null, code: 'path_invalid' }],
  ] as const)('for %s: time, level, normalised path, route and code', async (_name, path, headers, expected) => {
    const { lines, request } = gatewayLogging()
    const res = await request(path, { headers })
    expect(res.status).toBe(expected.status)
    expect(lines).toHaveLength(1)
    const [line] = lines
    expect(line).toMatchObject({ ...expected, method: 'GET', request_id: res.headers.get('x-request-id') })
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time)
    expect(Math.abs(Date.parse(String(line?.time)) - Date.now())).toBeLessThan(60_000)
    expect(JSON.stringify(lines)).not.toMatch(/secret-in-query|x=1|aaaaaaaa-/)
  })

  it('an infrastructure failure is level error with its code', async () => {
    const failing: KeySetStore = {
      current: () => Promise.reject(new EdgeAuthError('keyset_unavailable', 'KV is down')),
    } as unknown as KeySetStore
    const { lines, request } = gatewayLogging({ keySet: () => failing })
    const res = await request('/hello')
    expect(res.status).toBe(503)
    expect(lines).toEqual([expect.objectContaining({ status: 503, level: 'error', code: 'keyset_unavailable', path: '/hello', route: null })])
  })

  it('an unexpected failure answers the one problem shape and logs its error line and an access line, both level error', async () => {
    const broken: KeySetStore = { current: () => Promise.reject(new Error('boom')) } as unknown as KeySetStore
    const { lines, request } = gatewayLogging({ keySet: () => broken })
    const res = await request('/hello')
    expect(res.status).toBe(500)
    const requestId = res.headers.get('x-request-id')
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toEqual({
      type: 'urn:edge-auth-gateway:problem:internal_error',
      title: 'Internal Server Error',
      status: 500,
      code: 'internal_error',
      detail: 'The gateway failed unexpectedly; the request id is in the log.',
      request_id: requestId,
    })
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', error: 'boom', request_id: requestId }),
      expect.objectContaining({ status: 500, level: 'error', code: 'internal_error', path: '/hello', route: null }),
    ])
  })
})
