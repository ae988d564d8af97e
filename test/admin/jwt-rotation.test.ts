import { env } from 'cloudflare:workers'
import { SignJWT, exportSPKI, generateKeyPair } from 'jose'
import { beforeEach, describe, expect, it } from 'vitest'
import { createGateway } from '../../src/gateway.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import { openSecret } from '../../src/keyset/secret-box.js'
import { registryKeys } from '../../src/sync/registry.js'
import { runSync } from '../../src/sync/run-sync.js'
import { adminJson, clearKv, owner, settled } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { keyPairFor } from '../support/jwt-keys.js'
import { newMarker, originSaw } from '../support/origin.js'
import { audited } from '../support/audited.js'

// PATCH and rotation of consumers' JWT credentials, checked at a gateway that reads
// the key set afresh after each sync.

const REALM = 'Bearer realm="edge-auth-gateway"'
const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' }
const ctx = { waitUntil: () => undefined, passThroughOnException() {}, props: {} } as unknown as ExecutionContext

beforeEach(async () => {
  await settled()
  await clearKv()
  expect((await adminJson('PUT', '/routes', { routes: [{ id: 'app', paths: ['/app'], target, auth: { accept: ['consumer-jwt'] } }] })).status).toBe(200)
  expect((await adminJson('POST', '/consumers', { username: 'my-app' })).status).toBe(201)
})

/** Waits for the background syncs, then syncs once more (optionally on another clock). */
async function synced(clock?: () => number): Promise<void> {
  await settled()
  const outcome = await runSync({ kv: env.KEYSET, owner: owner(), ...(clock ? { clock } : {}) })
  expect(outcome.ok).toBe(true)
}

/** A call at a gateway reading the key set afresh. */
async function call(token: string) {
  const gateway = createGateway({ keySet: () => new KvKeySetStore(env.KEYSET), originToken: () => env.ORIGIN_AUTH_TOKEN, credentialEncryptionKey: () => env.CREDENTIAL_ENCRYPTION_KEY, log: () => undefined, allowInsecureLoopbackOrigins: true })
  const marker = newMarker()
  const res = await gateway.request('https://gw.example/app', { headers: { authorization: `Bearer ${token}`, 'x-test-marker': marker } }, env, ctx)
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as any, saw: await originSaw(marker) }
}

/** A key pair of its own (keyPairFor shares one per algorithm in a file). */
async function freshPair(algorithm: 'ES256' | 'EdDSA') {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true })
  return { privateKey, spki: await exportSPKI(publicKey) }
}

const hs256 = (iss: string, secret: string) => new SignJWT({ some: 'payload' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(iss).sign(new TextEncoder().encode(secret))

describe('PATCH /consumers/{consumer}/jwt/{credential}', () => {
  it('generate_secret: a new secret shown once, sealed under the same id; tokens signed with the old one are refused, with the new one allowed', async () => {
    const created = await adminJson('POST', '/consumers/my-app/jwt', {})
    const before = await hs256(created.body.key, created.body.secret)
    await synced()
    expect((await call(before)).status).toBe(200)

    const { result: patched, audit } = await audited(() => adminJson('PATCH', `/consumers/my-app/jwt/${created.body.key}`, { generate_secret: true }))
    expect(patched.status).toBe(200)
    expect(patched.headers.get('cache-control')).toBe('no-store')
    expect(patched.body).toMatchObject({ id: created.body.id, key: created.body.key, algorithm: 'HS256', secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), secret_encoding: 'utf-8', expires_at: null })
    expect(patched.body.secret).not.toBe(created.body.secret)
    expect(audit).toEqual([expect.objectContaining({ action: 'jwt_credential.update', target: created.body.id })])
    const stored = JSON.parse((await env.KEYSET.get(registryKeys.jwtCredential(created.body.consumer.id, created.body.id)))!)
    expect(new TextDecoder().decode(await openSecret(stored.secret, env.CREDENTIAL_ENCRYPTION_KEY!, created.body.id))).toBe(patched.body.secret)

    await synced()
    const refused = await call(before)
    expect(refused.status).toBe(401)
    expect(refused.body.code).toBe('token_invalid')
    expect(refused.challenge).toMatch(new RegExp(`^${REALM}, error="invalid_token"`))
    expect(refused.saw).toBe(false)
    expect((await call(await hs256(created.body.key, patched.body.secret))).status).toBe(200)
    // Never shown again.
    expect((await adminJson('GET', `/consumers/my-app/jwt/${created.body.id}`)).text).not.toContain(patched.body.secret)
  })

  it('key: the new key names the credential, the old one is free for another; a key taken is 409', async () => {
    const created = await adminJson('POST', '/consumers/my-app/jwt', { key: 'old-iss' })
    await adminJson('POST', '/consumers/my-app/jwt', { key: 'taken-iss' })
    expect((await adminJson('PATCH', '/consumers/my-app/jwt/old-iss', { key: 'taken-iss' })).body).toMatchObject({ status: 409, code: 'credential_exists' })
    const renamed = await adminJson('PATCH', '/consumers/my-app/jwt/old-iss', { key: 'new-iss' })
    expect(renamed.body).toMatchObject({ id: created.body.id, key: 'new-iss' })
    expect(renamed.body.secret).toBeUndefined()
    expect((await adminJson('GET', '/consumers/my-app/jwt/new-iss')).body.id).toBe(created.body.id)
    expect((await adminJson('GET', '/consumers/my-app/jwt/old-iss')).status).toBe(404)
    expect((await adminJson('POST', '/consumers/my-app/jwt', { key: 'old-iss' })).status).toBe(201)
    await synced()
    expect((await call(await hs256('new-iss', created.body.secret))).status).toBe(200)
    expect((await call(await hs256('old-iss', created.body.secret))).status).toBe(401)
  })

  it('rsa_public_key: an ES256 credential takes a new public key; tokens of the old private key are refused', async () => {
    const first = await keyPairFor('ES256')
    const second = await freshPair('ES256')
    const created = await adminJson('POST', '/consumers/my-app/jwt', { algorithm: 'ES256', rsa_public_key: first.spki, key: 'es-app' })
    const sign = (privateKey: CryptoKey) => new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('es-app').sign(privateKey)
    const patched = await adminJson('PATCH', '/consumers/my-app/jwt/es-app', { rsa_public_key: second.spki })
    expect(patched.body).toMatchObject({ id: created.body.id, rsa_public_key: second.spki.trim() })
    await synced()
    expect((await call(await sign(first.privateKey))).status).toBe(401)
    expect((await call(await sign(second.privateKey))).status).toBe(200)
  })

  it.each([
    ['a new algorithm without new material', { algorithm: 'HS512' }, 'algorithm: a credential changing to HS512 needs its new secret (or generate_secret)'],
    ['secret and generate_secret', { secret: 'x'.repeat(32), generate_secret: true }, 'generate_secret: not with secret (give one or the other)'],
    ['a public key for an HMAC credential', { rsa_public_key: '-----BEGIN PUBLIC KEY-----' }, 'rsa_public_key: not used by HS256 credentials (an HMAC secret is)'],
    ['secret_is_base64 alone', { secret_is_base64: true }, 'secret_is_base64: goes with secret'],
    ['generate_secret: false', { generate_secret: false }, 'generate_secret: expected true'],
    ['an unknown field', { secret_base64: 'x' }, 'secret_base64: unknown field'],
  ])('refuses %s (400)', async (_, body, detail) => {
    await adminJson('POST', '/consumers/my-app/jwt', { key: 'k' })
    expect((await adminJson('PATCH', '/consumers/my-app/jwt/k', body)).body).toMatchObject({ status: 400, detail })
  })

  it('algorithm with new material: HS256 → HS512 with a generated 64-byte secret', async () => {
    await adminJson('POST', '/consumers/my-app/jwt', { key: 'k' })
    const res = await adminJson('PATCH', '/consumers/my-app/jwt/k', { algorithm: 'HS512', generate_secret: true })
    expect(res.body).toMatchObject({ algorithm: 'HS512', secret: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) })
  })

  it('expires_at: set, then cleared with null; 404 for another consumer\'s credential', async () => {
    await adminJson('POST', '/consumers', { username: 'other' })
    const theirs = await adminJson('POST', '/consumers/other/jwt', {})
    await adminJson('POST', '/consumers/my-app/jwt', { key: 'k' })
    expect((await adminJson('PATCH', '/consumers/my-app/jwt/k', { expires_at: '2030-01-01T00:00:00Z' })).body.expires_at).toBe('2030-01-01T00:00:00.000Z')
    expect((await adminJson('PATCH', '/consumers/my-app/jwt/k', { expires_at: null })).body.expires_at).toBeNull()
    expect((await adminJson('PATCH', `/consumers/my-app/jwt/${theirs.body.id}`, { key: 'mine' })).body).toMatchObject({ status: 404, code: 'credential_not_found' })
  })
})

describe('POST /consumers/{consumer}/jwt/{credential}/rotate', () => {
  it('a second credential (new key, new secret shown once); the old one works until the end of the overlap, and is left out by the first sync after it', async () => {
    const old = await adminJson('POST', '/consumers/my-app/jwt', {})
    const before = Date.now()
    const { result: rotated, audit } = await audited(() => adminJson('POST', `/consumers/my-app/jwt/${old.body.key}/rotate`, { overlap_seconds: 3600 }))
    expect(rotated.status).toBe(201)
    expect(rotated.headers.get('cache-control')).toBe('no-store')
    expect(rotated.body).toMatchObject({ algorithm: 'HS256', secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), secret_encoding: 'utf-8', expires_at: null, previous: { id: old.body.id, key: old.body.key } })
    expect(rotated.body.key).not.toBe(old.body.key)
    expect(audit).toEqual([expect.objectContaining({ action: 'jwt_credential.rotate', target: old.body.id })])
    const overlapEnd = Date.parse(rotated.body.previous.expires_at)
    expect(overlapEnd).toBeGreaterThanOrEqual(before + 3600_000)
    expect(overlapEnd).toBeLessThanOrEqual(Date.now() + 3600_000)
    const listed = (await adminJson('GET', '/consumers/my-app/jwt')).body.data
    expect(listed.find((c: { id: string }) => c.id === old.body.id).expires_at).toBe(rotated.body.previous.expires_at)

    const oldToken = await hs256(old.body.key, old.body.secret)
    const newToken = await hs256(rotated.body.key, rotated.body.secret)
    await synced(() => overlapEnd - 1000)
    expect((await call(oldToken)).status).toBe(200)
    expect((await call(newToken)).status).toBe(200)

    await synced(() => overlapEnd + 1000)
    const refused = await call(oldToken)
    expect(refused.status).toBe(401)
    expect(refused.body.code).toBe('credential_unknown')
    expect(refused.saw).toBe(false)
    expect((await call(newToken)).status).toBe(200)
  })

  it('an asymmetric credential needs the new public key; given, it is the new credential\'s', async () => {
    const first = await keyPairFor('EdDSA')
    const second = await freshPair('EdDSA')
    await adminJson('POST', '/consumers/my-app/jwt', { algorithm: 'EdDSA', rsa_public_key: first.spki, key: 'ed' })
    expect((await adminJson('POST', '/consumers/my-app/jwt/ed/rotate', { overlap_seconds: 60 })).body).toMatchObject({ status: 400, detail: 'rsa_public_key: required for EdDSA credentials (an SPKI PEM public key)' })
    const rotated = await adminJson('POST', '/consumers/my-app/jwt/ed/rotate', { overlap_seconds: 60, key: 'ed-2', rsa_public_key: second.spki })
    expect(rotated.body).toMatchObject({ key: 'ed-2', algorithm: 'EdDSA', rsa_public_key: second.spki.trim(), previous: { key: 'ed' } })
    expect(rotated.body.secret).toBeUndefined()
  })

  it.each([
    [{}, 'overlap_seconds: required'],
    [{ overlap_seconds: 0 }, 'overlap_seconds: at least 1'],
    [{ overlap_seconds: 60, key: 'k' }, 'key: a JWT credential with this key already exists'],
  ])('refuses %j', async (body, detail) => {
    await adminJson('POST', '/consumers/my-app/jwt', { key: 'k' })
    expect((await adminJson('POST', '/consumers/my-app/jwt/k/rotate', body)).body).toMatchObject({ detail })
    expect((await adminJson('GET', '/consumers/my-app/jwt')).body.data).toHaveLength(1)
  })
})
