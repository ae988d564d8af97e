import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { KvKeySetStore, createGateway, writeKeySet } from '../../src/index.js'
import { SYNC_STATUS_KEY, type SyncStatus } from '../../src/sync/status.js'
import { secrets, testKeySet } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

// SYNC_MAX_AGE_SECONDS through the gateway: the age of a synced key set is judged
// from the sync status as KV shows it when a request needs it, not as an idle
// isolate last read it.

const T0 = Date.parse('2026-06-01T10:00:00Z')
const MAX_SYNC_AGE_SECONDS = 600

function status(lastSuccessAt: number): SyncStatus {
  const at = new Date(lastSuccessAt).toISOString()
  return { lastSuccessAt: at, lastError: null, consecutiveFailures: 0, snapshotId: null, counts: {}, durationMs: 5, writtenAt: at }
}

/** What a sync that succeeded at `at` leaves in KV: the snapshot (written once, unchanged since) and its status heartbeat. */
const recordSync = (at: number) => env.KEYSET.put(SYNC_STATUS_KEY, JSON.stringify(status(at)))

function gateway() {
  let now = T0
  const clock = () => now
  const keySet = new KvKeySetStore(env.KEYSET, { clock, memoryTtlSeconds: 30, maxSyncAgeSeconds: MAX_SYNC_AGE_SECONDS })
  const app = createGateway({ keySet: () => keySet, originToken: () => env.ORIGIN_AUTH_TOKEN, allowInsecureLoopbackOrigins: true, clock, accessLog: 'off' })
  const pending: Promise<unknown>[] = []
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  return {
    at: (ms: number) => void (now = ms),
    settle: () => Promise.all(pending),
    call: async () => {
      const marker = newMarker()
      const res = await app.request('https://gw.example/hello', { headers: { 'x-auth-token': secrets.functions, 'x-test-marker': marker } }, env, ctx)
      return { res, reached: await originSaw(marker) }
    },
  }
}

describe('a synced key set under SYNC_MAX_AGE_SECONDS', () => {
  beforeEach(async () => {
    for (const { name } of (await env.KEYSET.list()).keys) await env.KEYSET.delete(name)
    await writeKeySet(env.KEYSET, await testKeySet(), { source: 'sync', clock: () => T0 })
    await recordSync(T0)
  })

  it('serves the first request after an idle spell when syncs kept succeeding meanwhile', async () => {
    const gw = gateway()
    expect((await gw.call()).res.status).toBe(200)
    // Twenty idle minutes for this isolate; the Cron synced all along, and its status heartbeat says so.
    const later = T0 + 20 * 60_000
    await recordSync(later - 5_000)
    gw.at(later)
    const { res, reached } = await gw.call()
    expect(res.status).toBe(200)
    expect(reached).toBe(true)
  })

  it('refuses with 503 keyset_unavailable (Retry-After, no challenge) when the last sync KV shows is too old', async () => {
    const gw = gateway()
    expect((await gw.call()).res.status).toBe(200)
    gw.at(T0 + (MAX_SYNC_AGE_SECONDS + 1) * 1000)
    const { res, reached } = await gw.call()
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('60')
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ status: 503, code: 'keyset_unavailable' })
    expect(reached).toBe(false)
  })

  it('recovers on the next request once a sync succeeds again, without waiting for a background refresh', async () => {
    const gw = gateway()
    gw.at(T0 + (MAX_SYNC_AGE_SECONDS + 1) * 1000)
    expect((await gw.call()).res.status).toBe(503)
    await gw.settle()
    const recovered = T0 + (MAX_SYNC_AGE_SECONDS + 40) * 1000
    await recordSync(recovered - 1_000)
    gw.at(recovered)
    const { res, reached } = await gw.call()
    expect(res.status).toBe(200)
    expect(reached).toBe(true)
  })
})
