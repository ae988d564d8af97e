/**
 * The deployable gateway Worker (`wrangler deploy`): `fetch` serves the gateway
 * and, under `/__edgegw/admin/v1`, the admin API; `scheduled` (the Cron Trigger)
 * syncs the key set from the IAM API. Settings come from `wrangler.toml` vars,
 * credentials from Worker secrets. Deployed beside the edge Worker
 * (`src/edge-worker.ts`, wrangler.edge.toml), it is the control plane: the edge
 * forwards the admin API here and counts usage into this Worker's ledger.
 */
import { Hono } from 'hono/tiny'
import { adminApi, ADMIN_PREFIX } from './admin/admin-api.js'
import { adminAuth } from './admin/admin-auth.js'
import { SettingError, type GatewaySettings } from './settings.js'
import { apisFromEnv, iamApiAs } from './sync/from-env.js'
import { Registry } from './sync/registry.js'
import { startSync, syncAndWait } from './sync/start-sync.js'
import { readSyncSettings, type SyncEnv } from './sync/sync-env.js'
import { usageLedger } from './usage/usage-binding.js'
import { gatewayParts, isolateApp, logConfigError, serveApp } from './worker-shell.js'

export type { GatewayEnv } from './settings.js'
export type { SyncEnv as WorkerEnv } from './sync/sync-env.js'
/** The usage ledger's Durable Object class (wrangler.toml: binding `USAGE`). */
export { UsageLedger } from './usage/usage-ledger.js'
// The Workflow that runs the sync, and the Durable Object that owns the key set (wrangler.toml).
export { SyncWorkflow } from './sync/workflow.js'
export { ManifestOwner } from './keyset/manifest-owner.js'

type Env = SyncEnv
type App = Hono<{ Bindings: Env }>

function buildApp(settings: GatewaySettings): App {
  const { keySet, usage, gateway } = gatewayParts<Env>(settings)
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
          // POST /sync (edgegw sync) and every change: a run of the sync Workflow, waited for up to
          // SYNC_WAIT_SECONDS; a revocation takes its key out of its shard before the run reads anything.
          sync: (request) => syncAndWait(env, { reason: request?.reason ?? 'admin', revokeAccessKeys: request?.revokeAccessKeys }, { timeoutMs: 1000 * readSyncSettings(env).waitSeconds }),
          // The gateway's own store: a change is live in this isolate from its next request.
          keySet: keySet(c as Parameters<typeof keySet>[0]),
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
          targetUrlTemplate: settings.targetUrlTemplate,
          doctor: {
            settings,
            secrets: {
              ORIGIN_AUTH_TOKEN: Boolean(env.ORIGIN_AUTH_TOKEN),
              ADMIN_TOKEN: Boolean(env.ADMIN_TOKEN),
              IAM_API_TOKEN: Boolean(env.IAM_API_TOKEN),
              CREDENTIAL_ENCRYPTION_KEY: (env.CREDENTIAL_ENCRYPTION_KEY ?? '').length >= 32,
            },
          },
        }
      },
      { auth },
    ),
  )
  app.route('/', gateway)
  return app
}

const appFor = isolateApp<Env, App>(buildApp)

export default {
  fetch: serveApp(appFor),
  async scheduled(_controller, env) {
    try {
      appFor(env)
    } catch (error) {
      // No sync on a broken configuration: the Cron run fails, naming the setting.
      if (error instanceof SettingError) logConfigError(error, 'scheduled')
      throw error
    }
    // The Cron Trigger only starts a run: the Workflow does the work, step by step.
    const run = await startSync(env, 'cron')
    console.log(JSON.stringify({ event: 'sync.start', reason: 'cron', run: run.id }))
  },
} satisfies ExportedHandler<Env>
