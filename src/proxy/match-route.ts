import { EdgeAuthError } from '../errors.js'
import type { Route } from '../keyset/schema.js'

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
 * Picks the route for a normalised path and method: the longest matching prefix
 * among the routes that accept the method.
 *
 * @throws {EdgeAuthError} `route_not_found` when no prefix matches;
 *   `method_not_allowed` (with `allow`) when prefixes match but none accepts the method.
 */
export function matchRoute(routes: readonly Route[], path: string, method: string): RouteMatch {
  let best: RouteMatch | undefined
  const allow = new Set<string>()
  let pathMatched = false
  for (const route of routes) {
    for (const prefix of route.paths) {
      if (!prefixMatches(prefix, path)) continue
      pathMatched = true
      if (!accepts(route, method)) {
        for (const m of route.methods ?? []) allow.add(m)
        continue
      }
      if (!best || prefix.length > best.prefix.length) {
        best = { route, prefix, rest: prefix === '/' ? path.replace(/^\/$/, '') : path.slice(prefix.length) }
      }
    }
  }
  if (best) return best
  if (!pathMatched) throw new EdgeAuthError('route_not_found', 'no route matches the path')
  if (allow.has('GET')) allow.add('HEAD')
  throw new EdgeAuthError('method_not_allowed', `route does not accept ${method}`, { allow: [...allow].sort() })
}
