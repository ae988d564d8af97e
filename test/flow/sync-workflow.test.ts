import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { bulkAccessKey } from '../../src/emulator/bulk-keys.js'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { readManifest, referencedParts } from '../../src/keyset/writer.js'
import { startSync } from '../../src/sync/start-sync.js'
import { emulator, lookup, seed, stepStarts, sync } from './support.js'

const COUNT = 2000
const BUDGET = Number(env.SYNC_STEP_SUBREQUESTS)

/** Every key record of the key set KV holds now, shard by shard. */
async function allRecords(): Promise<{ digest: string; accessKey: string }[]> {
  const manifest = (await readManifest(env.KEYSET))!
  const records: { digest: string; accessKey: string }[] = []
  for (const hash of Object.values(manifest.apiKeys.shards)) {
    const shard = JSON.parse((await env.KEYSET.get(kvKeys.part(hash)))!) as { keys: Record<string, { accessKey: string }> }
    for (const [digest, record] of Object.entries(shard.keys)) records.push({ digest, accessKey: record.accessKey })
  }
  return records
}

/** KV writes (puts and deletes) a run made, its steps' and the owner's on their behalf. */
const kvWrites = (outcome: { steps: { kvWrites: number }[] }) => outcome.steps.reduce((n, s) => n + s.kvWrites, 0)

/** The parts the manifest names that KV does not hold. */
async function missingParts(): Promise<string[]> {
  const manifest = (await readManifest(env.KEYSET))!
  const missing: string[] = []
  for (const hash of referencedParts(manifest)) if ((await env.KEYSET.get(kvKeys.part(hash))) === null) missing.push(hash)
  return missing
}

describe(`the sync Workflow at ${COUNT.toLocaleString('en')} keys, ${BUDGET} subrequests a step`, () => {
  beforeAll(async () => {
    await seed(COUNT)
  })

  it('syncs in steps, none over the budget; a sync that changes nothing writes nothing', async () => {
    const first = await sync('first')
    const busiest = first.steps.reduce((max, s) => (s.subrequests > max.subrequests ? s : max))
    console.log(`${COUNT} keys: ${first.steps.length} steps, most subrequests in one step ${busiest.subrequests} (${busiest.step}), ${first.ms} ms`)
    console.table(first.steps)
    expect(first.ok).toBe(true)
    // The config part, the legacy-token part, 16 shards.
    expect(first.write).toMatchObject({ changed: true, manifestWritten: true, apiKeys: COUNT, shards: 16, partsWritten: 18 })
    expect(busiest.subrequests).toBeLessThanOrEqual(BUDGET)
    const kinds = first.steps.map((s) => s.step.replace(/ #\d+$/, ''))
    expect(kinds.filter((k) => k === 'keys').length).toBeGreaterThan(1)
    expect(kinds.filter((k) => k === 'build').length).toBeGreaterThan(1)
    for (const i of [0, 777, COUNT - 1]) expect((await lookup(i))?.accessKey).toBe(bulkAccessKey(i))
    expect(await lookup(COUNT)).toBeUndefined()

    const again = await sync('again')
    expect(again.ok).toBe(true)
    expect(again.write).toMatchObject({ changed: false, manifestWritten: false, partsWritten: 0, snapshotId: first.write!.snapshotId })
    expect(again.statusWritten).toBe(false)
    // Not one KV write: no part, no manifest, no status (the free plan allows 1,000 a day).
    expect(kvWrites(again)).toBe(0)
  })

  it('writes only the shard of a key that changed in IAM, and the manifest', async () => {
    await emulator('PATCH', `/iam/v1alpha1/api-keys/${bulkAccessKey(5)}`, { expires_at: '2031-01-01T00:00:00Z' })
    const before = (await readManifest(env.KEYSET))!
    const outcome = await sync('expiry')
    expect(outcome.write).toMatchObject({ changed: true, manifestWritten: true, partsWritten: 1 })
    // The one shard, the manifest and the status: nothing else.
    expect(kvWrites(outcome)).toBe(3)
    const after = (await readManifest(env.KEYSET))!
    const changed = Object.keys(after.apiKeys.shards).filter((prefix) => after.apiKeys.shards[prefix] !== before.apiKeys.shards[prefix])
    expect(changed).toHaveLength(1)
    expect((await lookup(5))?.expiresAt).toBe('2031-01-01T00:00:00Z')
  })

  it('resumes a step that failed half-way, without redoing finished steps, losing or duplicating a key', async () => {
    await emulator('DELETE', `/iam/v1alpha1/api-keys/${bulkAccessKey(1500)}`)
    // Five principal lists and the first batch of six key pages are served; every attempt of the next batch fails.
    await emulator('POST', '/emulator/faults', { mode: 'error500', paths: 'iam', after: 11, times: 12 })
    const { result: outcome, starts } = await stepStarts(() => sync('fault'))
    expect(outcome.ok).toBe(true)
    expect(await emulator('GET', '/emulator/faults')).toEqual({ mode: 'none', paths: 'iam' })
    const steps = starts.filter(([run]) => run === outcome.instanceId).map(([, step]) => step)
    expect(steps.filter((step) => step === 'keys #0')).toHaveLength(2)
    for (const step of ['verify', 'captures #0', 'context', 'principals #0', 'compile', 'keys #1', 'commit']) expect(steps.filter((s) => s === step), step).toHaveLength(1)

    const records = await allRecords()
    expect(records).toHaveLength(COUNT - 1)
    expect(new Set(records.map((r) => r.accessKey)).size).toBe(COUNT - 1)
    expect((await readManifest(env.KEYSET))!.apiKeys.count).toBe(COUNT - 1)
    expect(await lookup(1500)).toBeUndefined()
    expect((await lookup(1499))?.accessKey).toBe(bulkAccessKey(1499))
  })

  it('two syncs started together leave one consistent manifest, their runs never interleaved', async () => {
    await emulator('DELETE', `/iam/v1alpha1/api-keys/${bulkAccessKey(10)}`)
    await emulator('PATCH', `/iam/v1alpha1/api-keys/${bulkAccessKey(11)}`, { expires_at: '2032-01-01T00:00:00Z' })
    const { result, starts } = await stepStarts(async () => {
      const handles = await Promise.all([startSync(env, 'one'), startSync(env, 'two')])
      return { ids: handles.map((h) => h.id), outcomes: await Promise.all(handles.map((h) => h.outcome({ timeoutMs: 110_000 }))) }
    })
    expect(result.outcomes.map((o) => o.ok)).toEqual([true, true])
    // One switched the manifest; the other waited for the lease (it was asked for too early to be
    // covered by the first), then found nothing left to change.
    expect(result.outcomes.map((o) => o.write?.changed ?? false).sort()).toEqual([false, true])
    const waited = result.outcomes.find((o) => !o.write?.changed)!
    expect(waited.steps.filter((s) => s.step.startsWith('lease #')).length).toBeGreaterThan(1)
    // What each run did while it held the lease forms one block in the log.
    const working = starts.filter(([, step]) => !/^(lease|wait) #/.test(step))
    for (const id of result.ids) {
      const at = working.flatMap(([run], i) => (run === id ? [i] : []))
      if (at.length > 0) expect(working.slice(at[0], at.at(-1)! + 1).every(([run]) => run === id)).toBe(true)
    }
    expect(await missingParts()).toEqual([])
    const records = await allRecords()
    expect(records).toHaveLength(COUNT - 2)
    expect(await lookup(10)).toBeUndefined()
    expect((await lookup(11))?.expiresAt).toBe('2032-01-01T00:00:00Z')
    expect((await lookup(12))?.accessKey).toBe(bulkAccessKey(12))
  })

  it('rebuilds a shard KV lost from the owner’s index', async () => {
    const manifest = (await readManifest(env.KEYSET))!
    const [prefix, hash] = Object.entries(manifest.apiKeys.shards)[3]!
    await env.KEYSET.delete(kvKeys.part(hash))
    const outcome = await sync('repair')
    expect(outcome.write).toMatchObject({ changed: false, partsRepaired: 1, partsWritten: 1 })
    expect(await missingParts()).toEqual([])
    expect((await readManifest(env.KEYSET))!.apiKeys.shards[prefix]).toBe(hash)
  })
})
