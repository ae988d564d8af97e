import { EdgeAuthError } from '../errors.js'
import { BoundedMap } from '../util/bounded-map.js'

const UNRESERVED = /%(2[DEde]|5[Ff]|7[Ee]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa])/g
const ESCAPE = /%[0-9A-Fa-f]{2}/g
/**
 * Forms that servers behind the gateway read differently from it, refused outright:
 * - `;` and `%3B`: path parameters (`/app/..;/admin` is `/admin` to Tomcat and Spring,
 *   `/app;jsessionid=1` is `/app` to Jetty);
 * - `%2F`, `%5C` and `\`: a separator to some servers, not to others;
 * - `%25`: a second round of decoding (`%252e%252e` → `%2e%2e` → `..`);
 * - `%00`–`%1F`, `%7F`: control characters, which some servers cut the path at.
 */
const AMBIGUOUS = /;|\\|%(?:3[Bb]|2[Ff]|5[Cc]|25|[01][0-9A-Fa-f]|7[Ff])/
/** A dot segment spelt with an escape: decoded before dot segments are removed by some servers, after by others. */
const ENCODED_DOT_SEGMENT = /^(?:\.|%2[Ee]){1,2}$/

/**
 * Normalises a request path before any route is matched, so that nothing in it
 * can move a request out of the route that protects it, and the origin reads
 * the path exactly as the gateway matched it:
 *
 * - forms that servers read differently (path parameters, encoded separators,
 *   double encoding, control characters, encoded dot segments) are refused, as
 *   Spring Security's `StrictHttpFirewall` and Envoy's
 *   `path_with_escaped_slashes_action: REJECT_REQUEST` do;
 * - percent-encoded unreserved characters are decoded and the other escapes
 *   written in upper case (RFC 3986 §6.2.2.1–2), so `/%61pp` is `/app`;
 * - empty segments are merged (`//` → `/`);
 * - dot segments are removed (RFC 3986 §5.2.4), and none may climb above the root.
 *
 * The result is what the origin receives. Route prefixes are held to the same
 * form ({@link routePrefixNormalForm}).
 *
 * @param rawPath The path exactly as the URL parser gave it (still percent-encoded).
 * @throws {EdgeAuthError} `path_invalid` for an ambiguous form or a malformed escape.
 * @example
 * ```ts
 * normalizePath('/%61pp//x/./y/../z') // '/app/x/z'
 * normalizePath('/app/..;/admin')     // throws path_invalid
 * ```
 */
export function normalizePath(rawPath: string): string {
  if (AMBIGUOUS.test(rawPath)) throw new EdgeAuthError('path_invalid', 'path contains a parameter, an encoded separator, a double escape or a control character')
  if (/%(?![0-9A-Fa-f]{2})/.test(rawPath)) throw new EdgeAuthError('path_invalid', 'path contains a malformed percent escape')
  const output: string[] = []
  for (const raw of rawPath.split('/')) {
    if (raw === '' || raw === '.') continue
    if (raw === '..') {
      output.pop()
      continue
    }
    if (ENCODED_DOT_SEGMENT.test(raw)) throw new EdgeAuthError('path_invalid', 'path contains an encoded dot segment')
    output.push(raw.replace(UNRESERVED, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16))).replace(ESCAPE, (escape) => escape.toUpperCase()))
  }
  const trailingSlash = rawPath.length > 1 && rawPath.endsWith('/') && output.length > 0
  return `/${output.join('/')}${trailingSlash ? '/' : ''}`
}

// Paths are the client's to choose: bounded, least recently used forgotten first.
const normalized = new BoundedMap<string, string>(1024)

/**
 * {@link normalizePath}, remembered for the paths seen last: a repeated path costs a
 * map lookup. Refused paths are not remembered (they throw each time).
 * @throws {EdgeAuthError} as {@link normalizePath}.
 */
export function normalizePathRemembered(rawPath: string): string {
  return normalized.get(rawPath) ?? normalized.set(rawPath, normalizePath(rawPath))
}

/**
 * The form a route prefix must be written in: what a request for that path
 * becomes once the URL parser (which percent-encodes, e.g. `é` → `%C3%A9`) and
 * {@link normalizePath} have read it. A prefix in any other form would never
 * match, or would match something else than it says.
 *
 * @throws {EdgeAuthError} `path_invalid` when the prefix holds a form that is refused in requests.
 * @example
 * ```ts
 * routePrefixNormalForm('/%7Ealice') // '/~alice'
 * ```
 */
export function routePrefixNormalForm(prefix: string): string {
  if (AMBIGUOUS.test(prefix)) throw new EdgeAuthError('path_invalid', 'prefix contains a parameter, an encoded separator, a double escape or a control character')
  return normalizePath(new URL(prefix, 'https://gateway.invalid').pathname)
}
