/**
 * Why a call to the IAM or serverless API failed; `call` names it (`GET /iam/v1alpha1/api-keys?page=2`).
 * `redirect`: the API answered a redirect the client does not follow (to another origin, a
 * write turned into a GET, or too many), so the token was not sent on.
 */
export type ApiErrorKind = 'timeout' | 'network' | 'http' | 'invalid_response' | 'redirect'

/**
 * A failed call to the IAM or serverless API. The message names the call and
 * the status; it never contains the `X-Auth-Token` or a response's secret.
 */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError'

  constructor(
    readonly kind: ApiErrorKind,
    readonly call: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${call}: ${message}`, options)
  }
}
