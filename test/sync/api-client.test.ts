import { env } from 'cloudflare:workers'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { ApiClient, type ApiClientOptions } from '../../src/sync/api-client.js'
import { ApiCallError } from '../../src/sync/api-error.js'

const Ok = v.object({ ok: v.boolean(), token: v.boolean() })
const Item = v.object({ id: v.string() })

function client(options: Partial<ApiClientOptions> = {}) {
  const slept: number[] = []
  const api = new ApiClient({ baseUrl: env.SCRIPTED_API_URL, token: 'test-token', sleep: async (ms) => void slept.push(ms), ...options })
  return { api, slept }
}

async function failure(promise: Promise<unknown>): Promise<ApiCallError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(ApiCallError)
  return error as ApiCallError
}

const calls = async (id: string) => ((await (await fetch(`${env.SCRIPTED_API_URL}/seq/${id}/count`)).json()) as { count: number }).count

describe('ApiClient', () => {
  it('sends X-Auth-Token and checks the answer against the schema', async () => {
    const { api } = client()
    expect(await api.call('GET', `/seq/${crypto.randomUUID()}`, Ok)).toEqual({ ok: true, token: true })
  })

  it('retries 5xx with exponential backoff and honours Retry-After on 429', async () => {
    const id = crypto.randomUUID()
    const { api, slept } = client({ backoffMs: 100 })
    expect(await api.call('GET', `/seq/${id}?statuses=500,429,503,200`, Ok)).toMatchObject({ ok: true })
    expect(await calls(id)).toBe(4)
    expect(slept).toHaveLength(3)
    expect(slept[0]).toBeGreaterThanOrEqual(50) // 100 ms, half of it jitter
    expect(slept[0]).toBeLessThanOrEqual(100)
    expect(slept[1]).toBe(2000) // Retry-After: 2 beats a 200 ms backoff
    expect(slept[2]).toBeGreaterThanOrEqual(200)
    expect(slept[2]).toBeLessThanOrEqual(400)
  })

  it('gives up after its attempts, naming the call and the last status', async () => {
    const id = crypto.randomUUID()
    const { api } = client({ attempts: 3 })
    const error = await failure(api.call('GET', `/seq/${id}?statuses=500`, Ok))
    expect(error).toMatchObject({ kind: 'http', status: 500, call: `GET /seq/${id}?statuses=500` })
    expect(error.message).toBe(`GET /seq/${id}?statuses=500: HTTP 500 (internal_error: scripted 500) (after 3 attempts)`)
    expect(await calls(id)).toBe(3)
  })

  it('does not retry another 4xx', async () => {
    const { api, slept } = client()
    const error = await failure(api.call('GET', '/missing', Ok))
    expect(error).toMatchObject({ kind: 'http', status: 404 })
    expect(error.message).toContain('not_found: resource is not found')
    expect(slept).toEqual([])
  })

  it.each([
    ['a body that is not JSON', '/garbage', /not JSON/],
    ['JSON of the wrong shape', '/shape', /unexpected response shape/],
  ])('refuses %s without retrying', async (_, path, message) => {
    const { api, slept } = client()
    const error = await failure(api.list(path, 'items', Item))
    expect(error.kind).toBe('invalid_response')
    expect(error.message).toMatch(message)
    expect(slept).toEqual([])
  })

  it('times out an attempt that gets no answer, and retries it', async () => {
    const { api, slept } = client({ timeoutMs: 100, attempts: 2 })
    const error = await failure(api.call('GET', '/slow?ms=1000', Ok))
    expect(error).toMatchObject({ kind: 'timeout' })
    expect(error.message).toMatch(/no answer within 100 ms \(after 2 attempts\)/)
    expect(slept).toHaveLength(1)
  })

  it('names a network failure', async () => {
    const { api } = client({ baseUrl: env.CLOSED_ORIGIN_URL, attempts: 1 })
    expect((await failure(api.call('GET', '/x', Ok))).kind).toBe('network')
  })

  it.each([0, 1, 99, 100, 101, 250])('reads every page of a list of %i items', async (total) => {
    const { api } = client({ pageSize: 100 })
    const items = await api.list('/items', 'items', Item, { total: String(total) })
    expect(items.map((i) => i.id)).toEqual(Array.from({ length: total }, (_, i) => `item-${i}`))
  })

  it.each<[Partial<ApiClientOptions>, RegExp]>([
    [{ baseUrl: 'ftp://x' }, /baseUrl/],
    [{ token: '' }, /token/],
    [{ pageSize: 101 }, /pageSize/],
    [{ attempts: 0 }, /attempts/],
  ])('refuses options %o', (options, message) => {
    expect(() => client(options)).toThrow(message)
  })

  it('never puts the token in an error message', async () => {
    const { api } = client({ attempts: 1 })
    const error = await failure(api.call('GET', `/seq/${crypto.randomUUID()}?statuses=500`, Ok))
    expect(error.message).not.toContain('test-token')
  })
})
