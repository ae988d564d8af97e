/**
 * The `Cookie` header as the gateway reads and rewrites it. hono/cookie's `parse`
 * does not fit here: it keeps one value per name (a second, different credential
 * would go unseen), decodes values, and cannot say where a pair starts and ends,
 * which stripping needs to leave every other byte as the client sent it.
 *
 * Pairs are separated by `;` (RFC 6265 §5.4) and also by `,`: the runtime joins
 * several `Cookie` header lines with `, ` (Fetch's header combining), so
 * `a=1, session=K` holds two pairs, and some servers split on commas too.
 * @module
 */

const SEPARATOR = /([;,])/

/**
 * Cookie values by name, a name possibly repeated, surrounding whitespace and
 * DQUOTEs removed (RFC 6265 §4.1.1).
 * @example
 * ```ts
 * parseCookies('a=1; b="2", a=3') // Map { a → ['1', '3'], b → ['2'] }
 * ```
 */
export function parseCookies(header: string | null): Map<string, string[]> {
  const cookies = new Map<string, string[]>()
  if (!header) return cookies
  for (const piece of header.split(/[;,]/)) {
    const eq = piece.indexOf('=')
    if (eq < 0) continue
    const name = piece.slice(0, eq).trim()
    let value = piece.slice(eq + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    const list = cookies.get(name)
    if (list) list.push(value)
    else cookies.set(name, [value])
  }
  return cookies
}

/**
 * The header without the pairs named in `names`: every other byte (order,
 * quotes, spacing, escapes, separators) as the client sent it.
 * @returns `undefined` when nothing but whitespace is left.
 * @example
 * ```ts
 * withoutCookies('b="x y"; session=K; a=1', ['session']) // 'b="x y"; a=1'
 * ```
 */
export function withoutCookies(header: string, names: readonly string[]): string | undefined {
  // [pair, separator, pair, separator, …, pair]
  const parts = header.split(SEPARATOR)
  const named = (piece: string) => {
    const eq = piece.indexOf('=')
    return eq >= 0 && names.includes(piece.slice(0, eq).trim())
  }
  if (!parts.some((part, i) => i % 2 === 0 && named(part))) return header
  // A removed pair goes with the separator after it, so each Cookie line the runtime
  // joined keeps its own separators: "a=1; b=2, session=K; c=3" → "a=1; b=2, c=3".
  let result = ''
  for (let i = 0; i < parts.length; i += 2) {
    if (!named(parts[i]!)) result += parts[i]! + (parts[i + 1] ?? '')
  }
  result = result.replace(/^[ \t]+/, '')
  if (named(parts.at(-1)!)) result = result.replace(/[;,][ \t]*$/, '')
  return result.trim() === '' ? undefined : result
}
