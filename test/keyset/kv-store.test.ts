import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import { readManifest, writeKeySet } from '../../src/keyset/writer.js'
import { SYNC_STATUS_KEY } from '../../src/sync/status.js'
import { CountingKv } from '../support/counting-kv.js'
import { caught } from '../support/errors.js'
import { secrets, testKeySet } from '../support/fixtures.js'

let now = 0
const clock = () => now
/** Collects background work so a test can await it, as the runtime would keep it alive. */
function backgroundContext() {
  const pending: Promise<unknown>[] = []
  return { waitUntil: (p: Promise<unknown>) => void pending.push(p), settle: () => Promise.all(pending), pending }
}

async function clearKv(): Promise<void> {
  for (const { name } of (await env.KEYSET.list()).keys) await env.KEYSET.delete(name)
}

describe('KvKeySetStore', () => {
  let kv: CountingKv
  beforeEach(async () => {
    await clearKv()
    now = Date.parse('2026-06-01T00:00:00Z')
    kv = new CountingKv(env.KEYSET)
  })

  it('refuses with keyset_unavailable (503, Retry-After) when no key set was ever written', async () => {
    const error = await caught(() => new KvKeySetStore(kv, { clock }).current(backgroundContext()))
    expect(error.code).toBe('keyset_unavailable')
    expect(error.details.retryAfterSeconds).toBeGreaterThan(0)
  })

  it('reads the manifest and config cold, one shard per lookup, and nothing when warm', async () => {
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'fixture' })
    const store = new KvKeySetStore(kv, { clock })
    const view = await store.current(backgroundContext())
    expect(kv.gets).toHaveLength(2)
    const digest = await apiKeyDigest(secrets.functions)
    expect((await view.findApiKey(digest))?.accessKey).toBe('SCW00000000000000001')
    expect(kv.gets).toEqual([kvKeys.manifest, expect.stringContaining('/part/'), expect.stringContaining('/part/')])
    kv.reset()
    now += 29_000
    const warm = await store.current(backgroundContext())
    await warm.findApiKey(digest)
    expect(kv.gets).toEqual([])
  })

  it('answers an unknown digest without reading a shard when its prefix has none', async () => {
    await writeKeySet(env.KEYSET, { ...(await testKeySet()), apiKeys: {} }, { source: 'fixture' })
    const view = await new KvKeySetStore(kv, { clock }).current(backgroundContext())
    kv.reset()
    expect(await view.findApiKey(await apiKeyDigest(secrets.unknown))).toBeUndefined()
    expect(kv.gets).toEqual([])
  })

  it('serves from memory after the TTL and refreshes in the background', async () => {
    const source = await testKeySet()
    await writeKeySet(env.KEYSET, source, { source: 'fixture' })
    const store = new KvKeySetStore(kv, { clock, memoryTtlSeconds: 30 })
    const first = await store.current(backgroundContext())
    await writeKeySet(env.KEYSET, { ...source, routes: source.routes.slice(0, 1) }, { source: 'fixture' })
    now += 31_000
    const ctx = backgroundContext()
    const stale = await store.current(ctx)
    expect(stale.snapshotId).toBe(first.snapshotId)
    expect(ctx.pending).toHaveLength(1)
    // A second request while the refresh runs neither waits for it nor starts another.
    const other = backgroundContext()
    expect((await store.current(other)).snapshotId).toBe(first.snapshotId)
    expect(other.pending).toHaveLength(0)
    await ctx.settle()
    const fresh = await store.current(backgroundContext())
    expect(fresh.snapshotId).toBe((await readManifest(env.KEYSET))!.snapshotId)
    expect(fresh.routes).toHaveLength(1)
  })

  it('starts a new background refresh when an earlier one never settled, once a memory TTL has passed', async () => {
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'fixture' })
    let hang = false
    const gets: string[] = []
    const hanging = {
      get: (key: string, options: { type: 'text'; cacheTtl?: number }) => {
        gets.push(key)
        return hang ? new Promise<string | null>(() => {}) : env.KEYSET.get(key, options)
      },
    }
    const store = new KvKeySetStore(hanging, { clock, memoryTtlSeconds: 5 })
    await store.current(backgroundContext())
    hang = true
    now += 6_000
    const first = backgroundContext()
    await store.current(first)
    expect(first.pending).toHaveLength(1) // a refresh started, and hangs
    now += 1_000
    const second = backgroundContext()
    await store.current(second)
    expect(second.pending).toHaveLength(0) // still presumed running
    now += 5_000
    const third = backgroundContext()
    await store.current(third)
    expect(third.pending).toHaveLength(1) // presumed lost after one TTL: a new one starts
  })

  it.each([
    ['garbage', 'not json {'],
    ['a manifest of the wrong shape', JSON.stringify({ schema: 1, snapshotId: 'nope' })],
    ['a manifest of a future schema', JSON.stringify({ schema: 2 })],
  ])('keeps the last good key set when the manifest becomes %s', async (_, value) => {
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'fixture' })
    const store = new KvKeySetStore(kv, { clock })
    const good = await store.current(backgroundContext())
    await env.KEYSET.put(kvKeys.manifest, value)
    now += 60_000
    const ctx = backgroundContext()
    expect((await store.current(ctx)).snapshotId).toBe(good.snapshotId)
    await ctx.settle()
    expect(store.lastError).toMatch(/manifest/)
    expect((await store.current(backgroundContext())).snapshotId).toBe(good.snapshotId)
  })

  it('refuses with keyset_unavailable once KV has been unreadable past the allowed staleness', async () => {
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'fixture' })
    const store = new KvKeySetStore(kv, { clock, memoryTtlSeconds: 30, maxStalenessSeconds: 300 })
    await store.current(backgroundContext())
    kv.failing = true
    now += 299_000
    const ctx = backgroundContext()
    await expect(store.current(ctx)).resolves.toBeDefined()
    await ctx.settle()
    now += 2_000
    expect((await caught(() => store.current(backgroundContext()))).code).toBe('keyset_unavailable')
    kv.failing = false
    await expect(store.current(backgroundContext())).resolves.toBeDefined()
  })

  describe('with maxSyncAgeSeconds', () => {
    const syncedAt = (ms: number) => {
      const at = new Date(ms).toISOString()
      return env.KEYSET.put(SYNC_STATUS_KEY, JSON.stringify({ lastSuccessAt: at, lastError: null, consecutiveFailures: 0, snapshotId: null, counts: {}, durationMs: 1, writtenAt: at }))
    }

    it('re-reads the status before refusing, at most once per memory TTL while it stays too old', async () => {
      await writeKeySet(env.KEYSET, await testKeySet(), { source: 'sync', clock })
      await syncedAt(now)
      const store = new KvKeySetStore(kv, { clock, memoryTtlSeconds: 30, maxSyncAgeSeconds: 600 })
      await store.current(backgroundContext())
      now += 601_000
      kv.reset()
      expect((await caught(() => store.current(backgroundContext()))).code).toBe('keyset_unavailable')
      expect(kv.gets).toEqual([kvKeys.manifest, SYNC_STATUS_KEY])
      kv.reset()
      now += 29_000
      expect((await caught(() => store.current(backgroundContext()))).code).toBe('keyset_unavailable')
      expect(kv.gets).toEqual([])
    })

    it('counts the sync that wrote the manifest as a success even when the status says nothing', async () => {
      await writeKeySet(env.KEYSET, await testKeySet(), { source: 'sync', clock, sourceReadAt: now })
      const store = new KvKeySetStore(kv, { clock, maxSyncAgeSeconds: 600 })
      await expect(store.current(backgroundContext())).resolves.toBeDefined()
      now += 601_000
      expect((await caught(() => store.current(backgroundContext()))).code).toBe('keyset_unavailable')
    })

    it('does not apply to a key set no sync wrote', async () => {
      await writeKeySet(env.KEYSET, await testKeySet(), { source: 'fixture', clock })
      await expect(new KvKeySetStore(kv, { clock, maxSyncAgeSeconds: 600 }).current(backgroundContext())).resolves.toBeDefined()
    })
  })

  it('treats a shard part missing from KV as unavailable, never as an unknown key', async () => {
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'fixture' })
    const manifest = (await readManifest(env.KEYSET))!
    const digest = await apiKeyDigest(secrets.functions)
    await env.KEYSET.delete(kvKeys.part(manifest.apiKeys.shards[digest.slice(0, manifest.apiKeys.prefixLength)]!))
    const view = await new KvKeySetStore(kv, { clock }).current(backgroundContext())
    expect((await caught(() => view.findApiKey(digest))).code).toBe('keyset_unavailable')
  })

  it('checks a record when it is looked up: a corrupt one is unavailable (503), its neighbours still answer', async () => {
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'fixture' })
    const manifest = (await readManifest(env.KEYSET))!
    const digest = await apiKeyDigest(secrets.functions)
    const partKey = kvKeys.part(manifest.apiKeys.shards[digest.slice(0, manifest.apiKeys.prefixLength)]!)
    const shard = JSON.parse((await env.KEYSET.get(partKey))!) as { keys: Record<string, Record<string, unknown>> }
    shard.keys[digest] = { ...shard.keys[digest], accessKey: 'not an access key' }
    await env.KEYSET.put(partKey, JSON.stringify(shard))
    const view = await new KvKeySetStore(kv, { clock }).current(backgroundContext())
    expect((await caught(() => view.findApiKey(digest))).code).toBe('keyset_unavailable')
    const neighbour = Object.keys(shard.keys).find((d) => d !== digest)
    if (neighbour) expect((await view.findApiKey(neighbour))?.accessKey).toMatch(/^SCW/)
  })

  it('holds at most its shard budget, however many shards it has read: an evicted shard is read again from KV', async () => {
    const source = await testKeySet()
    const template = Object.values(source.apiKeys)[0]!
    // One key in each of 16 shards (prefix length 1): digest i…i.
    const digests = [...'0123456789abcdef'].map((hex) => hex.repeat(64))
    const apiKeys = Object.fromEntries(digests.map((digest, i) => [digest, { ...template, accessKey: `SCW${String(i).padStart(17, '0')}` }]))
    await writeKeySet(env.KEYSET, { ...source, apiKeys }, { source: 'fixture' })
    const store = new KvKeySetStore(kv, { clock, shardCache: { maxEntries: 4 } })
    const view = await store.current(backgroundContext())
    for (const digest of digests) expect((await view.findApiKey(digest))?.accessKey).toMatch(/^SCW/)
    kv.reset()
    // The last four are held; the first was evicted long ago.
    for (const digest of digests.slice(-4)) await view.findApiKey(digest)
    expect(kv.gets).toEqual([])
    await view.findApiKey(digests[0]!)
    expect(kv.gets).toEqual([expect.stringContaining('/part/')])
  })

  it.each([
    [{ manifestCacheTtlSeconds: 10 }, /Workers KV minimum cacheTtl/],
    [{ partCacheTtlSeconds: 29 }, /Workers KV minimum cacheTtl/],
    [{ memoryTtlSeconds: 0 }, /memoryTtlSeconds/],
    [{ memoryTtlSeconds: 60, maxStalenessSeconds: 30 }, /maxStalenessSeconds/],
    [{ maxCachedParts: -1 }, /maxCachedParts/],
    [{ shardCache: { maxBytes: 0 } }, /maxBytes/],
    [{ shardCache: { maxEntries: Number.NaN } }, /maxEntries/],
  ])('refuses options %o', (options, message) => {
    expect(() => new KvKeySetStore(kv, options)).toThrow(TypeError)
    expect(() => new KvKeySetStore(kv, options)).toThrow(message)
  })
})
