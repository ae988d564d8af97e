/**
 * Reading an OIDC provider's JWKS document: one bounded fetch (no redirect, a
 * size cap, a timeout) and the public signing keys a verifier may use. The sync
 * (src/sync/oidc-jwks.ts) and the request path (an unknown `kid`) both go
 * through here, so a key is accepted on the same terms by either.
 */
import { importJWK, type JWK } from 'jose'
import type { OidcIssuer } from '../keyset/jwt-schema.js'

type OidcAlgorithm = OidcIssuer['algorithms'][number]

/** Limits of {@link fetchJwks}. */
export interface FetchJwksOptions {
  /** Milliseconds the fetch may take, body included. Default 5000. */
  timeoutMs?: number
  /** Largest JWKS accepted, in bytes. Default 262,144 (256 KiB). */
  maxBytes?: number
  /** Default the global `fetch`. */
  fetch?: typeof fetch
}

/** Members of a JWK that must never be published, let alone stored (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
/** The members kept: what a verifier needs, nothing else (no `x5c`: certificates are not used). */
const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'use', 'crv', 'n', 'e', 'x', 'y'] as const

const RSA_ALGORITHMS: readonly OidcAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const CURVE_ALGORITHM: Record<string, OidcAlgorithm> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' }

/**
 * Fetches a JWKS document and returns its `keys`.
 * @throws {Error} naming the URL (without query) and what went wrong: network, timeout, status, size, not a JWKS.
 */
export async function fetchJwks(uri: string, options: FetchJwksOptions = {}): Promise<unknown[]> {
  const timeoutMs = options.timeoutMs ?? 5000
  const maxBytes = options.maxBytes ?? 262_144
  const where = describeUri(uri)
  const signal = AbortSignal.timeout(timeoutMs)
  let text: string
  try {
    // Redirects are not followed, as jose's remote JWKS does not: the operator registers the final URL.
    const response = await (options.fetch ?? fetch)(uri, { headers: { accept: 'application/jwk-set+json, application/json' }, redirect: 'manual', signal })
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`${where}: HTTP ${response.status}`)
    }
    text = await readCapped(response, maxBytes, where)
  } catch (error) {
    if (signal.aborted) throw new Error(`${where}: timed out after ${timeoutMs} ms`)
    if (error instanceof Error && error.message.startsWith(where)) throw error
    throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error(`${where}: not JSON`)
  }
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) throw new Error(`${where}: not a JWKS (no "keys" array)`)
  return (json as { keys: unknown[] }).keys
}

/**
 * The JWKs a verifier may use for these algorithms: public, for signing, with a
 * `kid` (the first of a repeated `kid` wins), of an allowed `alg`/`kty`, and
 * importable by jose. A JWK carrying any private member is dropped whole.
 */
export async function publicSigningKeys(jwks: readonly unknown[], algorithms: readonly OidcAlgorithm[]): Promise<{ keys: Record<string, unknown>[]; dropped: number; privateDropped: number }> {
  const keys: Record<string, unknown>[] = []
  const kids = new Set<string>()
  let dropped = 0
  let privateDropped = 0
  for (const raw of jwks) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      dropped++
      continue
    }
    const jwk = raw as Record<string, unknown>
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
      privateDropped++
      continue
    }
    const algorithm = typeof jwk.kid === 'string' && jwk.kid !== '' && !kids.has(jwk.kid) ? signingAlgorithm(jwk, algorithms) : undefined
    if (algorithm === undefined) {
      dropped++
      continue
    }
    const kept: Record<string, unknown> = {}
    for (const member of PUBLIC_MEMBERS) if (jwk[member] !== undefined) kept[member] = jwk[member]
    if (!(await importable(kept, algorithm))) {
      dropped++
      continue
    }
    kids.add(jwk.kid as string)
    keys.push(kept)
  }
  return { keys, dropped, privateDropped }
}

/** An algorithm the issuer allows that this JWK can verify, or `undefined`. */
function signingAlgorithm(jwk: Record<string, unknown>, algorithms: readonly OidcAlgorithm[]): OidcAlgorithm | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined
  let candidates: readonly OidcAlgorithm[]
  if (jwk.kty === 'RSA') candidates = RSA_ALGORITHMS
  else if ((jwk.kty === 'EC' || jwk.kty === 'OKP') && typeof jwk.crv === 'string' && CURVE_ALGORITHM[jwk.crv]) candidates = [CURVE_ALGORITHM[jwk.crv]!]
  else return undefined
  if (jwk.kty === 'OKP' && jwk.crv !== 'Ed25519') return undefined
  if (jwk.kty === 'EC' && jwk.crv === 'Ed25519') return undefined
  if (jwk.alg !== undefined) return candidates.includes(jwk.alg as OidcAlgorithm) && algorithms.includes(jwk.alg as OidcAlgorithm) ? (jwk.alg as OidcAlgorithm) : undefined
  return candidates.find((alg) => algorithms.includes(alg))
}

/** Can jose import it for this algorithm (RSA: 2,048 bits or more, as jose's verify requires)? */
async function importable(jwk: Record<string, unknown>, algorithm: OidcAlgorithm): Promise<boolean> {
  try {
    const key = await importJWK(jwk as JWK, algorithm)
    if (key instanceof Uint8Array) return false
    const modulusLength = (key.algorithm as { modulusLength?: number }).modulusLength
    return jwk.kty !== 'RSA' || (modulusLength ?? 0) >= 2048
  } catch {
    return false
  }
}

async function readCapped(response: Response, maxBytes: number, where: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new Error(`${where}: JWKS larger than ${maxBytes} bytes`)
  }
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw new Error(`${where}: JWKS larger than ${maxBytes} bytes`)
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(bytes)
}

/** The URL without query or fragment, for messages (a query could carry a token). */
export function describeUri(uri: string): string {
  try {
    const url = new URL(uri)
    return `GET ${url.origin}${url.pathname}`
  } catch {
    return 'GET <invalid URL>'
  }
}
