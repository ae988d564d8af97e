import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { readManifest, writeKeySet } from '../../src/keyset/writer.js'
import { CountingKv } from '../support/counting-kv.js'
import { testKeySet } from '../support/fixtures.js'

async function clearKv(): Promise<void> {
  for (const { name } of (await env.KEYSET.list()).keys) await env.KEYSET.delete(name)
}

function manyKeys(source: KeySetSource, count: number): KeySetSource {
  const template = Object.values(source.apiKeys)[0]!
  const apiKeys: KeySetSource['apiKeys'] = {}
  for (let i = 0; i < count; i++) {
    const digest = i.toString(16).padStart(64, '0').split('').reverse().join('')
    apiKeys[digest] = { ...template, accessKey: `SCW${String(i).padStart(17, '0')}` }
  }
  return { ...source, apiKeys }
}

describe('writeKeySet', () => {
  beforeEach(clearKv)

  it('writes the parts, then the manifest naming them', async () => {
    const kv = new CountingKv(env.KEYSET)
    const source = await testKeySet()
    const result = await writeKeySet(kv, source, { source: 'fixture' })
    expect(result).toMatchObject({ changed: true, apiKeys: Object.keys(source.apiKeys).length })
    expect(kv.puts.at(-1)).toBe(kvKeys.manifest)
    const manifest = await readManifest(env.KEYSET)
    expect(manifest?.snapshotId).toBe(result.snapshotId)
    for (const hash of [manifest!.config, ...Object.values(manifest!.apiKeys.shards)]) {
      expect(await env.KEYSET.get(kvKeys.part(hash))).not.toBeNull()
    }
  })

  it('carries the legacy schedule in the config part: a new schedule is a new snapshot, which cold readers see', async () => {
    const source = await testKeySet()
    const before = await writeKeySet(env.KEYSET, source, { source: 'fixture' })
    const legacySchedule = { sunsetAt: '2027-01-01T00:00:00.000Z', brownouts: [{ start: '2026-12-01T09:00:00.000Z', end: '2026-12-01T10:00:00.000Z' }] }
    const after = await writeKeySet(env.KEYSET, { ...source, legacySchedule }, { source: 'fixture' })
    expect(after.changed).toBe(true)
    expect(after.snapshotId).not.toBe(before.snapshotId)
    const { KvKeySetStore } = await import('../../src/keyset/kv-store.js')
    const view = await new KvKeySetStore(env.KEYSET).current({ waitUntil: () => undefined })
    expect(view.legacySchedule).toEqual(legacySchedule)
  })

  it('writes nothing when the content has not changed', async () => {
    const source = await testKeySet()
    await writeKeySet(env.KEYSET, source, { source: 'fixture' })
    const kv = new CountingKv(env.KEYSET)
    // Same content, keys in another order: still unchanged.
    const reordered = { ...source, apiKeys: Object.fromEntries(Object.entries(source.apiKeys).reverse()) }
    const result = await writeKeySet(kv, reordered, { source: 'fixture' })
    expect(result.changed).toBe(false)
    expect(kv.puts).toEqual([])
    expect(kv.deletes).toEqual([])
  })

  it('rewrites only the shard that changed, and retires the old one', async () => {
    const source = manyKeys(await testKeySet(), 100)
    await writeKeySet(env.KEYSET, source, { source: 'sync', maxKeysPerShard: 8 })
    const before = (await readManifest(env.KEYSET))!
    const [firstDigest] = Object.keys(source.apiKeys).sort()
    const changed = { ...source, apiKeys: { ...source.apiKeys, [firstDigest!]: { ...source.apiKeys[firstDigest!]!, expiresAt: '2030-01-01T00:00:00Z' } } }
    const kv = new CountingKv(env.KEYSET)
    const result = await writeKeySet(kv, changed, { source: 'sync', maxKeysPerShard: 8 })
    expect(result.changed).toBe(true)
    expect(kv.puts).toHaveLength(2) // one shard part + the manifest
    const after = (await readManifest(env.KEYSET))!
    const prefix = firstDigest!.slice(0, after.apiKeys.prefixLength)
    expect(after.retired).toEqual([{ hash: before.apiKeys.shards[prefix], since: expect.any(String) }])
  })

  it('deletes retired parts once their grace period has passed', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z')
    const clock = () => now
    const source = await testKeySet()
    await writeKeySet(env.KEYSET, source, { source: 'sync', clock })
    const first = (await readManifest(env.KEYSET))!
    await writeKeySet(env.KEYSET, { ...source, routes: source.routes.slice(1) }, { source: 'sync', clock })
    expect(await env.KEYSET.get(kvKeys.part(first.config))).not.toBeNull()
    now += 3601_000
    const result = await writeKeySet(env.KEYSET, { ...source, routes: source.routes.slice(1) }, { source: 'sync', clock })
    expect(result.partsDeleted).toBe(1)
    expect(await env.KEYSET.get(kvKeys.part(first.config))).toBeNull()
    expect((await readManifest(env.KEYSET))!.retired).toEqual([])
  })

  it('records when its sources were read, for readers judging the sync age', async () => {
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'sync', sourceReadAt: 3_000 })
    expect((await readManifest(env.KEYSET))!.sourceReadAt).toBe(new Date(3_000).toISOString())
  })

  it('picks more shards as the key count grows', async () => {
    const source = await testKeySet()
    expect((await writeKeySet(env.KEYSET, manyKeys(source, 20), { source: 'sync', maxKeysPerShard: 4 })).shards).toBeLessThanOrEqual(16)
    const big = await writeKeySet(env.KEYSET, manyKeys(source, 200), { source: 'sync', maxKeysPerShard: 4 })
    expect((await readManifest(env.KEYSET))!.apiKeys.prefixLength).toBe(2)
    expect(big.shards).toBeGreaterThan(16)
  })

  it.each<[string, (s: KeySetSource) => KeySetSource, RegExp]>([
    ['a route path without a leading slash', (s) => ({ ...s, routes: [{ ...s.routes[0]!, paths: ['app'] }] }), /routes/],
    ['a target that is not http(s)', (s) => ({ ...s, routes: [{ ...s.routes[0]!, target: { ...s.routes[0]!.target, url: 'ftp://x' } }] }), /routes/],
    ['two routes with one id', (s) => ({ ...s, routes: [s.routes[0]!, s.routes[0]!] }), /used twice/],
    ['two routes claiming one path and method', (s) => ({ ...s, routes: [s.routes[0]!, { ...s.routes[1]!, paths: s.routes[0]!.paths }] }), /both claim/],
    ['an API key not indexed by a digest', (s) => ({ ...s, apiKeys: { 'not-a-digest': Object.values(s.apiKeys)[0]! } }), /digest/],
    ['an access key of the wrong shape', (s) => ({ ...s, apiKeys: Object.fromEntries(Object.entries(s.apiKeys).map(([d, r]) => [d, { ...r, accessKey: 'AKIA123' }])) }), /invalid API key/],
  ])('refuses %s and writes nothing', async (_, mutate, message) => {
    const kv = new CountingKv(env.KEYSET)
    await expect(writeKeySet(kv, mutate(await testKeySet()), { source: 'fixture' })).rejects.toThrow(message)
    expect(kv.puts).toEqual([])
  })

  it('never stores a secret, only its digest', async () => {
    const source = await testKeySet()
    await writeKeySet(env.KEYSET, source, { source: 'fixture' })
    const secret = 'aaaaaaaa-0000-4000-8000-000000000001'
    const all = await Promise.all((await env.KEYSET.list()).keys.map(({ name }) => env.KEYSET.get(name)))
    expect(all.join('\n')).not.toContain(secret)
    expect(all.join('\n')).toContain(await apiKeyDigest(secret))
  })
})
