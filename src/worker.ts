/**
 * The deployable gateway Worker (`wrangler deploy`): `fetch` serves the gateway
 * and, under `/__edgegw/admin/v1`, the admin API; `scheduled` (the Cron Trigger)
 * syncs the key set from the IAM API. Settings come from `wrangler.toml` vars,
 * credentials from Worker secrets.
 */
import { Hono } from 'hono'
import { adminApi, ADMIN_PREFIX } from './admin/admin-api.js'
import { adminAuth } from './admin/admin-auth.js'
import { createGateway } from './gateway.js'
import { kvKeySet } from './keyset/kv-key-set.js'
import { readSettings, type GatewayEnv, type GatewaySettings } from './settings.js'
import { apisFromEnv, iamApiAs, syncFromEnv } from './sync/from-env.js'
import { Registry } from './sync/registry.js'
import { usageLedger, usageRecorder } from './usage/usage-binding.js'

export type { GatewayEnv } from './settings.js'
/** The usage ledger's Durable Object class (wrangler.toml: binding `USAGE`). */
export { UsageLedger } from './usage/usage-ledger.js'

type App = Hono<{ Bindings: GatewayEnv }>

function buildApp(settings: GatewaySettings): App {
  const keySet = kvKeySet<GatewayEnv>((env) => env.KEYSET, {
    memoryTtlSeconds: settings.memoryTtlSeconds,
    maxStalenessSeconds: settings.maxStalenessSeconds,
    maxSyncAgeSeconds: settings.maxSyncAgeSeconds,
  })
  // Counts per isolate, flushed to the USAGE ledger; no binding, no counting.
  const usage = usageRecorder<GatewayEnv>((env) => env.USAGE, settings.usage)
  const app: App = new Hono()
  const auth = adminAuth({
    keySet,
    bootstrapToken: (c) => (c.env as GatewayEnv).ADMIN_TOKEN,
    organizationId: () => settings.organizationId ?? '',
    realm: settings.realm,
  })
  // Everything under the admin prefix is the admin API's: authenticated first, and an
  // unknown admin path is its 404, never a request for the gateway below.
  app.route(
    ADMIN_PREFIX,
    adminApi(
      (c) => {
        const env = c.env as GatewayEnv
        // The IAM clients only for the endpoints that call IAM: consumers, credentials,
        // OIDC issuers and routes work without IAM configured.
        return {
          kv: env.KEYSET,
          registry: new Registry(env.KEYSET),
          get iam() {
            return apisFromEnv(env, settings).iam
          },
          get serverless() {
            return apisFromEnv(env, settings).serverless
          },
          get organizationId() {
            return apisFromEnv(env, settings).organizationId
          },
          iamAs: (secret: string) => iamApiAs(env, settings, secret),
          credentialEncryptionKey: env.CREDENTIAL_ENCRYPTION_KEY,
          sync: () => syncFromEnv(env, settings),
          allowInsecureLoopbackOrigins: settings.allowInsecureLoopbackOrigins,
          legacyTokens: settings.legacyTokens,
          usage: env.USAGE
            ? {
                get ledger() {
                  return usageLedger(env.USAGE!)
                },
                // This isolate's counts: a read right after a burst of calls sees them.
                flushPending: async () => ((await usage(c)?.flush())?.batches ?? 0) > 0,
              }
            : undefined,
        }
      },
      { auth },
    ),
  )
  app.route(
    '/',
    createGateway({
      keySet,
      originToken: (c) => (c.env as GatewayEnv).ORIGIN_AUTH_TOKEN,
      credentialEncryptionKey: (c) => (c.env as GatewayEnv).CREDENTIAL_ENCRYPTION_KEY,
      originTimeoutMs: settings.originTimeoutMs,
      legacyTokens: settings.legacyTokens,
      accessLog: settings.accessLog,
      realm: settings.realm,
      fullAccessAllowsInvoke: settings.fullAccessAllowsInvoke,
      clientIpHeader: settings.clientIpHeader,
      region: settings.region,
      allowInsecureLoopbackOrigins: settings.allowInsecureLoopbackOrigins,
      usage,
    }),
  )
  return app
}

let built: { env: GatewayEnv; key: string; settings: GatewaySettings; app: App } | undefined

/**
 * One app per isolate, so its key-set store and memory cache live as long as the
 * isolate; rebuilt only if the settings change.
 */
function appFor(env: GatewayEnv): { settings: GatewaySettings; app: App } {
  if (built?.env === env) return built
  const settings = readSettings(env)
  const key = JSON.stringify(settings)
  built = built?.key === key ? { ...built, env } : { env, key, settings, app: buildApp(settings) }
  return built
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).app.fetch(request, env, ctx)
  },
  async scheduled(_controller, env) {
    const { settings } = appFor(env)
    const outcome = await syncFromEnv(env, settings)
    console.log(JSON.stringify({ event: 'sync', ok: outcome.ok, changed: outcome.write?.changed ?? false, counts: outcome.status.counts, error: outcome.status.lastError?.message ?? null, duration_ms: outcome.status.durationMs }))
  },
} satisfies ExportedHandler<GatewayEnv>
