/**
 * `GET /doctor`: what `edgegw doctor` prints, one check a line: the settings,
 * the secrets (set or not, never a value), IAM answering the gateway's key, the
 * key set's age, and whether the Cron runs. Every check answers; none throws.
 */
import type { Context, Hono } from 'hono'
import { readManifest } from '../keyset/writer.js'
import type { GatewaySettings } from '../settings.js'
import { SYNC_STATUS_KEY, parseSyncStatus } from '../sync/status.js'
import type { AdminDependencies } from './admin-api.js'

/** One line of `edgegw doctor`. */
export interface DoctorCheck {
  name: string
  ok: boolean
  detail: string
  /** What to do, when not ok. */
  fix?: string
}

/** The Worker secrets the doctor looks for. */
export const DOCTOR_SECRETS = ['ORIGIN_AUTH_TOKEN', 'ADMIN_TOKEN', 'IAM_API_TOKEN', 'CREDENTIAL_ENCRYPTION_KEY'] as const

/** What the doctor reads besides the admin dependencies. */
export interface DoctorInputs {
  settings: GatewaySettings
  /** Which secrets are set (`CREDENTIAL_ENCRYPTION_KEY`: to 32 characters or more). */
  secrets: Record<(typeof DOCTOR_SECRETS)[number], boolean>
}

/**
 * A sync within the status heartbeat plus this margin counts as the Cron running:
 * an unchanged sync records its success only once per heartbeat.
 */
export const CRON_MARGIN_SECONDS = 15 * 60

/** Adds `GET /doctor`. */
export function doctorRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies): void {
  app.get('/doctor', async (c) => {
    const deps = dependencies(c)
    const now = (deps.clock ?? Date.now)()
    const inputs = deps.doctor
    const checks: DoctorCheck[] = [...(inputs ? [settingsCheck(inputs.settings), secretsCheck(inputs.secrets)] : []), await iamCheck(deps)]
    const [manifest, status] = await Promise.all([readManifest(deps.kv), deps.kv.get(SYNC_STATUS_KEY, { type: 'text' }).then(parseSyncStatus)])
    const maxSyncAgeSeconds = inputs?.settings.maxSyncAgeSeconds ?? 86_400
    const lastSuccessAge = status?.lastSuccessAt ? Math.round((now - Date.parse(status.lastSuccessAt)) / 1000) : undefined
    const fresh = manifest !== undefined && lastSuccessAge !== undefined && lastSuccessAge <= maxSyncAgeSeconds && !status?.lastError
    checks.push({
      name: 'key set fresh',
      ok: fresh,
      detail: manifest
        ? `snapshot ${manifest.snapshotId.slice(0, 8)} generated ${Math.round((now - Date.parse(manifest.generatedAt)) / 1000)} s ago; last successful sync ${lastSuccessAge === undefined ? 'never' : `${lastSuccessAge} s ago`} (at most ${maxSyncAgeSeconds} s: SYNC_MAX_AGE_SECONDS)${status?.lastError ? `; the last sync failed: ${status.lastError.message}` : ''}`
        : 'no key set yet',
      ...(fresh ? {} : { fix: 'run edgegw sync, then edgegw status for its error' }),
    })
    const windowSeconds = (inputs?.settings.statusHeartbeatSeconds ?? 3600) + CRON_MARGIN_SECONDS
    const lastRun = Math.max(...[status?.lastSuccessAt, status?.lastError?.at].filter((t): t is string => Boolean(t)).map(Date.parse), -Infinity)
    const cronOk = Number.isFinite(lastRun) && now - lastRun <= windowSeconds * 1000
    checks.push({
      name: 'Cron',
      ok: cronOk,
      detail: Number.isFinite(lastRun)
        ? `a sync ran ${Math.round((now - lastRun) / 1000)} s ago (one within SYNC_STATUS_HEARTBEAT_SECONDS + ${CRON_MARGIN_SECONDS / 60} min, ${windowSeconds} s, shows the Cron runs)`
        : 'no sync has run',
      ...(cronOk ? {} : { fix: 'configure the Cron Trigger ([triggers] crons = ["*/5 * * * *"] in wrangler.toml) and deploy; check it in the dashboard (Workers › Settings › Triggers)' }),
    })
    return c.json({ ok: checks.every((check) => check.ok), checks })
  })
}

function settingsCheck(settings: GatewaySettings): DoctorCheck {
  const ok = settings.organizationId !== undefined
  return {
    name: 'settings',
    ok,
    detail: `organisation ${settings.organizationId ?? 'not set'}, region ${settings.region}, IAM API ${settings.iamApiUrl}, memory TTL ${settings.memoryTtlSeconds} s, staleness at most ${settings.maxStalenessSeconds} s`,
    ...(ok ? {} : { fix: 'set SCW_ORGANIZATION_ID in wrangler.toml [vars] and deploy' }),
  }
}

function secretsCheck(secrets: DoctorInputs['secrets']): DoctorCheck {
  const missing = DOCTOR_SECRETS.filter((name) => !secrets[name])
  return {
    name: 'secrets',
    ok: missing.length === 0,
    detail: missing.length === 0 ? `${DOCTOR_SECRETS.join(', ')} are set` : `not set: ${missing.join(', ')}${missing.includes('CREDENTIAL_ENCRYPTION_KEY') ? ' (CREDENTIAL_ENCRYPTION_KEY needs 32 characters or more)' : ''}`,
    ...(missing.length === 0 ? {} : { fix: missing.map((name) => `npx wrangler secret put ${name}`).join('; ') }),
  }
}

async function iamCheck(deps: AdminDependencies): Promise<DoctorCheck> {
  try {
    const page = await deps.iam.listApiKeysPage(deps.organizationId, 1, 1)
    return { name: 'IAM reachable', ok: true, detail: `the gateway's key reads the organisation's API keys (${page.total_count})` }
  } catch (error) {
    return {
      name: 'IAM reachable',
      ok: false,
      detail: error instanceof Error ? error.message : 'failed',
      fix: 'check IAM_API_TOKEN (a key with IAMManager and FunctionsFullAccess + ContainersFullAccess on the organisation), IAM_API_URL and SCW_ORGANIZATION_ID',
    }
  }
}
