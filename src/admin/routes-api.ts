/**
 * Routes at the admin API: the table as a whole (`GET`/`PUT /routes`) and one
 * route at a time (`POST /routes`, `GET`/`PATCH`/`DELETE /routes/{id}`, Kong's
 * shape). Every answer carries an `ETag` (of the table, or of the route), every
 * change honours `If-Match` (412 `precondition_failed` when what was read has
 * changed since), so two operators never overwrite each other.
 * docs/admin-api.md, "Routes".
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import { canonicalJson } from '../keyset/canonical-json.js'
import { sha256Hex } from '../keyset/digest.js'
import { StrictRouteCorsSchema } from '../keyset/cors-schema.js'
import { RouteAuthSchema } from '../keyset/jwt-schema.js'
import { RouteSchema, TargetSchema, type Route } from '../keyset/schema.js'
import { assertSecureTargets, assertValidRoutes } from '../keyset/validate-routes.js'
import { ConsumerRegistry } from '../sync/consumer-registry.js'
import type { AdminDependencies } from './admin-api.js'
import { AdminError, describeIssues, parseBody, pathId } from './admin-http.js'
import { idRules } from './admin-input.js'
import type { Audit } from './audit-log.js'
import { keySetChanged } from './key-set-change.js'

/** The largest `PUT /routes` body, in bytes (1 MiB: some 3,000 routes); every other body is capped at 64 KiB. */
export const ROUTES_BODY_MAX_BYTES = 1024 * 1024

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A route's `auth` as the admin API takes it: strict, and the anonymous consumer by id or by username (Kong takes either). */
export const RouteAuthBody = v.strictObject({
  ...RouteAuthSchema.entries,
  anonymousConsumer: v.optional(v.pipe(v.string('expected a consumer id or username'), v.regex(/^[^\p{Cc}]{1,128}$/u, 'expected a consumer id or username'))),
})

// Strict at every level: a typo ("alowGroups") is refused instead of dropping the allow-list.
/** One route as the admin API takes it: RouteSchema's fields, strictly. */
export const RouteBody = v.strictObject({
  ...RouteSchema.entries,
  target: v.strictObject(TargetSchema.entries),
  auth: v.optional(RouteAuthBody, {}),
  cors: v.optional(StrictRouteCorsSchema),
})

/** The body of `PUT /routes`: the whole table. */
export const RoutesBody = v.strictObject({ routes: v.array(RouteBody, 'expected an array of routes') })

/** The body of `PATCH /routes/{id}`: the fields to replace, each whole (`methods: null` accepts every method again); the id does not change. */
export const RoutePatchBody = v.strictObject({
  paths: v.optional(RouteSchema.entries.paths),
  methods: v.optional(v.nullable(RouteSchema.entries.methods.wrapped)),
  stripPath: v.optional(v.boolean('expected true or false')),
  target: v.optional(v.strictObject(TargetSchema.entries)),
  auth: v.optional(RouteAuthBody),
  cors: v.optional(v.nullable(StrictRouteCorsSchema)),
})

/** A strong ETag of a route or of the table: part of the SHA-256 of its canonical JSON. */
export async function etagOf(value: unknown): Promise<string> {
  return `"${(await sha256Hex(canonicalJson(value))).slice(0, 32)}"`
}

/**
 * Checks `If-Match` (RFC 9110 §13.1.1) against the current ETag: `*` matches
 * anything that exists, a list matches when one of its tags does; no header, no check.
 * @throws {AdminError} 412 `precondition_failed`.
 */
export function checkIfMatch(c: Context, current: string | undefined, what: string): void {
  const header = c.req.header('if-match')
  if (header === undefined) return
  const tags = header.split(',').map((tag) => tag.trim())
  if (current !== undefined && (tags.includes('*') || tags.includes(current))) return
  throw new AdminError(412, 'precondition_failed', current === undefined ? `If-Match: the ${what} does not exist` : `If-Match: the ${what} changed since it was read; read it again (its ETag), then retry`)
}

/** Adds the route endpoints to the admin app. */
export function routeRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies, audit: Audit): void {
  const routeId = (c: Context) => pathId(c, 'id', 'route id', idRules.route)
  const answer = async (c: Context, route: Route, status: 200 | 201) => {
    c.header('etag', await etagOf(route))
    return c.json(route, status)
  }
  /** Checks the table a change leads to, saves it, and syncs it so the next request is routed by it (docs/revocation.md). */
  const save = async (c: Context, routes: Route[]) => {
    try {
      assertValidRoutes(routes)
      assertSecureTargets(routes, { allowInsecureLoopbackOrigins: dependencies(c).allowInsecureLoopbackOrigins ?? false })
    } catch (error) {
      throw new AdminError(400, 'invalid_body', (error as Error).message)
    }
    await dependencies(c).registry.saveRoutes(routes)
    return keySetChanged(c, dependencies(c))
  }

  app.get('/routes', async (c) => {
    const routes = await dependencies(c).registry.routes()
    c.header('etag', await etagOf(routes))
    return c.json({ routes })
  })

  app.put('/routes', async (c) => {
    const deps = dependencies(c)
    const body = await parseBody(c, RoutesBody, { maxBytes: ROUTES_BODY_MAX_BYTES })
    checkIfMatch(c, await etagOf(await deps.registry.routes()), 'route table')
    const routes = await Promise.all(body.routes.map((route, index) => withConsumerIds(route, deps, `routes.${index}.`)))
    const sync = await save(c, routes)
    audit(c, 'routes.replace', 'routes')
    c.header('etag', await etagOf(routes))
    return c.json({ routes: routes.length, sync })
  })

  app.post('/routes', async (c) => {
    const deps = dependencies(c)
    const route = await withConsumerIds(await parseBody(c, RouteBody), deps)
    const routes = await deps.registry.routes()
    if (routes.some((r) => r.id === route.id)) throw new AdminError(409, 'route_exists', `id: a route with this id exists; change it with PATCH /routes/${route.id}`)
    await save(c, [...routes, route])
    audit(c, 'route.create', route.id)
    c.header('location', `${new URL(c.req.url).pathname}/${route.id}`)
    return answer(c, route, 201)
  })

  app.get('/routes/:id', async (c) => {
    const id = routeId(c)
    const route = (await dependencies(c).registry.routes()).find((r) => r.id === id)
    if (!route) throw new AdminError(404, 'route_not_found', 'no route has this id')
    return answer(c, route, 200)
  })

  app.patch('/routes/:id', async (c) => {
    const id = routeId(c)
    const deps = dependencies(c)
    const patch = await parseBody(c, RoutePatchBody)
    const routes = await deps.registry.routes()
    const current = routes.find((r) => r.id === id)
    checkIfMatch(c, current ? await etagOf(current) : undefined, 'route')
    if (!current) throw new AdminError(404, 'route_not_found', 'no route has this id')
    const { methods, cors, ...fields } = patch
    const merged: Record<string, unknown> = { ...current, ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) }
    if (methods === null) delete merged.methods
    else if (methods !== undefined) merged.methods = methods
    if (cors === null) delete merged.cors
    else if (cors !== undefined) merged.cors = cors
    const parsed = v.safeParse(RouteBody, merged)
    if (!parsed.success) throw new AdminError(400, 'invalid_body', describeIssues(parsed.issues))
    const route = await withConsumerIds(parsed.output, deps)
    await save(
      c,
      routes.map((r) => (r.id === id ? route : r)),
    )
    audit(c, 'route.update', id)
    return answer(c, route, 200)
  })

  app.delete('/routes/:id', async (c) => {
    const id = routeId(c)
    const deps = dependencies(c)
    const routes = await deps.registry.routes()
    const current = routes.find((r) => r.id === id)
    checkIfMatch(c, current ? await etagOf(current) : undefined, 'route')
    if (!current) throw new AdminError(404, 'route_not_found', 'no route has this id')
    await save(
      c,
      routes.filter((r) => r.id !== id),
    )
    audit(c, 'route.delete', id)
    return c.body(null, 204)
  })
}

/**
 * The route as stored: `auth.anonymousConsumer` given as a username becomes the
 * consumer's id (a UUID is kept as given). The id is stored, so renaming is not
 * an issue (usernames do not change) and the request path reads no index.
 * @throws {AdminError} 400 `invalid_body` when no consumer has the username.
 */
async function withConsumerIds(route: v.InferOutput<typeof RouteBody>, deps: AdminDependencies, field = ''): Promise<Route> {
  const anonymous = route.auth.anonymousConsumer
  if (anonymous === undefined || UUID.test(anonymous)) return v.parse(RouteSchema, route)
  const consumer = await new ConsumerRegistry(deps.kv).findConsumer(anonymous)
  if (!consumer) throw new AdminError(400, 'invalid_body', `${field}auth.anonymousConsumer: no consumer has this username`)
  return v.parse(RouteSchema, { ...route, auth: { ...route.auth, anonymousConsumer: consumer.id } })
}
