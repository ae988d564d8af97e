import { env, exports } from 'cloudflare:workers'
import { CompactSign, SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { adminJson, clearKv, settled } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'

// OIDC tokens through the real Worker: the issuer is registered with the admin API,
// its JWKS served over real HTTP by the JWKS peer, synced into KV, used at the gateway.
const ISSUER = 'https://login.example.com/'
const INVALID_TOKEN = 'Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The token is not valid."'
const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' }
const jwksUri = `${env.JWKS_SERVER_URL}/jwks/e2e-oidc-${crypto.randomUUID().slice(0, 8)}`

let provider: CryptoKeyPair
let stranger: CryptoKeyPair

const fetchCount = async () => ((await (await fetch(`${jwksUri}/count`)).json()) as { count: number }).count
const nowSeconds = () => Math.floor(Date.now() / 1000)

function sign(pair: CryptoKeyPair, kid: string, sub: string): Promise<string> {
  return new SignJWT({ sub }).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(ISSUER).setAudience('edge-gateway').setIssuedAt().setExpirationTime(nowSeconds() + 300).sign(pair.privateKey)
}

/** A token of the provider's key whose payload is this JSON text, `raw` appended verbatim (`1e309` parses to Infinity). */
function signRaw(claims: Record<string, unknown>, raw?: string): Promise<string> {
  const text = JSON.stringify({ iss: ISSUER, aud: 'edge-gateway', iat: nowSeconds(), exp: nowSeconds() + 300, ...claims })
  return new CompactSign(new TextEncoder().encode(raw ? `${text.slice(0, -1)},${raw}}` : text)).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(provider.privateKey)
}

async function call(token: string, marker = newMarker()): Promise<Response> {
  return exports.default.fetch('https://gw.example/oidc/x', { headers: { authorization: `Bearer ${token}`, 'x-test-marker': marker } })
}

async function expectRefusedBeforeTheOrigin(token: string): Promise<void> {
  const marker = newMarker()
  const res = await call(token, marker)
  expect(res.status).toBe(401)
  expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN)
  expect(await res.json()).toMatchObject({ status: 401, code: 'token_invalid' })
  expect(await originSaw(marker)).toBe(false)
}

beforeAll(async () => {
  const pair = () => generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  ;[provider, stranger] = await Promise.all([pair(), pair()])
  const k1: JWK = { ...(await exportJWK(provider.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
  await fetch(jwksUri, { method: 'PUT', body: JSON.stringify({ jwks: { keys: [k1] } }) })
  await settled()
  await clearKv()
  expect((await adminJson('PUT', '/oidc-issuers/corp', { issuer: ISSUER, audiences: ['edge-gateway'], jwks_uri: jwksUri, algorithms: ['RS256'] })).status).toBe(201)
  const routes = [{ id: 'oidc', paths: ['/oidc'], target, auth: { accept: ['oidc-jwt'], oidcIssuers: ['corp'] } }]
  expect((await adminJson('PUT', '/routes', { routes })).status).toBe(200)
  await settled()
  expect((await adminJson('POST', '/sync')).body).toMatchObject({ ok: true })
})

describe('OIDC JWTs through the Worker', () => {
  it('a stranger’s unknown kid is refused before the origin, and every later valid token of the issuer still reaches it', async () => {
    const first = await call(await sign(provider, 'k1', 'user-1'))
    expect(first.status).toBe(200)
    const fetchesBefore = await fetchCount()

    // Anyone can send a token with a kid the issuer never had: one JWKS fetch, a 401.
    await expectRefusedBeforeTheOrigin(await sign(stranger, `random-${crypto.randomUUID()}`, 'user-1'))
    expect(await fetchCount()).toBe(fetchesBefore + 1)

    // The issuer is not poisoned: a new token of its synced key passes, as its subject.
    for (const sub of ['user-2', 'user-3']) {
      const token = await sign(provider, 'k1', sub)
      const res = await call(token)
      expect(res.status).toBe(200)
      const echo = (await res.json()) as OriginEcho
      expect(echo.headers).toMatchObject({ 'x-consumer-id': sub, 'x-credential-identifier': 'corp', 'x-auth-method': 'oidc-jwt' })
      expect(JSON.stringify(echo)).not.toContain(token)
    }
    // Still after the next sync.
    expect((await adminJson('POST', '/sync')).body).toMatchObject({ ok: true })
    expect((await call(await sign(provider, 'k1', 'user-4'))).status).toBe(200)
  })

  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['a sub that is an object', { sub: { id: 'admin' } }, undefined],
    ['a sub that is an array', { sub: ['user-1', 'admin'] }, undefined],
    ['an exp of 1e309 (Infinity once parsed)', { sub: 'user-1', exp: undefined }, '"exp":1e309'],
  ])('refuses a token with %s before the origin (no X-Consumer-ID: [object Object])', async (_, claims, raw) => {
    // The same token with a string sub and a finite exp passes: only the claim's type differs.
    const valid = await call(await signRaw({ sub: 'user-1' }))
    expect(valid.status).toBe(200)
    expect(((await valid.json()) as OriginEcho).headers['x-consumer-id']).toBe('user-1')
    await expectRefusedBeforeTheOrigin(await signRaw(claims, raw))
  })
})
