import * as v from 'valibot'
import { LegacyTokenPolicySchema, type LegacyTokenPolicy } from './authz/legacy-policy.js'
import type { UsageLedger } from './usage/usage-ledger.js'

/** The bindings `wrangler.toml` declares: vars, secrets (never in the file) and the KV namespace. */
export interface GatewayEnv {
  KEYSET: KVNamespace
  /** The usage ledger (Durable Object, SQLite); absent: nothing is counted and `GET /usage` answers 503. */
  USAGE?: DurableObjectNamespace<UsageLedger>
  /** Secret: the credential sent as `X-Auth-Token` to private origins. */
  ORIGIN_AUTH_TOKEN?: string
  /** Secret: the gateway's IAM API key secret, used by the sync and to mint keys and tokens. */
  IAM_API_TOKEN?: string
  /** Secret: bootstrap credential of the admin API. */
  ADMIN_TOKEN?: string
  /**
   * Secret: at least 32 characters; seals the HMAC secrets of consumer JWT
   * credentials (AES-256-GCM, key derived with HKDF) before they reach KV.
   * Needed to create HMAC credentials and to verify tokens signed with them.
   */
  CREDENTIAL_ENCRYPTION_KEY?: string
  IAM_API_URL?: string
  SCW_ORGANIZATION_ID?: string
  SCW_REGION?: string
  AUTH_REALM?: string
  ORIGIN_TIMEOUT_MS?: string
  KEYSET_MEMORY_TTL_SECONDS?: string
  KEYSET_MAX_STALENESS_SECONDS?: string
  SYNC_MAX_AGE_SECONDS?: string
  SYNC_STATUS_HEARTBEAT_SECONDS?: string
  FULL_ACCESS_ALLOWS_INVOKE?: string
  OIDC_JWKS_TIMEOUT_MS?: string
  IAM_API_TIMEOUT_MS?: string
  ACCESS_LOG?: string
  LEGACY_DEPRECATED_AT?: string
  LEGACY_SUNSET_AT?: string
  LEGACY_MIGRATION_GUIDE_URL?: string
  /** JSON array of `{ "start": ISO, "end": ISO }` windows. */
  LEGACY_BROWNOUTS?: string
  /** From this instant on, `POST /legacy-tokens` answers 403 `legacy_creation_closed`. */
  LEGACY_CREATION_CUTOFF_AT?: string
  /** Seconds after an isolate's last usage flush at which its next request starts one. */
  USAGE_FLUSH_SECONDS?: string
  /** Requests counted by an isolate at which it flushes, whatever the time. */
  USAGE_FLUSH_REQUESTS?: string
  /** Usage entries (credential × kind × route × day) an isolate holds at most. */
  USAGE_MAX_ENTRIES?: string
  /** Days of usage the ledger keeps. */
  USAGE_RETENTION_DAYS?: string
  IAM_API_ATTEMPTS?: string
  /** The request header naming the client's address: `cf-connecting-ip` (default, read on Cloudflare only), another header a proxy of yours sets, or `none`. */
  CLIENT_IP_HEADER?: string
  /** `"true"`: private targets on loopback hosts may be `http://` (local stacks and tests only). */
  ALLOW_INSECURE_LOOPBACK_ORIGINS?: string
  /** The URL of a function or container a route made from its name forwards to (`edgegw route add --target function:<name>`). */
  TARGET_URL_TEMPLATE?: string
}

/**
 * A var, secret or binding of the Worker that is missing or wrong. `setting` names it;
 * the message says what it must be and never holds its value (it may be a secret).
 * The Worker answers 503 `config_invalid` with both; `npm run check-config` prints them.
 */
export class SettingError extends TypeError {
  override readonly name = 'SettingError'
  constructor(
    readonly setting: string,
    requirement: string,
  ) {
    super(`${setting} ${requirement}`)
  }
}

/** Settings read from {@link GatewayEnv}, checked and with defaults applied. */
export interface GatewaySettings {
  realm: string
  originTimeoutMs: number
  memoryTtlSeconds: number
  maxStalenessSeconds: number
  maxSyncAgeSeconds: number
  statusHeartbeatSeconds: number
  fullAccessAllowsInvoke: boolean
  iamApiUrl: string
  organizationId: string | undefined
  region: string
  /** Milliseconds the sync waits for one OIDC issuer's JWKS. */
  oidcJwksTimeoutMs: number
  /** Milliseconds one IAM or serverless API call may take. */
  iamApiTimeoutMs: number
  /** Attempts per IAM or serverless API call (429, 5xx, timeouts). */
  iamApiAttempts: number
  /** The legacy-token migration schedule of the `LEGACY_*` vars: the fallback when the key set carries none. */
  legacyTokens: LegacyTokenPolicy
  /** Usage counting: flush bounds and the isolate's map size (src/usage/usage-recorder.ts), the ledger's retention. */
  usage: { flushIntervalSeconds: number; flushEveryRequests: number; maxEntries: number; retentionDays: number }
  /** Which requests get an access-log line. */
  accessLog: 'all' | 'refusals' | 'off' | 'counted'
  /** The header naming the client's address (lower case), or `null` for none. */
  clientIpHeader: string | null
  /** Private targets on loopback hosts may be `http://`. */
  allowInsecureLoopbackOrigins: boolean
  /**
   * The URL a route to a named function or container forwards to, with `{domain_name}`,
   * `{product}`, `{id}`, `{name}`, `{namespace_id}` filled in. Default `https://{domain_name}`.
   */
  targetUrlTemplate: string
}

/**
 * Reads and checks the settings.
 * @throws {SettingError} naming the first var that is wrong.
 */
export function readSettings(env: GatewayEnv): GatewaySettings {
  const settings: GatewaySettings = {
    realm: env.AUTH_REALM || 'edge-auth-gateway',
    originTimeoutMs: intVar(env, 'ORIGIN_TIMEOUT_MS', 30_000),
    memoryTtlSeconds: intVar(env, 'KEYSET_MEMORY_TTL_SECONDS', 30),
    maxStalenessSeconds: intVar(env, 'KEYSET_MAX_STALENESS_SECONDS', 3600),
    maxSyncAgeSeconds: intVar(env, 'SYNC_MAX_AGE_SECONDS', 86_400),
    statusHeartbeatSeconds: intVar(env, 'SYNC_STATUS_HEARTBEAT_SECONDS', 3600),
    fullAccessAllowsInvoke: boolVar(env, 'FULL_ACCESS_ALLOWS_INVOKE'),
    iamApiUrl: (env.IAM_API_URL || 'https://api.scaleway.com').replace(/\/+$/, ''),
    organizationId: env.SCW_ORGANIZATION_ID || undefined,
    region: env.SCW_REGION || 'fr-par',
    oidcJwksTimeoutMs: intVar(env, 'OIDC_JWKS_TIMEOUT_MS', 5000),
    iamApiTimeoutMs: intVar(env, 'IAM_API_TIMEOUT_MS', 10_000),
    iamApiAttempts: intVar(env, 'IAM_API_ATTEMPTS', 4),
    legacyTokens: legacyPolicy(env),
    usage: {
      flushIntervalSeconds: intVar(env, 'USAGE_FLUSH_SECONDS', 10),
      flushEveryRequests: intVar(env, 'USAGE_FLUSH_REQUESTS', 500),
      maxEntries: intVar(env, 'USAGE_MAX_ENTRIES', 10_000),
      retentionDays: intVar(env, 'USAGE_RETENTION_DAYS', 90),
    },
    accessLog: accessLogVar(env),
    clientIpHeader: clientIpHeaderVar(env),
    allowInsecureLoopbackOrigins: boolVar(env, 'ALLOW_INSECURE_LOOPBACK_ORIGINS'),
    targetUrlTemplate: targetUrlTemplateVar(env),
  }
  if (settings.maxSyncAgeSeconds <= settings.statusHeartbeatSeconds) {
    throw new SettingError('SYNC_MAX_AGE_SECONDS', 'must exceed SYNC_STATUS_HEARTBEAT_SECONDS: an unchanged sync records its success only once per heartbeat')
  }
  if (!/^https?:\/\//.test(settings.iamApiUrl)) throw new SettingError('IAM_API_URL', 'must be an http(s) URL')
  return settings
}

function intVar(env: GatewayEnv, name: keyof GatewayEnv, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) throw new SettingError(name, 'must be a positive integer')
  return value
}

function boolVar(env: GatewayEnv, name: keyof GatewayEnv): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '' || raw === 'false') return false
  if (raw === 'true') return true
  throw new SettingError(name, 'must be "true" or "false"')
}

/** Each field of the legacy-token schedule: its var, and what the var must be. */
const LEGACY_VARS: Record<string, [keyof GatewayEnv, string]> = {
  deprecatedAt: ['LEGACY_DEPRECATED_AT', 'must be an ISO 8601 timestamp'],
  sunsetAt: ['LEGACY_SUNSET_AT', 'must be an ISO 8601 timestamp'],
  migrationGuideUrl: ['LEGACY_MIGRATION_GUIDE_URL', 'must be a URL'],
  brownouts: ['LEGACY_BROWNOUTS', 'must be a JSON array of {"start","end"} ISO timestamps, each ending after it starts'],
  creationCutoffAt: ['LEGACY_CREATION_CUTOFF_AT', 'must be an ISO 8601 timestamp'],
}

function legacyPolicy(env: GatewayEnv): LegacyTokenPolicy {
  let brownouts: unknown = []
  if (env.LEGACY_BROWNOUTS) {
    try {
      brownouts = JSON.parse(env.LEGACY_BROWNOUTS)
    } catch {
      throw new SettingError('LEGACY_BROWNOUTS', 'must be a JSON array of {"start","end"} ISO timestamps')
    }
  }
  const parsed = v.safeParse(LegacyTokenPolicySchema, {
    ...(env.LEGACY_DEPRECATED_AT ? { deprecatedAt: env.LEGACY_DEPRECATED_AT } : {}),
    ...(env.LEGACY_SUNSET_AT ? { sunsetAt: env.LEGACY_SUNSET_AT } : {}),
    ...(env.LEGACY_MIGRATION_GUIDE_URL ? { migrationGuideUrl: env.LEGACY_MIGRATION_GUIDE_URL } : {}),
    ...(env.LEGACY_CREATION_CUTOFF_AT ? { creationCutoffAt: env.LEGACY_CREATION_CUTOFF_AT } : {}),
    brownouts,
  })
  if (!parsed.success) {
    // The requirement is fixed text: valibot's messages quote the value received.
    const field = LEGACY_VARS[v.getDotPath(parsed.issues[0])?.split('.')[0] ?? '']
    if (field) throw new SettingError(...field)
    // The schedule's cross-field checks: which pair is out of order.
    throw /creationCutoffAt/.test(parsed.issues[0].message)
      ? new SettingError('LEGACY_CREATION_CUTOFF_AT', 'must not come after LEGACY_SUNSET_AT')
      : new SettingError('LEGACY_SUNSET_AT', 'must not come before LEGACY_DEPRECATED_AT')
  }
  return parsed.output
}

function accessLogVar(env: GatewayEnv): 'all' | 'refusals' | 'off' | 'counted' {
  const raw = env.ACCESS_LOG || 'all'
  if (raw !== 'all' && raw !== 'refusals' && raw !== 'off' && raw !== 'counted') throw new SettingError('ACCESS_LOG', 'must be "all", "refusals", "off" or "counted"')
  return raw
}

function targetUrlTemplateVar(env: GatewayEnv): string {
  const raw = env.TARGET_URL_TEMPLATE || 'https://{domain_name}'
  const sample = raw.replace(/\{(domain_name|product|id|name|namespace_id)\}/g, 'x')
  let valid = !/[{}]/.test(sample)
  try {
    valid &&= ['http:', 'https:'].includes(new URL(sample).protocol)
  } catch {
    valid = false
  }
  if (!valid) throw new SettingError('TARGET_URL_TEMPLATE', 'must be an http(s) URL using only {domain_name}, {product}, {id}, {name}, {namespace_id}')
  return raw
}

function clientIpHeaderVar(env: GatewayEnv): string | null {
  const raw = (env.CLIENT_IP_HEADER || 'cf-connecting-ip').toLowerCase()
  if (raw === 'none') return null
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(raw)) throw new SettingError('CLIENT_IP_HEADER', 'must be a header name or "none"')
  return raw
}
