import { BoundedMap } from '../util/bounded-map.js'
import type { RouteMatch } from './match-route.js'

/**
 * The origin URL: the target's base path joined with the part of the request
 * path it forwards, and the target's own query string followed by the client's.
 * @param search The client's query string to send (`''` or starting with `?`), as the client wrote it.
 * @example
 * ```ts
 * // target https://o.example/fn?v=2, route /app stripping its prefix, request /app/x?y=1
 * upstreamUrl(target.url, match, '/app/x', '?y=1').href // 'https://o.example/fn/x?v=2&y=1'
 * ```
 */
export function upstreamUrl(targetUrl: string, match: RouteMatch, path: string, search: string): URL {
  const target = partsOf(targetUrl)
  const forwarded = match.route.stripPath ? match.rest : path
  const pathname = forwarded === '' ? target.pathname : `${target.base}${forwarded}`
  const client = search.slice(1)
  const query = target.query && client ? `${target.query}&${client}` : target.query || client
  // One parse of the result; the pieces of the target's URL are parsed once per target.
  return new URL(`${target.head}${pathname}${query ? `?${query}` : ''}${target.hash}`)
}

/** A target URL in pieces: all before the path (scheme, user info, host), the path, the path without trailing slashes, its query, its fragment. */
interface TargetParts {
  head: string
  pathname: string
  base: string
  query: string
  hash: string
}

// Bounded: one entry per target URL of the key set.
const targets = new BoundedMap<string, TargetParts>(1024)

function partsOf(targetUrl: string): TargetParts {
  const known = targets.get(targetUrl)
  if (known) return known
  const url = new URL(targetUrl)
  const tail = `${url.pathname}${url.search}${url.hash}`
  return targets.set(targetUrl, { head: url.href.slice(0, url.href.length - tail.length), pathname: url.pathname, base: url.pathname.replace(/\/+$/, ''), query: url.search.slice(1), hash: url.hash })
}

/**
 * The client's query string without the parameters that carried credentials,
 * every other byte as the client wrote it: the pairs are cut out of the raw
 * string, never re-serialised (which would turn `%20` into `+` and `flag` into
 * `flag=`). A parameter's name is compared decoded, as `URLSearchParams` (and so
 * the credential extraction) reads it: `api%6Bey` is `apikey`.
 * @example
 * ```ts
 * forwardedSearch('?x=a%20b&apikey=K&flag', ['apikey']) // '?x=a%20b&flag'
 * ```
 */
export function forwardedSearch(search: string, credentialParameters: readonly string[]): string {
  if (credentialParameters.length === 0 || search.length <= 1) return search
  const pairs = search.slice(1).split('&')
  const kept = pairs.filter((pair) => !credentialParameters.includes(parameterName(pair)))
  if (kept.length === pairs.length) return search
  const query = kept.join('&')
  return query === '' ? '' : `?${query}`
}

function parameterName(pair: string): string {
  const eq = pair.indexOf('=')
  // application/x-www-form-urlencoded parsing of the name alone, as URLSearchParams does it.
  for (const [name] of new URLSearchParams(`${eq < 0 ? pair : pair.slice(0, eq)}=`)) return name
  return ''
}
