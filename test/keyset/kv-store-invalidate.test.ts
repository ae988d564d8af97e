/**
 * `KvKeySetStore.invalidate`: after a change, the isolate that made it serves the
 * new key set from its next request, whatever its memory TTL (docs/revocation.md,
 * "Changes made through the admin API").
 */
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { KvKeySetStore, type KeySetKvReader } from '../../src/keyset/kv-store.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { writeKeySet } from '../../src/keyset/writer.js'
import { clearKv } from '../support/admin-api.js'
import { CountingKv } from '../support/counting-kv.js'
import { testKeySet } from '../support/fixtures.js'
import { GatedKv } from '../support/gated-kv.js'

let now = 0
const clock = () => now
/** Collects background work so a test can await it, as the runtime would keep it alive. */
function backgroundContext() {
  const pending: Promise<unknown>[] = []
  return { waitUntil: (p: Promise<unknown>) => void pending.push(p), settle: () => Promise.all(pending), pending }
}

let before: KeySetSource
/** `before` with one route fewer: another snapshot. */
let after: KeySetSource
/** Writes a snapshot as a sync would at the current clock, and returns what the writer says it left. */
const write = (source: KeySetSource) => writeKeySet(env.KEYSET, source, { source: 'sync', clock, sourceReadAt: now })

/**
 * KV as a Cloudflare location that read the manifest shortly before a write may still
 * serve it: every manifest read answers `manifestText` while it is set.
 */
function laggingKv(): KeySetKvReader & { manifestText: string | null | undefined; gets: string[] } {
  const kv = {
    manifestText: undefined as string | null | undefined,
    gets: [] as string[],
    get: (key: string, options: { type: 'text'; cacheTtl?: number }) => {
      kv.gets.push(key)
      return key === kvKeys.manifest && kv.manifestText !== undefined ? Promise.resolve(kv.manifestText) : env.KEYSET.get(key, options)
    },
  }
  return kv
}

beforeEach(async () => {
  await clearKv()
  now = Date.parse('2026-06-01T00:00:00Z')
  before = await testKeySet()
  after = { ...before, routes: before.routes.slice(1) }
})

describe('KvKeySetStore.invalidate', () => {
  it('makes the next request read the key set before answering, well within the memory TTL, and the ones after read nothing', async () => {
    await write(before)
    const kv = new CountingKv(env.KEYSET)
    const store = new KvKeySetStore(kv, { clock, memoryTtlSeconds: 30 })
    const old = await store.current(backgroundContext())
    now += 1_000
    const written = await write(after)
    now += 1_000
    // Without being told, the store serves its memory until the TTL passes.
    expect((await store.current(backgroundContext())).snapshotId).toBe(old.snapshotId)

    store.invalidate()
    kv.reset()
    const next = await store.current(backgroundContext())
    expect(next.snapshotId).toBe(written.snapshotId)
    expect(next.routes).toHaveLength(after.routes.length)
    expect(kv.gets).toEqual([kvKeys.manifest, kvKeys.part(written.manifest!.config)])
    kv.reset()
    const ctx = backgroundContext()
    expect((await store.current(ctx)).snapshotId).toBe(written.snapshotId)
    expect(kv.gets).toEqual([])
    expect(ctx.pending).toHaveLength(0)
  })

  it('takes the manifest its writer handed over as read, while this location’s KV still serves the older one, for 60 s + the manifest cacheTtl', async () => {
    const first = await write(before)
    const kv = laggingKv()
    const store = new KvKeySetStore(kv, { clock, memoryTtlSeconds: 30, manifestCacheTtlSeconds: 30 })
    await store.current(backgroundContext())
    now += 1_000
    const written = await write(after)
    expect(written).toMatchObject({ changed: true, manifest: { snapshotId: written.snapshotId } })
    kv.manifestText = JSON.stringify(first.manifest)

    store.invalidate(written.manifest)
    kv.gets = []
    expect((await store.current(backgroundContext())).snapshotId).toBe(written.snapshotId)
    expect(kv.gets).not.toContain(kvKeys.manifest)

    // Past the memory TTL the background refresh reads the older manifest: no news.
    now += 31_000
    const refresh = backgroundContext()
    expect((await store.current(refresh)).snapshotId).toBe(written.snapshotId)
    await refresh.settle()
    expect((await store.current(backgroundContext())).snapshotId).toBe(written.snapshotId)

    // Past 60 s + 30 s after the write, KV is the truth again, whatever it says.
    now += 60_000
    const late = backgroundContext()
    await store.current(late)
    await late.settle()
    expect((await store.current(backgroundContext())).snapshotId).toBe(first.snapshotId)
  })

  it('keeps a newer snapshot it already holds when the writer’s manifest is older', async () => {
    const older = await write(before)
    now += 1_000
    const newer = await write(after)
    const store = new KvKeySetStore(new CountingKv(env.KEYSET), { clock })
    expect((await store.current(backgroundContext())).snapshotId).toBe(newer.snapshotId)
    store.invalidate(older.manifest)
    expect((await store.current(backgroundContext())).snapshotId).toBe(newer.snapshotId)
  })

  it('serves memory (no 503) when the read after the change fails, and reads again on the next request', async () => {
    await write(before)
    const kv = new CountingKv(env.KEYSET)
    const store = new KvKeySetStore(kv, { clock, memoryTtlSeconds: 30 })
    const old = await store.current(backgroundContext())
    const written = await write(after)
    store.invalidate()
    kv.failing = true
    expect((await store.current(backgroundContext())).snapshotId).toBe(old.snapshotId)
    expect(store.lastError).toMatch(/simulated outage/)
    kv.failing = false
    expect((await store.current(backgroundContext())).snapshotId).toBe(written.snapshotId)
  })

  it('is not satisfied by a refresh that started before the change', async () => {
    await write(before)
    const kv = new GatedKv(env.KEYSET)
    const store = new KvKeySetStore(kv, { clock, memoryTtlSeconds: 30 })
    const old = await store.current(backgroundContext())
    now += 31_000
    // A background refresh reads the manifest from before the change, and is held there.
    const held = kv.holdAfter('get', kvKeys.manifest)
    const refresh = backgroundContext()
    await store.current(refresh)
    await held.reached
    const written = await write(after)
    store.invalidate()
    held.release()
    await refresh.settle()
    expect((await store.current(backgroundContext())).snapshotId).not.toBe(old.snapshotId)
    expect((await store.current(backgroundContext())).snapshotId).toBe(written.snapshotId)
  })
})
