import { env } from 'cloudflare:workers'
import { Hono, type Context } from 'hono'
import { CompactSign, SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { edgeAuth, staticKeySet, type KeySetSource, type Target, type EdgeAuthVariables } from '../../src/index.js'
import type { RouteAuthInput } from '../../src/middleware/options.js'
import { ORG, PROJECT } from '../support/fixtures.js'

const ISSUER = 'https://login.example.com/'
const NOW = Date.parse('2026-06-01T12:00:00Z')
const now = NOW / 1000
const target: Target = { url: 'https://o.test', kind: 'function', projectId: PROJECT, privacy: 'private' }

let synced: CryptoKeyPair
let rotated: CryptoKeyPair
let jwksId: string

async function publicJwk(pair: CryptoKeyPair, kid: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' }
}

function source(keys: JWK[]): KeySetSource {
  return {
    routes: [],
    projects: { [PROJECT]: ORG },
    apiKeys: {},
    oidc: {
      issuers: {
        corp: { id: 'corp', issuer: ISSUER, audiences: ['edge-gateway'], jwksUri: `${env.SCRIPTED_API_URL}/jwks/${jwksId}`, algorithms: ['RS256'], keys: keys as never, fetchedAt: '2026-06-01T00:00:00Z' },
      },
    },
  }
}

function app(keys: JWK[], auth: RouteAuthInput = { oidcIssuers: ['corp'] }, clock = () => NOW): Hono {
  const hono = new Hono()
  hono.use('*', edgeAuth({ keySet: staticKeySet(source(keys)), target, auth, clock, oidc: { refreshCooldownSeconds: 60 } }))
  hono.all('*', (c: Context<{ Variables: EdgeAuthVariables }>) => c.json(c.var.edgeAuth))
  return hono
}

function token(pair: CryptoKeyPair, kid: string | undefined, claims: Record<string, unknown> = {}, alg = 'RS256') {
  return new SignJWT({ sub: 'user-42', exp: now + 300, ...claims })
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setIssuer(ISSUER)
    .setAudience('edge-gateway')
    .setIssuedAt(now - 10)
    .sign(pair.privateKey)
}

/** A token signed with the synced key k1 whose payload is this JSON text, `raw` appended verbatim (`1e309` parses to Infinity). */
function rawToken(claims: Record<string, unknown>, raw?: string): Promise<string> {
  const text = JSON.stringify({ iss: ISSUER, aud: 'edge-gateway', sub: 'user-42', iat: now - 10, exp: now + 300, ...claims })
  return new CompactSign(new TextEncoder().encode(raw ? `${text.slice(0, -1)},${raw}}` : text)).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(synced.privateKey)
}

const fetches = async () => ((await (await fetch(`${env.SCRIPTED_API_URL}/jwks/${jwksId}/count`)).json()) as { count: number }).count

beforeAll(async () => {
  synced = await generateKeyPair('RS256', { extractable: true })
  rotated = await generateKeyPair('RS256', { extractable: true })
  jwksId = crypto.randomUUID()
  await fetch(`${env.SCRIPTED_API_URL}/jwks/${jwksId}`, { method: 'PUT', body: JSON.stringify({ keys: [await publicJwk(synced, 'k1'), await publicJwk(rotated, 'k2')] }) })
})

describe('OIDC JWTs', () => {
  it('accepts a token of a trusted issuer signed with a synced key', async () => {
    const res = await app([await publicJwk(synced, 'k1')]).request('/x', { headers: { authorization: `Bearer ${await token(synced, 'k1')}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ method: 'oidc-jwt', credentialId: 'corp', principal: { type: 'oidc-subject', id: 'user-42' } })
  })

  it.each<[string, () => Promise<string>, RouteAuthInput | undefined, string]>([
    ['without kid', () => token(synced, undefined), undefined, 'token_invalid'],
    ['for another audience', async () => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setAudience('other').setExpirationTime(now + 60).sign(synced.privateKey), undefined, 'token_invalid'],
    ['without sub', async () => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setAudience('edge-gateway').setExpirationTime(now + 60).sign(synced.privateKey), undefined, 'token_invalid'],
    ['expired', () => token(synced, 'k1', { exp: now - 60 }), undefined, 'token_expired'],
    ['HS256 signed with the public key as secret', async () => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(ISSUER).setAudience('edge-gateway').setExpirationTime(now + 60).sign(new TextEncoder().encode(JSON.stringify(await publicJwk(synced, 'k1')))), undefined, 'token_invalid'],
    ['of an issuer the route does not trust (falls to consumer JWTs: no such credential)', () => token(synced, 'k1'), { oidcIssuers: [] }, 'credential_unknown'],
  ])('refuses a token %s', async (_, make, auth, code) => {
    const res = await app([await publicJwk(synced, 'k1')], auth).request('/x', { headers: { authorization: `Bearer ${await make()}` } })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code })
  })

  it.each<[string, () => Promise<string>]>([
    ['a sub that is an object', () => rawToken({ sub: { id: 'admin' } })],
    ['a sub that is an array', () => rawToken({ sub: ['user-42', 'admin'] })],
    ['a sub that is a number', () => rawToken({ sub: 42 })],
    ['a sub that is null', () => rawToken({ sub: null })],
    ['an empty sub', () => rawToken({ sub: '' })],
    ['a jti that is a number', () => rawToken({ jti: 42 })],
    ['an aud array with a member that is not a string', () => rawToken({ aud: ['edge-gateway', { any: true }] })],
    ['an exp of 1e309 (Infinity once parsed)', () => rawToken({ exp: undefined }, '"exp":1e309')],
    ['an nbf of -1e309 (-Infinity once parsed)', () => rawToken({}, '"nbf":-1e309')],
    ['an iat of 1e309', () => rawToken({ iat: undefined }, '"iat":1e309')],
    ['an iat of -1e309', () => rawToken({ iat: undefined }, '"iat":-1e309')],
    ['an iat in the future beyond the clock tolerance', () => rawToken({ iat: now + 31 })],
  ])('refuses a token with %s: 401 token_invalid (RFC 7519 claim types)', async (_, make) => {
    const res = await app([await publicJwk(synced, 'k1')]).request('/x', { headers: { authorization: `Bearer ${await make()}` } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The token is not valid."')
    expect(await res.json()).toMatchObject({ status: 401, code: 'token_invalid' })
  })

  it('accepts an iat in the future within the clock tolerance (30 s)', async () => {
    const res = await app([await publicJwk(synced, 'k1')]).request('/x', { headers: { authorization: `Bearer ${await rawToken({ iat: now + 30 })}` } })
    expect(res.status).toBe(200)
  })

  it('fetches the JWKS once for an unknown kid, then not again within the cooldown', async () => {
    let clock = NOW
    const hono = app([await publicJwk(synced, 'k1')], { oidcIssuers: ['corp'] }, () => clock)
    const before = await fetches()
    // k2 is not in the synced key set: one fetch finds it.
    expect((await hono.request('/x', { headers: { authorization: `Bearer ${await token(rotated, 'k2')}` } })).status).toBe(200)
    expect(await fetches()).toBe(before + 1)
    // Known now: no fetch.
    expect((await hono.request('/x', { headers: { authorization: `Bearer ${await token(rotated, 'k2', { sub: 'other' })}` } })).status).toBe(200)
    // An unknown kid inside the cooldown: refused at once, no fetch.
    const unknown = await token(rotated, 'k9')
    expect((await hono.request('/x', { headers: { authorization: `Bearer ${unknown}` } })).status).toBe(401)
    expect(await fetches()).toBe(before + 1)
    // After the cooldown: one more fetch (which does not find k9 either).
    clock += 61_000
    expect((await hono.request('/x', { headers: { authorization: `Bearer ${await token(rotated, 'k9', { exp: clock / 1000 + 60 })}` } })).status).toBe(401)
    expect(await fetches()).toBe(before + 2)
  })
})
