import { describe, expect, it } from 'vitest'
import { readSettings, SettingError, type GatewayEnv } from '../../src/settings.js'

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
      targetUrlTemplate: 'https://{domain_name}',
    })
  })

  it.each<[Partial<Record<keyof GatewayEnv, string>>, Partial<ReturnType<typeof readSettings>>]>([
    [{ CLIENT_IP_HEADER: 'X-Real-IP' }, { clientIpHeader: 'x-real-ip' }],
    [{ CLIENT_IP_HEADER: 'none' }, { clientIpHeader: null }],
    [{ CLIENT_IP_HEADER: '' }, { clientIpHeader: 'cf-connecting-ip' }],
    [{ ALLOW_INSECURE_LOOPBACK_ORIGINS: 'true' }, { allowInsecureLoopbackOrigins: true }],
    [{ USAGE_FLUSH_SECONDS: '5', USAGE_FLUSH_REQUESTS: '50', USAGE_MAX_ENTRIES: '2000', USAGE_RETENTION_DAYS: '30' }, { usage: { flushIntervalSeconds: 5, flushEveryRequests: 50, maxEntries: 2000, retentionDays: 30 } }],
    [{ LEGACY_CREATION_CUTOFF_AT: '2026-12-31T00:00:00Z' }, { legacyTokens: { brownouts: [], creationCutoffAt: '2026-12-31T00:00:00Z' } }],
    [{ TARGET_URL_TEMPLATE: 'http://127.0.0.1:8788/platform/{product}/{id}' }, { targetUrlTemplate: 'http://127.0.0.1:8788/platform/{product}/{id}' }],
  ])('reads %o', (vars, expected) => {
    expect(readSettings(env(vars))).toMatchObject(expected)
  })

  it.each<[Partial<Record<keyof GatewayEnv, string>>, keyof GatewayEnv, RegExp]>([
    [{ ORIGIN_TIMEOUT_MS: 'soon' }, 'ORIGIN_TIMEOUT_MS', /ORIGIN_TIMEOUT_MS must be a positive integer/],
    [{ KEYSET_MEMORY_TTL_SECONDS: '-5' }, 'KEYSET_MEMORY_TTL_SECONDS', /KEYSET_MEMORY_TTL_SECONDS must be a positive integer/],
    [{ FULL_ACCESS_ALLOWS_INVOKE: 'yes' }, 'FULL_ACCESS_ALLOWS_INVOKE', /FULL_ACCESS_ALLOWS_INVOKE must be "true" or "false"/],
    [{ SYNC_MAX_AGE_SECONDS: '600', SYNC_STATUS_HEARTBEAT_SECONDS: '3600' }, 'SYNC_MAX_AGE_SECONDS', /SYNC_MAX_AGE_SECONDS must exceed/],
    [{ IAM_API_URL: 'ftp://iam' }, 'IAM_API_URL', /IAM_API_URL must be an http\(s\) URL/],
    [{ ACCESS_LOG: 'verbose' }, 'ACCESS_LOG', /ACCESS_LOG must be "all", "refusals", "off" or "counted"/],
    [{ CLIENT_IP_HEADER: 'x real ip' }, 'CLIENT_IP_HEADER', /CLIENT_IP_HEADER must be a header name or "none"/],
    [{ TARGET_URL_TEMPLATE: 'https://{host}' }, 'TARGET_URL_TEMPLATE', /TARGET_URL_TEMPLATE must be an http\(s\) URL using only/],
    [{ TARGET_URL_TEMPLATE: 'ftp://{domain_name}' }, 'TARGET_URL_TEMPLATE', /TARGET_URL_TEMPLATE must be an http\(s\) URL/],
    [{ TARGET_URL_TEMPLATE: '{domain_name}/fn' }, 'TARGET_URL_TEMPLATE', /TARGET_URL_TEMPLATE must be an http\(s\) URL/],
    [{ ALLOW_INSECURE_LOOPBACK_ORIGINS: 'yes' }, 'ALLOW_INSECURE_LOOPBACK_ORIGINS', /ALLOW_INSECURE_LOOPBACK_ORIGINS must be "true" or "false"/],
    [{ LEGACY_BROWNOUTS: 'tomorrow' }, 'LEGACY_BROWNOUTS', /LEGACY_BROWNOUTS must be a JSON array/],
    [{ LEGACY_SUNSET_AT: 'next year' }, 'LEGACY_SUNSET_AT', /LEGACY_SUNSET_AT must be an ISO 8601 timestamp/],
    [{ LEGACY_BROWNOUTS: '[{"start":"2026-12-01T10:00:00Z","end":"2026-12-01T09:00:00Z"}]' }, 'LEGACY_BROWNOUTS', /LEGACY_BROWNOUTS must be a JSON array/],
    [{ LEGACY_DEPRECATED_AT: '2027-02-01T00:00:00Z', LEGACY_SUNSET_AT: '2027-01-01T00:00:00Z' }, 'LEGACY_SUNSET_AT', /LEGACY_SUNSET_AT must not come before LEGACY_DEPRECATED_AT/],
    [{ LEGACY_SUNSET_AT: '2026-06-01T00:00:00Z', LEGACY_CREATION_CUTOFF_AT: '2026-07-01T00:00:00Z' }, 'LEGACY_CREATION_CUTOFF_AT', /LEGACY_CREATION_CUTOFF_AT must not come after LEGACY_SUNSET_AT/],
    [{ LEGACY_CREATION_CUTOFF_AT: 'soon' }, 'LEGACY_CREATION_CUTOFF_AT', /LEGACY_CREATION_CUTOFF_AT must be an ISO 8601 timestamp/],
    [{ USAGE_FLUSH_SECONDS: '0' }, 'USAGE_FLUSH_SECONDS', /USAGE_FLUSH_SECONDS must be a positive integer/],
    [{ USAGE_MAX_ENTRIES: 'lots' }, 'USAGE_MAX_ENTRIES', /USAGE_MAX_ENTRIES must be a positive integer/],
  ])('refuses %o, naming the setting and never its value', (vars, setting, message) => {
    let thrown: unknown
    try {
      readSettings(env(vars))
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(SettingError)
    expect(thrown).toBeInstanceOf(TypeError)
    expect((thrown as SettingError).setting).toBe(setting)
    expect((thrown as SettingError).message).toMatch(message)
    for (const value of Object.values(vars)) expect((thrown as SettingError).message).not.toContain(value)
  })

  it('reads a legacy-token schedule', () => {
    const settings = readSettings(env({ LEGACY_SUNSET_AT: '2027-01-01T00:00:00Z', LEGACY_BROWNOUTS: '[{"start":"2026-12-01T09:00:00Z","end":"2026-12-01T10:00:00Z"}]' }))
    expect(settings.legacyTokens).toMatchObject({ sunsetAt: '2027-01-01T00:00:00Z', brownouts: [{ start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' }] })
  })
})
