import { parseStored } from '../util/stored-json.js'
/**
 * The OIDC half of the sync: fetch each trusted issuer's JWKS, keep the public
 * signing keys the issuer's algorithms allow, and fall back to the keys of the
 * last good key set when a fetch fails. docs/storage.md, "OIDC part".
 */
import { describeUri, fetchJwks, publicSigningKeys } from '../credentials/jwks-document.js'
import { canonicalJson } from '../keyset/canonical-json.js'
import { OidcPartSchema, type OidcIssuer, type OidcPart } from '../keyset/jwt-schema.js'
import { kvKeys } from '../keyset/kv-keys.js'
import { readManifest, type KeySetKvWriter } from '../keyset/writer.js'
import { inParallel } from '../util/in-parallel.js'
import type { OidcIssuerEntry } from './oidc-registry.js'

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

export { fetchJwks, publicSigningKeys }
