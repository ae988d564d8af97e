/**
 * API keys in the request body, opt-in per route (`auth.bodyFields`, Kong's
 * `key_in_body`), removed before the body goes on (Kong's `hide_credentials`).
 * docs/routes.md, "API keys in the body", has the rules.
 * @module
 */
import type { Context } from 'hono'
import { EdgeAuthError } from '../../errors.js'
import { fromBinary, toBinary, type BodyFields } from './binary.js'
import { formFields } from './form.js'
import { jsonFields } from './json.js'
import { multipartFields } from './multipart.js'

/** A value read from a body field, located for logs (never with the value). */
export interface BodyCredential {
  value: string
  location: `body:${string}`
}

type Format = { kind: 'form' } | { kind: 'json' } | { kind: 'multipart'; boundary: string | undefined }

/** The body formats read for keys, by media type; anything else is never read. */
function formatOf(contentType: string | null): Format | undefined {
  if (contentType === null) return undefined
  const type = contentType.split(';')[0]!.trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form' }
  if (type === 'application/json' || /^application\/[^/]+\+json$/.test(type)) return { kind: 'json' }
  if (type === 'multipart/form-data') {
    const boundary = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType)
    return { kind: 'multipart', boundary: boundary?.[1] ?? boundary?.[2] }
  }
  return undefined
}

/**
 * Reads the named top-level fields of a form, JSON or multipart request body
 * (not GET or HEAD; other media types are never read), at most `maxBytes` of it,
 * and puts back in `c.req.raw` a body without them, its `Content-Length` set to
 * the bytes that remain. Whatever follows (the origin, the app's handlers) sees
 * the body without the key. `request.cf` and every header but `Content-Length`
 * stay as they came.
 * @returns every value found, in body order; `[]` when the route reads no body field or the body is not read.
 * @throws {EdgeAuthError} `body_too_large` over `maxBytes` (by `Content-Length`, or as it streams);
 *   `body_invalid` when the body cannot be read as its media type;
 *   `credentials_malformed` for a JSON field that is not a string.
 * @example
 * ```ts
 * const fromBody = await takeBodyCredentials(c, ['api_key'], 64 * 1024)
 * const credential = extractCredential(c.req.raw, auth, fromBody)
 * ```
 */
export async function takeBodyCredentials(c: Context, fields: readonly string[], maxBytes: number): Promise<BodyCredential[]> {
  const request = c.req.raw
  if (fields.length === 0 || request.method === 'GET' || request.method === 'HEAD') return []
  const format = formatOf(request.headers.get('content-type'))
  if (!format || (request.body === null && !request.bodyUsed)) return []
  const bytes = await readAtMost(c, maxBytes)
  let found: BodyFields = { values: [], rest: '' }
  if (bytes.byteLength > 0) {
    const body = toBinary(bytes)
    if (format.kind === 'form') found = formFields(body, fields)
    else if (format.kind === 'json') found = jsonFields(body, fields)
    else if (format.boundary === undefined) throw new EdgeAuthError('body_invalid', 'multipart/form-data without a boundary')
    else found = multipartFields(body, format.boundary, fields)
  }
  // The stream is spent: the body goes back in any case, without the fields when there were some.
  const rest = found.values.length === 0 ? bytes : fromBinary(found.rest)
  const headers = new Headers(request.headers)
  headers.set('content-length', String(rest.byteLength))
  c.req.raw = new Request(request, { body: rest, headers })
  c.req.bodyCache = {}
  return found.values.map(({ name, value }) => ({ value, location: `body:${name}` }))
}

async function readAtMost(c: Context, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const request = c.req.raw
  const tooLarge = () => new EdgeAuthError('body_too_large', `the body is larger than the ${maxBytes} bytes the route reads`)
  const length = request.headers.get('content-length')
  if (length !== null && /^\d+$/.test(length.trim()) && Number(length) > maxBytes) throw tooLarge()
  if (request.bodyUsed) {
    // An earlier handler read it through hono, which keeps a copy.
    const copy = new Uint8Array(await c.req.arrayBuffer())
    if (copy.byteLength > maxBytes) throw tooLarge()
    return copy
  }
  const reader = request.body!.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
