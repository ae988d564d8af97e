import { env } from 'cloudflare:workers'
import { exportJWK, generateKeyPair, generateSecret, type JWK } from 'jose'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readManifest } from '../../src/keyset/writer.js'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { OidcRegistry } from '../../src/sync/oidc-registry.js'
import { runSync } from '../../src/sync/run-sync.js'
import { clearKv, freshView, owner } from '../support/admin-api.js'
import { keyPairFor } from '../support/jwt-keys.js'

let rsa: JWK
let rsaPrivate: JWK
let ec256: JWK
let ec384: JWK
let ed25519: JWK
let rsa1024: JWK
let oct: JWK

beforeAll(async () => {
  rsa = (await keyPairFor('RS256')).jwk
  ec256 = (await keyPairFor('ES256')).jwk
  ec384 = (await keyPairFor('ES384')).jwk
  ed25519 = (await keyPairFor('EdDSA')).jwk
  rsaPrivate = await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)
  rsa1024 = await exportJWK((await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']) as CryptoKeyPair).publicKey)
  oct = await exportJWK(await generateSecret('HS256', { extractable: true }))
})

let name: string
let jwksUri: string
let now: number
const clock = () => now

beforeEach(async () => {
  await clearKv()
  name = `sync-${crypto.randomUUID().slice(0, 8)}`
  jwksUri = `${env.JWKS_SERVER_URL}/jwks/${name}`
  now = Date.parse('2026-06-01T12:00:00Z')
})

/** Tells the JWKS peer what to answer at this test's URL. */
async function serve(answer: { jwks: unknown } | { fail: 'status'; status: number } | { fail: 'hang' | 'garbage' }, uri = jwksUri): Promise<void> {
  const res = await fetch(uri, { method: 'PUT', body: JSON.stringify(answer) })
  expect(res.status).toBe(204)
}

async function register(id = 'corp', algorithms: ('RS256' | 'ES256' | 'ES384' | 'EdDSA' | 'PS256')[] = ['RS256', 'ES256'], uri = jwksUri): Promise<void> {
  const at = new Date(now).toISOString()
  await new OidcRegistry(env.KEYSET).save({ id, issuer: `https://${id}.example/`, audiences: ['gw'], jwksUri: uri, algorithms, createdAt: at, updatedAt: at })
}

const sync = () => runSync({ kv: env.KEYSET, owner: owner(), clock, jwksTimeoutMs: 400 })

async function oidcPartText(): Promise<string> {
  const manifest = await readManifest(env.KEYSET)
  return (await env.KEYSET.get(kvKeys.part(manifest!.oidc!)))!
}

describe('the oidc part', () => {
  it('holds each issuer with the public signing keys its algorithms allow', async () => {
    await serve({ jwks: { keys: [{ ...rsa, kid: 'r1', alg: 'RS256', use: 'sig' }, { ...ec256, kid: 'e1' }, { ...rsa, kid: 'r2', x5c: ['MIIB…'], key_ops: ['verify'] }] } })
    await register()
    const outcome = await sync()
    expect(outcome.ok).toBe(true)
    expect(outcome.status!.counts).toMatchObject({ oidcIssuers: 1, oidcKeys: 3, oidcKeysDropped: 0, oidcPrivateKeysDropped: 0, oidcJwksFailures: 0 })
    const oidc = (await (await freshView()).oidc())!
    expect(oidc.issuers.corp).toEqual({
      id: 'corp',
      issuer: 'https://corp.example/',
      audiences: ['gw'],
      jwksUri,
      algorithms: ['RS256', 'ES256'],
      keys: [
        { kty: 'RSA', kid: 'r1', alg: 'RS256', use: 'sig', n: rsa.n, e: rsa.e },
        { kty: 'EC', kid: 'e1', crv: 'P-256', x: ec256.x, y: ec256.y },
        // Only the members a verifier needs: no certificate chain, no key_ops.
        { kty: 'RSA', kid: 'r2', n: rsa.n, e: rsa.e },
      ],
      fetchedAt: '2026-06-01T12:00:00.000Z',
    })
  })

  it('drops every JWK that carries private or secret members, whole, and counts them', async () => {
    await serve({ jwks: { keys: [{ ...rsaPrivate, kid: 'leaked-rsa' }, { ...oct, kid: 'leaked-hmac' }, { ...ec256, d: 'AAAA', kid: 'leaked-ec' }, { ...rsa, kid: 'good' }] } })
    await register()
    const outcome = await sync()
    expect(outcome.status!.counts).toMatchObject({ oidcKeys: 1, oidcPrivateKeysDropped: 3, oidcKeysDropped: 0 })
    expect(outcome.status!.warnings).toContainEqual('oidc issuer corp: 3 key(s) in the JWKS carry private members and were dropped')
    expect((await (await freshView()).oidc())!.issuers.corp!.keys.map((k) => k.kid)).toEqual(['good'])
    const stored = await oidcPartText()
    for (const member of ['"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"', '"k"']) expect(stored).not.toContain(member)
    expect(stored).not.toContain(rsaPrivate.d)
    expect(stored).not.toContain(oct.k)
  })

  it.each<[string, Record<string, unknown>]>([
    ['no kid', { ...rsa }],
    ['an empty kid', { ...rsa, kid: '' }],
    ['a kid seen before', { ...ec256, kid: 'keep' }],
    ['an algorithm the issuer does not allow', { ...rsa, kid: 'x', alg: 'RS512' }],
    ['an HMAC algorithm', { ...rsa, kid: 'x', alg: 'HS256' }],
    ['a curve the issuer does not allow (P-384 for ES256)', { ...ec384, kid: 'x' }],
    ['an Ed25519 key the issuer does not allow', { ...ed25519, kid: 'x' }],
    ['an encryption key', { ...rsa, kid: 'x', use: 'enc' }],
    ['key_ops without verify', { ...rsa, kid: 'x', key_ops: ['encrypt'] }],
    ['an RSA key of 1,024 bits', { ...rsa1024, kid: 'x' }],
    ['an EC key with a broken point', { ...ec256, kid: 'x', x: 'AAAA' }],
    ['an unknown key type', { kty: 'AKP', kid: 'x', alg: 'ML-DSA-44', pub: 'AAAA' }],
    ['a JWK that is not an object', 'not-a-jwk' as unknown as Record<string, unknown>],
  ])('drops a key with %s and counts it', async (_, jwk) => {
    await serve({ jwks: { keys: [{ ...rsa, kid: 'keep' }, jwk] } })
    await register()
    const outcome = await sync()
    expect(outcome.status!.counts).toMatchObject({ oidcKeys: 1, oidcKeysDropped: 1, oidcPrivateKeysDropped: 0 })
    expect((await (await freshView()).oidc())!.issuers.corp!.keys).toEqual([{ kty: 'RSA', kid: 'keep', n: rsa.n, e: rsa.e }])
  })

  it('keeps EdDSA, ES384 and PS256 keys for an issuer that allows them', async () => {
    await serve({ jwks: { keys: [{ ...ed25519, kid: 'ed' }, { ...ec384, kid: 'ec' }, { ...rsa, kid: 'ps', alg: 'PS256' }, { ...ec256, kid: 'not-allowed' }] } })
    await register('corp', ['EdDSA', 'ES384', 'PS256'])
    await sync()
    expect((await (await freshView()).oidc())!.issuers.corp!.keys.map((k) => k.kid)).toEqual(['ed', 'ec', 'ps'])
  })

  it('writes nothing when the JWKS has not changed, and moves fetchedAt when keys rotate', async () => {
    await serve({ jwks: { keys: [{ ...rsa, kid: 'r1' }] } })
    await register()
    const first = await sync()
    now += 300_000
    const second = await sync()
    expect(second.write?.changed).toBe(false)
    expect(second.write?.partsWritten).toBe(0)
    expect((await (await freshView()).oidc())!.issuers.corp!.fetchedAt).toBe('2026-06-01T12:00:00.000Z')

    await serve({ jwks: { keys: [{ ...rsa, kid: 'r1' }, { ...ec256, kid: 'e2' }] } })
    now += 300_000
    const rotated = await sync()
    expect(rotated.write?.changed).toBe(true)
    expect(rotated.status!.snapshotId).not.toBe(first.status!.snapshotId)
    const issuer = (await (await freshView()).oidc())!.issuers.corp!
    expect(issuer.keys.map((k) => k.kid)).toEqual(['r1', 'e2'])
    expect(issuer.fetchedAt).toBe('2026-06-01T12:10:00.000Z')
  })

  it('has no oidc part without issuers', async () => {
    const outcome = await sync()
    expect(outcome.ok).toBe(true)
    expect((await readManifest(env.KEYSET))!.oidc).toBeUndefined()
    expect(await (await freshView()).oidc()).toBeUndefined()
  })
})

describe('a JWKS that cannot be fetched', () => {
  it.each<[string, Parameters<typeof serve>[0], string]>([
    ['an HTTP 500', { fail: 'status', status: 500 }, 'HTTP 500'],
    ['an HTTP 404', { fail: 'status', status: 404 }, 'HTTP 404'],
    ['a body that is not JSON', { fail: 'garbage' }, 'not JSON'],
    ['no answer in time', { fail: 'hang' }, 'timed out after 400 ms'],
    ['JSON that is not a JWKS', { jwks: { issuer: 'x' } }, 'not a JWKS'],
    ['a JWKS without a usable key', { jwks: { keys: [{ ...rsa }] } }, 'no usable signing key'],
  ])('after %s: the sync succeeds, keeps the previous keys, and reports it', async (_, failure, reason) => {
    await serve({ jwks: { keys: [{ ...rsa, kid: 'r1' }] } })
    await register()
    await register('other', ['ES256'], `${jwksUri}-other`)
    await serve({ jwks: { keys: [{ ...ec256, kid: 'o1' }] } }, `${jwksUri}-other`)
    const good = await sync()
    expect(good.status!.counts.oidcKeys).toBe(2)

    await serve(failure)
    now += 300_000
    const outcome = await sync()
    expect(outcome.ok).toBe(true)
    expect(outcome.status!.lastError).toBeNull()
    expect(outcome.status!.counts).toMatchObject({ oidcJwksFailures: 1, oidcKeys: 2 })
    expect(outcome.status!.warnings).toHaveLength(2) // the failure, and IAM not configured
    const warning = outcome.status!.warnings!.find((w) => w.startsWith('oidc issuer corp'))!
    expect(warning).toContain(reason)
    expect(warning).toContain('kept 1 key(s) fetched 2026-06-01T12:00:00.000Z')
    // The same keys, the same fetchedAt: the snapshot did not change.
    expect(outcome.write?.changed).toBe(false)
    const oidc = (await (await freshView()).oidc())!
    expect(oidc.issuers.corp).toMatchObject({ keys: [{ kid: 'r1' }], fetchedAt: '2026-06-01T12:00:00.000Z' })
    expect(oidc.issuers.other!.keys.map((k) => k.kid)).toEqual(['o1'])
    // The status records the warning.
    const status = JSON.parse((await env.KEYSET.get('sync/v1/status'))!)
    expect(status.warnings).toEqual(outcome.status!.warnings)
  })

  it('leaves an issuer without keys (fetchedAt null) when it never had any', async () => {
    await serve({ fail: 'status', status: 503 })
    await register()
    const outcome = await sync()
    expect(outcome.ok).toBe(true)
    expect(outcome.status!.counts).toMatchObject({ oidcIssuers: 1, oidcKeys: 0, oidcJwksFailures: 1 })
    expect(outcome.status!.warnings).toContainEqual(expect.stringContaining('no previous keys to keep'))
    expect((await (await freshView()).oidc())!.issuers.corp).toMatchObject({ keys: [], fetchedAt: null })
  })

  it('does not carry keys over to a new jwks_uri', async () => {
    await serve({ jwks: { keys: [{ ...rsa, kid: 'r1' }] } })
    await register()
    await sync()
    await register('corp', ['RS256', 'ES256'], `${jwksUri}-moved`)
    const outcome = await sync()
    expect(outcome.status!.counts.oidcJwksFailures).toBe(1)
    expect((await (await freshView()).oidc())!.issuers.corp).toMatchObject({ jwksUri: `${jwksUri}-moved`, keys: [], fetchedAt: null })
  })

  it('recovers on the next successful fetch', async () => {
    await serve({ jwks: { keys: [{ ...rsa, kid: 'r1' }] } })
    await register()
    await sync()
    await serve({ fail: 'status', status: 500 })
    expect((await sync()).status!.counts.oidcJwksFailures).toBe(1)
    await serve({ jwks: { keys: [{ ...rsa, kid: 'r1' }] } })
    const recovered = await sync()
    expect(recovered.status!.counts.oidcJwksFailures).toBe(0)
    expect(recovered.status!.warnings?.some((w) => w.startsWith('oidc issuer'))).toBe(false)
    expect(recovered.statusWritten).toBe(true)
  })
})
