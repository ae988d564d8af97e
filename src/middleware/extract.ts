import { EdgeAuthError } from '../errors.js'
import { parseCookies } from '../http/cookie-header.js'
import { canonicalHeaderName } from '../http/header-name.js'

/** Where a credential was found; recorded for logs, never with the value. */
export type CredentialLocation = 'x-auth-token' | 'authorization' | `header:${string}` | `query:${string}` | `cookie:${string}` | `body:${string}`

/** The one credential a request carries, and everywhere it was found. */
export interface ExtractedCredential {
  value: string
  locations: CredentialLocation[]
}

/** Where to look for credentials; `X-Auth-Token` and `Authorization: Bearer` are always searched. */
export interface CredentialSources {
  /** More headers that may carry a token, bare or as `Bearer <token>`; each read in every spelling of its canonical name (case, `_` for `-`). */
  headerNames?: readonly string[]
  /** Query parameters that may carry a token (off by default: URLs end up in logs). */
  queryParameters: readonly string[]
  /** Cookies that may carry a token (off by default); read in every `Cookie` header line. */
  cookies: readonly string[]
}

// RFC 6750 §2.1 b64token, which also covers UUIDs and compact JWS.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const MAX_CREDENTIAL_LENGTH = 8192

/**
 * Collects the credential from `X-Auth-Token`, `Authorization: Bearer` (scheme
 * case-insensitive, RFC 7235 §2.1), any opted-in headers (in any spelling: `api_key`
 * is `api-key`), query parameters and cookies, and the values already taken from
 * the body. The same value in several places is one credential; different values
 * are refused.
 *
 * @param fromBody Values read from the body (see `takeBodyCredentials`), checked like the others.
 * @returns `undefined` when the request carries no credential at all.
 * @throws {EdgeAuthError} `credentials_malformed` for a value that is not a token,
 *   `credentials_conflict` for two different values.
 */
export function extractCredential(request: Request, sources: CredentialSources, fromBody: readonly { value: string; location: `body:${string}` }[] = []): ExtractedCredential | undefined {
  const found: { value: string; location: CredentialLocation }[] = []
  const xAuthToken = request.headers.get('x-auth-token')
  if (xAuthToken !== null) found.push({ value: checked(xAuthToken.trim()), location: 'x-auth-token' })

  const authorization = request.headers.get('authorization')
  if (authorization !== null) {
    const match = /^\s*bearer(?:\s+(.*))?$/i.exec(authorization)
    // Another scheme (Basic, Digest…) is not ours: it is neither a credential nor an error.
    if (match) found.push({ value: checked((match[1] ?? '').trim()), location: 'authorization' })
  }

  if (sources.headerNames && sources.headerNames.length > 0) {
    const wanted = new Set(sources.headerNames.map(canonicalHeaderName))
    request.headers.forEach((value, name) => {
      const canonical = canonicalHeaderName(name)
      if (wanted.has(canonical)) found.push({ value: checked(value.replace(/^\s*bearer\s+/i, '').trim()), location: `header:${canonical}` })
    })
  }

  if (sources.queryParameters.length > 0) {
    const params = new URL(request.url).searchParams
    for (const name of sources.queryParameters) {
      for (const value of params.getAll(name)) found.push({ value: checked(value.trim()), location: `query:${name}` })
    }
  }
  if (sources.cookies.length > 0) {
    const cookies = parseCookies(request.headers.get('cookie'))
    for (const name of sources.cookies) {
      for (const value of cookies.get(name) ?? []) found.push({ value: checked(value.trim()), location: `cookie:${name}` })
    }
  }

  for (const { value, location } of fromBody) found.push({ value: checked(value.trim()), location })

  const first = found[0]
  if (!first) return undefined
  if (found.some((f) => f.value !== first.value)) {
    throw new EdgeAuthError('credentials_conflict', `different credentials in ${found.map((f) => f.location).join(', ')}`)
  }
  return { value: first.value, locations: [...new Set(found.map((f) => f.location))] }
}

function checked(value: string): string {
  if (value === '') throw new EdgeAuthError('credentials_malformed', 'empty credential')
  if (value.length > MAX_CREDENTIAL_LENGTH) throw new EdgeAuthError('credentials_malformed', `credential longer than ${MAX_CREDENTIAL_LENGTH} characters`)
  if (!B64TOKEN.test(value)) throw new EdgeAuthError('credentials_malformed', 'credential has characters a token cannot have')
  return value
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/** The kinds of credential the gateway can tell apart by their syntax alone. */
export type CredentialShape = 'api-key' | 'jwt'

/**
 * Tells an IAM API key secret (a UUID) from a compact JWT.
 * @throws {EdgeAuthError} `credentials_malformed` for anything else.
 */
export function credentialShape(value: string): CredentialShape {
  if (UUID.test(value)) return 'api-key'
  if (COMPACT_JWS.test(value)) return 'jwt'
  throw new EdgeAuthError('credentials_malformed', 'credential is neither an API key secret nor a JWT')
}
