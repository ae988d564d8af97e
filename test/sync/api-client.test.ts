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

const counts = async (id: string) => (await (await fetch(`${env.SCRIPTED_API_URL}/seq/${id}/count`)).json()) as { count: number; withToken: number }
const calls = async (id: string) => (await counts(id)).count

/** The scripted peer under another origin: the same server, reached by another host name. */
const otherOrigin = (): string => {
  const url = new URL(env.SCRIPTED_API_URL)
  url.hostname = url.hostname === 'localhost' ? '127.0.0.1' : 'localhost'
  return url.origin
}
const redirectTo = (target: string, status = 302) => `/redirect?status=${status}&to=${encodeURIComponent(target)}`

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

  describe('redirects (the token never leaves the API origin)', () => {
    const outcome = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e)

    it.each([301, 302, 303, 307, 308])('refuses a %i to another origin, which never receives the token', async (status) => {
      const id = crypto.randomUUID()
      const { api, slept } = client()
      const path = redirectTo(`${otherOrigin()}/seq/${id}`, status)
      const error = await outcome(api.call('GET', path, Ok))
      expect(await counts(id)).toEqual({ count: 0, withToken: 0 })
      expect(error).toBeInstanceOf(ApiCallError)
      expect(error).toMatchObject({ kind: 'redirect', status })
      expect((error as Error).message).toBe(`GET ${path}: HTTP ${status} redirect to another origin (${otherOrigin()}): not followed`)
      expect(slept).toEqual([])
    })

    it('refuses a redirect from http to https on the same host (another origin)', async () => {
      const base = new URL(env.SCRIPTED_API_URL)
      const id = crypto.randomUUID()
      const { api } = client({ timeoutMs: 500, attempts: 1 })
      const error = await outcome(api.call('GET', redirectTo(`https://${base.host}/seq/${id}`), Ok))
      expect(error).toMatchObject({ kind: 'redirect', status: 302 })
      expect(await counts(id)).toEqual({ count: 0, withToken: 0 })
    })

    it('follows a redirect within the API origin, with the token', async () => {
      const id = crypto.randomUUID()
      const { api } = client()
      expect(await api.call('GET', redirectTo(`/seq/${id}`), Ok)).toEqual({ ok: true, token: true })
      expect(await api.call('GET', redirectTo(`${env.SCRIPTED_API_URL}/seq/${id}`, 308), Ok)).toEqual({ ok: true, token: true })
      expect(await counts(id)).toEqual({ count: 2, withToken: 2 })
    })

    it('refuses a write redirected with 301, 302 or 303 (which would turn it into a GET)', async () => {
      const id = crypto.randomUUID()
      const { api } = client()
      const error = await outcome(api.call('POST', redirectTo(`/seq/${id}`, 302), Ok, { a: 1 }))
      expect(await counts(id)).toEqual({ count: 0, withToken: 0 })
      expect(error).toMatchObject({ kind: 'redirect', status: 302 })
    })

    it('gives up after 3 redirects', async () => {
      const { api } = client()
      const error = await outcome(api.call('GET', redirectTo(redirectTo(redirectTo(redirectTo('/seq/never')))), Ok))
      expect(error).toMatchObject({ kind: 'redirect', message: expect.stringMatching(/more than 3 redirects/) })
    })
  })

  it('never puts the token in an error message', async () => {
    const { api } = client({ attempts: 1 })
    const error = await failure(api.call('GET', `/seq/${crypto.randomUUID()}?statuses=500`, Ok))
    expect(error.message).not.toContain('test-token')
  })
})
