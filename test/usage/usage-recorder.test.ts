import { describe, expect, it } from 'vitest'
import type { EdgeAuthIdentity } from '../../src/middleware/identity.js'
import type { UsageBatch, UsageEntry } from '../../src/usage/usage-batch.js'
import { UsageRecorder, type UsageRecorderOptions } from '../../src/usage/usage-recorder.js'

const T0 = Date.parse('2026-06-01T10:00:00Z')
const apiKey: EdgeAuthIdentity = { method: 'iam-api-key', credentialId: 'SCW00000000000000001', principal: { type: 'application', id: 'a0000000-0000-4000-8000-000000000001', name: 'billing' } }
const legacy: EdgeAuthIdentity = { method: 'legacy-jwt', credentialId: 'e0000000-0000-4000-8000-000000000001', principal: { type: 'legacy-token', id: 'e0000000-0000-4000-8000-000000000001' }, namespaceId: 'a1111111-1111-4111-8111-111111111111' }

/** A sink that books each batch once by id, as the ledger does, and can be made to fail or to hang. */
class Ledger {
  readonly booked = new Map<string, UsageBatch>()
  calls: UsageBatch[][] = []
  failing = false
  hold: Promise<void> | undefined
  async record(batches: UsageBatch[]): Promise<void> {
    this.calls.push(batches)
    if (this.hold) await this.hold
    if (this.failing) throw new Error('ledger unreachable')
    for (const batch of batches) if (!this.booked.has(batch.id)) this.booked.set(batch.id, structuredClone(batch))
  }
  entries(): UsageEntry[] {
    return [...this.booked.values()].flatMap((b) => b.entries)
  }
  total(): number {
    return this.entries().reduce((n, e) => n + e.calls, 0)
  }
  dropped(): number {
    return [...this.booked.values()].reduce((n, b) => n + b.droppedCalls, 0)
  }
}

function setup(options: UsageRecorderOptions = {}) {
  let now = T0
  const ledger = new Ledger()
  const recorder = new UsageRecorder(ledger, { clock: () => now, ...options })
  const background: Promise<unknown>[] = []
  return {
    ledger,
    recorder,
    background,
    at: (ms: number) => void (now = ms),
    count: (identity: EdgeAuthIdentity, routeId = 'hello', userAgent: string | undefined = 'curl/8.5.0') => recorder.count({ identity, routeId, userAgent }, (p) => background.push(p)),
    settle: () => Promise.all(background.splice(0)),
  }
}

describe('UsageRecorder', () => {
  it('counts per credential, kind, route and day, with the owner, first and last seen', async () => {
    const t = setup()
    t.count(apiKey, 'hello')
    t.at(T0 + 1000)
    t.count(apiKey, 'hello')
    t.count(apiKey, 'echo')
    t.count(legacy, 'hello')
    expect(t.background).toHaveLength(0)
    await t.recorder.flush()
    const entries = t.ledger.entries().sort((a, b) => `${a.kind} ${a.routeId}`.localeCompare(`${b.kind} ${b.routeId}`))
    expect(entries).toEqual([
      { day: '2026-06-01', kind: 'iam-api-key', credentialId: apiKey.credentialId, routeId: 'echo', calls: 1, firstSeenMs: T0 + 1000, lastSeenMs: T0 + 1000, principal: { type: 'application', id: apiKey.principal.id, name: 'billing' }, userAgents: ['curl/8.5.0'] },
      { day: '2026-06-01', kind: 'iam-api-key', credentialId: apiKey.credentialId, routeId: 'hello', calls: 2, firstSeenMs: T0, lastSeenMs: T0 + 1000, principal: { type: 'application', id: apiKey.principal.id, name: 'billing' }, userAgents: ['curl/8.5.0'] },
      { day: '2026-06-01', kind: 'legacy-jwt', credentialId: legacy.credentialId, routeId: 'hello', calls: 1, firstSeenMs: T0 + 1000, lastSeenMs: T0 + 1000, principal: { type: 'legacy-token', id: legacy.credentialId }, namespaceId: legacy.namespaceId, userAgents: ['curl/8.5.0'] },
    ])
    expect(t.recorder.size).toBe(0)
  })

  it('splits a credential’s calls at midnight UTC', async () => {
    const t = setup()
    t.at(Date.parse('2026-06-01T23:59:59Z'))
    t.count(apiKey)
    t.at(Date.parse('2026-06-02T00:00:00Z'))
    t.count(apiKey)
    await t.recorder.flush()
    expect(t.ledger.entries().map((e) => [e.day, e.calls])).toEqual([
      ['2026-06-01', 1],
      ['2026-06-02', 1],
    ])
  })

  it('starts a flush through waitUntil at the M-th request since the last one', async () => {
    const t = setup({ flushEveryRequests: 5, flushIntervalSeconds: 3600 })
    for (let i = 0; i < 4; i++) t.count(apiKey)
    expect(t.background).toHaveLength(0)
    t.count(apiKey)
    expect(t.background).toHaveLength(1)
    await t.settle()
    expect(t.ledger.total()).toBe(5)
    for (let i = 0; i < 4; i++) t.count(apiKey)
    expect(t.background).toHaveLength(0)
  })

  it('starts a flush from the first request N seconds after the last flush', async () => {
    const t = setup({ flushEveryRequests: 1000, flushIntervalSeconds: 10 })
    t.count(apiKey)
    t.at(T0 + 9_999)
    t.count(apiKey)
    expect(t.background).toHaveLength(0)
    t.at(T0 + 10_000)
    t.count(apiKey)
    expect(t.background).toHaveLength(1)
    await t.settle()
    expect(t.ledger.total()).toBe(3)
  })

  it('keeps a failed flush’s batch, and the next flush books it once, under the same id', async () => {
    const t = setup()
    for (let i = 0; i < 3; i++) t.count(apiKey)
    t.ledger.failing = true
    await expect(t.recorder.flush()).rejects.toThrow('ledger unreachable')
    expect(t.recorder.lastError).toBe('ledger unreachable')
    t.count(apiKey)
    t.ledger.failing = false
    expect(await t.recorder.flush()).toEqual({ batches: 2, calls: 4 })
    expect(t.ledger.calls[1]![0]!.id).toBe(t.ledger.calls[0]![0]!.id)
    expect(t.ledger.total()).toBe(4)
    expect(t.recorder.size).toBe(0)
    expect(t.recorder.lastError).toBeUndefined()
  })

  it('counts exactly once when a flush is forced while another is in flight', async () => {
    const t = setup({ flushEveryRequests: 2 })
    let release!: () => void
    t.ledger.hold = new Promise((resolve) => (release = resolve))
    t.count(apiKey)
    t.count(apiKey) // starts the automatic flush, held by the ledger
    t.count(apiKey)
    const forced = t.recorder.flush() // sends the held batch again, with the new one
    release()
    await Promise.all([forced, t.settle()])
    expect(t.ledger.total()).toBe(3)
    expect(t.recorder.size).toBe(0)
  })

  it('holds at most maxEntries entries: calls of a new entry beyond are dropped and reported, existing ones still count', async () => {
    const t = setup({ maxEntries: 2 })
    t.ledger.failing = true
    t.count(apiKey, 'a')
    await expect(t.recorder.flush()).rejects.toThrow() // one entry kept, unsent
    t.count(apiKey, 'b')
    t.count(apiKey, 'c') // a third entry: dropped
    t.count(apiKey, 'b')
    expect(t.recorder.size).toBe(2)
    t.ledger.failing = false
    await t.recorder.flush()
    expect(t.ledger.entries().map((e) => [e.routeId, e.calls])).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    expect(t.ledger.dropped()).toBe(1)
  })

  it('keeps three distinct cleaned user agents per entry, never a credential', async () => {
    const t = setup()
    const secret = crypto.randomUUID()
    for (const ua of ['curl/8.5.0', `bot/1 ${secret}`, 'curl/8.5.0', 'python-requests/2.31', 'Go-http-client/2.0', 'extra/1', undefined]) t.count(apiKey, 'hello', ua)
    await t.recorder.flush()
    const [entry] = t.ledger.entries()
    expect(entry!.calls).toBe(7)
    expect(entry!.userAgents).toEqual(['curl/8.5.0', 'bot/1 [redacted]', 'python-requests/2.31'])
    expect(JSON.stringify(t.ledger.calls)).not.toContain(secret)
  })

  it.each([
    ['flushIntervalSeconds', { flushIntervalSeconds: 0 }],
    ['flushEveryRequests', { flushEveryRequests: 1.5 }],
    ['maxEntries', { maxEntries: -1 }],
  ])('refuses a bad %s', (name, options) => {
    expect(() => new UsageRecorder(new Ledger(), options)).toThrow(new TypeError(`UsageRecorder: ${name} must be a positive integer, got ${Object.values(options)[0]}`))
  })
})
