import type { Context, Env } from 'hono'
import * as v from 'valibot'
import type { OidcJwtVerifierOptions } from '../credentials/oidc-jwt.js'
import type { VerificationCacheOptions } from '../credentials/verification-cache.js'
import { LegacyTokenPolicySchema, type LegacyTokenPolicy } from '../authz/legacy-policy.js'
import { RouteAuthSchema, type RouteAuth } from '../keyset/jwt-schema.js'
import type { Target } from '../keyset/schema.js'
import type { KeySetStore } from '../keyset/store.js'

/** A route's auth settings as written (every field optional), see {@link RouteAuth}. */
export type RouteAuthInput = v.InferInput<typeof RouteAuthSchema>

/**
 * Options of {@link edgeAuth}. `E` is the app's Hono `Env` (its `Bindings` and
 * `Variables`): the callbacks get a context of that app, so `c.env` is typed.
 *
 * @example
 * ```ts
 * edgeAuth({
 *   keySet: kvKeySet((env) => env.KEYSET),
 *   target: { kind: 'function', projectId, privacy: 'private', url: 'https://…' },
 *   auth: { accept: ['api-key', 'consumer-jwt'], requireExp: true, maxLifetimeSeconds: 3600 },
 * })
 * ```
 */
export interface EdgeAuthOptions<E extends Env = Env> {
  /** The key set: a store, or a function of the request context returning one (e.g. from a KV binding in `c.env`). */
  keySet: KeySetStore | ((c: Context<E>) => KeySetStore)
  /**
   * What the request would invoke: a fixed target, or a function of the context
   * (the Worker's route table sets it per request). Returning `undefined` is a
   * configuration error and gives 500.
   */
  target: Target | ((c: Context<E>) => Target | undefined)
  /**
   * Credential sources, accepted kinds, anonymous consumer, allow-lists, JWT rules
   * ({@link RouteAuthInput}): fixed settings, or a function of the context (the
   * Worker uses the matched route's). Default: every kind accepted, from
   * `X-Auth-Token` and `Authorization: Bearer` only.
   */
  auth?: RouteAuthInput | ((c: Context<E>) => RouteAuth | undefined)
  /** The Worker secret that seals consumers' HMAC secrets (`CREDENTIAL_ENCRYPTION_KEY`). Needed for HS* credentials. */
  credentialEncryptionKey?: string | ((c: Context<E>) => string | undefined)
  /** Realm in `WWW-Authenticate` challenges. Default `"edge-auth-gateway"`. */
  realm?: string
  /** Count `FunctionsFullAccess` / `ContainersFullAccess` / `AllProductsFullAccess` as allowing invocation. Default `false`. */
  fullAccessAllowsInvoke?: boolean
  /**
   * The legacy-token migration schedule: deprecation and sunset dates, guide, brownouts,
   * creation cut-off. A key set that carries its own schedule (`legacySchedule`, set
   * through the admin API) overrides it; this one is the fallback. Default none.
   */
  legacyTokens?: v.InferInput<typeof LegacyTokenPolicySchema>
  /** OIDC JWKS refresh settings (cooldown, timeout, fetch). */
  oidc?: OidcJwtVerifierOptions
  /**
   * Bounds of the verification cache, one per `edgeAuth` instance and shared by
   * every route it serves: `maxEntries` (default 10,000), `maxMemoryBytes`
   * (approximate, default 4 MiB), `maxTtlSeconds` (default 300).
   */
  verificationCache?: VerificationCacheOptions
  /**
   * The end user's IP address, for `request.ip` in IAM conditions. Default: the
   * `CF-Connecting-IP` header on Cloudflare (where the platform sets it and a
   * client cannot), none elsewhere, so a condition on the IP fails closed.
   */
  clientIp?: (c: Context) => string | undefined
  /** The region of the targets, for `resource.region` when the key set does not know it (e.g. `fr-par`). Default none. */
  region?: string
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
}

/** {@link EdgeAuthOptions} with every default applied, checked once by the factory. */
export interface ResolvedEdgeAuthOptions {
  keySet: (c: Context) => KeySetStore
  target: (c: Context) => Target | undefined
  auth: (c: Context) => RouteAuth
  credentialEncryptionKey: (c: Context) => string | undefined
  realm: string
  fullAccessAllowsInvoke: boolean
  oidc: OidcJwtVerifierOptions
  legacyTokens: LegacyTokenPolicy
  verificationCache: VerificationCacheOptions
  clientIp: (c: Context) => string | undefined
  region: string
  clock: () => number
}

/**
 * Applies defaults and checks every option.
 * @throws {TypeError} naming the first bad option.
 */
export function resolveEdgeAuthOptions<E extends Env>(typed: EdgeAuthOptions<E>): ResolvedEdgeAuthOptions {
  // The callbacks run with the app's own context; inside, the context is untyped.
  const options = typed as unknown as EdgeAuthOptions<any>
  if (!options || typeof options !== 'object') throw new TypeError('edgeAuth: options are required')
  const { keySet, target } = options
  if (typeof keySet !== 'function' && (typeof keySet !== 'object' || keySet === null || typeof keySet.current !== 'function')) {
    throw new TypeError('edgeAuth: options.keySet must be a KeySetStore or a function returning one')
  }
  if (typeof target !== 'function' && (typeof target !== 'object' || target === null)) {
    throw new TypeError('edgeAuth: options.target must be a Target or a function returning one')
  }
  const realm = options.realm ?? 'edge-auth-gateway'
  if (typeof realm !== 'string' || realm === '' || /["\\\r\n]/.test(realm)) {
    throw new TypeError('edgeAuth: options.realm must be a non-empty string without quotes, backslashes or line breaks')
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new TypeError('edgeAuth: options.clock must be a function')
  if (options.clientIp !== undefined && typeof options.clientIp !== 'function') throw new TypeError('edgeAuth: options.clientIp must be a function')
  if (options.region !== undefined && !/^[a-z]{2}-[a-z]{3}$/.test(options.region)) throw new TypeError('edgeAuth: options.region must be a region like fr-par')
  const defaults = v.parse(RouteAuthSchema, {})
  let auth: (c: Context) => RouteAuth
  if (typeof options.auth === 'function') {
    const dynamic = options.auth
    auth = (c) => dynamic(c) ?? defaults
  } else {
    const parsed = v.safeParse(RouteAuthSchema, options.auth ?? {})
    if (!parsed.success) throw new TypeError(`edgeAuth: options.auth.${v.getDotPath(parsed.issues[0]) ?? ''}: ${parsed.issues[0].message}`)
    const fixed = parsed.output
    auth = () => fixed
  }
  const legacy = v.safeParse(LegacyTokenPolicySchema, options.legacyTokens ?? {})
  if (!legacy.success) throw new TypeError(`edgeAuth: options.legacyTokens.${v.getDotPath(legacy.issues[0]) ?? ''}: ${legacy.issues[0].message}`)
  const cache = options.verificationCache ?? {}
  for (const name of ['maxEntries', 'maxMemoryBytes', 'maxTtlSeconds'] as const) {
    const value = cache[name]
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new TypeError(`edgeAuth: options.verificationCache.${name} must be a positive integer`)
  }
  const key = options.credentialEncryptionKey
  return {
    keySet: typeof keySet === 'function' ? keySet : () => keySet,
    target: typeof target === 'function' ? target : () => target,
    auth,
    credentialEncryptionKey: typeof key === 'function' ? key : () => key,
    realm,
    fullAccessAllowsInvoke: options.fullAccessAllowsInvoke ?? false,
    oidc: options.oidc ?? {},
    legacyTokens: legacy.output,
    verificationCache: cache,
    clientIp: options.clientIp ?? platformClientIp,
    region: options.region ?? '',
    clock: options.clock ?? Date.now,
  }
}

/** `CF-Connecting-IP`, only where Cloudflare set it: a request that went through Cloudflare's edge carries `cf`. */
function platformClientIp(c: Context): string | undefined {
  return (c.req.raw as Request & { cf?: unknown }).cf === undefined ? undefined : c.req.header('cf-connecting-ip')
}
