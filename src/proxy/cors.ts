/**
 * CORS per route (`route.cors`, docs/routes.md "CORS"): preflights answered at
 * the edge without a credential, as Kong's `run_on_preflight = false` with its
 * cors plugin and Envoy's `bypass_cors_preflight` do, and real responses
 * decorated, refusals included, so a browser app can read why it was refused.
 *
 * hono/cors answers the preflights of allowed origins. It does not fit the rest:
 * it sets `Access-Control-Allow-Credentials` and `-Expose-Headers` whatever the
 * origin, takes every OPTIONS request for a preflight, and cannot remove the CORS
 * headers an origin sends itself; so refused origins and real responses are
 * handled here.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { EdgeAuthError } from '../errors.js'
import { DEFAULT_CORS_METHODS, type RouteCors } from '../keyset/cors-schema.js'
import type { Route } from '../keyset/schema.js'
import { matchRoute, type RouteMatch } from './match-route.js'

// RFC 9110 §5.6.2 token.
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * The method a CORS preflight asks about (Fetch §3.2.2: `OPTIONS` with `Origin`
 * and `Access-Control-Request-Method`), or `undefined` when the request is not one.
 */
export function preflightMethod(request: Request): string | undefined {
  if (request.method !== 'OPTIONS' || !request.headers.has('origin')) return undefined
  const method = request.headers.get('access-control-request-method')?.trim()
  return method && METHOD.test(method) ? method : undefined
}

/**
 * The route a preflight is about: the one that takes the method it asks for,
 * when that route has a CORS policy; otherwise `undefined`, and the preflight is
 * routed as the OPTIONS request it is.
 */
export function preflightRoute(routes: readonly Route[], path: string, method: string): RouteMatch | undefined {
  try {
    const match = matchRoute(routes, path, method)
    return match.route.cors ? match : undefined
  } catch (error) {
    if (error instanceof EdgeAuthError) return undefined
    throw error
  }
}

/** Is `origin` (the request's `Origin`, `null` when absent) one the policy lets read responses? */
export function corsAllows(policy: RouteCors, origin: string | null): boolean {
  return policy.origins[0] === '*' || (origin !== null && policy.origins.includes(origin))
}

const preflightHandlers = new WeakMap<Route, MiddlewareHandler>()

/**
 * The answer to a preflight on a route with a CORS policy: 204 with the policy
 * for an allowed origin (hono/cors), 204 with no CORS header for any other (the
 * browser then refuses the real request, as with Kong's and hono's answer).
 * Either way `Vary: Origin`, and the origin is never contacted.
 */
export async function answerPreflight(c: Context, route: Route, policy: RouteCors, requestId: string): Promise<Response> {
  let response: Response
  if (corsAllows(policy, c.req.header('origin') ?? null)) {
    let handler = preflightHandlers.get(route)
    if (!handler) {
      handler = cors({
        origin: policy.origins[0] === '*' ? '*' : [...policy.origins],
        allowMethods: [...(policy.methods ?? route.methods ?? DEFAULT_CORS_METHODS)],
        // Empty: hono/cors allows the headers the preflight asks for (Kong's default too).
        allowHeaders: policy.headers ? [...policy.headers] : [],
        credentials: policy.credentials,
        ...(policy.maxAgeSeconds !== undefined ? { maxAge: policy.maxAgeSeconds } : {}),
      })
      preflightHandlers.set(route, handler)
    }
    // hono/cors answers an OPTIONS request itself and never calls next.
    response = (await handler(c, async () => undefined)) as Response
  } else {
    response = new Response(null, { status: 204, headers: { vary: 'Origin' } })
  }
  response.headers.set('x-request-id', requestId)
  return response
}

/**
 * A response with the route's CORS headers and no other: the origin's own
 * `Access-Control-*` headers are removed (the route's policy is the one that
 * holds); an allowed origin gets `Access-Control-Allow-Origin` (itself, or `*`
 * for a wildcard policy), `-Allow-Credentials` and `-Expose-Headers` as the
 * policy says; a refused origin gets none. `Vary: Origin` unless the policy is a
 * wildcard, so a cache never hands one origin's answer to another.
 */
export function withCorsHeaders(response: Response, policy: RouteCors, origin: string | null): Response {
  const res = new Response(response.body, response)
  const names: string[] = []
  res.headers.forEach((_, name) => void names.push(name))
  for (const name of names) if (name.startsWith('access-control-')) res.headers.delete(name)
  const wildcard = policy.origins[0] === '*'
  if (corsAllows(policy, origin)) {
    res.headers.set('access-control-allow-origin', wildcard ? '*' : origin!)
    if (policy.credentials) res.headers.set('access-control-allow-credentials', 'true')
    if (policy.exposedHeaders.length > 0) res.headers.set('access-control-expose-headers', policy.exposedHeaders.join(','))
  }
  if (!wildcard) {
    const vary = res.headers.get('vary')
    if (vary === null) res.headers.set('vary', 'Origin')
    else if (!vary.split(',').some((name) => ['origin', '*'].includes(name.trim().toLowerCase()))) res.headers.set('vary', `${vary}, Origin`)
  }
  return res
}
