import type { Context, Env, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { EdgeAuthError, INFRASTRUCTURE_CODES, withoutStackIf } from '../errors.js'
import { Authenticator } from './authenticate.js'
import type { EdgeAuthVariables } from './identity.js'
import { resolveEdgeAuthOptions, type EdgeAuthOptions } from './options.js'
import { problemResponse, wireErrorFor } from './problem.js'

/**
 * Hono middleware that lets a request through only with a credential that may
 * invoke the target:
 *
 * - an IAM API key secret whose key grants `FunctionsPrivateAccess`
 *   (`ContainersPrivateAccess` for containers) on the target's project or organisation;
 * - a legacy serverless JWT of the target's namespace (or the target itself);
 * - a consumer JWT of a known credential (Kong's jwt plugin), on the route's allow-list;
 * - an OIDC JWT of an issuer the route trusts;
 *
 * from `X-Auth-Token`, `Authorization: Bearer`, or the route's extra headers,
 * query parameters and cookies. On success `c.var.edgeAuth` holds the identity
 * ({@link EdgeAuthVariables}).
 * On refusal it throws an `HTTPException` whose response is
 * `application/problem+json` with a stable `code` and an RFC 6750 challenge, and
 * whose `cause` is the {@link EdgeAuthError}.
 *
 * `E` is the app's Hono `Env`; the handler it returns adds {@link EdgeAuthVariables}
 * to it, so handlers behind it (and only those) see `c.var.edgeAuth` typed.
 *
 * @throws {TypeError} at construction, naming a bad option.
 * @example
 * ```ts
 * type Env = { Bindings: { KEYSET: KVNamespace } }
 * const auth = edgeAuth<Env>({ keySet: kvKeySet((env) => env.KEYSET), target })
 * const app = new Hono<Env>()
 * app.get('/fn/hello', auth, (c) => c.json({ hello: c.var.edgeAuth.principal.id }))
 * ```
 */
export function edgeAuth<E extends Env = Env>(options: EdgeAuthOptions<E>): MiddlewareHandler<E & { Variables: EdgeAuthVariables }> {
  const resolved = resolveEdgeAuthOptions(options)
  const authenticator = new Authenticator(resolved)

  return async function edgeAuthMiddleware(c, next) {
    let authenticated
    try {
      authenticated = await authenticator.authenticate(c)
    } catch (error) {
      throw refusal(c, error, resolved.realm)
    }
    c.set('edgeAuth', authenticated.identity)
    await next()
    const headers = authenticated.responseHeaders
    if (headers.length > 0) {
      // The response may come from fetch() with immutable headers: copy it once to add ours.
      const res = new Response(c.res.body, c.res)
      for (const [name, value] of headers) res.headers.set(name, value)
      c.res = undefined
      c.res = res
    }
  }
}

/** Turns any failure into an `HTTPException`; only {@link EdgeAuthError}s become 4xx/5xx answers, the rest stays a 500. */
export function refusal(c: Context, error: unknown, realm: string): unknown {
  if (!(error instanceof EdgeAuthError)) return error
  const res = problemResponse(error, { realm, requestId: requestIdOf(c) })
  return withoutStackIf(!INFRASTRUCTURE_CODES.has(error.code), () => new HTTPException(wireErrorFor(error.code).status, { res, cause: error }))
}

/** The request id: hono's `requestId` middleware's when it ran, else a new one kept for this request. */
export function requestIdOf(c: Context): string {
  const vars = c as Context<{ Variables: { requestId?: string } }>
  let id = vars.get('requestId')
  if (!id) {
    id = crypto.randomUUID()
    vars.set('requestId', id)
  }
  return id
}
