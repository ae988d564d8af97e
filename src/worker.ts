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
import { readSettings, type GatewaySettings } from './settings.js'
import { apisFromEnv, iamApiAs } from './sync/from-env.js'
import { Registry } from './sync/registry.js'
import { startSync } from './sync/start-sync.js'
import { readSyncSettings, type SyncEnv } from './sync/sync-env.js'

export type { GatewayEnv } from './settings.js'
export type { SyncEnv as WorkerEnv } from './sync/sync-env.js'
// The Workflow that runs the sync, and the Durable Object that owns the key set (wrangler.toml).
export { SyncWorkflow } from './sync/workflow.js'
export { ManifestOwner } from './keyset/manifest-owner.js'

type Env = SyncEnv
type App = Hono<{ Bindings: Env }>

function buildApp(settings: GatewaySettings): App {
  const keySet = kvKeySet<Env>((env) => env.KEYSET, {
    memoryTtlSeconds: settings.memoryTtlSeconds,
    maxStalenessSeconds: settings.maxStalenessSeconds,
    maxSyncAgeSeconds: settings.maxSyncAgeSeconds,
  })
  const app: App = new Hono()
  const auth = adminAuth({
    keySet,
    bootstrapToken: (c) => (c.env as Env).ADMIN_TOKEN,
    organizationId: () => settings.organizationId ?? '',
    realm: settings.realm,
  })
  // Everything under the admin prefix is the admin API's: authenticated first, and an
  // unknown admin path is its 404, never a request for the gateway below.
  app.route(
    ADMIN_PREFIX,
    adminApi(
      (c) => {
        const env = c.env as Env
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
          // POST /sync (edgegw sync) and every change: a run of the sync Workflow, waited for up to SYNC_WAIT_SECONDS.
          sync: async () => (await startSync(env, 'admin')).outcome({ timeoutMs: 1000 * readSyncSettings(env).waitSeconds }),
          allowInsecureLoopbackOrigins: settings.allowInsecureLoopbackOrigins,
        }
      },
      { auth },
    ),
  )
  app.route(
    '/',
    createGateway({
      keySet,
      originToken: (c) => (c.env as Env).ORIGIN_AUTH_TOKEN,
      credentialEncryptionKey: (c) => (c.env as Env).CREDENTIAL_ENCRYPTION_KEY,
      originTimeoutMs: settings.originTimeoutMs,
      legacyTokens: settings.legacyTokens,
      accessLog: settings.accessLog,
      realm: settings.realm,
      fullAccessAllowsInvoke: settings.fullAccessAllowsInvoke,
      clientIpHeader: settings.clientIpHeader,
      region: settings.region,
      allowInsecureLoopbackOrigins: settings.allowInsecureLoopbackOrigins,
    }),
  )
  return app
}

let built: { env: Env; key: string; settings: GatewaySettings; app: App } | undefined

/**
 * One app per isolate, so its key-set store and memory cache live as long as the
 * isolate; rebuilt only if the settings change.
 */
function appFor(env: Env): { settings: GatewaySettings; app: App } {
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
    // The Cron Trigger only starts a run: the Workflow does the work, step by step.
    const run = await startSync(env, 'cron')
    console.log(JSON.stringify({ event: 'sync.start', reason: 'cron', run: run.id }))
  },
} satisfies ExportedHandler<Env>
