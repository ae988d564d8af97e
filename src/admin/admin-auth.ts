import type { Context, MiddlewareHandler } from 'hono'
import { verifyApiKey } from '../credentials/api-key.js'
import { EdgeAuthError } from '../errors.js'
import { refusal } from '../middleware/edge-auth.js'
import { credentialShape, extractCredential } from '../middleware/extract.js'
import { sha256Hex } from '../keyset/digest.js'
import type { KeySetStore } from '../keyset/store.js'

/** The permission set an IAM key needs, on the whole organisation, to use the admin API. */
export const ADMIN_PERMISSION_SET = 'IAMManager'

/** Who called the admin API. */
export interface AdminCaller {
  via: 'bootstrap-token' | 'iam-api-key'
  /** The access key, or `bootstrap` for the Worker secret. */
  id: string
}

declare module 'hono' {
  interface ContextVariableMap {
    adminCaller: AdminCaller
  }
}

/** Options of {@link adminAuth}. */
export interface AdminAuthOptions {
  keySet: (c: Context) => KeySetStore
  /** The bootstrap admin secret (`ADMIN_TOKEN`), for the first calls before any IAM key is captured. */
  bootstrapToken: (c: Context) => string | undefined
  /** The organisation the gateway serves. */
  organizationId: (c: Context) => string
  realm: string
  clock?: () => number
}

/**
 * Admits a caller holding either the bootstrap secret or an IAM API key, known
 * to the key set, whose bearer is the organisation owner or holds
 * `IAMManager` on the organisation: the admin API mints keys and records their
 * digests, which is IAM management.
 */
export function adminAuth(options: AdminAuthOptions): MiddlewareHandler {
  const clock = options.clock ?? Date.now
  return async function adminAuthMiddleware(c, next) {
    try {
      c.set('adminCaller', await authenticate(c))
    } catch (error) {
      throw refusal(c, error, options.realm)
    }
    await next()
  }

  async function authenticate(c: Context): Promise<AdminCaller> {
    const credential = extractCredential(c.req.raw, { queryParameters: [], cookies: [] })
    if (!credential) throw new EdgeAuthError('credentials_missing', 'no credential')
    const bootstrap = options.bootstrapToken(c)
    if (bootstrap && (await sameSecret(credential.value, bootstrap))) return { via: 'bootstrap-token', id: 'bootstrap' }
    if (credentialShape(credential.value) !== 'api-key') throw new EdgeAuthError('credentials_unsupported', 'the admin API takes API keys only')
    const keySet = await options.keySet(c).current({ waitUntil: (p) => c.executionCtx.waitUntil(p) })
    const key = await verifyApiKey(credential.value, keySet, clock())
    const organizationId = options.organizationId(c)
    const allowed =
      key.organizationId === organizationId &&
      (key.owner ||
        key.grants.some((g) => g.condition === undefined && g.permissionSets.includes(ADMIN_PERMISSION_SET) && g.scope.type === 'organization' && g.scope.organizationId === organizationId))
    if (!allowed) throw new EdgeAuthError('permission_denied', `${key.accessKey} lacks ${ADMIN_PERMISSION_SET} on the organisation`, { requiredScope: ADMIN_PERMISSION_SET })
    return { via: 'iam-api-key', id: key.accessKey }
  }
}

/** Compares two secrets in constant time, through their digests (equal length by construction). */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(expected)])
  const encoder = new TextEncoder()
  return crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b))
}
