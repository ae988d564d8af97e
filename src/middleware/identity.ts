import type { EdgeAuthIdentity } from '../identity.js'

export type { AuthMethod, EdgeAuthIdentity, EdgeAuthPrincipal } from '../identity.js'

/**
 * The context variables {@link edgeAuth} sets, for the app's Hono `Env`: a handler
 * behind the middleware reads `c.var.edgeAuth`. They are typed only where the
 * middleware runs (in the same `app.get(path, auth, handler)` call, a chained
 * `.use(auth).get(…)`, or an app declared with these `Variables`), never globally.
 *
 * @example
 * ```ts
 * const api = new Hono<{ Bindings: Bindings; Variables: EdgeAuthVariables }>()
 * api.use(edgeAuth({ keySet, target }))
 * api.get('/whoami', (c) => c.json(c.var.edgeAuth))
 * ```
 */
export type EdgeAuthVariables = {
  /** Set by `edgeAuth` once a request is authenticated and authorised. */
  edgeAuth: EdgeAuthIdentity
}
