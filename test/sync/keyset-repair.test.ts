import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { readManifest, writeKeySet } from '../../src/keyset/writer.js'
import { runSync } from '../../src/sync/run-sync.js'
import { SYNC_STATUS_KEY, parseSyncStatus } from '../../src/sync/status.js'
import { clearKv, freshView } from '../support/admin-api.js'
import { CountingKv } from '../support/counting-kv.js'
import { caught } from '../support/errors.js'
import { testKeySet } from '../support/fixtures.js'

const storedStatus = async () => parseSyncStatus(await env.KEYSET.get(SYNC_STATUS_KEY, { type: 'text' }))

beforeEach(clearKv)

describe('a sync over a key set missing a part', () => {
  it('rewrites the part when nothing else changed, and the status reports the repair', async () => {
    expect((await runSync({ kv: env.KEYSET })).ok).toBe(true)
    const manifest = (await readManifest(env.KEYSET))!
    await env.KEYSET.delete(kvKeys.part(manifest.config))
    expect((await caught(() => freshView())).code).toBe('keyset_unavailable')

    const kv = new CountingKv(env.KEYSET)
    const outcome = await runSync({ kv })
    expect((await freshView()).snapshotId).toBe(manifest.snapshotId)
    expect(outcome.ok).toBe(true)
    expect(outcome.write).toMatchObject({ changed: false, partsRepaired: 1, partsMissing: [] })
    expect(kv.puts).toEqual([kvKeys.part(manifest.config), SYNC_STATUS_KEY])
    expect(outcome.status.counts.partsRepaired).toBe(1)
    expect(outcome.status.warnings).toContainEqual(expect.stringMatching(/^key set: 1 part\(s\) named by the manifest were missing from KV and have been rewritten/))
    expect(await storedStatus()).toEqual(outcome.status)
  })

  it('is not ok when it cannot rewrite the part (a newer snapshot names it)', async () => {
    expect((await runSync({ kv: env.KEYSET })).ok).toBe(true)
    // A snapshot built from later reads than the next sync's, whose config part KV lost.
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'sync', sourceReadAt: Date.now() + 3_600_000 })
    const newer = (await readManifest(env.KEYSET))!
    await env.KEYSET.delete(kvKeys.part(newer.config))

    const outcome = await runSync({ kv: env.KEYSET })
    expect(outcome.ok).toBe(false)
    expect(outcome.write).toMatchObject({ superseded: true, partsMissing: [newer.config] })
    expect(outcome.status.lastError?.message).toMatch(/^key set: 1 part\(s\) named by the manifest are missing from KV/)
    expect(outcome.status.consecutiveFailures).toBe(1)
    expect((await storedStatus())?.lastError).toEqual(outcome.status.lastError)
  })
})
