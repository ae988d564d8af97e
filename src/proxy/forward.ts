import { EdgeAuthError } from '../errors.js'
import { insecureTargetReason } from '../keyset/validate-routes.js'
import { withoutCookies } from '../http/cookie-header.js'
import type { EdgeAuthIdentity } from '../identity.js'
import type { Target } from '../keyset/schema.js'
import type { RouteMatch } from './match-route.js'
import { headersForClient, headersForOrigin, setIdentityHeaders } from './origin-headers.js'
import { forwardedSearch, upstreamUrl } from './upstream-url.js'

/** What {@link forwardToOrigin} needs besides the request. */
export interface ForwardOptions {
  match: RouteMatch
  /** The normalised path the route was matched on; the origin gets exactly this. */
  path: string
  identity: EdgeAuthIdentity
  requestId: string
  /** The gateway's own credential, sent as `X-Auth-Token` to private origins. */
  originToken: string | undefined
  /** Milliseconds to wait for the origin's response headers before 504. */
  timeoutMs: number
  /** Headers, query parameters and cookies that may carry credentials; removed before forwarding. */
  credentialHeaders: readonly string[]
  credentialQueryParameters: readonly string[]
  credentialCookies: readonly string[]
  /** The client's address, as far as the gateway can trust it (see `clientIpFromHeader`); sent as `X-Forwarded-For`. */
  clientIp: string | undefined
  /** The header that named the client's address (`null`: none); whatever its name, the client's copy is removed. */
  clientIpHeader: string | null
  /** Private targets on loopback hosts may be `http://` (local stacks and tests). */
  allowInsecureLoopbackOrigins: boolean
  fetch?: typeof fetch
  /** The request's URL, parsed already (the gateway parses it once per request). Default: parsed from `request.url`. */
  url?: URL
}

// Per target of a key-set snapshot (targets are immutable), and per setting: the check parses the URL.
const insecureReasons = new WeakMap<Target, { allow: boolean; reason: string | undefined }>()
function insecureReasonOf(target: Target, allowInsecureLoopbackOrigins: boolean): string | undefined {
  let known = insecureReasons.get(target)
  if (known?.allow !== allowInsecureLoopbackOrigins) {
    known = { allow: allowInsecureLoopbackOrigins, reason: insecureTargetReason(target, { allowInsecureLoopbackOrigins }) }
    insecureReasons.set(target, known)
  }
  return known.reason
}

/**
 * Sends the request on to the route's origin and streams the answer back.
 *
 * The origin sees no client credential (headers, query parameters, cookies) and no
 * identity, forwarding, client-address or override header the client made up, in
 * any spelling; it gets the gateway's identity headers, `X-Forwarded-*`,
 * `X-Request-Id` and, for private origins (`https://` only), the origin
 * credential. The query string and cookies arrive as the client wrote them, less
 * the credentials. Redirects come back to the client as they are; hop-by-hop
 * headers are dropped both ways (as `hono/proxy` does, in one copy of each side's
 * headers), and an `X-Auth-Token` in the origin's answer is dropped.
 *
 * @throws {EdgeAuthError} `origin_timeout` when no response headers arrive in time,
 *   `origin_unreachable` when the connection fails.
 * @throws {Error} when the route sends a private request to an origin that may not
 *   receive the origin credential (a misconfigured route: a 500, never a request).
 */
export async function forwardToOrigin(request: Request, options: ForwardOptions): Promise<Response> {
  const target = options.match.route.target
  const insecure = insecureReasonOf(target, options.allowInsecureLoopbackOrigins)
  if (insecure) throw new Error(`route ${options.match.route.id}: ${insecure}`)
  const incoming = options.url ?? new URL(request.url)
  const url = upstreamUrl(target.url, options.match, options.path, forwardedSearch(incoming.search, options.credentialQueryParameters))

  const headers = headersForOrigin(request.headers, options.credentialHeaders, options.clientIpHeader)
  const cookie = headers.get('cookie')
  if (cookie !== null && options.credentialCookies.length > 0) {
    const kept = withoutCookies(cookie, options.credentialCookies)
    if (kept === undefined) headers.delete('cookie')
    else headers.set('cookie', kept)
  }
  setIdentityHeaders(headers, options.identity)
  headers.set('x-request-id', options.requestId)
  if (options.clientIp) headers.set('x-forwarded-for', options.clientIp)
  headers.set('x-forwarded-proto', incoming.protocol.replace(':', ''))
  headers.set('x-forwarded-host', incoming.host)
  if (options.match.route.stripPath && options.match.prefix !== '/') headers.set('x-forwarded-prefix', options.match.prefix)
  if (target.privacy === 'private' && options.originToken) headers.set('x-auth-token', options.originToken)

  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs)
  let response: Response
  try {
    response = await (options.fetch ?? fetch)(url, { method: request.method, headers, body: request.body, redirect: 'manual', signal: controller.signal })
  } catch (cause) {
    if (controller.signal.aborted) {
      throw new EdgeAuthError('origin_timeout', `origin ${url.host} sent no response headers within ${options.timeoutMs} ms`, {}, { cause })
    }
    throw new EdgeAuthError('origin_unreachable', `origin ${url.host} unreachable`, {}, { cause })
  } finally {
    // Only the wait for headers is bounded: a long streamed body is the origin's to send.
    clearTimeout(timer)
  }
  // fetch()'s response headers are immutable: one copy, filtered, in a new Response that streams the same body.
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: headersForClient(response.headers, options.requestId) })
}
