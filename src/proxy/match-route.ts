import { EdgeAuthError } from '../errors.js'
import type { Route } from '../keyset/schema.js'
import { BoundedMap } from '../util/bounded-map.js'

/** A route chosen for a request, with the part of the path below its prefix. */
export interface RouteMatch {
  route: Route
  /** The route prefix that matched. */
  prefix: string
  /** The rest of the normalised path after the prefix: `''` or starting with `/`. */
  rest: string
}

/** Does `prefix` match `path` on a segment boundary (`/app` matches `/app`, `/app/x`, not `/apple`)? */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '/') return true
  return path === prefix || (path.startsWith(prefix) && path.charAt(prefix.length) === '/')
}

/** HEAD is served wherever GET is (RFC 9110 §9.3.2). */
function accepts(route: Route, method: string): boolean {
  if (!route.methods) return true
  return route.methods.includes(method) || (method === 'HEAD' && route.methods.includes('GET'))
}

/**
 * Picks the route for a normalised path and method. The longest matching prefix
 * decides: among the routes that claim it, the one that accepts the method. A
 * method none of them accepts is refused there, never handed to a route with a
 * shorter prefix (which may protect the path less).
 *
 * @throws {EdgeAuthError} `route_not_found` when no prefix matches;
 *   `method_not_allowed` (with `allow`) when the most specific routes do not accept the method.
 */
export function matchRoute(routes: readonly Route[], path: string, method: string): RouteMatch {
  let prefix: string | undefined
  let claimants: Route[] = []
  for (const route of routes) {
    for (const candidate of route.paths) {
      if (!prefixMatches(candidate, path)) continue
      if (prefix === undefined || candidate.length > prefix.length) {
        prefix = candidate
        claimants = [route]
      } else if (candidate === prefix && !claimants.includes(route)) {
        claimants.push(route)
      }
    }
  }
  if (prefix === undefined) throw new EdgeAuthError('route_not_found', 'no route matches the path')
  const route = claimants.find((claimant) => accepts(claimant, method))
  if (route) return { route, prefix, rest: prefix === '/' ? path.replace(/^\/$/, '') : path.slice(prefix.length) }
  const allow = new Set(claimants.flatMap((claimant) => claimant.methods ?? []))
  if (allow.has('GET')) allow.add('HEAD')
  throw new EdgeAuthError('method_not_allowed', `route does not accept ${method}`, { allow: [...allow].sort() })
}

// Per route table (one per key-set snapshot, dropped with it), bounded: paths are the client's to choose.
const remembered = new WeakMap<readonly Route[], BoundedMap<string, RouteMatch>>()

/**
 * {@link matchRoute}, remembered per route table (a key-set snapshot's) and
 * (method, path): a repeated request costs a map lookup. Only matches are
 * remembered (refusals are recomputed), at most 1,024 per table, least recently used
 * forgotten first.
 * @throws {EdgeAuthError} as {@link matchRoute}.
 */
export function matchRouteRemembered(routes: readonly Route[], path: string, method: string): RouteMatch {
  let matches = remembered.get(routes)
  if (!matches) remembered.set(routes, (matches = new BoundedMap(1024)))
  const key = `${method} ${path}`
  return matches.get(key) ?? matches.set(key, matchRoute(routes, path, method))
}
