import { describe, expect, it } from 'vitest'
import { statusNeedsWrite, type SyncStatus } from '../../src/sync/status.js'

const HOUR = 3_600_000
const t0 = Date.parse('2026-06-01T00:00:00Z')
const iso = (ms: number) => new Date(ms).toISOString()
const ok = (at: number, extra: Partial<SyncStatus> = {}): SyncStatus => ({
  lastSuccessAt: iso(at), lastError: null, consecutiveFailures: 0, snapshotId: 's1', counts: { apiKeys: 3 }, durationMs: 10, writtenAt: iso(at), ...extra,
})
const failed = (at: number, message = 'GET /iam/v1alpha1/api-keys: HTTP 500'): SyncStatus => ({ ...ok(t0), lastError: { at: iso(at), message }, consecutiveFailures: 1, writtenAt: iso(at) })

describe('statusNeedsWrite', () => {
  it.each<[string, SyncStatus | undefined, SyncStatus, number, boolean]>([
    ['nothing stored yet', undefined, ok(t0), t0, true],
    ['an unchanged success within the heartbeat', ok(t0), ok(t0 + 5 * 60_000), t0 + 5 * 60_000, false],
    ['an unchanged success past the heartbeat', ok(t0), ok(t0 + HOUR), t0 + HOUR, true],
    ['a new snapshot', ok(t0), ok(t0 + 60_000, { snapshotId: 's2' }), t0 + 60_000, true],
    ['changed counts', ok(t0), ok(t0 + 60_000, { counts: { apiKeys: 4 } }), t0 + 60_000, true],
    ['a new warning (a JWKS that cannot be fetched)', ok(t0), ok(t0 + 60_000, { warnings: ['oidc issuer corp: JWKS unavailable'] }), t0 + 60_000, true],
    ['the same warning again', ok(t0, { warnings: ['w'] }), ok(t0 + 60_000, { warnings: ['w'] }), t0 + 60_000, false],
    ['a warning gone', ok(t0, { warnings: ['w'] }), ok(t0 + 60_000), t0 + 60_000, true],
    ['a first failure', ok(t0), failed(t0 + 60_000), t0 + 60_000, true],
    ['the same failure again', failed(t0), failed(t0 + 60_000), t0 + 60_000, false],
    ['another failure', failed(t0), failed(t0 + 60_000, 'GET /iam/v1alpha1/policies: timeout'), t0 + 60_000, true],
    ['recovery', failed(t0), ok(t0 + 60_000), t0 + 60_000, true],
  ])('%s → %s', (_, previous, next, now, expected) => {
    expect(statusNeedsWrite(previous, next, HOUR, now)).toBe(expected)
  })
})
