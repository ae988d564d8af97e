import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { pruneLedger } from '../../src/usage/ledger-tables.js'
import type { UsageBatch, UsageEntry } from '../../src/usage/usage-batch.js'
import type { UsageLedgerClient } from '../../src/usage/usage-binding.js'

// The ledger is the real Durable Object of wrangler.toml (SQLite storage, in Miniflare);
// each test uses its own instance, by name.
const T0 = Date.parse('2026-06-01T10:00:00Z')
const KEY = 'SCW00000000000000001'
const TOKEN = 'e0000000-0000-4000-8000-000000000001'
const NS = 'a1111111-1111-4111-8111-111111111111'
const APP = { type: 'application', id: 'a0000000-0000-4000-8000-000000000001', name: 'billing' }

const ledger = () => env.USAGE!.get(env.USAGE!.idFromName(`test-${crypto.randomUUID()}`)) as unknown as UsageLedgerClient & DurableObjectStub

function entry(overrides: Partial<UsageEntry> = {}): UsageEntry {
  return { day: '2026-06-01', kind: 'iam-api-key', credentialId: KEY, routeId: 'hello', calls: 1, firstSeenMs: T0, lastSeenMs: T0, principal: APP, userAgents: [], ...overrides }
}
const batch = (entries: UsageEntry[], droppedCalls = 0): UsageBatch => ({ id: crypto.randomUUID(), droppedCalls, cutAtMs: T0, entries })
const report = (l: UsageLedgerClient, q: Partial<Parameters<UsageLedgerClient['report']>[0]> = {}) => l.report({ sinceDay: '2026-05-01', untilDay: '2026-06-30', limit: 100, ...q })

describe('the usage ledger', () => {
  it('books a batch once, however often it is sent', async () => {
    const l = ledger()
    const b = batch([entry({ calls: 3 })])
    expect(await l.record([b])).toEqual({ booked: 1, duplicates: 0, rejected: 0 })
    expect(await l.record([b, batch([entry({ calls: 2 })])])).toEqual({ booked: 1, duplicates: 1, rejected: 0 })
    const { credentials } = await report(l)
    expect(credentials.map((c) => c.calls)).toEqual([5])
  })

  it('sums calls across isolates’ batches; first and last seen are the extremes', async () => {
    const l = ledger()
    await l.record([batch([entry({ calls: 2, firstSeenMs: T0 + 5000, lastSeenMs: T0 + 9000 })])])
    await l.record([batch([entry({ calls: 3, firstSeenMs: T0, lastSeenMs: T0 + 6000 }), entry({ routeId: 'echo', calls: 1, firstSeenMs: T0 + 100, lastSeenMs: T0 + 100 })])])
    const { credentials, truncated, droppedCalls } = await report(l)
    expect(credentials).toEqual([
      { kind: 'iam-api-key', credentialId: KEY, principal: APP, namespaceId: null, calls: 6, firstSeenMs: T0, lastSeenMs: T0 + 9000, routes: [{ routeId: 'hello', calls: 5 }, { routeId: 'echo', calls: 1 }], userAgents: [] },
    ])
    expect({ truncated, droppedCalls }).toEqual({ truncated: false, droppedCalls: 0 })
  })

  it('keeps three user agents per credential and day, and reports five at most, latest days first', async () => {
    const l = ledger()
    await l.record([batch([entry({ userAgents: ['a/1', 'b/1'] })])])
    await l.record([batch([entry({ userAgents: ['c/1', 'd/1'] })])])
    await l.record([batch([entry({ day: '2026-06-02', userAgents: ['e/1', 'f/1', 'g/1'] })])])
    const [usage] = (await report(l)).credentials
    expect(usage!.userAgents).toHaveLength(5)
    expect(usage!.userAgents.slice(0, 3).sort()).toEqual(['e/1', 'f/1', 'g/1'])
    expect(usage!.userAgents.slice(3).every((ua) => ['a/1', 'b/1', 'c/1'].includes(ua))).toBe(true)
  })

  it('lists credentials most recently seen first, filtered by kind, credential and days, with the legacy token’s namespace', async () => {
    const l = ledger()
    await l.record([
      batch([
        entry({ lastSeenMs: T0 + 1 }),
        entry({ kind: 'legacy-jwt', credentialId: TOKEN, principal: { type: 'legacy-token', id: TOKEN }, namespaceId: NS, lastSeenMs: T0 + 2 }),
        entry({ day: '2026-05-01', credentialId: 'SCW00000000000000002', firstSeenMs: T0 - 31 * 86_400_000, lastSeenMs: T0 - 31 * 86_400_000 }),
      ]),
    ])
    expect((await report(l)).credentials.map((c) => c.credentialId)).toEqual([TOKEN, KEY, 'SCW00000000000000002'])
    const legacy = await report(l, { kind: 'legacy-jwt' })
    expect(legacy.credentials).toMatchObject([{ credentialId: TOKEN, principal: { type: 'legacy-token', id: TOKEN, name: null }, namespaceId: NS }])
    expect((await report(l, { credentialId: KEY })).credentials.map((c) => c.credentialId)).toEqual([KEY])
    expect((await report(l, { sinceDay: '2026-05-02' })).credentials).toHaveLength(2)
    expect(await report(l, { limit: 2 })).toMatchObject({ truncated: true, credentials: [{ credentialId: TOKEN }, { credentialId: KEY }] })
  })

  it('totals calls per kind since a day, and lists the legacy tokens seen since an instant', async () => {
    const l = ledger()
    await l.record([
      batch(
        [
          entry({ calls: 30 }),
          entry({ kind: 'legacy-jwt', credentialId: TOKEN, principal: { type: 'legacy-token', id: TOKEN }, namespaceId: NS, calls: 10, lastSeenMs: T0 }),
          entry({ kind: 'legacy-jwt', credentialId: 'e0000000-0000-4000-8000-000000000002', principal: { type: 'legacy-token', id: 'e0000000-0000-4000-8000-000000000002' }, calls: 5, lastSeenMs: T0 - 3 * 3_600_000 }),
        ],
        4,
      ),
    ])
    const totals = await l.totals({ sinceDay: '2026-06-01', activeSinceMs: T0 - 3_600_000, listKind: 'legacy-jwt', listLimit: 10 })
    expect(totals).toEqual({
      byKind: { 'iam-api-key': { calls: 30, activeCredentials: 1 }, 'legacy-jwt': { calls: 15, activeCredentials: 1 } },
      listed: [{ credentialId: TOKEN, principal: { type: 'legacy-token', id: TOKEN, name: null }, namespaceId: NS, calls: 10, lastSeenMs: T0 }],
      listedTruncated: false,
      droppedCalls: 4,
    })
  })

  it('rejects a batch that does not fit the schema without throwing (a retry would never pass), and books the others', async () => {
    const l = ledger()
    const bad = { ...batch([entry()]), entries: [{ ...entry(), calls: 0 }] }
    expect(await l.record([batch([entry({ calls: 7 })]), bad as UsageBatch])).toEqual({ booked: 1, duplicates: 0, rejected: 1 })
    expect((await report(l)).credentials.map((c) => c.calls)).toEqual([7])
  })

  it('forgets days before the retention window', async () => {
    const l = ledger()
    await l.record([batch([entry({ day: '2026-01-01', firstSeenMs: Date.parse('2026-01-01T10:00:00Z'), lastSeenMs: Date.parse('2026-01-01T10:00:00Z') }), entry({ routeId: 'echo' })])])
    await runInDurableObject(l, (_instance, state) => pruneLedger(state.storage.sql, '2026-03-03', T0))
    const { credentials } = await report(l, { sinceDay: '2025-01-01' })
    expect(credentials).toMatchObject([{ calls: 1, routes: [{ routeId: 'echo', calls: 1 }] }])
  })
})
