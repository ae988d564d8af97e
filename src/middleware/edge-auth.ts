import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { decodeJwt } from 'jose'
import { LEGACY_ISSUER, LegacyJwtVerifier } from '../credentials/legacy-jwt.js'
import type { Target } from '../keyset/schema.js'
import type { KeySetView } from '../keyset/store.js'
import { anyGrantAllows, invokePermissionSet } from '../authz/grants.js'
import { verifyApiKey } from '../credentials/api-key.js'
import { EdgeAuthError } from '../errors.js'
import type { StoreContext } from '../keyset/store.js'
import { credentialShape, extractCredential } from './extract.js'
import type { EdgeAuthIdentity } from './identity.js'
import { resolveEdgeAuthOptions, type EdgeAuthOptions } from './options.js'
import { problemResponse, wireErrorFor } from './problem.js'

/**
 * Hono middleware that lets a request through only with a credential that may
 * invoke the target: an IAM API key secret in `X-Auth-Token` or
 * `Authorization: Bearer`, whose key grants `FunctionsPrivateAccess`
 * (`ContainersPrivateAccess` for containers) on the target's project or organisation.
 *
 * On success `c.var.edgeAuth` holds the identity. On refusal it throws an
 * `HTTPException` whose response is `application/problem+json` with a stable
 * `code` and an RFC 6750 challenge, and whose `cause` is the {@link EdgeAuthError}.
 *
 * @throws {TypeError} at construction, naming a bad option.
 * @example
 * ```ts
 * const app = new Hono<{ Bindings: { KEYSET: KVNamespace } }>()
 * app.use('/fn/*', edgeAuth({ keySet: kvKeySet((env) => env.KEYSET), target }))
 * app.get('/fn/hello', (c) => c.json({ hello: c.var.edgeAuth.principal.id }))
 * ```
 */
export function edgeAuth(options: EdgeAuthOptions): MiddlewareHandler {
  const resolved = resolveEdgeAuthOptions(options)
  const legacyJwt = new LegacyJwtVerifier()

  return async function edgeAuthMiddleware(c, next) {
    try {
      c.set('edgeAuth', await authenticate(c))
    } catch (error) {
      throw refusal(c, error, resolved.realm)
    }
    await next()
  }

  async function authenticate(c: Context): Promise<EdgeAuthIdentity> {
    const target = resolved.target(c)
    if (!target) throw new Error('edgeAuth: options.target returned no target for this request')
    const keySet = await resolved.keySet(c).current(storeContext(c))
    const credential = extractCredential(c.req.raw, resolved)
    if (!credential) throw new EdgeAuthError('credentials_missing', 'no credential')
    if (credentialShape(credential.value) === 'jwt') return authenticateJwt(credential.value, target, keySet)
    const key = await verifyApiKey(credential.value, keySet, resolved.clock())
    const organizationId = target.organizationId ?? keySet.organizationOf(target.projectId)
    const allowed =
      (key.owner && organizationId !== undefined && key.organizationId === organizationId) ||
      anyGrantAllows(key.grants, { target, organizationId, fullAccessAllowsInvoke: resolved.fullAccessAllowsInvoke })
    if (!allowed) {
      throw new EdgeAuthError('permission_denied', `${key.bearer.type} ${key.bearer.id} has no grant for ${target.kind} in project ${target.projectId}`, {
        requiredScope: invokePermissionSet(target.kind),
        credentialId: key.accessKey,
      })
    }
    return { method: 'iam-api-key', credentialId: key.accessKey, principal: key.bearer, organizationId: key.organizationId, keyKind: key.kind }
  }

  async function authenticateJwt(token: string, target: Target, keySet: KeySetView): Promise<EdgeAuthIdentity> {
    // The unverified issuer only picks the verifier; every claim is checked after the signature.
    if (unverifiedIssuer(token) !== LEGACY_ISSUER) throw new EdgeAuthError('credentials_unsupported', 'this kind of JWT is not accepted here')
    const legacy = await legacyJwt.verify(token, target, keySet, resolved.clock())
    return { method: 'legacy-jwt', credentialId: legacy.tokenId, principal: { type: 'legacy-token', id: legacy.tokenId } }
  }
}

function unverifiedIssuer(token: string): unknown {
  try {
    return decodeJwt(token).iss
  } catch (cause) {
    throw new EdgeAuthError('token_invalid', 'the token cannot be decoded', {}, { cause })
  }
}

/** Turns any failure into an `HTTPException`; only {@link EdgeAuthError}s become 4xx/503, the rest stays a 500. */
export function refusal(c: Context, error: unknown, realm: string): unknown {
  if (!(error instanceof EdgeAuthError)) return error
  return new HTTPException(wireErrorFor(error.code).status, { res: problemResponse(error, { realm, requestId: requestIdOf(c) }), cause: error })
}

/** The request id: hono's `requestId` middleware's when it ran, else a new one kept for this request. */
export function requestIdOf(c: Context): string {
  let id = c.get('requestId')
  if (!id) {
    id = crypto.randomUUID()
    c.set('requestId', id)
  }
  return id
}

function storeContext(c: Context): StoreContext {
  try {
    const executionCtx = c.executionCtx
    return { waitUntil: (promise) => executionCtx.waitUntil(promise) }
  } catch {
    // Outside Workers (Node, Bun, tests) there is no execution context: background work just runs.
    return { waitUntil: (promise) => void promise.catch(() => undefined) }
  }
}
