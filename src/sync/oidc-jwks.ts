import { parseStored } from '../util/stored-json.js'
/**
 * The OIDC half of the sync: fetch each trusted issuer's JWKS, keep the public
 * signing keys the issuer's algorithms allow, and fall back to the keys of the
 * last good key set when a fetch fails. docs/storage.md, "OIDC part".
 */
import { importJWK, type JWK } from 'jose'
import * as v from 'valibot'
import { canonicalJson } from '../keyset/canonical-json.js'
import { OidcPartSchema, type OidcIssuer, type OidcPart } from '../keyset/jwt-schema.js'
import { kvKeys } from '../keyset/kv-keys.js'
import { readManifest, type KeySetKvWriter } from '../keyset/writer.js'
import { inParallel } from '../util/in-parallel.js'
import type { OidcIssuerEntry } from './oidc-registry.js'

type OidcAlgorithm = OidcIssuer['algorithms'][number]

/** Options of {@link buildOidcPart}. */
export interface BuildOidcPartOptions {
  /** Milliseconds a JWKS fetch may take, body included. Default 5000. */
  timeoutMs?: number
  /** Largest JWKS accepted, in bytes. Default 262,144 (256 KiB). */
  maxBytes?: number
  /** Default the global `fetch`. */
  fetch?: typeof fetch
  /** Reads the `oidc` part of the current key set; called only when a previous key list is needed. */
  previous: () => Promise<OidcPart | undefined>
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
}

/** What {@link buildOidcPart} made of the issuers and their JWKS. */
export interface OidcPartResult {
  /** `undefined` when no issuer is registered: the manifest then names no `oidc` part. */
  part: OidcPart | undefined
  counts: {
    oidcIssuers: number
    oidcKeys: number
    /** Keys left out: no `kid`, a `kid` seen before, an algorithm or key type the issuer does not allow, not for signing, not importable. */
    oidcKeysDropped: number
    /** Keys left out because they carried private or secret members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`). */
    oidcPrivateKeysDropped: number
    /** Issuers whose JWKS could not be fetched or held no usable key (their previous keys were kept, if any). */
    oidcJwksFailures: number
  }
  warnings: string[]
}

/** Members of a JWK that must never be published, let alone stored (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
/** The members kept: what a verifier needs, nothing else (no `x5c`: certificates are not used). */
const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'use', 'crv', 'n', 'e', 'x', 'y'] as const

const RSA_ALGORITHMS: readonly OidcAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const CURVE_ALGORITHM: Record<string, OidcAlgorithm> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' }

/**
 * Builds the key set's `oidc` part. Each issuer's JWKS is fetched (six at a
 * time); a failure (network, timeout, non-2xx, not a JWKS, no usable key)
 * keeps the keys the current key set holds for that issuer, when its
 * `jwksUri` is the same, and is reported as a warning, never as a failed sync.
 *
 * `fetchedAt` is when the issuer's key list last changed as a fetch saw it: an
 * unchanged JWKS keeps it, so the part's content (and its KV write) changes only
 * when keys do. How recent the last successful fetch is shows in the sync status.
 */
export async function buildOidcPart(issuers: readonly OidcIssuerEntry[], options: BuildOidcPartOptions): Promise<OidcPartResult> {
  const counts: OidcPartResult['counts'] = { oidcIssuers: issuers.length, oidcKeys: 0, oidcKeysDropped: 0, oidcPrivateKeysDropped: 0, oidcJwksFailures: 0 }
  if (issuers.length === 0) return { part: undefined, counts, warnings: [] }
  const clock = options.clock ?? Date.now
  const previousPart = await options.previous().catch(() => undefined)
  const results = new Map<string, OidcIssuer>()
  const warnings: string[] = []
  await inParallel(issuers, 6, async (entry) => {
    const previous = previousPart && Object.hasOwn(previousPart.issuers, entry.id) ? previousPart.issuers[entry.id] : undefined
    const carried = previous && previous.jwksUri === entry.jwksUri ? previous : undefined
    let keys: Record<string, unknown>[]
    let fetchedAt: string | null
    try {
      const jwks = await fetchJwks(entry.jwksUri, options)
      const filtered = await publicSigningKeys(jwks, entry.algorithms)
      counts.oidcKeysDropped += filtered.dropped
      counts.oidcPrivateKeysDropped += filtered.privateDropped
      if (filtered.privateDropped > 0) warnings.push(`oidc issuer ${entry.id}: ${filtered.privateDropped} key(s) in the JWKS carry private members and were dropped`)
      if (filtered.keys.length === 0) throw new Error(`${describeUri(entry.jwksUri)}: no usable signing key (${filtered.dropped + filtered.privateDropped} dropped)`)
      keys = filtered.keys
      fetchedAt = carried && canonicalJson(carried.keys) === canonicalJson(keys) ? carried.fetchedAt : new Date(clock()).toISOString()
    } catch (error) {
      counts.oidcJwksFailures++
      keys = carried?.keys ?? []
      fetchedAt = carried?.fetchedAt ?? null
      const reason = error instanceof Error ? error.message : String(error)
      warnings.push(`oidc issuer ${entry.id}: JWKS unavailable (${reason}); ${carried ? `kept ${keys.length} key(s) fetched ${fetchedAt ?? 'never'}` : 'no previous keys to keep'}`)
    }
    const { id, issuer, audiences, jwksUri, algorithms } = entry
    results.set(entry.id, { id, issuer, audiences, jwksUri, algorithms, keys: keys as OidcIssuer['keys'], fetchedAt })
  })
  const part: OidcPart = { issuers: {} }
  for (const entry of issuers) {
    const issuer = results.get(entry.id)!
    part.issuers[entry.id] = issuer
    counts.oidcKeys += issuer.keys.length
  }
  return { part, counts, warnings: warnings.sort() }
}

/**
 * The `oidc` part of the key set now in KV (manifest, then part: 2 reads);
 * `undefined` when there is none or it cannot be read.
 */
export async function currentOidcPart(kv: Pick<KeySetKvWriter, 'get'>): Promise<OidcPart | undefined> {
  const manifest = await readManifest(kv)
  if (!manifest?.oidc) return undefined
  return parseStored(OidcPartSchema, await kv.get(kvKeys.part(manifest.oidc), { type: 'text' }))
}

/**
 * Fetches a JWKS document and returns its `keys`.
 * @throws {Error} naming the URL (without query) and what went wrong: network, timeout, status, size, not a JWKS.
 */
export async function fetchJwks(uri: string, options: Pick<BuildOidcPartOptions, 'timeoutMs' | 'maxBytes' | 'fetch'> = {}): Promise<unknown[]> {
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
function describeUri(uri: string): string {
  try {
    const url = new URL(uri)
    return `GET ${url.origin}${url.pathname}`
  } catch {
    return 'GET <invalid URL>'
  }
}
