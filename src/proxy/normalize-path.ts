import { EdgeAuthError } from '../errors.js'

const UNRESERVED = /%(2[DEde]|5[Ff]|7[Ee]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa])/g
const ENCODED_SEPARATOR = /%(2[Ff]|5[Cc])/
const ENCODED_DOT_SEGMENT = /^(?:\.|%2[Ee]){1,2}$/

/**
 * Normalises a request path before any route is matched, so that nothing in it
 * can move a request out of the route that protects it:
 *
 * - percent-encoded unreserved characters are decoded (RFC 3986 §6.2.2.2), so
 *   `/%61pp` is `/app`;
 * - an encoded `/` or `\` (`%2F`, `%5C`) is refused: origins disagree on whether it
 *   separates segments (Envoy's `path_with_escaped_slashes_action: REJECT_REQUEST`);
 * - empty segments are merged (`//` → `/`);
 * - dot segments are removed (RFC 3986 §5.2.4), encoded ones included, and none may
 *   climb above the root.
 *
 * The result is what the origin receives, so the gateway and the origin see the same path.
 *
 * @param rawPath The path exactly as the URL parser gave it (still percent-encoded).
 * @throws {EdgeAuthError} `path_invalid` for an encoded separator or a malformed escape.
 */
export function normalizePath(rawPath: string): string {
  if (ENCODED_SEPARATOR.test(rawPath) || rawPath.includes('\\')) {
    throw new EdgeAuthError('path_invalid', 'path contains an encoded or literal separator other than /')
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(rawPath)) throw new EdgeAuthError('path_invalid', 'path contains a malformed percent escape')
  const decoded = rawPath.replace(UNRESERVED, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)))
  const output: string[] = []
  for (const segment of decoded.split('/')) {
    if (segment === '' ) continue
    if (ENCODED_DOT_SEGMENT.test(segment)) {
      if (segment.replaceAll(/%2e/gi, '.') === '..') output.pop()
      continue
    }
    output.push(segment)
  }
  const trailingSlash = decoded.length > 1 && decoded.endsWith('/') && output.length > 0
  return `/${output.join('/')}${trailingSlash ? '/' : ''}`
}
