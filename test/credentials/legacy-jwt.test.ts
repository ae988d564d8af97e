import { Hono, type Context } from 'hono'
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { pkcs1PublicPem } from '../../src/emulator/serverless/signing.js'
import { edgeAuth, staticKeySet, type KeySetSource, type Target, type EdgeAuthVariables } from '../../src/index.js'
import { importPkcs1PublicKey } from '../../src/credentials/pkcs1.js'
import { ORG, PROJECT } from '../support/fixtures.js'

const NS = 'a1111111-1111-4111-8111-111111111111'
const OTHER_NS = 'a2222222-2222-4222-8222-222222222222'
const FN = 'f1111111-1111-4111-8111-111111111111'
const OTHER_FN = 'f2222222-2222-4222-8222-222222222222'
const T_NS = 'e0000000-0000-4000-8000-000000000001'
const T_FN = 'e0000000-0000-4000-8000-000000000002'
const T_OTHER_FN = 'e0000000-0000-4000-8000-000000000003'
const T_REVOKED = 'e0000000-0000-4000-8000-000000000004'
const T_OTHER_NS = 'e0000000-0000-4000-8000-000000000005'
const NOW = Date.parse('2026-06-01T12:00:00Z')
const nowSeconds = NOW / 1000

let key: CryptoKeyPair
let otherKey: CryptoKeyPair
let publicPem: string
let app: Hono
let source: KeySetSource
const sourceWithKey = () => source

const target: Target = { url: 'https://o.test', kind: 'function', projectId: PROJECT, namespaceId: NS, resourceId: FN, privacy: 'private' }

function sign(claims: { jti: string; ns?: string; app?: string; iss?: string; aud?: string; exp?: number; nbf?: number; iat?: number }, signer = key.privateKey, header: Record<string, unknown> = {}) {
  const jwt = new SignJWT({ application_claim: [{ namespace_id: claims.ns ?? '', application_id: claims.app ?? '' }], version: 2 })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header })
    .setIssuer(claims.iss ?? 'SCALEWAY')
    .setAudience(claims.aud ?? 'functions')
    .setJti(claims.jti)
    .setIssuedAt(claims.iat ?? nowSeconds - 60)
    .setNotBefore(claims.nbf ?? nowSeconds - 60)
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp)
  return jwt.sign(signer)
}

/** Signs header and payload as given, for what jose refuses to produce (an unknown `crit`, a claim of `1e309`). */
async function signRaw(header: object, payload: object | string): Promise<string> {
  const input = `${b64url(header)}.${b64url(payload)}`
  const signature = new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key.privateKey, new TextEncoder().encode(input)))
  return `${input}.${btoa(String.fromCharCode(...signature)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`
}

const b64url = (value: object | string) => btoa(typeof value === 'string' ? value : JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

beforeAll(async () => {
  key = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  otherKey = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  publicPem = pkcs1PublicPem((await exportJWK(key.publicKey)) as JWK)
  source = {
    routes: [],
    projects: { [PROJECT]: ORG },
    apiKeys: {},
    resources: { [FN]: { kind: 'function', name: 'hello', namespaceId: NS, projectId: PROJECT, privacy: 'private' } },
    legacy: {
      namespaces: {
        [NS]: { kind: 'function', projectId: PROJECT, publicKeyPem: publicPem },
        [OTHER_NS]: { kind: 'function', projectId: PROJECT, publicKeyPem: pkcs1PublicPem((await exportJWK(otherKey.publicKey)) as JWK) },
      },
      tokens: {
        [T_NS]: { namespaceId: NS, expiresAt: null },
        [T_FN]: { namespaceId: NS, resourceId: FN, expiresAt: null },
        [T_OTHER_FN]: { namespaceId: NS, resourceId: OTHER_FN, expiresAt: null },
        [T_OTHER_NS]: { namespaceId: OTHER_NS, expiresAt: null },
      },
    },
  }
  app = new Hono()
  app.use('/fn/*', edgeAuth({ keySet: staticKeySet(source), target, clock: () => NOW }))
  app.use('/no-ns/*', edgeAuth({ keySet: staticKeySet(source), target: { ...target, namespaceId: undefined, resourceId: undefined }, clock: () => NOW }))
  app.all('*', (c: Context<{ Variables: EdgeAuthVariables }>) => c.json(c.var.edgeAuth))
})

const INVALID = 'Bearer realm="edge-auth-gateway", error="invalid_token"'

describe('legacy serverless JWTs', () => {
  it.each<[string, () => Promise<string>, string]>([
    ['a namespace token', () => sign({ jti: T_NS, ns: NS }), 'x-auth-token'],
    ['a namespace token in Authorization: Bearer', () => sign({ jti: T_NS, ns: NS }), 'authorization'],
    ['a resource token for this function', () => sign({ jti: T_FN, app: FN }), 'x-auth-token'],
    ['a token expiring later', () => sign({ jti: T_NS, ns: NS, exp: nowSeconds + 60 }), 'x-auth-token'],
    ['a token expired within the clock tolerance', () => sign({ jti: T_NS, ns: NS, exp: nowSeconds - 10 }), 'x-auth-token'],
  ])('accepts %s', async (_, token, header) => {
    const value = await token()
    const res = await app.request('/fn/x', { headers: { [header]: header === 'authorization' ? `Bearer ${value}` : value } })
    expect(res.status).toBe(200)
    const identity = await res.json()
    expect(identity).toMatchObject({ method: 'legacy-jwt', principal: { type: 'legacy-token' } })
    expect(JSON.stringify(identity)).not.toContain(value)
  })

  it.each<[string, () => Promise<string>, number, string]>([
    ['expired', () => sign({ jti: T_NS, ns: NS, exp: nowSeconds - 31 }), 401, 'token_expired'],
    ['expired exactly at the boundary (exp + tolerance = now)', () => sign({ jti: T_NS, ns: NS, exp: nowSeconds - 30 }), 401, 'token_expired'],
    ['not yet valid (nbf in the future)', () => sign({ jti: T_NS, ns: NS, nbf: nowSeconds + 120 }), 401, 'token_invalid'],
    ['revoked (not in the synced list)', () => sign({ jti: T_REVOKED, ns: NS }), 401, 'token_revoked'],
    ['live, but of another namespace (and signed with its key)', () => sign({ jti: T_OTHER_NS, ns: OTHER_NS }, otherKey.privateKey), 401, 'token_invalid'],
    ['signed with another key', () => sign({ jti: T_NS, ns: NS }, otherKey.privateKey), 401, 'token_invalid'],
    ['with the wrong audience', () => sign({ jti: T_NS, ns: NS, aud: 'containers' }), 401, 'token_invalid'],
    ['with a kid header', () => sign({ jti: T_NS, ns: NS }, key.privateKey, { kid: 'k1' }), 401, 'token_invalid'],
    ['with a jku header', () => sign({ jti: T_NS, ns: NS }, key.privateKey, { jku: 'https://evil.example/jwks' }), 401, 'token_invalid'],
    ['with an x5u header', () => sign({ jti: T_NS, ns: NS }, key.privateKey, { x5u: 'https://evil.example/cert' }), 401, 'token_invalid'],
    ['with a crit header', () => signRaw({ alg: 'RS256', crit: ['x-must-understand'], 'x-must-understand': true }, { iss: 'SCALEWAY', aud: 'functions', jti: T_NS, application_claim: [{ namespace_id: NS }] }), 401, 'token_invalid'],
    ['alg none', async () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: 'SCALEWAY', aud: 'functions', jti: T_NS, application_claim: [{ namespace_id: NS }] })}.`, 401, 'token_invalid'],
    ['HS256 signed with the namespace public key as the secret (algorithm confusion)', async () =>
      new SignJWT({ application_claim: [{ namespace_id: NS }] }).setProtectedHeader({ alg: 'HS256' }).setIssuer('SCALEWAY').setAudience('functions').setJti(T_NS).sign(new TextEncoder().encode(publicPem)), 401, 'token_invalid'],
    ['a tampered payload', async () => {
      const [h, , s] = (await sign({ jti: T_NS, ns: NS })).split('.')
      return `${h}.${b64url({ iss: 'SCALEWAY', aud: 'functions', jti: T_NS, application_claim: [{ namespace_id: OTHER_NS }] })}.${s}`
    }, 401, 'token_invalid'],
    ['a payload that is not JSON', async () => `${b64url({ alg: 'RS256' })}.${b64url('not json')}.c2ln`, 401, 'token_invalid'],
    ['a resource token for another function of the namespace', () => sign({ jti: T_OTHER_FN, app: OTHER_FN }), 403, 'permission_denied'],
    ['a resource token whose claim names this function but whose token is for another', () => sign({ jti: T_OTHER_FN, app: FN }), 403, 'permission_denied'],
  ])('refuses a token %s', async (_, token, status, code) => {
    const res = await app.request('/fn/x', { headers: { 'x-auth-token': await token() } })
    expect(res.status).toBe(status)
    expect(await res.json()).toMatchObject({ code })
    const challenge = res.headers.get('www-authenticate') ?? ''
    expect(challenge.startsWith(status === 401 ? INVALID : 'Bearer realm="edge-auth-gateway", error="insufficient_scope"')).toBe(true)
  })

  it('refuses bad base64url in a segment as malformed before any cryptography', async () => {
    const res = await app.request('/fn/x', { headers: { 'x-auth-token': 'eyJhbGciOiJSUzI1NiJ9.@@@.c2ln' } })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'credentials_malformed' })
  })

  it('refuses a legacy token on a route whose target has no known namespace', async () => {
    const res = await app.request('/no-ns/x', { headers: { 'x-auth-token': await sign({ jti: T_NS, ns: NS }) } })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'credentials_unsupported' })
  })
})

describe('registered claims of the types RFC 7519 gives them', () => {
  const valid = () => ({ iss: 'SCALEWAY', aud: 'functions', jti: T_NS, iat: nowSeconds - 60, nbf: nowSeconds - 60, application_claim: [{ namespace_id: NS, application_id: '' }], version: 2 })
  /** The payload as JSON text, `raw` appended verbatim: JSON numbers like `1e309` that parse to Infinity. */
  const payload = (claims: Record<string, unknown>, raw?: string) => {
    const text = JSON.stringify({ ...valid(), ...claims })
    return raw ? `${text.slice(0, -1)},${raw}}` : text
  }
  it.each<[string, string]>([
    ['a sub that is an object', payload({ sub: { id: 'admin' } })],
    ['an aud array with a member that is not a string', payload({ aud: ['functions', 7] })],
    ['an exp of 1e309 (Infinity once parsed)', payload({}, '"exp":1e309')],
    ['an nbf of -1e309 (-Infinity once parsed)', payload({ nbf: undefined }, '"nbf":-1e309')],
    ['an iat of 1e309', payload({ iat: undefined }, '"iat":1e309')],
    ['an iat of -1e309', payload({ iat: undefined }, '"iat":-1e309')],
    ['an iat in the future beyond the clock tolerance', payload({ iat: nowSeconds + 31 })],
  ])('refuses a token with %s: 401 token_invalid', async (_, json) => {
    const res = await app.request('/fn/x', { headers: { 'x-auth-token': await signRaw({ alg: 'RS256', typ: 'JWT' }, json) } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`${INVALID}, error_description="The token is not valid."`)
    expect(await res.json()).toMatchObject({ status: 401, code: 'token_invalid' })
  })

  it('accepts an iat in the future within the clock tolerance (30 s)', async () => {
    const res = await app.request('/fn/x', { headers: { 'x-auth-token': await signRaw({ alg: 'RS256', typ: 'JWT' }, payload({ iat: nowSeconds + 30 })) } })
    expect(res.status).toBe(200)
  })
})

describe('importPkcs1PublicKey', () => {
  it('imports the key the platform shows and refuses anything else', async () => {
    await expect(importPkcs1PublicKey(publicPem)).resolves.toMatchObject({ type: 'public' })
    await expect(importPkcs1PublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).rejects.toThrow(TypeError)
    await expect(importPkcs1PublicKey('-----BEGIN RSA PUBLIC KEY-----\nMAA=\n-----END RSA PUBLIC KEY-----')).rejects.toThrow(TypeError)
  })
})

describe('the legacy-token migration schedule', () => {
  const policy = {
    deprecatedAt: '2026-01-01T00:00:00Z',
    sunsetAt: '2026-09-01T00:00:00Z',
    migrationGuideUrl: 'https://docs.example.com/migrate-to-iam',
    brownouts: [{ start: '2026-06-01T11:30:00Z', end: '2026-06-01T13:00:00Z' }],
  }
  function scheduled(nowMs: number): Hono {
    const hono = new Hono()
    hono.use('*', edgeAuth({ keySet: staticKeySet(sourceWithKey()), target, legacyTokens: policy, clock: () => nowMs }))
    hono.all('*', (c) => c.text('ok'))
    return hono
  }
  const before = Date.parse('2026-06-01T10:00:00Z')

  it('answers a legacy token with Deprecation, Sunset and a Link to the guide', async () => {
    const res = await scheduled(before).request('/x', { headers: { 'x-auth-token': await sign({ jti: T_NS, ns: NS, nbf: before / 1000 - 60, iat: before / 1000 - 60 }) } })
    expect(res.status).toBe(200)
    expect(res.headers.get('deprecation')).toBe(`@${Date.parse('2026-01-01T00:00:00Z') / 1000}`)
    expect(res.headers.get('sunset')).toBe('Tue, 01 Sep 2026 00:00:00 GMT')
    expect(res.headers.get('link')).toBe('<https://docs.example.com/migrate-to-iam>; rel="deprecation"; type="text/html"')
  })

  it.each([
    ['during a brownout', Date.parse('2026-06-01T12:00:00Z'), 'legacy_token_brownout'],
    ['after the sunset', Date.parse('2026-09-01T00:00:00Z'), 'legacy_token_sunset'],
  ])('refuses a legacy token %s, with its code', async (_, nowMs, code) => {
    const res = await scheduled(nowMs).request('/x', { headers: { 'x-auth-token': await sign({ jti: T_NS, ns: NS, nbf: nowMs / 1000 - 60, exp: nowMs / 1000 + 60 }) } })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code })
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it.each([
    [{ sunsetAt: '2026-01-01T00:00:00Z', deprecatedAt: '2026-02-01T00:00:00Z' }, /sunsetAt/],
    [{ brownouts: [{ start: '2026-02-01T00:00:00Z', end: '2026-01-01T00:00:00Z' }] }, /brownout/],
    [{ migrationGuideUrl: 'not a url' }, /migrationGuideUrl/],
  ])('refuses a schedule %o at construction', (legacyTokens, message) => {
    expect(() => edgeAuth({ keySet: staticKeySet(sourceWithKey()), target, legacyTokens })).toThrow(message)
  })
})
