import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { registryKeys } from '../../src/sync/registry.js'
import { admin, adminJson, clearKv, freshView, settled } from '../support/admin-api.js'
import { keyPairFor } from '../support/jwt-keys.js'

let jwksUri: string

beforeEach(async () => {
  await settled()
  await clearKv()
  jwksUri = `${env.JWKS_SERVER_URL}/jwks/admin-${crypto.randomUUID().slice(0, 8)}`
})

const body = (extra: Record<string, unknown> = {}) => ({ issuer: 'https://login.example.com/', audiences: ['edge-gateway'], jwks_uri: jwksUri, ...extra })

describe('PUT /oidc-issuers/{id}', () => {
  it('creates an issuer (201) with the default algorithms, then replaces it (200) keeping created_at', async () => {
    const created = await adminJson('PUT', '/oidc-issuers/corp', body())
    expect(created.status).toBe(201)
    expect(created.body).toEqual({
      id: 'corp',
      issuer: 'https://login.example.com/',
      audiences: ['edge-gateway'],
      jwks_uri: jwksUri,
      algorithms: ['RS256', 'ES256'],
      created_at: expect.any(String),
      updated_at: created.body.created_at,
    })
    const replaced = await adminJson('PUT', '/oidc-issuers/corp', body({ audiences: ['a', 'b', 'a'], algorithms: ['ES384', 'EdDSA'] }))
    expect(replaced.status).toBe(200)
    expect(replaced.body).toMatchObject({ audiences: ['a', 'b'], algorithms: ['ES384', 'EdDSA'], created_at: created.body.created_at })
    expect(JSON.parse((await env.KEYSET.get(registryKeys.oidcIssuer('corp')))!)).toMatchObject({ id: 'corp', jwksUri, algorithms: ['ES384', 'EdDSA'] })
  })

  it.each([
    ['an HMAC algorithm', body({ algorithms: ['RS256', 'HS256'] }), 'algorithms: HMAC algorithms are refused'],
    ['an unknown algorithm', body({ algorithms: ['RS1'] }), 'algorithms: each one of'],
    ['no algorithm', body({ algorithms: [] }), 'algorithms: at least one'],
    ['a JWKS URL over plain http to another host', body({ jwks_uri: 'http://login.example.com/jwks' }), 'jwks_uri: expected an https URL'],
    ['a JWKS URL that is not a URL', body({ jwks_uri: 'jwks.json' }), 'jwks_uri'],
    ['an issuer that is not a URL', body({ issuer: 'corp' }), 'issuer'],
    ['no audience', body({ audiences: [] }), 'audiences: at least one audience'],
    ['an empty audience', body({ audiences: [''] }), 'audiences'],
    ['audiences as a string', body({ audiences: 'edge-gateway' }), 'audiences'],
    ['a missing jwks_uri', { issuer: 'https://login.example.com/', audiences: ['x'] }, 'jwks_uri'],
    ['an unknown field', body({ jwksUri: 'https://x.example/jwks' }), 'jwksUri: unknown field'],
  ])('refuses %s with 400 invalid_body naming the field', async (_, sent, detail) => {
    const res = await adminJson('PUT', '/oidc-issuers/corp', sent)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_body', status: 400 })
    expect(res.body.detail).toContain(detail)
    expect(await env.KEYSET.get(registryKeys.oidcIssuer('corp'))).toBeNull()
  })

  it.each(['-corp', 'c'.repeat(129), 'co rp', 'corp%2Fx'])('refuses the id %s with 400 invalid_id', async (id) => {
    const res = await adminJson('PUT', `/oidc-issuers/${encodeURIComponent(id)}`, body())
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('invalid_id')
  })
})

describe('GET and DELETE /oidc-issuers', () => {
  it('lists and reads issuers, with the keys the key set holds once the background sync fetched the JWKS', async () => {
    const pair = await keyPairFor('ES256')
    await fetch(jwksUri, { method: 'PUT', body: JSON.stringify({ jwks: { keys: [{ ...pair.jwk, kid: 'k1' }] } }) })
    await adminJson('PUT', '/oidc-issuers/corp', body())
    await adminJson('PUT', '/oidc-issuers/partner', body({ issuer: 'https://partner.example/', jwks_uri: `${jwksUri}-missing` }))
    await expect.poll(async () => (await (await freshView()).oidc())?.issuers.corp?.keys.length, { timeout: 3000 }).toBe(1)
    // Two background syncs ran; the one that read the registry first may have written last.
    await settled()
    expect((await adminJson('POST', '/sync')).status).toBe(200)

    const list = await adminJson('GET', '/oidc-issuers')
    expect(list.status).toBe(200)
    expect(list.body.data.map((i: { id: string }) => i.id)).toEqual(['corp', 'partner'])
    expect(list.body.data[0].jwks).toEqual({ keys: ['k1'], fetched_at: expect.any(String) })
    expect(list.body.data[1].jwks).toEqual({ keys: [], fetched_at: null })
    const one = await adminJson('GET', '/oidc-issuers/corp')
    expect(one.body).toEqual(list.body.data[0])
  })

  it('deletes an issuer (204), then answers 404 oidc_issuer_not_found; the key set drops it', async () => {
    await adminJson('PUT', '/oidc-issuers/corp', body())
    await expect.poll(async () => Object.keys((await (await freshView()).oidc())?.issuers ?? {}), { timeout: 3000 }).toEqual(['corp'])
    await settled()
    expect((await admin('DELETE', '/oidc-issuers/corp')).status).toBe(204)
    for (const [method, path] of [['DELETE', '/oidc-issuers/corp'], ['GET', '/oidc-issuers/corp']] as const) {
      const res = await adminJson(method, path)
      expect(res.status).toBe(404)
      expect(res.body.code).toBe('oidc_issuer_not_found')
    }
    // No issuer left: the manifest names no oidc part.
    await expect.poll(async () => (await freshView()).oidc(), { timeout: 3000 }).toBeUndefined()
  })
})
