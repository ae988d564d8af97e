import { env } from 'cloudflare:workers'
import { Hono, type Context } from 'hono'
import { SignJWT } from 'jose'
import * as v from 'valibot'
import { beforeEach, describe, expect, it } from 'vitest'
import { KvKeySetStore, edgeAuth, staticKeySet, writeKeySet, type KeySetSource, type KeySetStore, type Target, type EdgeAuthVariables } from '../../src/index.js'
import { sealSecret } from '../../src/keyset/secret-box.js'
import { VerificationCache, type VerifiedCredential } from '../../src/credentials/verification-cache.js'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { RouteAuthSchema } from '../../src/keyset/jwt-schema.js'
import type { EdgeAuthIdentity } from '../../src/identity.js'
import { ORG, PROJECT, secrets, testKeySet } from '../support/fixtures.js'

const MASTER = 'test-credential-encryption-key-0123456789abcdef'
const ALICE = 'c0000000-0000-4000-8000-00000000000a'
const CRED = 'd0000000-0000-4000-8000-000000000001'
const target: Target = { url: 'https://o.test', kind: 'function', projectId: PROJECT, privacy: 'private' }
const secret = new Uint8Array(32).fill(7)

async function withCredential(present: boolean): Promise<KeySetSource> {
  return {
    routes: [],
    projects: { [PROJECT]: ORG },
    apiKeys: {},
    consumers: {
      consumers: { [ALICE]: { id: ALICE, username: 'alice', groups: [] } },
      credentials: present ? { 'alice-key': { id: CRED, consumerId: ALICE, key: 'alice-key', algorithm: 'HS256', secret: await sealSecret(secret, MASTER, CRED) } } : {},
    },
  }
}

const sign = (claims: Record<string, unknown> = {}) => new SignJWT({ iss: 'alice-key', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(secret)

describe('the verification cache', () => {
  it('verifies a repeated token once: the second request does not read the credentials', async () => {
    const inner = staticKeySet(await withCredential(true))
    let credentialReads = 0
    const counting: KeySetStore = {
      current: async (ctx) => {
        const view = await inner.current(ctx)
        return { ...view, consumers: () => (credentialReads++, view.consumers()) }
      },
    }
    const app = new Hono()
    app.use('*', edgeAuth({ keySet: counting, target, credentialEncryptionKey: MASTER }))
    app.all('*', (c: Context<{ Variables: EdgeAuthVariables }>) => c.text(c.var.edgeAuth.principal.id))
    const value = await sign()
    for (let i = 0; i < 3; i++) expect((await app.request('/x', { headers: { authorization: `Bearer ${value}` } })).status).toBe(200)
    expect(credentialReads).toBe(1)
    // Another token is verified on its own.
    expect((await app.request('/x', { headers: { authorization: `Bearer ${await sign({ n: 2 })}` } })).status).toBe(200)
    expect(credentialReads).toBe(2)
  })

  it('honours exp: a cached token stops working when it expires', async () => {
    let now = Date.parse('2026-06-01T12:00:00Z')
    const app = new Hono()
    app.use('*', edgeAuth({ keySet: staticKeySet(await withCredential(true)), target, credentialEncryptionKey: MASTER, clock: () => now, auth: { clockToleranceSeconds: 0 } }))
    app.all('*', (c) => c.text('ok'))
    const value = await sign({ exp: now / 1000 + 10 })
    expect((await app.request('/x', { headers: { authorization: `Bearer ${value}` } })).status).toBe(200)
    now += 11_000
    const res = await app.request('/x', { headers: { authorization: `Bearer ${value}` } })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'token_expired' })
  })

  it('caches an API key only until it expires', async () => {
    let now = Date.parse('2026-06-01T12:00:00Z')
    const base = await testKeySet('https://o.test')
    const digest = await apiKeyDigest(secrets.functions)
    const source = { ...base, apiKeys: { [digest]: { ...base.apiKeys[digest]!, expiresAt: new Date(now + 10_000).toISOString() } } }
    const app = new Hono()
    app.use('*', edgeAuth({ keySet: staticKeySet(source), target, clock: () => now }))
    app.all('*', (c) => c.text('ok'))
    const call = () => app.request('/x', { headers: { 'x-auth-token': secrets.functions } })
    expect((await call()).status).toBe(200)
    now += 11_000
    const res = await call()
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'api_key_expired' })
  })

  it('bounds its entries per isolate, across routes: the least recently used of any route is evicted first', async () => {
    const inner = staticKeySet(await testKeySet('https://o.test'))
    let lookups = 0
    const counting: KeySetStore = {
      current: async (ctx) => {
        const view = await inner.current(ctx)
        return { ...view, findApiKey: (digest) => (lookups++, view.findApiKey(digest)) }
      },
    }
    // Two routes, each with its own auth settings (the cache's scope).
    const routeA = v.parse(RouteAuthSchema, {})
    const routeB = v.parse(RouteAuthSchema, {})
    const app = new Hono()
    app.use('*', edgeAuth({ keySet: counting, target, auth: (c) => (c.req.path.startsWith('/a') ? routeA : routeB), verificationCache: { maxEntries: 2 } }))
    app.all('*', (c) => c.text('ok'))
    const call = async (path: string, secret: string) => (await app.request(path, { headers: { 'x-auth-token': secret } })).status
    expect(await call('/a', secrets.functions)).toBe(200)
    expect(await call('/b', secrets.orgWide)).toBe(200)
    expect(await call('/a', secrets.owner)).toBe(200)
    expect(lookups).toBe(3)
    // Two entries in all: the first key, least recently used, was evicted by a key of the other route.
    expect(await call('/a', secrets.functions)).toBe(200)
    expect(lookups).toBe(4)
    // The most recent one is still there.
    expect(await call('/a', secrets.owner)).toBe(200)
    expect(lookups).toBe(4)
  })

  describe('bounds', () => {
    const identity: VerifiedCredential = { identity: { method: 'consumer-jwt', credentialId: 'k', principal: { type: 'consumer', id: ALICE } } satisfies EdgeAuthIdentity }
    const NOW = Date.parse('2026-06-01T12:00:00Z')

    it('keeps its counted memory under maxMemoryBytes across scopes, evicting the least recently used', () => {
      const cache = new VerificationCache({ maxMemoryBytes: 64 * 1024 })
      const scopes = [{}, {}, {}]
      for (let i = 0; i < 300; i++) {
        cache.set(scopes[i % 3]!, `${'x'.repeat(1000)}${i}`, 's1', identity, undefined, NOW)
        expect(cache.memoryBytes).toBeLessThanOrEqual(64 * 1024)
      }
      expect(cache.size).toBeGreaterThan(10)
      expect(cache.size).toBeLessThan(40)
      expect(cache.get(scopes[2]!, `${'x'.repeat(1000)}299`, 's1', NOW)).toEqual(identity)
      expect(cache.get(scopes[0]!, `${'x'.repeat(1000)}0`, 's1', NOW)).toBeUndefined()
    })

    it('does not keep an entry larger than the whole budget, nor one already expired', () => {
      const cache = new VerificationCache({ maxMemoryBytes: 4096 })
      cache.set({}, 'y'.repeat(4096), 's1', identity, undefined, NOW)
      cache.set({}, 'short', 's1', identity, NOW, NOW)
      expect(cache.size).toBe(0)
      expect(cache.memoryBytes).toBe(0)
    })

    it('gives its memory back when an entry is replaced, misses on another snapshot, or expires', () => {
      const cache = new VerificationCache()
      const scope = {}
      cache.set(scope, 'a', 's1', identity, NOW + 1000, NOW)
      const one = cache.memoryBytes
      cache.set(scope, 'a', 's1', identity, NOW + 1000, NOW)
      expect(cache.memoryBytes).toBe(one)
      cache.set(scope, 'b', 's1', identity, NOW + 1000, NOW)
      expect(cache.get(scope, 'a', 's2', NOW)).toBeUndefined()
      expect(cache.get(scope, 'b', 's1', NOW + 1000)).toBeUndefined()
      expect([cache.size, cache.memoryBytes]).toEqual([0, 0])
    })
  })

  describe('with the key set in KV', () => {
    beforeEach(async () => {
      for (const { name } of (await env.KEYSET.list()).keys) await env.KEYSET.delete(name)
    })

    it('stops accepting a cached API key once its grant is removed and the key set refreshed', async () => {
      let now = Date.parse('2026-06-01T12:00:00Z')
      const clock = () => now
      const base = await testKeySet('https://o.test')
      const digest = await apiKeyDigest(secrets.functions)
      await writeKeySet(env.KEYSET, base, { source: 'fixture', clock })
      const app = new Hono()
      app.use('*', edgeAuth({ keySet: new KvKeySetStore(env.KEYSET, { clock }), target, clock }))
      app.all('*', (c) => c.text('ok'))
      const pending: Promise<unknown>[] = []
      const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext
      const call = async () => (await app.request('/x', { headers: { 'x-auth-token': secrets.functions } }, {}, ctx)).status
      expect(await call()).toBe(200)
      expect(await call()).toBe(200)
      await writeKeySet(env.KEYSET, { ...base, apiKeys: { ...base.apiKeys, [digest]: { ...base.apiKeys[digest]!, grants: [] } } }, { source: 'fixture', clock })
      now += 31_000
      expect(await call()).toBe(200) // the old snapshot serves while the refresh runs
      await Promise.all(pending)
      expect(await call()).toBe(403)
    })

    it('stops accepting a cached token once its credential is deleted and the key set refreshed', async () => {
      let now = Date.parse('2026-06-01T12:00:00Z')
      const clock = () => now
      await writeKeySet(env.KEYSET, await withCredential(true), { source: 'sync', clock })
      const store = new KvKeySetStore(env.KEYSET, { clock, memoryTtlSeconds: 30 })
      const app = new Hono()
      app.use('*', edgeAuth({ keySet: store, target, credentialEncryptionKey: MASTER, clock }))
      app.all('*', (c) => c.text('ok'))
      const pending: Promise<unknown>[] = []
      const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext
      const call = async () => (await app.request('/x', { headers: { authorization: `Bearer ${value}` } }, {}, ctx)).status
      const value = await sign()

      expect(await call()).toBe(200)
      expect(await call()).toBe(200) // from the cache
      await writeKeySet(env.KEYSET, await withCredential(false), { source: 'sync', clock })
      now += 31_000
      expect(await call()).toBe(200) // the old snapshot still serves while it refreshes in the background
      await Promise.all(pending)
      expect(await call()).toBe(401)
    })
  })
})
