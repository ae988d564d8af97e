import { proxy } from 'hono/proxy'
import { EdgeAuthError } from '../errors.js'
import type { EdgeAuthIdentity } from '../middleware/identity.js'
import { parseCookies } from '../middleware/extract.js'
import type { RouteMatch } from './match-route.js'

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
  /** The client's address, from `CF-Connecting-IP`. */
  clientIp: string | undefined
  fetch?: typeof fetch
}

/**
 * Request headers a client must never be able to set towards an origin: its
 * credentials, and the identity headers the gateway itself asserts (Kong's names).
 */
const STRIPPED_REQUEST_HEADERS = [
  'authorization',
  'x-auth-token',
  'x-consumer-id',
  'x-consumer-custom-id',
  'x-consumer-username',
  'x-consumer-groups',
  'x-credential-identifier',
  'x-anonymous-consumer',
  'x-anonymous-groups',
  'x-auth-method',
  'x-authenticated-scope',
  'x-authenticated-userid',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-path',
  'x-real-ip',
  'forwarded',
] as const

/**
 * Joins the target's base path and the part of the request path it forwards.
 * @param search The query string to send (`''` or starting with `?`), as the client wrote it.
 */
export function upstreamUrl(targetUrl: string, match: RouteMatch, path: string, search: string): URL {
  const url = new URL(targetUrl)
  const forwarded = match.route.stripPath ? match.rest : path
  const base = url.pathname.replace(/\/+$/, '')
  url.pathname = forwarded === '' ? url.pathname : `${base}${forwarded}`
  url.search = search
  return url
}

/**
 * The query string without the parameters that carried credentials. Untouched
 * (byte for byte, as the client encoded it) when there are none to remove:
 * re-serialising would turn `%20` into `+` behind the origin's back.
 */
function forwardedSearch(search: string, credentialParameters: readonly string[]): string {
  if (credentialParameters.length === 0 || search === '') return search
  const params = new URLSearchParams(search)
  if (!credentialParameters.some((name) => params.has(name))) return search
  for (const name of credentialParameters) params.delete(name)
  const query = params.toString()
  return query === '' ? '' : `?${query}`
}

/**
 * Sends the request on to the route's origin and streams the answer back.
 *
 * The origin sees no client credential (headers, query parameters, cookies) and no
 * identity header the client made up; it gets the gateway's identity headers,
 * `X-Forwarded-*`, `X-Request-Id` and, for private origins, the origin credential.
 * Redirects come back to the client as they are; hop-by-hop headers are dropped
 * both ways (`hono/proxy`).
 *
 * @throws {EdgeAuthError} `origin_timeout` when no response headers arrive in time,
 *   `origin_unreachable` when the connection fails.
 */
export async function forwardToOrigin(request: Request, options: ForwardOptions): Promise<Response> {
  const incoming = new URL(request.url)
  const url = upstreamUrl(options.match.route.target.url, options.match, options.path, forwardedSearch(incoming.search, options.credentialQueryParameters))

  const headers = new Headers(request.headers)
  dropHopByHop(headers)
  for (const name of STRIPPED_REQUEST_HEADERS) headers.delete(name)
  for (const name of options.credentialHeaders) headers.delete(name)
  if (options.credentialCookies.length > 0) stripCookies(headers, options.credentialCookies)
  setIdentityHeaders(headers, options.identity)
  headers.set('x-request-id', options.requestId)
  if (options.clientIp) headers.set('x-forwarded-for', options.clientIp)
  headers.set('x-forwarded-proto', incoming.protocol.replace(':', ''))
  headers.set('x-forwarded-host', incoming.host)
  if (options.match.route.stripPath && options.match.prefix !== '/') headers.set('x-forwarded-prefix', options.match.prefix)
  if (options.match.route.target.privacy === 'private' && options.originToken) headers.set('x-auth-token', options.originToken)

  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs)
  let response: Response
  try {
    response = await proxy(url, {
      method: request.method,
      headers,
      body: request.body,
      redirect: 'manual',
      signal: controller.signal,
      ...(options.fetch ? { customFetch: options.fetch } : {}),
    })
  } catch (cause) {
    if (controller.signal.aborted) {
      throw new EdgeAuthError('origin_timeout', `origin ${url.host} sent no response headers within ${options.timeoutMs} ms`, {}, { cause })
    }
    throw new EdgeAuthError('origin_unreachable', `origin ${url.host} unreachable`, {}, { cause })
  } finally {
    // Only the wait for headers is bounded: a long streamed body is the origin's to send.
    clearTimeout(timer)
  }
  // hono/proxy answers with a fresh Response whose headers are mutable: no second copy.
  response.headers.set('x-request-id', options.requestId)
  return response
}

/** Kong's identity headers, so upstreams written for Kong work unchanged. */
function setIdentityHeaders(headers: Headers, identity: EdgeAuthIdentity): void {
  headers.set('x-consumer-id', identity.principal.id)
  if (identity.principal.name) headers.set('x-consumer-username', identity.principal.name)
  if (identity.consumer?.customId) headers.set('x-consumer-custom-id', identity.consumer.customId)
  if (identity.consumer && identity.consumer.groups.length > 0) headers.set('x-consumer-groups', identity.consumer.groups.join(', '))
  if (identity.method === 'anonymous') headers.set('x-anonymous-consumer', 'true')
  else headers.set('x-credential-identifier', identity.credentialId)
  headers.set('x-auth-method', identity.method)
}

// RFC 9110 §7.6.1: hop-by-hop fields, and every field the Connection header names.
// hono/proxy drops them from responses, and from requests only when given the raw request.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']

function dropHopByHop(headers: Headers): void {
  for (const name of (headers.get('connection') ?? '').split(',')) {
    const trimmed = name.trim().toLowerCase()
    if (/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(trimmed)) headers.delete(trimmed)
  }
  for (const name of HOP_BY_HOP) headers.delete(name)
}

function stripCookies(headers: Headers, names: readonly string[]): void {
  const cookies = parseCookies(headers.get('cookie'))
  for (const name of names) cookies.delete(name)
  const kept = [...cookies].flatMap(([name, values]) => values.map((value) => `${name}=${value}`))
  if (kept.length === 0) headers.delete('cookie')
  else headers.set('cookie', kept.join('; '))
}
