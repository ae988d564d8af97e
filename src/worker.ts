/**
 * The deployable gateway Worker (`wrangler deploy`). Settings come from
 * `wrangler.toml` vars; the origin credential from the `ORIGIN_AUTH_TOKEN` secret.
 */
import { createGateway } from './gateway.js'
import { kvKeySet } from './keyset/kv-key-set.js'

/** The bindings `wrangler.toml` declares. */
export interface GatewayEnv {
  KEYSET: KVNamespace
  ORIGIN_AUTH_TOKEN?: string
  AUTH_REALM?: string
  ORIGIN_TIMEOUT_MS?: string
  KEYSET_MEMORY_TTL_SECONDS?: string
  KEYSET_MAX_STALENESS_SECONDS?: string
  FULL_ACCESS_ALLOWS_INVOKE?: string
}

/**
 * Reads a numeric var, refusing anything but a positive integer.
 * @throws {TypeError} naming the var.
 */
function intVar(env: GatewayEnv, name: keyof GatewayEnv, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer, got "${String(raw)}"`)
  return value
}

let gateway: { settings: string; app: ReturnType<typeof createGateway> } | undefined

/**
 * One gateway per isolate: its key-set store and memory cache live as long as the
 * isolate. It is rebuilt only if the settings change (a new deployment).
 */
function gatewayFor(env: GatewayEnv): ReturnType<typeof createGateway> {
  const settings = [env.AUTH_REALM, env.ORIGIN_TIMEOUT_MS, env.KEYSET_MEMORY_TTL_SECONDS, env.KEYSET_MAX_STALENESS_SECONDS, env.FULL_ACCESS_ALLOWS_INVOKE].join('|')
  if (gateway?.settings === settings) return gateway.app
  const app = createGateway({
    keySet: kvKeySet<GatewayEnv>((e) => e.KEYSET, {
      memoryTtlSeconds: intVar(env, 'KEYSET_MEMORY_TTL_SECONDS', 30),
      maxStalenessSeconds: intVar(env, 'KEYSET_MAX_STALENESS_SECONDS', 3600),
    }),
    originToken: (c) => (c.env as GatewayEnv).ORIGIN_AUTH_TOKEN,
    originTimeoutMs: intVar(env, 'ORIGIN_TIMEOUT_MS', 30_000),
    realm: env.AUTH_REALM || 'edge-auth-gateway',
    fullAccessAllowsInvoke: env.FULL_ACCESS_ALLOWS_INVOKE === 'true',
  })
  gateway = { settings, app }
  return app
}

export default {
  fetch(request, env, ctx) {
    return gatewayFor(env).fetch(request, env, ctx)
  },
} satisfies ExportedHandler<GatewayEnv>
