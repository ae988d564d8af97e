import { describe, expect, it } from 'vitest'
import { readSettings, type GatewayEnv } from '../../src/settings.js'

const env = (vars: Partial<Record<keyof GatewayEnv, string>>) => ({ KEYSET: {} as KVNamespace, ...vars }) as GatewayEnv

describe('readSettings', () => {
  it('applies the documented defaults', () => {
    expect(readSettings(env({}))).toMatchObject({
      realm: 'edge-auth-gateway',
      originTimeoutMs: 30_000,
      memoryTtlSeconds: 30,
      maxStalenessSeconds: 3600,
      maxSyncAgeSeconds: 86_400,
      iamApiTimeoutMs: 10_000,
      iamApiAttempts: 4,
      accessLog: 'all',
      fullAccessAllowsInvoke: false,
      legacyTokens: { brownouts: [] },
      clientIpHeader: 'cf-connecting-ip',
      allowInsecureLoopbackOrigins: false,
      usage: { flushIntervalSeconds: 10, flushEveryRequests: 500, maxEntries: 10_000, retentionDays: 90 },
    })
  })

  it.each<[Partial<Record<keyof GatewayEnv, string>>, Partial<ReturnType<typeof readSettings>>]>([
    [{ CLIENT_IP_HEADER: 'X-Real-IP' }, { clientIpHeader: 'x-real-ip' }],
    [{ CLIENT_IP_HEADER: 'none' }, { clientIpHeader: null }],
    [{ CLIENT_IP_HEADER: '' }, { clientIpHeader: 'cf-connecting-ip' }],
    [{ ALLOW_INSECURE_LOOPBACK_ORIGINS: 'true' }, { allowInsecureLoopbackOrigins: true }],
    [{ USAGE_FLUSH_SECONDS: '5', USAGE_FLUSH_REQUESTS: '50', USAGE_MAX_ENTRIES: '2000', USAGE_RETENTION_DAYS: '30' }, { usage: { flushIntervalSeconds: 5, flushEveryRequests: 50, maxEntries: 2000, retentionDays: 30 } }],
    [{ LEGACY_CREATION_CUTOFF_AT: '2026-12-31T00:00:00Z' }, { legacyTokens: { brownouts: [], creationCutoffAt: '2026-12-31T00:00:00Z' } }],
  ])('reads %o', (vars, expected) => {
    expect(readSettings(env(vars))).toMatchObject(expected)
  })

  it.each<[Partial<Record<keyof GatewayEnv, string>>, RegExp]>([
    [{ ORIGIN_TIMEOUT_MS: 'soon' }, /ORIGIN_TIMEOUT_MS must be a positive integer/],
    [{ KEYSET_MEMORY_TTL_SECONDS: '-5' }, /KEYSET_MEMORY_TTL_SECONDS/],
    [{ FULL_ACCESS_ALLOWS_INVOKE: 'yes' }, /FULL_ACCESS_ALLOWS_INVOKE must be "true" or "false"/],
    [{ SYNC_MAX_AGE_SECONDS: '600', SYNC_STATUS_HEARTBEAT_SECONDS: '3600' }, /SYNC_MAX_AGE_SECONDS must exceed/],
    [{ IAM_API_URL: 'ftp://iam' }, /IAM_API_URL/],
    [{ ACCESS_LOG: 'verbose' }, /ACCESS_LOG/],
    [{ CLIENT_IP_HEADER: 'x real ip' }, /CLIENT_IP_HEADER must be a header name or "none"/],
    [{ ALLOW_INSECURE_LOOPBACK_ORIGINS: 'yes' }, /ALLOW_INSECURE_LOOPBACK_ORIGINS must be "true" or "false"/],
    [{ LEGACY_BROWNOUTS: 'tomorrow' }, /LEGACY_BROWNOUTS must be a JSON array/],
    [{ LEGACY_SUNSET_AT: 'next year' }, /LEGACY_\* settings/],
    [{ LEGACY_SUNSET_AT: '2026-06-01T00:00:00Z', LEGACY_CREATION_CUTOFF_AT: '2026-07-01T00:00:00Z' }, /creationCutoffAt must not come after sunsetAt/],
    [{ USAGE_FLUSH_SECONDS: '0' }, /USAGE_FLUSH_SECONDS must be a positive integer/],
    [{ USAGE_MAX_ENTRIES: 'lots' }, /USAGE_MAX_ENTRIES must be a positive integer/],
  ])('refuses %o, naming the setting', (vars, message) => {
    expect(() => readSettings(env(vars))).toThrow(TypeError)
    expect(() => readSettings(env(vars))).toThrow(message)
  })

  it('reads a legacy-token schedule', () => {
    const settings = readSettings(env({ LEGACY_SUNSET_AT: '2027-01-01T00:00:00Z', LEGACY_BROWNOUTS: '[{"start":"2026-12-01T09:00:00Z","end":"2026-12-01T10:00:00Z"}]' }))
    expect(settings.legacyTokens).toMatchObject({ sunsetAt: '2027-01-01T00:00:00Z', brownouts: [{ start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' }] })
  })
})
