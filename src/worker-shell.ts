/**
 * What the two deployable Workers share: the gateway built from the Worker's
 * settings (key set from KV, usage counted into the `USAGE` ledger), one app per
 * isolate, and the 503 `config_invalid` answer of a broken configuration.
 * `src/worker.ts` (the whole gateway, control plane included) and
 * `src/edge-worker.ts` (the data plane) both build on it.
 */
import type { Hono } from 'hono/tiny'
import { createGateway } from './gateway.js'
import { EdgeAuthError } from './errors.js'
import { kvKeySet } from './keyset/kv-key-set.js'
import type { KvKeySetStore } from './keyset/kv-store.js'
import { problemResponse } from './middleware/problem.js'
import { SettingError, type GatewayEnv, type GatewaySettings } from './settings.js'
import { usageRecorder } from './usage/usage-binding.js'
import { readWorkerConfig } from './worker-config.js'

/** The request path of a Worker: its key-set store, its usage recorder and the gateway app. */
export interface GatewayParts<E extends GatewayEnv> {
  keySet: (c: { env: E }) => KvKeySetStore
  usage: ReturnType<typeof usageRecorder<GatewayEnv>>
  gateway: ReturnType<typeof createGateway>
}

/**
 * Builds the gateway from the Worker's settings: the key set read from `KEYSET`,
 * accepted requests counted per isolate and flushed to the `USAGE` ledger (no
 * binding, no counting), the origin credential and the HMAC key from the secrets.
 */
export function gatewayParts<E extends GatewayEnv>(settings: GatewaySettings): GatewayParts<E> {
  const keySet = kvKeySet<E>((env) => env.KEYSET, {
    memoryTtlSeconds: settings.memoryTtlSeconds,
    maxStalenessSeconds: settings.maxStalenessSeconds,
    maxSyncAgeSeconds: settings.maxSyncAgeSeconds,
  })
  const usage = usageRecorder<GatewayEnv>((env) => env.USAGE, settings.usage)
  const gateway = createGateway({
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
  })
  return { keySet, usage, gateway }
}

/**
 * One app per isolate, so its key-set store and memory cache live as long as the
 * isolate; rebuilt only if the settings change. The returned function throws
 * {@link SettingError} while a var, secret or binding is missing or wrong.
 *
 * @param check - extra checks of the Worker's own bindings, run before the settings are read.
 */
export function isolateApp<E extends GatewayEnv, A extends Hono<any>>(build: (settings: GatewaySettings) => A, check?: (env: E) => void): (env: E) => { settings: GatewaySettings; app: A } {
  let built: { env: E; key: string; settings: GatewaySettings; app: A } | undefined
  return (env) => {
    if (built?.env === env) return built
    check?.(env)
    const settings = readWorkerConfig(env)
    const key = JSON.stringify(settings)
    built = built?.key === key ? { ...built, env } : { env, key, settings, app: build(settings) }
    return built
  }
}

let loggedConfigError: string | undefined

/** Logs a configuration error once per isolate (its setting and requirement, never a value). */
export function logConfigError(error: SettingError, during: 'fetch' | 'scheduled'): void {
  if (during === 'fetch' && loggedConfigError === error.message) return
  loggedConfigError = error.message
  console.error(JSON.stringify({ event: 'config_invalid', during, setting: error.setting, error: error.message }))
}

/** 503 `config_invalid`, naming the setting: a broken deployment says what to fix instead of a bare 500. */
export function configInvalid(error: SettingError): Response {
  logConfigError(error, 'fetch')
  return problemResponse(new EdgeAuthError('config_invalid', error.message, { setting: error.setting }), { realm: 'edge-auth-gateway', requestId: crypto.randomUUID() })
}

/**
 * A `fetch` handler serving the isolate's app, or 503 `config_invalid` while the
 * configuration is broken.
 */
export function serveApp<E extends GatewayEnv>(appFor: (env: E) => { app: Hono<any> }): (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response> {
  return (request, env, ctx) => {
    let app: Hono<any>
    try {
      app = appFor(env).app
    } catch (error) {
      if (error instanceof SettingError) return configInvalid(error)
      throw error
    }
    return app.fetch(request, env, ctx)
  }
}
