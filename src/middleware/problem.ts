import { EdgeAuthError, type EdgeAuthErrorCode } from '../errors.js'
import { preparedProblemJson } from '../http/problem-json.js'
import { BoundedMap } from '../util/bounded-map.js'

/** How a refusal looks on the wire: status, RFC 6750 error and a generic human text. */
interface WireError {
  status: 400 | 401 | 403 | 404 | 405 | 413 | 502 | 503 | 504
  title: string
  /** RFC 6750 §3.1 error code for the challenge; `null` for a bare challenge; absent for no challenge. */
  bearerError?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | null
  detail: string
}

/**
 * Maps each internal reason to a deliberately generic wire error. The switch is
 * exhaustive: a new code does not compile until it has a wire form.
 */
export function wireErrorFor(code: EdgeAuthErrorCode): WireError {
  switch (code) {
    case 'credentials_malformed':
      return { status: 400, title: 'Bad Request', bearerError: 'invalid_request', detail: 'The credential is not well-formed.' }
    case 'credentials_conflict':
      return { status: 400, title: 'Bad Request', bearerError: 'invalid_request', detail: 'The request carries different credentials in several places.' }
    case 'path_invalid':
      return { status: 400, title: 'Bad Request', detail: 'The request path cannot be normalised safely.' }
    case 'body_invalid':
      return { status: 400, title: 'Bad Request', detail: 'The request body cannot be read as its content type says.' }
    case 'body_too_large':
      return { status: 413, title: 'Content Too Large', detail: 'The request body is larger than this route reads for credentials.' }
    case 'credentials_missing':
      return { status: 401, title: 'Unauthorized', bearerError: null, detail: 'This endpoint requires a credential.' }
    case 'credentials_unsupported':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'This kind of credential is not accepted here.' }
    case 'api_key_unknown':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'The API key is not known.' }
    case 'api_key_expired':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'The API key has expired.' }
    case 'token_invalid':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'The token is not valid.' }
    case 'token_expired':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'The token has expired.' }
    case 'token_revoked':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'The token has been revoked.' }
    case 'credential_unknown':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'The token names no known credential.' }
    case 'legacy_token_brownout':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'Legacy tokens are refused during a scheduled brownout: migrate to an IAM API key.' }
    case 'legacy_token_sunset':
      return { status: 401, title: 'Unauthorized', bearerError: 'invalid_token', detail: 'Legacy tokens are no longer accepted: use an IAM API key.' }
    case 'permission_denied':
      return { status: 403, title: 'Forbidden', bearerError: 'insufficient_scope', detail: 'The credential does not allow this call.' }
    case 'route_not_found':
      return { status: 404, title: 'Not Found', detail: 'No route matches this path.' }
    case 'method_not_allowed':
      return { status: 405, title: 'Method Not Allowed', detail: 'The route does not accept this method.' }
    case 'keyset_unavailable':
      return { status: 503, title: 'Service Unavailable', detail: 'The gateway cannot read its key set right now.' }
    case 'origin_unreachable':
      return { status: 502, title: 'Bad Gateway', detail: 'The origin could not be reached.' }
    case 'origin_timeout':
      return { status: 504, title: 'Gateway Timeout', detail: 'The origin did not answer in time.' }
    case 'config_invalid':
      return { status: 503, title: 'Service Unavailable', detail: 'The gateway is not configured correctly.' }
  }
}

/** Inputs of {@link problemResponse}. */
export interface ProblemContext {
  /** Realm named in the `WWW-Authenticate` challenge. */
  realm: string
  /** Request id echoed in the body and in `X-Request-Id`. */
  requestId: string
}

const quote = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`

/** Builds the RFC 6750 challenge for a refusal, or `undefined` when none is due. */
export function bearerChallenge(error: EdgeAuthError, realm: string): string | undefined {
  const wire = wireErrorFor(error.code)
  if (wire.bearerError === undefined) return undefined
  const params = [`realm=${quote(realm)}`]
  if (wire.bearerError !== null) {
    params.push(`error=${quote(wire.bearerError)}`, `error_description=${quote(wire.detail)}`)
    if (wire.bearerError === 'insufficient_scope' && error.details.requiredScope) {
      params.push(`scope=${quote(error.details.requiredScope)}`)
    }
  }
  return `Bearer ${params.join(', ')}`
}

/**
 * Renders a refusal as `application/problem+json` (RFC 9457) with the matching
 * `WWW-Authenticate`, `Allow` or `Retry-After` header (`Retry-After` with every
 * 503, and with any refusal whose error carries `retryAfterSeconds`, such as a
 * legacy-token brownout). Nothing from the request's credential is ever
 * included: the text comes from the code's wire form.
 */
export function problemResponse(error: EdgeAuthError, context: ProblemContext): Response {
  const { details } = error
  // Everything but the request id depends on these: one prepared problem per combination (codes × realms, in practice).
  const key = `${error.code}\u0000${context.realm}\u0000${details.requiredScope ?? ''}\u0000${details.publicDetail ?? ''}\u0000${details.retryAfterSeconds ?? ''}\u0000${details.allow?.join(',') ?? ''}\u0000${details.setting ?? ''}`
  const render = prepared.get(key) ?? prepared.set(key, prepareProblem(error, context.realm))
  return render(context.requestId)
}

// Bounded: publicDetail and allow lists come from routes and keys, so combinations are few, but never unbounded.
const prepared = new BoundedMap<string, (requestId: string) => Response>(512)

function prepareProblem(error: EdgeAuthError, realm: string): (requestId: string) => Response {
  const wire = wireErrorFor(error.code)
  const headers: Record<string, string> = {}
  const challenge = bearerChallenge(error, realm)
  if (challenge) headers['www-authenticate'] = challenge
  if (wire.status === 405 && error.details.allow) headers.allow = error.details.allow.join(', ')
  // A 503 says when to come back (not a configuration error: retrying does not help); a refusal with a known end (a brownout) says it too.
  const retryAfter = error.details.retryAfterSeconds ?? (wire.status === 503 && error.code !== 'config_invalid' ? 30 : undefined)
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  // The setting's name only (a var, secret or binding of the Worker), never its value.
  const setting = error.code === 'config_invalid' ? error.details.setting : undefined
  return preparedProblemJson(
    {
      status: wire.status,
      code: error.code,
      title: wire.title,
      detail: setting ? `The gateway is not configured correctly: ${setting} is missing or invalid.` : (error.details.publicDetail ?? wire.detail),
      ...(setting ? { extensions: { setting } } : {}),
    },
    headers,
  )
}
