import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { readManifest } from '../../src/keyset/writer.js'
import { runSync } from '../../src/sync/run-sync.js'
import { clearKv, owner } from '../support/admin-api.js'

const ownerObject = () => env.KEYSET_WRITER.get(env.KEYSET_WRITER.idFromName('keyset/v1'))
const ask = (runId: string, requestedAt = Date.now(), leaseSeconds = 60) => owner().begin({ runId, reason: 'test', requestedAt, leaseSeconds })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

beforeEach(clearKv)

describe('the writer lease', () => {
  it('is held by one run; the first to ask next waits its turn, a later one is covered by it', async () => {
    const a = await ask('a')
    expect(a).toMatchObject({ state: 'granted' })
    const grantedAt = (a as { startedAt: number }).startedAt
    // Asked for as 'a' was granted: 'a' may have read its sources before the change, so 'b' waits its turn.
    expect(await ask('b', grantedAt)).toMatchObject({ state: 'waiting', activeRunId: 'a' })
    await sleep(5)
    // Asked for before 'b' will start reading: 'b' covers it.
    expect(await ask('c', grantedAt - 999)).toMatchObject({ state: 'covered', by: 'b' })
    // Asking again while holding it renews it.
    expect(await ask('a')).toMatchObject({ state: 'granted', startedAt: grantedAt })
    await owner().finish('a', { ok: true, counts: {}, warnings: [], startedAt: 0, at: Date.now(), heartbeatSeconds: 3600 })
    const b = await ask('b', grantedAt)
    expect(b).toMatchObject({ state: 'granted' })
    // A run asked for well before the current one was granted is covered by it.
    expect(await ask('d', (b as { startedAt: number }).startedAt - 5_000)).toMatchObject({ state: 'covered', by: 'b' })
    await owner().finish('b', { ok: true, counts: {}, warnings: [], startedAt: 0, at: Date.now(), heartbeatSeconds: 3600 })
  })

  it('fences off a run whose lease expired: it can no longer feed, build, switch the manifest or record a status', async () => {
    expect(await ask('stale', Date.now(), 1)).toMatchObject({ state: 'granted' })
    await sleep(1_100)
    expect(await ask('fresh')).toMatchObject({ state: 'granted' })
    const refusals = await Promise.all([
      owner().feedIamKeys('stale', [{ range: { after: null, until: null }, items: [] }]).catch((error: Error) => error),
      owner().planShards('stale').catch((error: Error) => error),
      owner().commit('stale', { parts: { config: 'x'.repeat(32) }, sourceReadAt: 0, organizationId: '' }).catch((error: Error) => error),
    ])
    for (const error of refusals) expect((error as Error).message).toMatch(/^(LeaseLostError: )?lease lost: run stale no longer holds the key-set writer lease \(run fresh does\)/)
    expect(await owner().finish('stale', { ok: true, counts: {}, warnings: [], startedAt: 0, at: Date.now(), heartbeatSeconds: 3600 })).toMatchObject({ status: null, statusWritten: false })
    expect((await owner().inspect()).lease?.runId).toBe('fresh')
    await owner().finish('fresh', { ok: true, counts: {}, warnings: [], startedAt: 0, at: Date.now(), heartbeatSeconds: 3600 })
  })
})

describe('retired parts', () => {
  it('are deleted by the alarm once their grace period has passed, never while a run holds the lease', async () => {
    await env.KEYSET.put('registry/v1/routes', JSON.stringify([]))
    expect((await runSync({ kv: env.KEYSET, owner: owner() })).ok).toBe(true)
    const first = (await readManifest(env.KEYSET))!
    await env.KEYSET.put('registry/v1/routes', JSON.stringify([{ id: 'r', paths: ['/r'], target: { url: 'https://o.example', kind: 'function', projectId: '22222222-2222-4222-8222-222222222222', privacy: 'private' } }]))
    expect((await runSync({ kv: env.KEYSET, owner: owner() })).write?.changed).toBe(true)
    expect(await env.KEYSET.get(kvKeys.part(first.config))).not.toBeNull()
    expect((await owner().inspect()).parts.retired).toBe(1)

    // Past the grace period (an hour), as if an hour went by.
    await runInDurableObject(ownerObject(), (_instance, state) => void state.storage.sql.exec('UPDATE parts SET retired_at = retired_at - 3600001 WHERE retired_at IS NOT NULL'))
    expect(await ask('busy')).toMatchObject({ state: 'granted' })
    expect(await runDurableObjectAlarm(ownerObject())).toBe(true)
    expect(await env.KEYSET.get(kvKeys.part(first.config))).not.toBeNull()
    await owner().finish('busy', { ok: true, counts: {}, warnings: [], startedAt: 0, at: Date.now(), heartbeatSeconds: 3600 })
    expect(await runDurableObjectAlarm(ownerObject())).toBe(true)
    expect(await env.KEYSET.get(kvKeys.part(first.config))).toBeNull()
    expect((await owner().inspect()).parts.retired).toBe(0)
  })
})
