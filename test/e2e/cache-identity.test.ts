import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import { createGateway, edgeAuth, staticKeySet, type KeySetSource, type KeySetStore, type Target } from '../../src/index.js'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { PROJECT, secrets, testKeySet } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

// What the verification cache is keyed by: the key-set snapshot (a static snapshot
// swapped for another is a new snapshot; the same content is the same one), seen
// through edgeAuth as a Node or Bun app uses it, and the API key in its canonical
// form, seen through the gateway.

const REALM = 'Bearer realm="edge-auth-gateway"'
const target: Target = { url: 'https://o.test', kind: 'function', projectId: PROJECT, privacy: 'private' }
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext

let source: KeySetSource
beforeAll(async () => {
  source = await testKeySet()
})

function gatewayOn(keySet: () => KeySetStore) {
  const app = createGateway({ keySet, originToken: () => env.ORIGIN_AUTH_TOKEN, allowInsecureLoopbackOrigins: true, accessLog: 'off' })
  return async (secret: string) => {
    const marker = newMarker()
    const res = await app.request('https://gw.example/hello', { headers: { 'x-auth-token': secret, 'x-test-marker': marker } }, env, ctx)
    return { res, reached: await originSaw(marker) }
  }
}

describe('a static key set swapped for another', () => {
  /** edgeAuth in a Hono app, as on Node or Bun, in front of a handler that records what reached it. */
  function appOn(keySet: () => KeySetStore) {
    const reached: string[] = []
    const app = new Hono()
    app.use('*', edgeAuth({ keySet, target }))
    app.all('*', (c) => (reached.push(c.req.header('x-test-marker')!), c.text('ok')))
    return async (secret: string) => {
      const marker = newMarker()
      const res = await app.request('/x', { headers: { 'x-auth-token': secret, 'x-test-marker': marker } })
      return { res, reached: reached.includes(marker) }
    }
  }

  it('is a new snapshot: a key removed from it is refused at once (401 api_key_unknown), not served from the cache', async () => {
    let store = staticKeySet(source)
    const call = appOn(() => store)
    expect((await call(secrets.functions)).res.status).toBe(200)
    expect((await call(secrets.functions)).res.status).toBe(200) // cached

    const revoked = { ...source, apiKeys: { ...source.apiKeys } }
    delete revoked.apiKeys[await apiKeyDigest(secrets.functions)]
    store = staticKeySet(revoked)
    const { res, reached } = await call(secrets.functions)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`${REALM}, error="invalid_token", error_description="The API key is not known."`)
    expect(await res.json()).toMatchObject({ status: 401, code: 'api_key_unknown' })
    expect(reached).toBe(false)
  })

  it('is the same snapshot when its content is the same: the cache still answers', async () => {
    let lookups = 0
    const counted = (inner: KeySetStore): KeySetStore => ({
      current: async (c) => {
        const view = await inner.current(c)
        return { ...view, findApiKey: (digest) => (lookups++, view.findApiKey(digest)) }
      },
    })
    let store = counted(staticKeySet(source))
    const call = appOn(() => store)
    expect((await call(secrets.functions)).res.status).toBe(200)
    store = counted(staticKeySet(structuredClone(source)))
    expect((await call(secrets.functions)).reached).toBe(true)
    expect(lookups).toBe(1)
  })
})

describe('an API key sent in another letter case', () => {
  it('is one credential: verified once, one cache entry, and every spelling reaches the origin', async () => {
    let lookups = 0
    const inner = staticKeySet(source)
    const counting: KeySetStore = {
      current: async (c) => {
        const view = await inner.current(c)
        return { ...view, findApiKey: (digest) => (lookups++, view.findApiKey(digest)) }
      },
    }
    const call = gatewayOn(() => counting)
    const lower = secrets.functions
    const spellings = [lower, lower.toUpperCase(), `A${lower.slice(1)}`, [...lower].map((ch, i) => (i % 2 ? ch.toUpperCase() : ch)).join('')]
    expect(new Set(spellings).size).toBe(4)
    for (const spelling of spellings) {
      const { res, reached } = await call(spelling)
      expect(res.status).toBe(200)
      expect(reached).toBe(true)
    }
    expect(lookups).toBe(1)
  })
})
