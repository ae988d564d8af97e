import { Hono } from 'hono/tiny'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { EdgeAuthError } from './errors.js'
import { edgeAuth, refusal, requestIdOf } from './middleware/edge-auth.js'
import type { EdgeAuthVariables } from './middleware/identity.js'
import type { EdgeAuthOptions } from './middleware/options.js'
import type { KeySetStore } from './keyset/store.js'
import { CLOUDFLARE_CLIENT_IP_HEADER, clientIpFromHeader } from './proxy/client-ip.js'
import { answerPreflight, preflightMethod, preflightRoute, withCorsHeaders } from './proxy/cors.js'
import { forwardToOrigin } from './proxy/forward.js'
import { matchRouteRemembered, type RouteMatch } from './proxy/match-route.js'
import { normalizePathRemembered } from './http/normalize-path.js'
import { RefusalCounts } from './proxy/refusal-counts.js'
import { problemJson } from './http/problem-json.js'
import type { UsageRecorder } from './usage/usage-recorder.js'

/** The gateway's context variables (typed for its own app only, never globally). */
export type GatewayVariables = EdgeAuthVariables & {
  /** The route the gateway matched, with the normalised path. */
  edgeRoute: RouteMatch & { path: string }
  /** The normalised request path, set before any route is matched (unset when the path cannot be normalised). */
  edgePath: string
  /** The request URL, parsed once for the gateway's steps. */
  edgeUrl: URL
  /** The refusal, when the gateway refused the request (`internal_error` for an unexpected failure). */
  edgeRefusal: { code: string; credentialId: string | undefined }
  requestId: string
}

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The key set, as for {@link edgeAuth}. */
  keySet: (c: Context) => KeySetStore
  /** The credential sent as `X-Auth-Token` to private origins; read per request (Worker secrets live in `env`). */
  originToken: (c: Context) => string | undefined
  /** Milliseconds to wait for an origin's response headers. Default 30000. */
  originTimeoutMs?: number
  realm?: string
  fullAccessAllowsInvoke?: boolean
  clock?: () => number
  /** The Worker secret sealing consumers' HMAC secrets; read per request. */
  credentialEncryptionKey?: (c: Context) => string | undefined
  /** The legacy-token migration schedule (see {@link EdgeAuthOptions.legacyTokens}). */
  legacyTokens?: EdgeAuthOptions['legacyTokens']
  /** Outbound fetch, for tests. Default the global `fetch`. */
  fetch?: typeof fetch
  /**
   * Which requests get an access-log line: every one; refusals and failures only
   * (status ≥ 400); none; or `counted`: every accepted request and failure (≥ 500)
   * its line, refusals (4xx) counted per status, code and route and written as one
   * `{"event":"refusals",…}` line per `refusalSummaryIntervalMs` (by the first request
   * that ends after it). Default `all`.
   */
  accessLog?: 'all' | 'refusals' | 'off' | 'counted'
  /** With `accessLog: 'counted'`: milliseconds between two refusal summaries. Default 60000. */
  refusalSummaryIntervalMs?: number
  /**
   * Where access-log lines go (one JSON object a request; never a credential). Default:
   * one JSON string per line through `console.log`, `console.warn` or `console.error`
   * by the line's `level`, so Workers Logs and Logpush record the same level.
   */
  log?: (line: Record<string, unknown>) => void
  /**
   * The request header that names the client's address, sent to origins as
   * `X-Forwarded-For`; `null` for none. Default `cf-connecting-ip`, read only on
   * Cloudflare (where `request.cf` is set and the edge overwrites what a client
   * sent); another name is read as it comes, so it must be set by a proxy of
   * yours that overwrites the client's. Whatever the name, a client's copy never
   * reaches the origin.
   */
  clientIpHeader?: string | null
  /**
   * The client's address from the connection, when no trusted header names it
   * (Node, Bun, Deno: e.g. `(c) => getConnInfo(c).remote.address` from the
   * runtime's `hono/…` adapter). Default none.
   */
  connectionIp?: (c: Context) => string | undefined
  /** The region of the targets (`SCW_REGION`), for `resource.region` in conditions when the key set does not say. */
  region?: string
  /** Private targets on loopback hosts may be `http://` (local stacks and tests only). Default `false`: private targets must be `https://`. */
  allowInsecureLoopbackOrigins?: boolean
  /**
   * Where accepted requests are counted per credential, route and day (a map
   * increment; flushed in the background): e.g. `usageRecorder((env) => env.USAGE)`
   * from src/usage/usage-binding.ts. Read per request; `undefined` counts nothing. Default none.
   */
  usage?: (c: Context) => UsageRecorder | undefined
}

/**
 * The gateway as a Hono app: normalise the path, match a route from the key
 * set, authenticate and authorise with {@link edgeAuth}, forward to the origin.
 *
 * @throws {TypeError} naming a bad option.
 */
export function createGateway(options: GatewayOptions): Hono<{ Variables: GatewayVariables }> {
  const realm = options.realm ?? 'edge-auth-gateway'
  const timeoutMs = options.originTimeoutMs ?? 30_000
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('createGateway: originTimeoutMs must be a positive integer')
  const log = options.log ?? consoleLine
  const clientIpHeader = options.clientIpHeader === undefined ? CLOUDFLARE_CLIENT_IP_HEADER : options.clientIpHeader?.toLowerCase() ?? null
  if (clientIpHeader !== null && !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(clientIpHeader)) throw new TypeError('createGateway: clientIpHeader must be a header name or null')
  const allowInsecureLoopbackOrigins = options.allowInsecureLoopbackOrigins ?? false
  // One rule for the client's address: what the origin gets as X-Forwarded-For is what conditions see as request.ip.
  const clientIp = (c: Context): string | undefined => clientIpFromHeader(c.req.raw, clientIpHeader) ?? options.connectionIp?.(c)
  const auth = edgeAuth<{ Variables: GatewayVariables }>({
    keySet: options.keySet,
    target: (c) => c.get('edgeRoute')?.route.target,
    auth: (c) => c.get('edgeRoute')?.route.auth,
    ...(options.credentialEncryptionKey ? { credentialEncryptionKey: options.credentialEncryptionKey } : {}),
    ...(options.legacyTokens ? { legacyTokens: options.legacyTokens } : {}),
    realm,
    ...(options.fullAccessAllowsInvoke !== undefined ? { fullAccessAllowsInvoke: options.fullAccessAllowsInvoke } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.region ? { region: options.region } : {}),
    clientIp,
  } satisfies EdgeAuthOptions<{ Variables: GatewayVariables }>)

  const app = new Hono<{ Variables: GatewayVariables }>()

  const logLevel = options.accessLog ?? 'all'
  if (!['all', 'refusals', 'off', 'counted'].includes(logLevel)) throw new TypeError('createGateway: accessLog must be all, refusals, off or counted')
  const refusals = logLevel === 'counted' ? new RefusalCounts(options.refusalSummaryIntervalMs ?? 60_000) : undefined
  const now = options.clock ?? Date.now
  app.use(async function accessLog(c, next) {
    const started = Date.now()
    requestIdOf(c)
    await next()
    const route = c.get('edgeRoute')
    const identity = c.get('edgeAuth')
    // Accepted requests only: edgeAuth sets the identity once it has authenticated and authorised.
    if (identity && route && options.usage) options.usage(c)?.count({ identity, routeId: route.route.id, userAgent: c.req.header('user-agent') }, (promise) => background(c, promise))
    if (logLevel === 'off' || (logLevel === 'refusals' && c.res.status < 400)) return
    if (refusals) {
      const at = now()
      const summary = refusals.take(at)
      if (summary) log({ time: new Date(at).toISOString(), level: 'warn', event: 'refusals', ...summary })
      if (c.res.status >= 400 && c.res.status < 500) return refusals.count(c.res.status, c.get('edgeRefusal')?.code ?? null, route?.route.id ?? null, at)
    }
    log({
      time: new Date(started).toISOString(),
      level: levelOf(c.res.status),
      request_id: c.get('requestId'),
      method: c.req.method,
      // The normalised path only: query strings may carry tokens.
      path: c.get('edgePath') ?? null,
      route: route?.route.id ?? null,
      status: c.res.status,
      code: c.get('edgeRefusal')?.code ?? null,
      auth_method: identity?.method ?? null,
      principal: identity?.principal.id ?? null,
      credential_id: identity?.credentialId ?? c.get('edgeRefusal')?.credentialId ?? null,
      duration_ms: Date.now() - started,
    })
  })

  app.use(async function routeMatch(c, next) {
    try {
      const url = new URL(c.req.url)
      c.set('edgeUrl', url)
      const path = normalizePathRemembered(url.pathname)
      c.set('edgePath', path)
      const keySet = await options.keySet(c).current({ waitUntil: (p) => c.executionCtx.waitUntil(p) })
      // A preflight is about the method it asks for: routed by that method when that route has a CORS policy.
      const asked = preflightMethod(c.req.raw)
      const preflight = asked === undefined ? undefined : preflightRoute(keySet.routes, path, asked)
      c.set('edgeRoute', { ...(preflight ?? matchRouteRemembered(keySet.routes, path, c.req.method)), path })
    } catch (error) {
      throw refusal(c, error, realm)
    }
    await next()
  })

  // Before authentication: a preflight carries no credential, and refusals need the CORS headers too.
  app.use(async function routeCors(c, next) {
    const route = c.get('edgeRoute').route
    const policy = route.cors
    if (!policy) return next()
    if (preflightMethod(c.req.raw) !== undefined) return answerPreflight(c, route, policy, requestIdOf(c))
    await next()
    const res = withCorsHeaders(c.res, policy, c.req.header('origin') ?? null)
    // Unset first: hono's setter would copy the old response's headers (the origin's CORS headers) onto the new one.
    c.res = undefined
    c.res = res
  })

  app.use(auth)

  app.all('*', async function forward(c) {
    const route = c.get('edgeRoute')
    try {
      return await forwardToOrigin(c.req.raw, {
        match: route,
        path: route.path,
        identity: c.get('edgeAuth'),
        requestId: c.get('requestId'),
        originToken: options.originToken(c),
        timeoutMs,
        credentialHeaders: route.route.auth.headerNames,
        credentialQueryParameters: route.route.auth.queryParameters,
        credentialCookies: route.route.auth.cookies,
        clientIp: clientIp(c),
        clientIpHeader,
        allowInsecureLoopbackOrigins,
        url: c.get('edgeUrl'),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
    } catch (error) {
      throw refusal(c, error, realm)
    }
  })

  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      if (error.cause instanceof EdgeAuthError) {
        c.set('edgeRefusal', { code: error.cause.code, credentialId: error.cause.details.credentialId })
        // A refusal's response (problemResponse) is fresh and has the exception's status: no copy of it (getResponse makes one).
        if (error.res && error.res.status === error.status) return error.res
      }
      return error.getResponse()
    }
    // An unexpected failure: log its message (never request material) and answer a bare 500.
    c.set('edgeRefusal', { code: 'internal_error', credentialId: undefined })
    log({ time: new Date().toISOString(), level: 'error', request_id: c.get('requestId'), error: error instanceof Error ? error.message : String(error) })
    return problemJson({ status: 500, code: 'internal_error', title: 'Internal Server Error', detail: 'The gateway failed unexpectedly; the request id is in the log.', requestId: requestIdOf(c) })
  })

  return app
}

/** Keeps background work alive after the response (`waitUntil`); outside Workers it just runs. */
function background(c: Context, promise: Promise<unknown>): void {
  let executionCtx: Context['executionCtx'] | undefined
  try {
    executionCtx = c.executionCtx
  } catch {
    // Node, Bun, Deno, app.request() without an execution context.
  }
  if (executionCtx) executionCtx.waitUntil(promise)
  else void promise.catch(() => undefined)
}

/** An access line's level: `info` for an answer, `warn` for a refusal (4xx), `error` for a failure (5xx). */
function levelOf(status: number): 'info' | 'warn' | 'error' {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info'
}

/** Writes a line as JSON through the console method of its level (Workers Logs and Logpush's `Logs[].Level` follow the method). */
function consoleLine(line: Record<string, unknown>): void {
  const text = JSON.stringify(line)
  if (line.level === 'error') console.error(text)
  else if (line.level === 'warn') console.warn(text)
  else console.log(text)
}
