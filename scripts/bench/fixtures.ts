/**
 * The credentials and key set the request-path benchmark uses, made in Node with
 * the project's own code (the same calls the tests in test/credentials/ make):
 * one IAM API key, consumer JWT credentials HS256 / RS256 / ES256 (the HMAC secret
 * sealed with `sealSecret`), a legacy namespace key with a live token, one route
 * per variant to the origin stub, all written with `writeKeySet`; plus the naive
 * variants' HMAC secret and JWKS.
 */
import { createPublicKey, type JsonWebKey as NodeJwk } from 'node:crypto'
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { sealSecret } from '../../src/keyset/secret-box.js'
import { writeKeySet } from '../../src/keyset/writer.js'

export const ORG = '11111111-1111-4111-8111-111111111111'
export const PROJECT = '22222222-2222-4222-8222-222222222222'
const APP = '55555555-5555-4555-8555-555555555555'
export const NAMESPACE = 'a1111111-1111-4111-8111-111111111111'
const FUNCTION = 'f1111111-1111-4111-8111-111111111111'
export const CONSUMER = 'c0000000-0000-4000-8000-00000000000a'
export const LEGACY_TOKEN_ID = 'e0000000-0000-4000-8000-000000000001'

/** Bench-only secrets: made up, valid only against the key set made here. */
export const CREDENTIAL_ENCRYPTION_KEY = 'bench-credential-encryption-key-0123456789abcdef'
export const ORIGIN_AUTH_TOKEN = 'bench-origin-credential-7d2a'
export const API_KEY_SECRET = '0b0b0b0b-0000-4000-8000-000000000001'
const CONDITIONAL_API_KEY_SECRET = '0b0b0b0b-0000-4000-8000-000000000002'
/**
 * The condition variant's rule: office hours in Europe/Paris and an IP range. Its
 * hours span the whole day so the benchmark answers 200 at any time, at the cost of
 * an office-hours rule (two zone conversions, one range check).
 */
export const BENCH_CONDITION = 'request.time.getHours("Europe/Paris") >= 0 && request.time.getHours("Europe/Paris") <= 23 && inIpRange(request.ip, "127.0.0.0/8")'
/** The header the condition variant's gateway reads the client address from (`CLIENT_IP_HEADER`). */
export const BENCH_CLIENT_IP_HEADER = 'x-bench-client-ip'
const UNKNOWN_API_KEY_SECRET = '0b0b0b0b-0000-4000-8000-00000000dead'

/** What one request of a variant carries and which status it must get. */
export interface RequestShape {
  path: string
  headers: Record<string, string>
  expectStatus: number
}

export interface BenchFixtures {
  /** KV entries of the key set (as `writeKeySet` wrote them) and the naive variant's secret. */
  kv: Map<string, string>
  /** The JWKS the naive `hono/jwk` variant fetches. */
  jwks: { keys: JWK[] }
  /** Request of each gateway and naive variant, by variant id. */
  requests: Record<string, RequestShape>
}

/**
 * A namespace public key as the serverless platform shows it: PKCS#1 PEM
 * (`-----BEGIN RSA PUBLIC KEY-----`), exported by Node's own crypto.
 */
export function pkcs1Pem(jwk: JWK): string {
  return createPublicKey({ key: jwk as NodeJwk, format: 'jwk' }).export({ type: 'pkcs1', format: 'pem' }).toString()
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Builds the key set (routes to `originUrl`) and one credential per variant. */
export async function makeFixtures(originUrl: string): Promise<BenchFixtures> {
  const now = Math.floor(Date.now() / 1000)
  const exp = now + 3600
  const target = { url: `${originUrl}/fn`, kind: 'function' as const, projectId: PROJECT, namespaceId: NAMESPACE, resourceId: FUNCTION, privacy: 'private' as const }
  const variants = ['apikey', 'hs256', 'rs256', 'es256', 'legacy', 'refused', 'condition']

  const hmacSecret = crypto.getRandomValues(new Uint8Array(32))
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const ec = await generateKeyPair('ES256', { extractable: true })
  const legacyKey = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  const credentialId = (n: number) => `d0000000-0000-4000-8000-${String(n).padStart(12, '0')}`

  const source: KeySetSource = {
    projects: { [PROJECT]: ORG },
    resources: { [FUNCTION]: { kind: 'function', name: 'hello', namespaceId: NAMESPACE, projectId: PROJECT, privacy: 'private' } },
    routes: variants.map((id) => ({ id, paths: [`/${id}`], target })),
    apiKeys: {
      [await apiKeyDigest(API_KEY_SECRET)]: {
        accessKey: 'SCW0BENCH00000000001',
        bearer: { type: 'application', id: APP, name: 'bench-app' },
        organizationId: ORG,
        expiresAt: null,
        grants: [{ permissionSets: ['FunctionsPrivateAccess'], scope: { type: 'projects', projectIds: [PROJECT] } }],
      },
      [await apiKeyDigest(CONDITIONAL_API_KEY_SECRET)]: {
        accessKey: 'SCW0BENCH00000000002',
        bearer: { type: 'application', id: APP, name: 'bench-app' },
        organizationId: ORG,
        expiresAt: null,
        grants: [{ permissionSets: ['FunctionsPrivateAccess'], scope: { type: 'projects', projectIds: [PROJECT] }, condition: BENCH_CONDITION }],
      },
    },
    consumers: {
      consumers: { [CONSUMER]: { id: CONSUMER, username: 'bench-consumer', groups: [] } },
      credentials: {
        'bench-hs256': { id: credentialId(1), consumerId: CONSUMER, key: 'bench-hs256', algorithm: 'HS256', secret: await sealSecret(hmacSecret, CREDENTIAL_ENCRYPTION_KEY, credentialId(1)) },
        'bench-rs256': { id: credentialId(2), consumerId: CONSUMER, key: 'bench-rs256', algorithm: 'RS256', publicKeyPem: await exportSPKI(rsa.publicKey) },
        'bench-es256': { id: credentialId(3), consumerId: CONSUMER, key: 'bench-es256', algorithm: 'ES256', publicKeyPem: await exportSPKI(ec.publicKey) },
      },
    },
    legacy: {
      namespaces: { [NAMESPACE]: { kind: 'function', projectId: PROJECT, publicKeyPem: pkcs1Pem(await exportJWK(legacyKey.publicKey)) } },
      tokens: { [LEGACY_TOKEN_ID]: { namespaceId: NAMESPACE, expiresAt: null } },
    },
  }
  const kv = new Map<string, string>()
  await writeKeySet(
    {
      get: async (key) => kv.get(key) ?? null,
      put: async (key, value) => void kv.set(key, value),
      delete: async (key) => void kv.delete(key),
      list: async ({ prefix }) => ({ keys: [...kv.keys()].filter((name) => name.startsWith(prefix)).map((name) => ({ name })), list_complete: true }),
    },
    source,
    { source: 'fixture' },
  )

  const consumerToken = (alg: 'HS256' | 'RS256' | 'ES256', key: Uint8Array | CryptoKey) =>
    new SignJWT({ iss: `bench-${alg.toLowerCase()}`, sub: 'bench-user' }).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt(now).setExpirationTime(exp).sign(key)
  const legacyToken = await new SignJWT({ application_claim: [{ namespace_id: NAMESPACE, application_id: '' }], version: 2 })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer('SCALEWAY')
    .setAudience('functions')
    .setJti(LEGACY_TOKEN_ID)
    .setIssuedAt(now)
    .sign(legacyKey.privateKey)

  // The naive variants: a shared HS256 secret in KV, and an identity provider's RS256 key with a kid.
  const naiveSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  kv.set('naive/jwt-secret', naiveSecret)
  const idp = await generateKeyPair('RS256', { extractable: true })
  const jwks = { keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'bench-idp-1', alg: 'RS256', use: 'sig' }] }
  const naiveClaims = { sub: 'bench-user', iss: 'https://idp.bench.invalid' }

  const path = (id: string) => `/${id}/hello`
  return {
    kv,
    jwks,
    requests: {
      apikey: { path: path('apikey'), headers: { 'x-auth-token': API_KEY_SECRET }, expectStatus: 200 },
      hs256: { path: path('hs256'), headers: bearer(await consumerToken('HS256', hmacSecret)), expectStatus: 200 },
      rs256: { path: path('rs256'), headers: bearer(await consumerToken('RS256', rsa.privateKey)), expectStatus: 200 },
      es256: { path: path('es256'), headers: bearer(await consumerToken('ES256', ec.privateKey)), expectStatus: 200 },
      legacy: { path: path('legacy'), headers: { 'x-auth-token': legacyToken }, expectStatus: 200 },
      refused: { path: path('refused'), headers: { 'x-auth-token': UNKNOWN_API_KEY_SECRET }, expectStatus: 401 },
      condition: { path: path('condition'), headers: { 'x-auth-token': CONDITIONAL_API_KEY_SECRET, [BENCH_CLIENT_IP_HEADER]: '127.0.0.1' }, expectStatus: 200 },
      'naive-hs256': {
        path: '/fn/hello',
        headers: bearer(await new SignJWT(naiveClaims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now).setExpirationTime(exp).sign(new TextEncoder().encode(naiveSecret))),
        expectStatus: 200,
      },
      'naive-jwk': {
        path: '/fn/hello',
        headers: bearer(await new SignJWT(naiveClaims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'bench-idp-1' }).setIssuedAt(now).setExpirationTime(exp).sign(idp.privateKey)),
        expectStatus: 200,
      },
      bare: { path: '/fn/hello', headers: {}, expectStatus: 200 },
    },
  }
}

/** Writes KV entries into the in-config KV service over its HTTP protocol. */
export async function seedKv(kvUrl: string, entries: Map<string, string>): Promise<void> {
  const list = [...entries]
  // Bounded parallelism: a few connections at a time.
  for (let i = 0; i < list.length; i += 8) {
    await Promise.all(
      list.slice(i, i + 8).map(async ([key, value]) => {
        const res = await fetch(`${kvUrl}/${encodeURIComponent(key)}?urlencoded=true`, { method: 'PUT', body: value })
        if (!res.ok) throw new Error(`seeding KV key ${key}: ${res.status}`)
      }),
    )
  }
}
