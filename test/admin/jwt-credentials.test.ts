import { env } from 'cloudflare:workers'
import { SignJWT, base64url, importSPKI, jwtVerify } from 'jose'
import { beforeEach, describe, expect, it } from 'vitest'
import { prepareCredential } from '../../src/admin/jwt-credential-input.js'
import { AdminError } from '../../src/admin/admin-http.js'
import { CONSUMER_ALGORITHMS, type ConsumerAlgorithm } from '../../src/keyset/jwt-schema.js'
import { openSecret } from '../../src/keyset/secret-box.js'
import { registryKeys } from '../../src/sync/registry.js'
import { admin, adminJson, clearKv, everythingInKv, freshView, settled } from '../support/admin-api.js'
import { CERTIFICATE_PEM, ED448_SPKI_PEM, RSA_1024_SPKI_PEM, RSA_PKCS1_PEM, keyPairFor } from '../support/jwt-keys.js'

type Asymmetric = Exclude<ConsumerAlgorithm, 'HS256' | 'HS384' | 'HS512'>
const HMAC_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const
// Hex, as Kong generates it: a base64url key could start with '-' and read as a CLI option.
const KEY_SHAPE = /^[0-9a-f]{32}$/

let consumerId: string

beforeEach(async () => {
  await settled()
  await clearKv()
  const res = await adminJson('POST', '/consumers', { username: 'alice' })
  consumerId = res.body.id
})

/** The credential as the registry stores it in KV. */
async function stored(credentialId: string) {
  const text = await env.KEYSET.get(registryKeys.jwtCredential(consumerId, credentialId), { type: 'text' })
  return JSON.parse(text!) as { id: string; key: string; algorithm: string; secret?: { v: 1; iv: string; ct: string }; publicKeyPem?: string }
}

describe('POST /consumers/{consumer}/jwt: every algorithm', () => {
  it.each(['HS256', 'HS384', 'HS512'] as const)('%s: generates a key and a printable secret (base64url of as many random bytes as the hash output) whose UTF-8 bytes are the key, shows it once, stores it sealed', async (algorithm) => {
    const res = await adminJson('POST', `/consumers/${consumerId}/jwt`, { algorithm })
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body).toEqual({
      id: expect.any(String),
      consumer: { id: consumerId },
      key: expect.stringMatching(KEY_SHAPE),
      algorithm,
      created_at: expect.any(String),
      expires_at: null,
      secret: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
      secret_encoding: 'utf-8',
      note: expect.any(String),
    })
    // At least 256 bits of entropy: the base64url of 32, 48 or 64 random bytes.
    expect(base64url.decode(res.body.secret).byteLength).toBe(HMAC_BYTES[algorithm])
    const secret = new TextEncoder().encode(res.body.secret)
    expect(secret.byteLength).toBeGreaterThanOrEqual(HMAC_BYTES[algorithm])

    const record = await stored(res.body.id)
    expect(record.publicKeyPem).toBeUndefined()
    expect(record.secret).toEqual({ v: 1, iv: expect.any(String), ct: expect.any(String) })
    const opened = await openSecret(record.secret!, env.CREDENTIAL_ENCRYPTION_KEY!, res.body.id)
    expect(new TextDecoder().decode(opened)).toBe(res.body.secret)
    // Sealed under the credential id: the box does not open as another credential's.
    await expect(openSecret(record.secret!, env.CREDENTIAL_ENCRYPTION_KEY!, crypto.randomUUID())).rejects.toThrow()

    // A token signed with the secret shown verifies against what the gateway stored.
    const token = await new SignJWT({}).setProtectedHeader({ alg: algorithm }).setIssuer(res.body.key).sign(secret)
    await expect(jwtVerify(token, opened, { algorithms: [algorithm] })).resolves.toMatchObject({ payload: { iss: res.body.key } })
  })

  it.each(CONSUMER_ALGORITHMS.filter((a): a is Asymmetric => !a.startsWith('HS')))('%s: stores the public key as SPKI PEM, and tokens signed with the private key verify against it', async (algorithm) => {
    const pair = await keyPairFor(algorithm)
    // Whitespace around the PEM is forgiven.
    const res = await adminJson('POST', `/consumers/alice/jwt`, { algorithm, rsa_public_key: `\n${pair.spki}\n\n` })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ id: expect.any(String), consumer: { id: consumerId }, key: expect.stringMatching(KEY_SHAPE), algorithm, rsa_public_key: pair.spki.trim(), created_at: expect.any(String), expires_at: null })
    expect(res.body.secret).toBeUndefined()

    const record = await stored(res.body.id)
    expect(record.secret).toBeUndefined()
    expect(record.publicKeyPem).toBe(pair.spki.trim())
    const token = await new SignJWT({}).setProtectedHeader({ alg: algorithm }).setIssuer(res.body.key).sign(pair.privateKey)
    await expect(jwtVerify(token, await importSPKI(record.publicKeyPem!, algorithm), { algorithms: [algorithm] })).resolves.toBeDefined()
  })

  it('takes a key and a secret given by the caller (text, or base64 with secret_is_base64), and does not echo the secret back', async () => {
    const text = 'a-secret-of-exactly-thirty-two-b'
    const given = await adminJson('POST', '/consumers/alice/jwt', { key: 'https://issuer.example/alice', secret: text })
    expect(given.status).toBe(201)
    expect(given.body.key).toBe('https://issuer.example/alice')
    expect(given.body.secret).toBeUndefined()
    expect(given.text).not.toContain(text)
    const textRecord = await stored(given.body.id)
    expect(new TextDecoder().decode(await openSecret(textRecord.secret!, env.CREDENTIAL_ENCRYPTION_KEY!, given.body.id))).toBe(text)

    // Starts with 0xfb 0xff 0xbf: "+/+/" in standard base64, so both alphabets' own characters are read.
    const bytes = crypto.getRandomValues(new Uint8Array(48))
    bytes.set([0xfb, 0xff, 0xbf])
    const standardBase64 = btoa(String.fromCharCode(...bytes))
    expect(standardBase64.startsWith('+/+/')).toBe(true)
    const b64 = await adminJson('POST', '/consumers/alice/jwt', { algorithm: 'HS384', secret: standardBase64, secret_is_base64: true })
    expect(b64.status).toBe(201)
    expect(b64.body.secret).toBeUndefined()
    const record = await stored(b64.body.id)
    expect(await openSecret(record.secret!, env.CREDENTIAL_ENCRYPTION_KEY!, b64.body.id)).toEqual(bytes)
  })

  it('defaults to HS256', async () => {
    expect((await adminJson('POST', '/consumers/alice/jwt', {})).body.algorithm).toBe('HS256')
  })

  it('answers 404 consumer_not_found for an unknown consumer', async () => {
    const res = await adminJson('POST', '/consumers/nobody/jwt', {})
    expect(res.status).toBe(404)
    expect(res.body.code).toBe('consumer_not_found')
  })
})

describe('POST /consumers/{consumer}/jwt: refused inputs', () => {
  const SHORT = 'short-secret-31-bytes-long-xxxxx'.slice(0, 31)
  const cases: { name: string; body: () => Promise<Record<string, unknown>>; code: string; field: string; secret?: string }[] = [
    { name: 'an HS256 secret of 31 bytes', body: async () => ({ secret: SHORT }), code: 'secret_too_short', field: 'secret', secret: SHORT },
    { name: 'an HS384 secret of 47 bytes', body: async () => ({ algorithm: 'HS384', secret: 's'.repeat(47) }), code: 'secret_too_short', field: 'secret', secret: 's'.repeat(47) },
    { name: 'an HS512 base64 secret of 63 bytes', body: async () => ({ algorithm: 'HS512', secret: btoa('z'.repeat(63)), secret_is_base64: true }), code: 'secret_too_short', field: 'secret', secret: btoa('z'.repeat(63)) },
    { name: 'a secret that is not base64 with secret_is_base64', body: async () => ({ secret: 'not base64 at all! not base64 at all!', secret_is_base64: true }), code: 'secret_invalid', field: 'secret', secret: 'not base64 at all! not base64 at all!' },
    { name: 'a secret that is not a string', body: async () => ({ secret: 12345 }), code: 'invalid_body', field: 'secret' },
    { name: 'a secret for an RS256 credential', body: async () => ({ algorithm: 'RS256', secret: 'x'.repeat(40) + '-leak-me', rsa_public_key: (await keyPairFor('RS256')).spki }), code: 'invalid_body', field: 'secret', secret: 'x'.repeat(40) + '-leak-me' },
    { name: 'a public key for an HS256 credential', body: async () => ({ rsa_public_key: (await keyPairFor('RS256')).spki }), code: 'invalid_body', field: 'rsa_public_key' },
    { name: 'no public key for RS256', body: async () => ({ algorithm: 'RS256' }), code: 'invalid_body', field: 'rsa_public_key' },
    { name: 'an EC P-256 key for ES384', body: async () => ({ algorithm: 'ES384', rsa_public_key: (await keyPairFor('ES256')).spki }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'an EC P-384 key for ES256', body: async () => ({ algorithm: 'ES256', rsa_public_key: (await keyPairFor('ES384')).spki }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'an RSA key for ES256', body: async () => ({ algorithm: 'ES256', rsa_public_key: (await keyPairFor('RS256')).spki }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'an EC key for RS256', body: async () => ({ algorithm: 'RS256', rsa_public_key: (await keyPairFor('ES256')).spki }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'an EC key for EdDSA', body: async () => ({ algorithm: 'EdDSA', rsa_public_key: (await keyPairFor('ES256')).spki }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'an Ed25519 key for PS256', body: async () => ({ algorithm: 'PS256', rsa_public_key: (await keyPairFor('EdDSA')).spki }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'a private key (PKCS#8)', body: async () => ({ algorithm: 'RS256', rsa_public_key: (await keyPairFor('RS256')).pkcs8 }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'an X.509 certificate', body: async () => ({ algorithm: 'ES256', rsa_public_key: CERTIFICATE_PEM }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'a PKCS#1 RSA public key', body: async () => ({ algorithm: 'RS256', rsa_public_key: RSA_PKCS1_PEM }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'an RSA key of 1,024 bits', body: async () => ({ algorithm: 'RS256', rsa_public_key: RSA_1024_SPKI_PEM }), code: 'public_key_invalid', field: '2048' },
    { name: 'a PEM that is garbage', body: async () => ({ algorithm: 'RS256', rsa_public_key: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }), code: 'public_key_invalid', field: 'rsa_public_key' },
    { name: 'an unknown algorithm', body: async () => ({ algorithm: 'HS1024' }), code: 'invalid_body', field: 'algorithm' },
    { name: 'algorithm none', body: async () => ({ algorithm: 'none' }), code: 'invalid_body', field: 'algorithm' },
    { name: 'an empty key', body: async () => ({ key: '' }), code: 'invalid_body', field: 'key' },
    { name: 'a key of 257 characters', body: async () => ({ key: 'k'.repeat(257) }), code: 'invalid_body', field: 'key' },
    { name: 'a key with a control character', body: async () => ({ key: 'a\u0000b' }), code: 'invalid_body', field: 'key' },
    { name: 'secret_is_base64 that is not a boolean', body: async () => ({ secret_is_base64: 'yes' }), code: 'invalid_body', field: 'secret_is_base64' },
    { name: 'an unknown field', body: async () => ({ rsa_publickey: 'x' }), code: 'invalid_body', field: 'rsa_publickey: unknown field' },
  ]

  it.each(cases)('refuses $name with 400 $code, naming the field, never echoing the secret', async ({ body, code, field, secret }) => {
    const sent = await body()
    const res = await adminJson('POST', '/consumers/alice/jwt', sent)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.body).toMatchObject({ code, status: 400 })
    expect(res.body.detail).toContain(field)
    if (secret) expect(res.text).not.toContain(secret)
    if (typeof sent.rsa_public_key === 'string') expect(res.text).not.toContain(sent.rsa_public_key.split('\n')[1]!)
    // Nothing was stored.
    expect((await env.KEYSET.list({ prefix: registryKeys.jwtCredentialPrefix })).keys).toEqual([])
  })

  it('refuses an HMAC credential with 503 credential_encryption_unconfigured when CREDENTIAL_ENCRYPTION_KEY is unset or short; asymmetric ones need no key', async () => {
    for (const encryptionKey of [undefined, 'too-short']) {
      const error = await prepareCredential({ algorithm: 'HS256', secret_is_base64: false }, { consumerId, encryptionKey, createdAt: new Date().toISOString() }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AdminError)
      expect(error).toMatchObject({ status: 503, code: 'credential_encryption_unconfigured' })
    }
    const pair = await keyPairFor('ES256')
    const prepared = await prepareCredential({ algorithm: 'ES256', secret_is_base64: false, rsa_public_key: pair.spki }, { consumerId, encryptionKey: undefined, createdAt: new Date().toISOString() })
    expect(prepared.entry.publicKeyPem).toBe(pair.spki.trim())
  })
})

describe('EdDSA with an Ed448 key', () => {
  it('workerd cannot verify Ed448: WebCrypto does not know the algorithm (when this fails, Ed448 can be supported)', async () => {
    const der = Uint8Array.from(atob(ED448_SPKI_PEM.replace(/-----[A-Z ]+-----|\s/g, '')), (ch) => ch.charCodeAt(0))
    await expect(crypto.subtle.importKey('spki', der, { name: 'Ed448' }, false, ['verify'])).rejects.toThrow(/Unrecognized key import algorithm "Ed448"/)
  })

  it('is refused at creation with 400 public_key_unsupported, saying EdDSA takes Ed25519 keys; nothing is stored', async () => {
    const res = await adminJson('POST', '/consumers/alice/jwt', { algorithm: 'EdDSA', rsa_public_key: ED448_SPKI_PEM })
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.body).toMatchObject({
      code: 'public_key_unsupported',
      detail: 'rsa_public_key: an Ed448 key; EdDSA credentials take Ed25519 keys only (the Workers runtime cannot verify Ed448 signatures)',
    })
    expect((await env.KEYSET.list({ prefix: registryKeys.jwtCredentialPrefix })).keys).toEqual([])
  })

  it.each(['ES256', 'RS256'] as const)('for %s too, the refusal names Ed448', async (algorithm) => {
    const res = await adminJson('POST', '/consumers/alice/jwt', { algorithm, rsa_public_key: ED448_SPKI_PEM })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'public_key_unsupported', detail: expect.stringContaining('an Ed448 key') })
  })
})

describe('keys are unique across every consumer', () => {
  it('refuses a key another credential holds with 409 credential_exists, and frees it on delete', async () => {
    await adminJson('POST', '/consumers', { username: 'bob' })
    const first = await adminJson('POST', '/consumers/alice/jwt', { key: 'shared-key' })
    expect(first.status).toBe(201)
    for (const consumer of ['alice', 'bob']) {
      const again = await adminJson('POST', `/consumers/${consumer}/jwt`, { key: 'shared-key', algorithm: 'HS512' })
      expect(again.status).toBe(409)
      expect(again.body).toMatchObject({ code: 'credential_exists', detail: expect.stringContaining('key') })
    }
    expect((await admin('DELETE', '/consumers/alice/jwt/shared-key')).status).toBe(204)
    expect((await adminJson('POST', '/consumers/bob/jwt', { key: 'shared-key' })).status).toBe(201)
  })
})

describe('secrets at rest and on the wire', () => {
  it('never stores a plain secret in KV: registry, indexes, key-set parts, values and metadata', async () => {
    const shown: Uint8Array[] = []
    const givenText = 'operator-chosen-secret-0123456789abcdef'
    for (const body of [{}, { algorithm: 'HS384' }, { algorithm: 'HS512' }, { secret: givenText }, { algorithm: 'HS256', secret: btoa('b'.repeat(40)), secret_is_base64: true }]) {
      const res = await adminJson('POST', '/consumers/alice/jwt', body)
      expect(res.status).toBe(201)
      // A generated secret: the printed string (the key's bytes) and the random bytes it encodes.
      if (res.body.secret) shown.push(new TextEncoder().encode(res.body.secret), base64url.decode(res.body.secret))
    }
    expect(shown).toHaveLength(6)
    await settled()
    expect((await adminJson('POST', '/sync')).status).toBe(200)
    const everything = await everythingInKv()
    expect(everything.some(({ key }) => key.startsWith('keyset/v1/part/'))).toBe(true)
    const haystack = everything.map(({ key, value, metadata }) => `${key}\n${value}\n${metadata}`).join('\n')
    for (const secret of shown) {
      const binary = String.fromCharCode(...secret)
      for (const encoding of [base64url.encode(secret), btoa(binary), [...secret].map((b) => b.toString(16).padStart(2, '0')).join('')]) {
        expect(haystack).not.toContain(encoding)
      }
    }
    expect(haystack).not.toContain(givenText)
    expect(haystack).not.toContain(btoa('b'.repeat(40)))
  })

  it('shows the secret in the create response only: listing and reading a credential never return it', async () => {
    const created = await adminJson('POST', '/consumers/alice/jwt', {})
    const pair = await keyPairFor('ES256')
    const asymmetric = await adminJson('POST', '/consumers/alice/jwt', { algorithm: 'ES256', rsa_public_key: pair.spki })
    const list = await adminJson('GET', '/consumers/alice/jwt')
    expect(list.status).toBe(200)
    expect(list.text).not.toContain(created.body.secret)
    expect(list.body.data).toHaveLength(2)
    const hmac = list.body.data.find((c: { id: string }) => c.id === created.body.id)
    expect(hmac).toEqual({ id: created.body.id, consumer: { id: consumerId }, key: created.body.key, algorithm: 'HS256', created_at: created.body.created_at, expires_at: null })
    const es = list.body.data.find((c: { id: string }) => c.id === asymmetric.body.id)
    expect(es).toEqual({ id: asymmetric.body.id, consumer: { id: consumerId }, key: asymmetric.body.key, algorithm: 'ES256', rsa_public_key: pair.spki.trim(), created_at: expect.any(String), expires_at: null })
    for (const path of [`/consumers/alice/jwt/${created.body.id}`, `/consumers/alice/jwt/${created.body.key}`]) {
      const one = await adminJson('GET', path)
      expect(one.status).toBe(200)
      expect(one.body).toEqual(hmac)
    }
  })
})

describe('DELETE /consumers/{consumer}/jwt/{credential}', () => {
  it('deletes by id or by key (a URL key, percent-encoded), and only a credential of that consumer', async () => {
    await adminJson('POST', '/consumers', { username: 'bob' })
    const byId = await adminJson('POST', '/consumers/alice/jwt', {})
    const urlKey = 'https://issuer.example/tenants/alice'
    await adminJson('POST', '/consumers/alice/jwt', { key: urlKey })
    const bobs = await adminJson('POST', '/consumers/bob/jwt', {})

    const notHers = await adminJson('DELETE', `/consumers/alice/jwt/${bobs.body.id}`)
    expect(notHers.status).toBe(404)
    expect(notHers.body.code).toBe('credential_not_found')
    expect((await adminJson('DELETE', `/consumers/alice/jwt/${bobs.body.key}`)).status).toBe(404)

    expect((await admin('DELETE', `/consumers/alice/jwt/${byId.body.id}`)).status).toBe(204)
    expect((await admin('DELETE', `/consumers/alice/jwt/${encodeURIComponent(urlKey)}`)).status).toBe(204)
    expect((await adminJson('GET', '/consumers/alice/jwt')).body.data).toEqual([])
    expect((await adminJson('GET', '/consumers/bob/jwt')).body.data).toHaveLength(1)
    expect((await admin('DELETE', `/consumers/alice/jwt/${byId.body.id}`)).status).toBe(404)
  })
})

describe('the key set after a sync', () => {
  it('holds each credential by key: HMAC with the sealed secret only, asymmetric with the SPKI PEM only', async () => {
    const hmac = await adminJson('POST', '/consumers/alice/jwt', { algorithm: 'HS384', key: 'alice-hs' })
    const pair = await keyPairFor('PS256')
    const ps = await adminJson('POST', '/consumers/alice/jwt', { algorithm: 'PS256', key: 'alice-ps', rsa_public_key: pair.spki })
    // Three background syncs may finish in any order: run one more once they are over.
    await settled()
    expect((await adminJson('POST', '/sync')).status).toBe(200)
    const part = (await (await freshView()).consumers())!
    expect(part.consumers[consumerId]).toEqual({ id: consumerId, username: 'alice', groups: [] })
    const hs = part.credentials['alice-hs']!
    expect(hs).toEqual({ id: hmac.body.id, consumerId, key: 'alice-hs', algorithm: 'HS384', secret: { v: 1, iv: expect.any(String), ct: expect.any(String) } })
    expect(new TextDecoder().decode(await openSecret(hs.secret!, env.CREDENTIAL_ENCRYPTION_KEY!, hs.id))).toBe(hmac.body.secret)
    expect(part.credentials['alice-ps']).toEqual({ id: ps.body.id, consumerId, key: 'alice-ps', algorithm: 'PS256', publicKeyPem: pair.spki.trim() })
  })
})
