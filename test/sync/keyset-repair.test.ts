import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { readManifest } from '../../src/keyset/writer.js'
import { runSync } from '../../src/sync/run-sync.js'
import { SYNC_STATUS_KEY, parseSyncStatus } from '../../src/sync/status.js'
import { clearKv, freshView, owner } from '../support/admin-api.js'
import { caught } from '../support/errors.js'

const storedStatus = async () => parseSyncStatus(await env.KEYSET.get(SYNC_STATUS_KEY, { type: 'text' }))
const sync = () => runSync({ kv: env.KEYSET, owner: owner() })

beforeEach(clearKv)

describe('a sync over a key set missing a part', () => {
  it('rewrites the part when nothing else changed, and the status reports the repair', async () => {
    expect((await sync()).ok).toBe(true)
    const manifest = (await readManifest(env.KEYSET))!
    const manifestText = await env.KEYSET.get(kvKeys.manifest)
    await env.KEYSET.delete(kvKeys.part(manifest.config))
    expect((await caught(() => freshView())).code).toBe('keyset_unavailable')

    const outcome = await sync()
    expect((await freshView()).snapshotId).toBe(manifest.snapshotId)
    expect(outcome.ok).toBe(true)
    expect(outcome.write).toMatchObject({ changed: false, manifestWritten: false, partsWritten: 1, partsRepaired: 1 })
    expect(await env.KEYSET.get(kvKeys.manifest)).toBe(manifestText)
    expect(outcome.status!.counts.partsRepaired).toBe(1)
    expect(outcome.status!.warnings).toContainEqual(expect.stringMatching(/^key set: 1 part\(s\) named by the manifest were missing from KV and have been rewritten/))
    expect(await storedStatus()).toEqual(outcome.status)
  })

  it('writes the manifest again when KV lost it, though the owner committed that snapshot', async () => {
    const first = await sync()
    await env.KEYSET.delete(kvKeys.manifest)
    expect((await caught(() => freshView())).code).toBe('keyset_unavailable')
    const outcome = await sync()
    expect(outcome.write).toMatchObject({ changed: false, manifestWritten: true, snapshotId: first.write!.snapshotId })
    expect((await freshView()).snapshotId).toBe(first.write!.snapshotId)
  })
})
