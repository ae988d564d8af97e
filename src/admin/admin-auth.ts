import type { Context, MiddlewareHandler } from 'hono'
import { verifyApiKey } from '../credentials/api-key.js'
import { EdgeAuthError } from '../errors.js'
import { refusal } from '../middleware/edge-auth.js'
import { credentialShape, extractCredential, type CredentialShape, type ExtractedCredential } from '../middleware/extract.js'
import { sha256Hex } from '../keyset/digest.js'
import type { KeySetStore } from '../keyset/store.js'

/** The permission set an IAM key needs, on the whole organisation, to use the admin API. */
export const ADMIN_PERMISSION_SET = 'IAMManager'

/** Who called the admin API: the actor of its audit lines. */
export interface AdminCaller {
  kind: 'admin-token' | 'api-key'
  /** The access key, or `ADMIN_TOKEN` (the secret's name, never its value). */
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
 *
 * Any other credential is 401 with an RFC 6750 challenge, whatever its shape: a
 * wrong `ADMIN_TOKEN` (`token_invalid`), an unknown key (`api_key_unknown`), a JWT
 * (`credentials_unsupported`). Only two different credentials in one request are
 * 400 (`credentials_conflict`), and an unreadable key set 503.
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
    const credential = extracted(c.req.raw)
    if (!credential) throw new EdgeAuthError('credentials_missing', 'no credential')
    const bootstrap = options.bootstrapToken(c)
    if (bootstrap && (await sameSecret(credential.value, bootstrap))) return { kind: 'admin-token', id: 'ADMIN_TOKEN' }
    const shape = shapeOf(credential.value)
    if (shape === 'jwt') throw new EdgeAuthError('credentials_unsupported', 'the admin API takes ADMIN_TOKEN or an API key')
    if (shape !== 'api-key') throw new EdgeAuthError('token_invalid', 'neither ADMIN_TOKEN nor an API key')
    const keySet = await options.keySet(c).current({ waitUntil: (p) => c.executionCtx.waitUntil(p) })
    const key = await verifyApiKey(credential.value, keySet, clock())
    const organizationId = options.organizationId(c)
    const allowed =
      key.organizationId === organizationId &&
      (key.owner ||
        key.grants.some((g) => g.condition === undefined && g.permissionSets.includes(ADMIN_PERMISSION_SET) && g.scope.type === 'organization' && g.scope.organizationId === organizationId))
    if (!allowed) throw new EdgeAuthError('permission_denied', `${key.accessKey} lacks ${ADMIN_PERMISSION_SET} on the organisation`, { requiredScope: ADMIN_PERMISSION_SET })
    return { kind: 'api-key', id: key.accessKey }
  }
}

/** The credential; one that no token could be (spaces, empty) is a wrong token here, not a malformed request. */
function extracted(request: Request): ExtractedCredential | undefined {
  try {
    return extractCredential(request, { queryParameters: [], cookies: [] })
  } catch (error) {
    if (error instanceof EdgeAuthError && error.code === 'credentials_malformed') throw new EdgeAuthError('token_invalid', 'neither ADMIN_TOKEN nor an API key', {}, { cause: error })
    throw error
  }
}

function shapeOf(value: string): CredentialShape | undefined {
  try {
    return credentialShape(value)
  } catch {
    return undefined
  }
}

/** Compares two secrets in constant time, through their digests (equal length by construction). */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(expected)])
  const encoder = new TextEncoder()
  return crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b))
}
