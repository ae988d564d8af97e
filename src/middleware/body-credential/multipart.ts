import { EdgeAuthError } from '../../errors.js'
import { utf8, type BodyFields } from './binary.js'

/**
 * The named plain fields of a `multipart/form-data` body (RFC 7578; a binary
 * string), and the body without their parts: each removed part goes from its
 * delimiter line to the next delimiter, every other byte stays as sent (the
 * boundary, the other parts' headers and contents, preamble and epilogue). A part
 * with a `filename` is a file, never a credential, and stays.
 * @param boundary The `boundary` parameter of the request's `Content-Type`.
 * @throws {EdgeAuthError} `body_invalid` when the body is not multipart with
 *   this boundary (no delimiter, a part without its header block, no closing delimiter).
 */
export function multipartFields(body: string, boundary: string, names: readonly string[]): BodyFields {
  const delimiter = `--${boundary}`
  const invalid = (why: string) => new EdgeAuthError('body_invalid', `the multipart body ${why}`)
  // The first delimiter opens the body or ends a preamble.
  let at = 0
  if (!body.startsWith(delimiter)) {
    const found = body.indexOf(`\r\n${delimiter}`)
    if (found < 0) throw invalid('has no delimiter')
    at = found + 2
  }
  const values: BodyFields['values'] = []
  const removed: [number, number][] = []
  for (;;) {
    let i = at + delimiter.length
    if (body.startsWith('--', i)) break
    // RFC 2046 §5.1.1: transport padding (spaces, tabs) may follow a delimiter.
    while (body[i] === ' ' || body[i] === '\t') i++
    if (!body.startsWith('\r\n', i)) throw invalid('has a delimiter not followed by a line break')
    i += 2
    let headers = ''
    if (!body.startsWith('\r\n', i)) {
      const end = body.indexOf('\r\n\r\n', i)
      if (end < 0) throw invalid('has a part without the end of its headers')
      headers = body.slice(i, end)
      i = end + 2
    }
    const contentStart = i + 2
    // From the line break before the content: a part may have no content line at all (RFC 2046 body-part).
    const next = body.indexOf(`\r\n${delimiter}`, i)
    if (next < 0) throw invalid('has no closing delimiter')
    const name = plainFieldName(headers)
    if (name !== undefined && names.includes(name)) {
      values.push({ name, value: utf8(body.slice(contentStart, next)) })
      removed.push([at, next + 2])
    }
    at = next + 2
  }
  if (removed.length === 0) return { values, rest: body }
  let rest = ''
  let cursor = 0
  for (const [start, end] of removed) {
    rest += body.slice(cursor, start)
    cursor = end
  }
  return { values, rest: rest + body.slice(cursor) }
}

/** The `name` of a `Content-Disposition: form-data` part that is not a file; `undefined` for anything else. */
function plainFieldName(headers: string): string | undefined {
  const line = headers.split('\r\n').find((header) => /^content-disposition\s*:/i.test(header))
  if (!line) return undefined
  const value = line.slice(line.indexOf(':') + 1)
  if (!/^\s*form-data\s*(;|$)/i.test(value) || /;\s*filename\*?\s*=/i.test(value)) return undefined
  const name = /;\s*name\s*=\s*(?:"((?:[^"\\\r\n]|\\.)*)"|([^\s;"]+))/i.exec(value)
  if (!name) return undefined
  return name[1] !== undefined ? name[1].replace(/\\(.)/g, '$1') : name[2]
}
