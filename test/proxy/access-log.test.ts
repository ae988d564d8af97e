import { env } from 'cloudflare:workers'
import { beforeAll, expect, it } from 'vitest'
import { createGateway, staticKeySet, type KeySetSource } from '../../src/index.js'
import { secrets, testKeySet } from '../support/fixtures.js'

let source: KeySetSource
beforeAll(async () => {
  source = await testKeySet()
})

it.each([
  ['all', [200, 401]],
  ['refusals', [401]],
  ['off', []],
] as const)('ACCESS_LOG=%s logs the statuses %o', async (accessLog, expected) => {
  const lines: Record<string, unknown>[] = []
  const app = createGateway({ keySet: () => staticKeySet(source), originToken: () => env.ORIGIN_AUTH_TOKEN, allowInsecureLoopbackOrigins: true, accessLog, log: (line) => void lines.push(line) })
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  expect((await app.request('https://gw.example/hello', { headers: { 'x-auth-token': secrets.functions } }, env, ctx)).status).toBe(200)
  expect((await app.request('https://gw.example/hello', {}, env, ctx)).status).toBe(401)
  expect(lines.map((line) => line.status)).toEqual(expected)
})

it('refuses an unknown access-log level', () => {
  expect(() => createGateway({ keySet: () => staticKeySet(source), originToken: () => undefined, accessLog: 'verbose' as never })).toThrow(/accessLog/)
})
