import { Hono, type Context } from 'hono'
import { CompactSign, SignJWT, exportSPKI, generateKeyPair } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { edgeAuth, staticKeySet, type KeySetSource, type Target, type EdgeAuthVariables } from '../../src/index.js'
import { CONSUMER_ALGORITHMS, type ConsumerAlgorithm, type JwtCredential } from '../../src/keyset/jwt-schema.js'
import { sealSecret } from '../../src/keyset/secret-box.js'
import type { RouteAuthInput } from '../../src/middleware/options.js'
import { ORG, PROJECT } from '../support/fixtures.js'

const MASTER = 'test-credential-encryption-key-0123456789abcdef'
const NOW = Date.parse('2026-06-01T12:00:00Z')
const now = NOW / 1000
const ALICE = 'c0000000-0000-4000-8000-00000000000a'
const BOB = 'c0000000-0000-4000-8000-00000000000b'
const ANON = 'c0000000-0000-4000-8000-0000000000ff'
const target: Target = { url: 'https://o.test', kind: 'function', projectId: PROJECT, privacy: 'private' }

/** Signing material per algorithm: an HMAC secret, or a private key. */
const signers = new Map<ConsumerAlgorithm, Uint8Array | CryptoKey>()
let rsaPublicPem: string
let source: KeySetSource

const keyOf = (alg: ConsumerAlgorithm) => `key-${alg.toLowerCase()}`
const uuidFor = (i: number) => `d0000000-0000-4000-8000-${String(i).padStart(12, '0')}`
const hashBytes = (alg: string) => Number(alg.slice(2)) / 8

beforeAll(async () => {
  const credentials: Record<string, JwtCredential> = {}
  for (const [i, alg] of CONSUMER_ALGORITHMS.entries()) {
    const id = uuidFor(i)
    if (alg.startsWith('HS')) {
      const secret = crypto.getRandomValues(new Uint8Array(hashBytes(alg)))
      signers.set(alg, secret)
      credentials[keyOf(alg)] = { id, consumerId: ALICE, key: keyOf(alg), algorithm: alg, secret: await sealSecret(secret, MASTER, id) }
    } else {
      const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
      signers.set(alg, pair.privateKey)
      const publicKeyPem = await exportSPKI(pair.publicKey)
      if (alg === 'RS256') rsaPublicPem = publicKeyPem
      credentials[keyOf(alg)] = { id, consumerId: ALICE, key: keyOf(alg), algorithm: alg, publicKeyPem }
    }
  }
  credentials['bob-key'] = { ...credentials[keyOf('HS256')]!, id: uuidFor(99), consumerId: BOB, key: 'bob-key', secret: await sealSecret(signers.get('HS256') as Uint8Array, MASTER, uuidFor(99)) }
  source = {
    routes: [],
    projects: { [PROJECT]: ORG },
    apiKeys: {},
    consumers: {
      consumers: {
        [ALICE]: { id: ALICE, username: 'alice', customId: 'ext-1', groups: ['billing'] },
        [BOB]: { id: BOB, username: 'bob', groups: [] },
        [ANON]: { id: ANON, username: 'anonymous-visitor', groups: [] },
      },
      credentials,
    },
  }
})

function app(auth: RouteAuthInput = {}): Hono {
  const hono = new Hono()
  hono.use('*', edgeAuth({ keySet: staticKeySet(source), target, auth, credentialEncryptionKey: MASTER, clock: () => NOW }))
  hono.all('*', (c: Context<{ Variables: EdgeAuthVariables }>) => c.json(c.var.edgeAuth))
  return hono
}

function token(alg: ConsumerAlgorithm, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: Uint8Array | CryptoKey = signers.get(alg)!) {
  return new SignJWT({ iss: keyOf(alg), ...claims })
    .setProtectedHeader({ alg, ...header })
    .setIssuedAt(now - 10)
    .sign(key)
}

const call = async (hono: Hono, value: string, headers: Record<string, string> = {}) => hono.request('/x', { headers: { authorization: `Bearer ${value}`, ...headers } })
const b64url = (value: object | string) => btoa(typeof value === 'string' ? value : JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

const INVALID_TOKEN = 'Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The token is not valid."'

/** An HS256 token of alice's credential whose payload is this JSON text, `raw` appended verbatim (`1e309` parses to Infinity). */
function rawToken(claims: Record<string, unknown>, raw?: string, header: Record<string, unknown> = {}): Promise<string> {
  const text = JSON.stringify({ iss: keyOf('HS256'), iat: now - 10, exp: now + 60, ...claims })
  return new CompactSign(new TextEncoder().encode(raw ? `${text.slice(0, -1)},${raw}}` : text)).setProtectedHeader({ alg: 'HS256', ...header }).sign(signers.get('HS256')!)
}

describe('consumer JWTs', () => {
  it.each(CONSUMER_ALGORITHMS)('accepts %s with its credential', async (alg) => {
    const res = await call(app(), await token(alg, { exp: now + 60 }))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      method: 'consumer-jwt',
      credentialId: keyOf(alg),
      principal: { type: 'consumer', id: ALICE, name: 'alice' },
      consumer: { customId: 'ext-1', groups: ['billing'] },
    })
  })

  it('takes the credential from the header kid when the key claim is absent', async () => {
    const value = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: keyOf('HS256') }).sign(signers.get('HS256')!)
    expect((await call(app(), value)).status).toBe(200)
  })

  it('accepts a token with a past nbf where nbf is required (requireNbf), as one without where it is not', async () => {
    expect((await call(app({ requireNbf: true }), await token('HS256', { nbf: now - 5 }))).status).toBe(200)
    expect((await call(app(), await token('HS256', { exp: now + 60 }))).status).toBe(200)
  })

  it('uses the configured key claim', async () => {
    const value = await token('HS256', { iss: 'someone-else', client_key: keyOf('HS256') })
    expect((await call(app({ keyClaim: 'client_key' }), value)).status).toBe(200)
    expect((await call(app(), value)).status).toBe(401)
  })

  type Refusal = [string, () => Promise<string>, RouteAuthInput, number, string]
  it.each<Refusal>([
    ['alg none', async () => `${b64url({ alg: 'none' })}.${b64url({ iss: keyOf('HS256') })}.`, {}, 401, 'token_invalid'],
    ['an algorithm other than the credential’s (HS512 token, HS256 credential)', async () => token('HS512', { iss: keyOf('HS256') }, {}, crypto.getRandomValues(new Uint8Array(64))), {}, 401, 'token_invalid'],
    ['algorithm confusion: HS256 signed with the RS256 credential’s public key as the secret', async () => token('HS256', { iss: keyOf('RS256') }, {}, new TextEncoder().encode(rsaPublicPem)), {}, 401, 'token_invalid'],
    ['an unknown iss', () => token('HS256', { iss: 'nobody' }), {}, 401, 'credential_unknown'],
    ['an empty iss and no kid', () => token('HS256', { iss: '' }), {}, 401, 'credential_unknown'],
    ['a bad signature', () => token('HS256', {}, {}, crypto.getRandomValues(new Uint8Array(32))), {}, 401, 'token_invalid'],
    ['an expired token', () => token('HS256', { exp: now - 31 }), {}, 401, 'token_expired'],
    ['a token expired at the leeway boundary', () => token('HS256', { exp: now - 30 }), {}, 401, 'token_expired'],
    ['a token with nbf in the future', () => token('HS256', { nbf: now + 120 }), {}, 401, 'token_invalid'],
    ['a token without exp where exp is required', () => token('HS256'), { requireExp: true }, 401, 'token_invalid'],
    ['a token without nbf where nbf is required', () => token('HS256', { exp: now + 60 }), { requireNbf: true }, 401, 'token_invalid'],
    ['a token with a future nbf where nbf is required', () => token('HS256', { nbf: now + 120 }), { requireNbf: true }, 401, 'token_invalid'],
    ['a lifetime over the maximum', () => token('HS256', { exp: now + 7200 }), { maxLifetimeSeconds: 3600 }, 401, 'token_invalid'],
    ['no exp under a maximum lifetime', () => token('HS256'), { maxLifetimeSeconds: 3600 }, 401, 'token_invalid'],
    ['a jku header', () => token('HS256', {}, { jku: 'https://evil.example/jwks.json' }), {}, 401, 'token_invalid'],
    ['an x5u header', () => token('HS256', {}, { x5u: 'https://evil.example/cert.pem' }), {}, 401, 'token_invalid'],
    ['an embedded jwk header', () => token('HS256', {}, { jwk: { kty: 'oct', k: 'AAAA' } }), {}, 401, 'token_invalid'],
    ['invalid JSON in the payload', async () => `${b64url({ alg: 'HS256' })}.${b64url('{"iss":')}.c2ln`, {}, 401, 'token_invalid'],
    ['invalid JSON in the header', async () => `${b64url('{"alg":')}.${b64url({ iss: keyOf('HS256') })}.c2ln`, {}, 401, 'token_invalid'],
    ['a consumer not on the allow-list', () => token('HS256', { iss: 'bob-key' }), { allowConsumers: ['alice'] }, 403, 'permission_denied'],
    ['a consumer outside the allowed groups', () => token('HS256', { iss: 'bob-key' }), { allowGroups: ['billing'] }, 403, 'permission_denied'],
    ['a consumer JWT on a route that does not accept them', () => token('HS256'), { accept: ['api-key'] }, 401, 'credentials_unsupported'],
  ])('refuses %s', async (_, make, auth, status, code) => {
    const res = await call(app(auth), await make())
    expect(res.status).toBe(status)
    expect(await res.json()).toMatchObject({ code })
    expect(res.headers.get('www-authenticate')).toMatch(status === 401 ? /error="invalid_token"/ : /error="insufficient_scope"/)
  })

  it.each<[string, () => Promise<string>]>([
    ['a sub that is an object', () => rawToken({ sub: { id: 'admin' } })],
    ['a sub that is an array', () => rawToken({ sub: ['alice', 'bob'] })],
    ['a jti that is a number', () => rawToken({ jti: 42 })],
    ['an aud that is an object', () => rawToken({ aud: { any: true } })],
    ['an exp of 1e309 (Infinity once parsed)', () => rawToken({ exp: undefined }, '"exp":1e309')],
    ['an nbf of -1e309 (-Infinity once parsed)', () => rawToken({}, '"nbf":-1e309')],
    ['an iat of 1e309', () => rawToken({ iat: undefined }, '"iat":1e309')],
    ['an iat of -1e309', () => rawToken({ iat: undefined }, '"iat":-1e309')],
    ['an iat in the future beyond the clock tolerance', () => rawToken({ iat: now + 31 })],
    ['a key claim (iss) that is not a string, the header kid naming a credential', () => rawToken({ iss: { key: keyOf('HS256') } }, undefined, { kid: keyOf('HS256') })],
  ])('refuses a token with %s: 401 token_invalid (RFC 7519 claim types)', async (_, make) => {
    const res = await call(app(), await make())
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN)
    expect(await res.json()).toMatchObject({ status: 401, code: 'token_invalid' })
  })

  // maxLifetimeSeconds is Kong's maximum_expiration: exp − now, whatever iat says.
  const YEAR = 365 * 86_400
  it.each<[string, Record<string, unknown>]>([
    ['a token valid for a year whose iat claims a 30-second lifetime (iat = exp − 30)', { iat: now + YEAR - 30, exp: now + YEAR }],
    ['a token valid 75 s from now whose iat (20 s ahead, within the clock tolerance) makes exp − iat 55 s', { iat: now + 20, exp: now + 75 }],
    ['a token valid 61 s from now', { exp: now + 61 }],
  ])('under maxLifetimeSeconds 60, refuses %s', async (_, claims) => {
    const res = await call(app({ maxLifetimeSeconds: 60 }), await rawToken(claims))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN)
    expect(await res.json()).toMatchObject({ status: 401, code: 'token_invalid' })
  })

  it.each<[string, Record<string, unknown>]>([
    ['a token issued an hour ago and valid 30 s more', { iat: now - 3600, exp: now + 30 }],
    ['a token valid exactly 60 s from now', { exp: now + 60 }],
    ['a token without iat', { iat: undefined, exp: now + 60 }],
    ['a token whose iat is 20 s ahead (within the clock tolerance)', { iat: now + 20, exp: now + 60 }],
  ])('under maxLifetimeSeconds 60, accepts %s', async (_, claims) => {
    expect((await call(app({ maxLifetimeSeconds: 60 }), await rawToken(claims))).status).toBe(200)
  })

  it('lets allowed consumers and groups through', async () => {
    expect((await call(app({ allowConsumers: ['alice'] }), await token('HS256'))).status).toBe(200)
    expect((await call(app({ allowConsumers: [ALICE] }), await token('HS256'))).status).toBe(200)
    expect((await call(app({ allowGroups: ['billing'] }), await token('HS256'))).status).toBe(200)
  })

  it.each([
    ['malformed segments', 'a.b'],
    ['bad base64url', 'eyJhbGciOiJIUzI1NiJ9.e30.!!!'],
    ['an oversized token', `eyJhbGciOiJIUzI1NiJ9.${'e'.repeat(9000)}.c2ln`],
  ])('refuses %s as malformed, before any cryptography', async (_, value) => {
    const res = await call(app(), value)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'credentials_malformed' })
  })

  it('refuses a JWT with an unknown crit header', async () => {
    const input = `${b64url({ alg: 'HS256', crit: ['x-must'], 'x-must': 1 })}.${b64url({ iss: keyOf('HS256') })}`
    const mac = await crypto.subtle.sign('HMAC', await crypto.subtle.importKey('raw', signers.get('HS256') as Uint8Array, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), new TextEncoder().encode(input))
    const res = await call(app(), `${input}.${b64url(String.fromCharCode(...new Uint8Array(mac)))}`)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'token_invalid' })
  })

  it('refuses different tokens in two places as a conflict', async () => {
    const res = await call(app(), await token('HS256'), { 'x-auth-token': await token('HS384') })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'credentials_conflict' })
  })

  it('reads a token from an opted-in query parameter, cookie or header only', async () => {
    const value = await token('HS256')
    const hono = app({ queryParameters: ['jwt'], cookies: ['session'], headerNames: ['X-Api-Token'] })
    expect((await hono.request(`/x?jwt=${value}`)).status).toBe(200)
    expect((await hono.request('/x', { headers: { cookie: `theme=dark; session=${value}` } })).status).toBe(200)
    expect((await hono.request('/x', { headers: { 'x-api-token': value } })).status).toBe(200)
    expect((await app().request(`/x?jwt=${value}`)).status).toBe(401)
  })

  it('lets a request without credential through as the anonymous consumer, under the allow-list', async () => {
    const res = await app({ anonymousConsumer: ANON }).request('/x')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ method: 'anonymous', principal: { id: ANON, name: 'anonymous-visitor' } })
    expect((await app({ anonymousConsumer: ANON, allowConsumers: ['alice'] }).request('/x')).status).toBe(403)
    // A credential that fails is refused: anonymous is for requests without one.
    expect((await call(app({ anonymousConsumer: ANON }), await token('HS256', { iss: 'nobody' }))).status).toBe(401)
  })

  it('answers 503, not 401, when an HMAC credential cannot be opened (wrong CREDENTIAL_ENCRYPTION_KEY)', async () => {
    const hono = new Hono()
    hono.use('*', edgeAuth({ keySet: staticKeySet(source), target, credentialEncryptionKey: 'another-key-of-at-least-32-characters!!', clock: () => NOW }))
    hono.all('*', (c) => c.text('ok'))
    const res = await call(hono, await token('HS256'))
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'keyset_unavailable' })
  })
})
