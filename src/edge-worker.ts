/**
 * The data-plane Worker (`wrangler deploy -c wrangler.edge.toml`): the gateway
 * alone, beside the control-plane Worker (`src/worker.ts`, wrangler.toml), as
 * Kong's hybrid mode separates its data plane from its control plane
 * (docs/operations.md, "Two Workers"). It reads the key set the control plane
 * writes (the same KV namespace), counts usage into the control plane's
 * `UsageLedger` (a Durable Object binding with `script_name`), and hands every
 * request under `/__edgegw/admin/v1` unchanged to the control plane through the
 * `CONTROL` service binding, so `edgegw --url <edge>` keeps working. No admin API,
 * no sync, no Cron: a smaller bundle and a faster cold start.
 */
import { Hono } from 'hono/tiny'
import { ADMIN_PREFIX } from './keyset/validate-routes.js'
import { SettingError, type GatewayEnv, type GatewaySettings } from './settings.js'
import { gatewayParts, isolateApp, serveApp } from './worker-shell.js'

export type { GatewayEnv } from './settings.js'

/** The edge Worker's environment: the gateway's, and the control plane's service binding. */
export type EdgeEnv = GatewayEnv & {
  /** The control-plane Worker (wrangler.edge.toml `[[services]]`): the admin API is served there. */
  CONTROL: Fetcher
}

type App = Hono<{ Bindings: EdgeEnv }>

function buildApp(settings: GatewaySettings): App {
  const { gateway } = gatewayParts<EdgeEnv>(settings)
  const app: App = new Hono()
  // The admin API, matched as the control plane matches it (the same prefix, the same router):
  // the request as it came, credentials and body included; the answer as it comes back.
  const toControl = (c: { req: { raw: Request }; env: EdgeEnv }) => c.env.CONTROL.fetch(c.req.raw)
  app.all(ADMIN_PREFIX, toControl)
  app.all(`${ADMIN_PREFIX}/*`, toControl)
  app.route('/', gateway)
  return app
}

function checkControlBinding(env: EdgeEnv): void {
  const control = env.CONTROL as unknown
  if (typeof control !== 'object' || control === null || typeof (control as Fetcher).fetch !== 'function') {
    throw new SettingError('CONTROL', 'is not bound: declare the control-plane Worker in wrangler.edge.toml ([[services]] binding = "CONTROL")')
  }
}

export default {
  fetch: serveApp(isolateApp<EdgeEnv, App>(buildApp, checkControlBinding)),
} satisfies ExportedHandler<EdgeEnv>
