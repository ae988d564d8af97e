/**
 * A route's CORS policy (`route.cors`), as the admin API takes it and the key
 * set stores it. docs/routes.md, "CORS", gives every rule and the reasons.
 * @module
 */
import * as v from 'valibot'

/** Methods a preflight lists when neither the route's `cors.methods` nor its `methods` name any. */
export const DEFAULT_CORS_METHODS: readonly string[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH']

/** Browsers cache a preflight at most this long (Firefox: 24 h; Chromium caps at 2 h). */
export const MAX_CORS_MAX_AGE_SECONDS = 86_400

// RFC 9110 §5.6.2 token: header and method names.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// scheme "://" host [":" port], nothing else: no userinfo, path, query or fragment.
const ORIGIN_SHAPE = /^([a-z][a-z0-9+.-]*):\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}))?$/

/**
 * Why `value` is not an origin the way a browser sends it in `Origin`
 * (RFC 6454 §6.2: `scheme://host[:port]`, lower case, no default port, no path),
 * or `undefined` when it is one. For `http:` and `https:` the URL parser's
 * serialisation is the normal form, and the message names it.
 * @example
 * ```ts
 * corsOriginProblem('https://App.example:443/') // 'not an origin as browsers send it; write "https://app.example"'
 * corsOriginProblem('https://app.example')     // undefined
 * ```
 */
export function corsOriginProblem(value: string): string | undefined {
  let special: string | undefined
  try {
    const url = new URL(value)
    if (url.protocol === 'http:' || url.protocol === 'https:') special = url.origin
  } catch {
    // Not a URL at all: the shape check below says so.
  }
  if (special !== undefined && special !== value) return `not an origin as browsers send it; write ${JSON.stringify(special)}`
  // The URL parser takes hosts such as "*.example": the shape check refuses patterns.
  const shape = ORIGIN_SHAPE.exec(value)
  if (!shape || Number(shape[3] ?? 1) > 65_535) return 'not an origin: write scheme://host[:port] in lower case, without a path or a pattern, or "*"'
  return undefined
}

const HeaderName = v.pipe(v.string('expected a header name'), v.regex(TOKEN, 'not a header name'))

const entries = {
  /** Exact origins allowed to read responses (`scheme://host[:port]`), or `["*"]` for any origin without credentials. */
  origins: v.pipe(
    v.array(
      v.pipe(
        v.string('expected an origin'),
        v.check((origin) => origin === '*' || corsOriginProblem(origin) === undefined, (issue) => corsOriginProblem(issue.input) ?? 'not an origin'),
      ),
      'expected a list of origins',
    ),
    v.minLength(1, 'list at least one origin'),
    v.check((origins) => !origins.includes('*') || origins.length === 1, '"*" stands alone: any origin, or a list of origins'),
  ),
  /** Methods a preflight allows; default the route's `methods`, else GET, HEAD, PUT, POST, DELETE, PATCH. */
  methods: v.optional(v.pipe(v.array(v.pipe(v.string('expected a method'), v.regex(TOKEN, 'not a method'))), v.minLength(1, 'omit to allow the route\'s methods'))),
  /** Request headers a preflight allows; default the headers the preflight asks for (`Access-Control-Request-Headers`). */
  headers: v.optional(v.pipe(v.array(HeaderName), v.minLength(1, 'omit to allow the headers a preflight asks for'))),
  /** Response headers a browser app may read beyond the safelisted ones (`Access-Control-Expose-Headers`). */
  exposedHeaders: v.optional(v.array(HeaderName), []),
  /** Let browsers send cookies and read responses to credentialed requests (`Access-Control-Allow-Credentials: true`). Never with `"*"`. */
  credentials: v.optional(v.boolean('expected true or false'), false),
  /** How long a browser may cache a preflight answer (`Access-Control-Max-Age`); default none (the browser's 5 s). */
  maxAgeSeconds: v.optional(v.pipe(v.number('expected a number of seconds'), v.integer('expected whole seconds'), v.minValue(0, 'at least 0'), v.maxValue(MAX_CORS_MAX_AGE_SECONDS, `at most ${MAX_CORS_MAX_AGE_SECONDS}`))),
}

type CorsEntries = v.InferOutput<v.ObjectSchema<typeof entries, undefined>>

/** `credentials: true` with `"*"` is refused, naming `credentials` (Fetch §3.2.5: browsers refuse it anyway). */
const noWildcardWithCredentials = v.forward<CorsEntries, v.CheckIssue<CorsEntries>, ['credentials']>(
  v.check((cors) => !(cors.credentials && cors.origins.includes('*')), 'must not be true with origins ["*"]: browsers refuse a wildcard with credentials; list the origins'),
  ['credentials'],
)

/** A route's CORS policy as the key set stores it (unknown fields ignored, as every key-set shape). */
export const RouteCorsSchema = v.pipe(v.object(entries), noWildcardWithCredentials)
export type RouteCors = v.InferOutput<typeof RouteCorsSchema>

/** {@link RouteCorsSchema} with unknown fields refused: the admin API's. */
export const StrictRouteCorsSchema = v.pipe(v.strictObject(entries), noWildcardWithCredentials)
