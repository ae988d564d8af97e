import { canonicalHeaderName } from '../http/header-name.js'
import type { EdgeAuthIdentity } from '../identity.js'

export { canonicalHeaderName }

/**
 * Request headers (canonical names) a client must never be able to set towards an
 * origin: its credentials; the identity headers the gateway asserts (Kong's
 * names); the request id, forwarding and client-address headers the gateway
 * sets; and the method and URL overrides that make a server handle another
 * request than the one the gateway matched (IIS, Symfony, Laravel, Express's
 * method-override, Rails).
 */
const CLIENT_MUST_NOT_SET = new Set([
  'authorization',
  'x-auth-token',
  'x-consumer-id',
  'x-consumer-custom-id',
  'x-consumer-username',
  'x-consumer-groups',
  'x-credential-identifier',
  'x-credential-username',
  'x-anonymous-consumer',
  'x-anonymous-groups',
  'x-auth-method',
  'x-authenticated-scope',
  'x-authenticated-userid',
  'x-authenticated-groups',
  'x-userinfo',
  'x-request-id',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-path',
  'x-forwarded-uri',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-original-forwarded-for',
  'front-end-https',
  'x-url-scheme',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'cf-pseudo-ipv4',
  'true-client-ip',
  'x-client-ip',
  'x-real-ip',
  'x-cluster-client-ip',
  'fastly-client-ip',
  'x-original-url',
  'x-original-uri',
  'x-rewrite-url',
  'x-original-host',
  'x-host',
  'x-envoy-original-path',
  'x-original-method',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
])

// RFC 9110 §7.6.1: hop-by-hop fields, and every field the Connection header names
// (hono/proxy's list, and `proxy-connection`). Accept-Encoding too, towards the origin:
// the runtime negotiates its own encoding with the origin and decodes the body (as hono/proxy does).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/

/** The header names a Connection header lists (lower case, valid tokens only). */
function connectionNamed(headers: Headers): Set<string> | undefined {
  const value = headers.get('connection')
  if (value === null) return undefined
  const names = new Set<string>()
  for (const name of value.split(',')) {
    const trimmed = name.trim().toLowerCase()
    if (TOKEN.test(trimmed)) names.add(trimmed)
  }
  return names
}

// The extra names of a route (its credential headers and the client-address header), canonical, per list.
const extraNames = new WeakMap<readonly string[], Map<string | null, ReadonlySet<string>>>()
function extraOf(credentialHeaders: readonly string[], clientIpHeader: string | null): ReadonlySet<string> {
  let byIp = extraNames.get(credentialHeaders)
  if (!byIp) extraNames.set(credentialHeaders, (byIp = new Map()))
  let extra = byIp.get(clientIpHeader)
  if (!extra) byIp.set(clientIpHeader, (extra = new Set([...credentialHeaders, ...(clientIpHeader ? [clientIpHeader] : [])].map(canonicalHeaderName))))
  return extra
}

/**
 * The request headers for the origin: the client's, less hop-by-hop fields,
 * `Accept-Encoding`, and every header, in any spelling, that the client must not
 * set (see above) or that carries a credential on this route. One copy, one pass
 * over the names.
 * @param credentialHeaders The route's extra credential headers.
 * @param clientIpHeader The configured client-address header, removed whatever its name.
 */
export function headersForOrigin(incoming: Headers, credentialHeaders: readonly string[], clientIpHeader: string | null): Headers {
  const headers = new Headers(incoming)
  const named = connectionNamed(headers)
  const extra = extraOf(credentialHeaders, clientIpHeader)
  for (const name of namesOf(headers)) {
    if (HOP_BY_HOP.has(name) || name === 'accept-encoding' || named?.has(name)) headers.delete(name)
    else {
      const canonical = canonicalHeaderName(name)
      if (CLIENT_MUST_NOT_SET.has(canonical) || extra.has(canonical)) headers.delete(name)
    }
  }
  return headers
}

/**
 * The origin's response headers for the client, in one copy: less hop-by-hop
 * fields (and those its Connection header names), less the origin credential
 * should an origin send it back (in any spelling); without `Content-Encoding` and
 * `Content-Length` when the runtime decoded the body (as hono/proxy does); with
 * the request id.
 */
export function headersForClient(origin: Headers, requestId: string): Headers {
  const headers = new Headers(origin)
  const named = connectionNamed(headers)
  for (const name of namesOf(headers)) {
    if (HOP_BY_HOP.has(name) || named?.has(name) || canonicalHeaderName(name) === 'x-auth-token') headers.delete(name)
  }
  if (headers.has('content-encoding')) {
    headers.delete('content-encoding')
    headers.delete('content-length')
  }
  headers.set('x-request-id', requestId)
  return headers
}

// What a header value carries byte for byte: the runtime trims leading and trailing
// spaces and tabs (Fetch "normalize"), so " admin " would arrive as "admin".
const HEADER_SAFE = /^(?![ \t])[^\p{Cc}]*(?<![ \t])$/u

/**
 * Kong's identity headers, so upstreams written for Kong work unchanged. A name
 * or custom id that a header would not carry as it is (leading or trailing
 * whitespace, which the runtime trims, or a control character) is not sent:
 * `" admin "` must not reach the origin as another consumer's `admin`. The
 * origin always has `X-Consumer-ID`.
 */
export function setIdentityHeaders(headers: Headers, identity: EdgeAuthIdentity): void {
  for (const [name, value] of identityHeadersOf(identity)) headers.set(name, value)
}

// An identity from the verification cache is the same object on every request: its headers are worked out once.
const identityHeaders = new WeakMap<EdgeAuthIdentity, readonly (readonly [string, string])[]>()

function identityHeadersOf(identity: EdgeAuthIdentity): readonly (readonly [string, string])[] {
  const known = identityHeaders.get(identity)
  if (known) return known
  const list: [string, string][] = [['x-consumer-id', identity.principal.id]]
  const name = identity.principal.name
  if (name && HEADER_SAFE.test(name)) list.push(['x-consumer-username', name])
  const customId = identity.consumer?.customId
  if (customId && HEADER_SAFE.test(customId)) list.push(['x-consumer-custom-id', customId])
  if (identity.consumer && identity.consumer.groups.length > 0) list.push(['x-consumer-groups', identity.consumer.groups.join(', ')])
  if (identity.method === 'anonymous') list.push(['x-anonymous-consumer', 'true'])
  else list.push(['x-credential-identifier', identity.credentialId])
  list.push(['x-auth-method', identity.method])
  identityHeaders.set(identity, list)
  return list
}

/**
 * Response headers the client must not see: the origin credential, should an
 * origin send it back (in any spelling).
 */
export function dropCredentialFromResponse(headers: Headers): void {
  for (const name of namesOf(headers)) if (canonicalHeaderName(name) === 'x-auth-token') headers.delete(name)
}

/** The names first, then deletions: deleting while iterating would skip names. */
function namesOf(headers: Headers): string[] {
  const names: string[] = []
  headers.forEach((_, name) => void names.push(name))
  return names
}
