import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bulkAccessKey } from '../../src/emulator/bulk-keys.js'
import { readManifest } from '../../src/keyset/writer.js'
import { startSync } from '../../src/sync/start-sync.js'
import { admin, syncsDone } from '../support/admin-api.js'
import { captureBulk, emulator, lookup, seed, sync } from './support.js'

const COUNT = 300

/** Shard prefixes whose part differs between two manifests. */
const changedShards = (before: Awaited<ReturnType<typeof readManifest>>, after: Awaited<ReturnType<typeof readManifest>>) =>
  [...new Set([...Object.keys(before!.apiKeys.shards), ...Object.keys(after!.apiKeys.shards)])].filter((p) => before!.apiKeys.shards[p] !== after!.apiKeys.shards[p])

/** Polls until the key is out of the key set a cold isolate reads; fails after `timeoutMs`. */
async function refusedWithin(index: number, timeoutMs: number): Promise<number> {
  const started = Date.now()
  while ((await lookup(index)) !== undefined) {
    if (Date.now() - started > timeoutMs) throw new Error(`key ${index} still in the key set after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return Date.now() - started
}

/** IAM stops answering (until the switch changes): a sync run stops at its first IAM call. */
const holdIam = () => emulator('POST', '/emulator/faults', { mode: 'hang', paths: 'iam' })
const releaseIam = () => emulator('POST', '/emulator/faults', { mode: 'none' })

describe('revocation through the admin API and the CLI', () => {
  beforeAll(async () => {
    await seed(COUNT)
    expect((await sync('seed')).ok).toBe(true)
  })
  afterEach(async () => {
    await releaseIam()
    await syncsDone(60_000)
  })

  it('a capture forgotten through the admin API leaves the key set before IAM is read: its shard and the manifest only', async () => {
    const before = await readManifest(env.KEYSET)
    await holdIam()
    const res = await admin('DELETE', `/api-keys/${bulkAccessKey(20)}/capture`)
    expect(res.status).toBe(204)
    const ms = await refusedWithin(20, 10_000)
    console.log(`capture forgotten → refused by a cold isolate after ${ms} ms, IAM not read yet`)
    expect(changedShards(before, await readManifest(env.KEYSET))).toHaveLength(1)
    expect((await lookup(21))?.accessKey).toBe(bulkAccessKey(21))
  })

  it('a key revoked through the admin API (edgegw key revoke) is refused by a cold isolate once the call answers; its shard and the manifest only', async () => {
    const before = await readManifest(env.KEYSET)
    expect((await lookup(60))?.accessKey).toBe(bulkAccessKey(60))
    const started = Date.now()
    const res = await admin('DELETE', `/api-keys/${bulkAccessKey(60)}`)
    const answeredMs = Date.now() - started
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ deleted: true, capture_forgotten: true, sync: { ok: true, changed: true } })
    // Another isolate with nothing in memory (a fresh store) reads the key set KV holds now.
    expect(await lookup(60)).toBeUndefined()
    console.log(`admin revoke → answered, and refused by a cold isolate, after ${answeredMs} ms`)
    expect(changedShards(before, await readManifest(env.KEYSET))).toHaveLength(1)
    expect((await lookup(61))?.accessKey).toBe(bulkAccessKey(61))
  })

  it('a key revoked with revokeAccessKeys (deleted in IAM) leaves the key set before IAM is read', async () => {
    await emulator('DELETE', `/iam/v1alpha1/api-keys/${bulkAccessKey(30)}`)
    const before = await readManifest(env.KEYSET)
    await holdIam()
    const run = await startSync(env, { reason: 'cli', revokeAccessKeys: [bulkAccessKey(30)] })
    await refusedWithin(30, 10_000)
    expect(changedShards(before, await readManifest(env.KEYSET))).toHaveLength(1)
    await releaseIam()
    const outcome = await run.outcome({ timeoutMs: 60_000 })
    expect(outcome).toMatchObject({ ok: true, revoked: { keysRemoved: 1, shardsWritten: 1 } })
    expect(await lookup(30)).toBeUndefined()
  })

  it('keeps a revoked key out while the registry still lists its capture, until it is captured again', async () => {
    // Revoked through the owner only: IAM and the registry still hold the key, as a listing older than the revocation would.
    const revoking = await sync({ reason: 'cli', revokeAccessKeys: [bulkAccessKey(40)] })
    expect(revoking.revoked).toEqual({ keysRemoved: 1, shardsWritten: 1 })
    expect(await lookup(40)).toBeUndefined()
    expect((await sync('later')).write?.changed).toBe(false)
    expect(await lookup(40)).toBeUndefined()
    // A capture newer than the revocation brings it back.
    await new Promise((resolve) => setTimeout(resolve, 5))
    await captureBulk(40, 1)
    await sync('registered again')
    expect((await lookup(40))?.accessKey).toBe(bulkAccessKey(40))
  })

  it('a key deleted in IAM alone is refused after the next sync', async () => {
    await emulator('DELETE', `/iam/v1alpha1/api-keys/${bulkAccessKey(50)}`)
    expect((await lookup(50))?.accessKey).toBe(bulkAccessKey(50))
    const outcome = await sync('cron')
    expect(outcome.write).toMatchObject({ changed: true, partsWritten: 1 })
    expect(await lookup(50)).toBeUndefined()
  })
})
