/** The fields of an `application/problem+json` body (RFC 9457) as the gateway and its admin API write them. */
export interface Problem {
  status: number
  /** The stable machine code; the body's `type` is `urn:edge-auth-gateway:problem:<code>`. */
  code: string
  /** A short human summary (the status text, or the code). */
  title: string
  /** A human text for this occurrence; never credential material. */
  detail: string
  /** Sent as `request_id` and as the `X-Request-Id` header. */
  requestId: string
  /** More members after `detail` (e.g. `setting`). */
  extensions?: Record<string, unknown>
}

/**
 * The one `application/problem+json` response (RFC 9457) of the gateway and the
 * admin API: `type`, `title`, `status`, `code`, `detail`, extensions and
 * `request_id`; never cached; the request id also as `X-Request-Id`.
 * @param headers More headers (a challenge, `Allow`, `Retry-After`).
 * @example
 * ```ts
 * problemJson({ status: 404, code: 'not_found', title: 'not_found', detail: 'No such consumer.', requestId })
 * ```
 */
export function problemJson(problem: Problem, headers: Record<string, string> = {}): Response {
  const { requestId, ...rest } = problem
  return preparedProblemJson(rest, headers)(requestId)
}

/**
 * {@link problemJson} prepared once for every occurrence that differs only by its
 * request id: the body up to `request_id` serialised once, the headers built
 * once. Same bytes as {@link problemJson}.
 * @example
 * ```ts
 * const missing = preparedProblemJson({ status: 401, code: 'credentials_missing', title: 'Unauthorized', detail: '…' }, { 'www-authenticate': 'Bearer realm="x"' })
 * return missing(requestId)
 * ```
 */
export function preparedProblemJson(problem: Omit<Problem, 'requestId'>, headers: Record<string, string> = {}): (requestId: string) => Response {
  const full = JSON.stringify({
    type: `urn:edge-auth-gateway:problem:${problem.code}`,
    title: problem.title,
    status: problem.status,
    code: problem.code,
    detail: problem.detail,
    ...problem.extensions,
    request_id: '',
  })
  // Everything before the request id's value: `…,"request_id":`.
  const prefix = full.slice(0, full.length - '""}'.length)
  const fixed = { ...headers, 'content-type': 'application/problem+json', 'cache-control': 'no-store' }
  return (requestId) => new Response(`${prefix}${JSON.stringify(requestId)}}`, { status: problem.status, headers: { ...fixed, 'x-request-id': requestId } })
}
