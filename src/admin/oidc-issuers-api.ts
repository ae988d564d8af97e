/**
 * OIDC issuers at the admin API: the providers whose JWTs the gateway accepts
 * on routes that name them. docs/consumers.md, "OIDC issuers".
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import { OIDC_ALGORITHMS, type OidcPart } from '../keyset/jwt-schema.js'
import { currentOidcPart } from '../sync/oidc-jwks.js'
import { OidcRegistry, type OidcIssuerEntry } from '../sync/oidc-registry.js'
import { AdminError, isoNow, parseBody, pathId } from './admin-http.js'
import { keySetChanged } from './key-set-change.js'
import type { AdminDependencies } from './admin-api.js'
import { idRules } from './admin-input.js'
import type { Audit } from './audit-log.js'

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** https, or http to a loopback host (local development): a JWKS fetched in clear text could be swapped. */
const SecureUrl = v.pipe(
  v.string('expected a URL'),
  v.maxLength(2048, 'at most 2048 characters'),
  v.check((text) => {
    try {
      const url = new URL(text)
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))
    } catch {
      return false
    }
  }, 'expected an https URL (http only to localhost)'),
)

const HMAC = new Set(['HS256', 'HS384', 'HS512'])

/** A request body of the admin API (also in its OpenAPI description). */
export const IssuerBody = v.strictObject({
  issuer: SecureUrl,
  audiences: v.pipe(
    v.array(v.pipe(v.string('expected a string'), v.minLength(1, 'no empty audience'), v.maxLength(512, 'at most 512 characters')), 'expected an array of strings'),
    v.minLength(1, 'at least one audience'),
    v.maxLength(50, 'at most 50 audiences'),
    v.transform((audiences) => [...new Set(audiences)]),
  ),
  jwks_uri: SecureUrl,
  algorithms: v.optional(
    v.pipe(
      v.array(v.string('expected a string'), 'expected an array'),
      v.minLength(1, 'at least one algorithm'),
      v.check((algs) => !algs.some((alg) => HMAC.has(alg)), 'HMAC algorithms are refused for OIDC issuers (their key would be the public JWKS)'),
      v.check((algs) => algs.every((alg) => (OIDC_ALGORITHMS as readonly string[]).includes(alg)), `each one of ${OIDC_ALGORITHMS.join(', ')}`),
      v.transform((algs) => [...new Set(algs)] as (typeof OIDC_ALGORITHMS)[number][]),
    ),
  ),
})

/** An issuer on the wire, with what the current key set holds of its JWKS when asked. */
export function issuerJson(entry: OidcIssuerEntry, synced?: OidcPart['issuers'][string]) {
  return {
    id: entry.id,
    issuer: entry.issuer,
    audiences: entry.audiences,
    jwks_uri: entry.jwksUri,
    algorithms: entry.algorithms,
    created_at: entry.createdAt,
    updated_at: entry.updatedAt,
    ...(synced === undefined ? {} : { jwks: { keys: synced.keys.map((k) => k.kid), fetched_at: synced.fetchedAt } }),
  }
}

/** Adds the OIDC issuer endpoints to the admin app. */
export function oidcIssuerRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies, audit: Audit): void {
  const registryOf = (c: Context) => new OidcRegistry(dependencies(c).kv)
  /** Every change is synced, and served by this isolate, before it answers (docs/revocation.md). */
  const changed = (c: Context) => keySetChanged(c, dependencies(c))
  const idParam = (c: Context): string => pathId(c, 'id', 'oidc issuer', idRules.oidcIssuer)

  app.put('/oidc-issuers/:id', async (c) => {
    const id = idParam(c)
    const body = await parseBody(c, IssuerBody)
    const registry = registryOf(c)
    const existing = await registry.find(id)
    const now = isoNow(dependencies(c).clock)
    const entry = await registry.save({
      id,
      issuer: body.issuer,
      audiences: body.audiences,
      jwksUri: body.jwks_uri,
      algorithms: body.algorithms ?? ['RS256', 'ES256'],
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    })
    audit(c, existing ? 'oidc_issuer.update' : 'oidc_issuer.create', entry.id)
    await changed(c)
    return c.json(issuerJson(entry), existing ? 200 : 201)
  })

  app.get('/oidc-issuers', async (c) => {
    const registry = registryOf(c)
    const [{ documents }, synced] = await Promise.all([registry.all(), currentOidcPart(dependencies(c).kv)])
    return c.json({ data: documents.map((entry) => issuerJson(entry, synced?.issuers[entry.id])) })
  })

  app.get('/oidc-issuers/:id', async (c) => {
    const [entry, synced] = await Promise.all([registryOf(c).find(idParam(c)), currentOidcPart(dependencies(c).kv)])
    if (!entry) throw new AdminError(404, 'oidc_issuer_not_found', 'no OIDC issuer has this id')
    return c.json(issuerJson(entry, synced?.issuers[entry.id]))
  })

  app.delete('/oidc-issuers/:id', async (c) => {
    const registry = registryOf(c)
    const id = idParam(c)
    if (!(await registry.find(id))) throw new AdminError(404, 'oidc_issuer_not_found', 'no OIDC issuer has this id')
    await registry.delete(id)
    audit(c, 'oidc_issuer.delete', id)
    await changed(c)
    return c.body(null, 204)
  })
}
