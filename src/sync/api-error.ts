/** Why a call to the IAM or serverless API failed; `call` names it (`GET /iam/v1alpha1/api-keys?page=2`). */
export type ApiErrorKind = 'timeout' | 'network' | 'http' | 'invalid_response'

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
