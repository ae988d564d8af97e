import { env } from 'cloudflare:workers'
import { Hono, type Context } from 'hono'
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { edgeAuth, staticKeySet, type EdgeAuthVariables, type KeySetStore, type Target } from '../../src/index.js'
import type { OidcJwtVerifierOptions } from '../../src/credentials/oidc-jwt.js'
import type { OidcIssuer } from '../../src/keyset/jwt-schema.js'
import { ORG, PROJECT } from '../support/fixtures.js'

// Keys learned on the request path (an unknown kid makes the isolate fetch the
// issuer's JWKS) against the synced snapshot, which is the truth. The JWKS peer
// (test/support/jwks-peer-worker.js) serves over real HTTP; the clock is frozen
// and moved by hand.

const ISSUER = 'https://login.example.com/'
const T0 = Date.parse('2026-06-01T12:00:00Z')
const target: Target = { url: 'https://o.test', kind: 'function', projectId: PROJECT, privacy: 'private' }
const INVALID_TOKEN = 'Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The token is not valid."'

let k1: CryptoKeyPair
let k2: CryptoKeyPair
let k3: CryptoKeyPair
let stranger: CryptoKeyPair

const jwk = async (pair: CryptoKeyPair, kid: string): Promise<JWK> => ({ ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' })
const jwksUrl = (name: string) => `${env.JWKS_SERVER_URL}/jwks/${name}`
const serve = async (name: string, document: unknown) => {
  const res = await fetch(jwksUrl(name), { method: 'PUT', body: JSON.stringify(document) })
  expect(res.status).toBe(204)
}
const serveKeys = (name: string, keys: JWK[]) => serve(name, { jwks: { keys } })
const fetchCount = async (name: string) => ((await (await fetch(`${jwksUrl(name)}/count`)).json()) as { count: number }).count

/** A fresh JWKS name per test: counts and documents never leak between tests. */
const newName = () => `learned-${crypto.randomUUID().slice(0, 8)}`

function issuerEntry(name: string, keys: JWK[], extra: Partial<OidcIssuer> = {}): OidcIssuer {
  return { id: 'corp', issuer: ISSUER, audiences: ['edge-gateway'], jwksUri: jwksUrl(name), algorithms: ['RS256'], keys: keys as OidcIssuer['keys'], fetchedAt: '2026-06-01T11:55:00.000Z', ...extra }
}

/** A key-set store whose snapshot a test replaces, as a sync would. */
class SwitchableKeySet implements KeySetStore {
  #store: KeySetStore
  constructor(issuer: OidcIssuer) {
    this.#store = this.#storeFor(issuer)
  }
  publish(issuer: OidcIssuer): void {
    this.#store = this.#storeFor(issuer)
  }
  current(context: Parameters<KeySetStore['current']>[0]) {
    return this.#store.current(context)
  }
  #storeFor(issuer: OidcIssuer): KeySetStore {
    return staticKeySet({ routes: [], projects: { [PROJECT]: ORG }, apiKeys: {}, oidc: { issuers: { corp: issuer } } })
  }
}

interface Harness {
  hono: Hono
  keySet: SwitchableKeySet
  clock: { ms: number }
}

function harness(issuer: OidcIssuer, oidc?: OidcJwtVerifierOptions): Harness {
  const clock = { ms: T0 }
  const keySet = new SwitchableKeySet(issuer)
  const hono = new Hono()
  hono.use('*', edgeAuth({ keySet, target, auth: { accept: ['oidc-jwt'], oidcIssuers: ['corp'] }, clock: () => clock.ms, ...(oidc ? { oidc } : {}) }))
  hono.all('*', (c: Context<{ Variables: EdgeAuthVariables }>) => c.json(c.var.edgeAuth))
  return { hono, keySet, clock }
}

/** A new token each call (its own `jti`): the verification cache never answers for an earlier one. */
function token(pair: CryptoKeyPair, kid: string, clockMs: number, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(clockMs / 1000)
  return new SignJWT({ sub: 'user-42', iss: ISSUER, aud: 'edge-gateway', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setJti(crypto.randomUUID())
    .setIssuedAt(now - 10)
    .setExpirationTime(now + 300)
    .sign(pair.privateKey)
}

async function call(h: Harness, value: string): Promise<Response> {
  return h.hono.request('/x', { headers: { authorization: `Bearer ${value}` } })
}

async function expectRefused(res: Response): Promise<void> {
  expect(res.status).toBe(401)
  expect(res.headers.get('www-authenticate')).toBe(INVALID_TOKEN)
  expect(await res.json()).toMatchObject({ status: 401, code: 'token_invalid' })
}

beforeAll(async () => {
  const pair = () => generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  ;[k1, k2, k3, stranger] = await Promise.all([pair(), pair(), pair(), pair()])
})

describe('(c) an unknown kid does not poison the issuer', () => {
  it('a stranger’s random kid is refused, and the next valid token of the issuer still passes', async () => {
    const name = newName()
    await serveKeys(name, [await jwk(k1, 'k1')])
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]))
    await expectRefused(await call(h, await token(stranger, `random-${crypto.randomUUID()}`, h.clock.ms)))
    expect(await fetchCount(name)).toBe(1)
    const res = await call(h, await token(k1, 'k1', h.clock.ms, { sub: 'user-7' }))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ method: 'oidc-jwt', principal: { type: 'oidc-subject', id: 'user-7' } })
  })

  it('a rotated key learned on the request path does not make the synced key ambiguous', async () => {
    const name = newName()
    await serveKeys(name, [await jwk(k1, 'k1'), await jwk(k2, 'k2')])
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]))
    expect((await call(h, await token(k2, 'k2', h.clock.ms))).status).toBe(200)
    expect((await call(h, await token(k1, 'k1', h.clock.ms))).status).toBe(200)
    expect((await call(h, await token(k2, 'k2', h.clock.ms))).status).toBe(200)
    expect(await fetchCount(name)).toBe(1)
  })
})

describe('(a) a learned key never outlives one sync interval', () => {
  it('is used until learnedKeysMaxAgeSeconds (default 300) has passed, then refused once the provider withdrew it', async () => {
    const name = newName()
    await serveKeys(name, [await jwk(k1, 'k1'), await jwk(k2, 'k2')])
    // The snapshot never changes: the sync saw k1 before and would see k1 again.
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]))
    expect((await call(h, await token(k2, 'k2', h.clock.ms))).status).toBe(200)
    await serveKeys(name, [await jwk(k1, 'k1')])
    h.clock.ms += 299_000
    expect((await call(h, await token(k2, 'k2', h.clock.ms))).status).toBe(200)
    expect(await fetchCount(name)).toBe(1)
    h.clock.ms += 1_000
    await expectRefused(await call(h, await token(k2, 'k2', h.clock.ms)))
    expect(await fetchCount(name)).toBe(2)
  })

  it('takes learnedKeysMaxAgeSeconds as an option', async () => {
    const name = newName()
    await serveKeys(name, [await jwk(k1, 'k1'), await jwk(k2, 'k2')])
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]), { learnedKeysMaxAgeSeconds: 60 })
    expect((await call(h, await token(k2, 'k2', h.clock.ms))).status).toBe(200)
    await serveKeys(name, [await jwk(k1, 'k1')])
    h.clock.ms += 60_000
    await expectRefused(await call(h, await token(k2, 'k2', h.clock.ms)))
  })

  it('a token verified with a learned key is not remembered past the key’s age either (verification cache)', async () => {
    const name = newName()
    await serveKeys(name, [await jwk(k1, 'k1'), await jwk(k2, 'k2')])
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]), { learnedKeysMaxAgeSeconds: 60 })
    // Valid 300 s: without a bound of its own, its verification would be remembered that long.
    const same = await token(k2, 'k2', h.clock.ms)
    expect((await call(h, same)).status).toBe(200)
    await serveKeys(name, [await jwk(k1, 'k1')])
    h.clock.ms += 59_000
    expect((await call(h, same)).status).toBe(200)
    h.clock.ms += 1_000
    await expectRefused(await call(h, same))
  })
})

describe('(a, b) learned keys are dropped as soon as a newer snapshot of the issuer arrives', () => {
  type Change = [string, (issuer: OidcIssuer, other: string) => Promise<OidcIssuer>, string]
  it.each<Change>([
    ['the sync saw new keys (k3 added)', async (issuer) => ({ ...issuer, keys: [...issuer.keys, (await jwk(k3, 'k3')) as OidcIssuer['keys'][number]], fetchedAt: '2026-06-01T12:00:05.000Z' }), ISSUER],
    ['the issuer id was re-pointed at another provider’s jwks_uri', async (issuer, other) => ({ ...issuer, jwksUri: jwksUrl(other), keys: [(await jwk(k3, 'k3')) as OidcIssuer['keys'][number]], fetchedAt: '2026-06-01T12:00:05.000Z' }), ISSUER],
    ['the issuer id was re-pointed at another issuer, same jwks_uri and keys', async (issuer) => ({ ...issuer, issuer: 'https://other.example.com/' }), 'https://other.example.com/'],
  ])('when %s, the old learned key is refused', async (_, change, iss) => {
    const name = newName()
    const other = newName()
    await serveKeys(name, [await jwk(k1, 'k1'), await jwk(k2, 'k2')])
    await serveKeys(other, [await jwk(k3, 'k3')])
    const first = issuerEntry(name, [await jwk(k1, 'k1')])
    const h = harness(first)
    expect((await call(h, await token(k2, 'k2', h.clock.ms))).status).toBe(200)
    // The provider withdrew k2 (or the issuer is no longer this provider), and a newer snapshot arrives.
    await serveKeys(name, [await jwk(k1, 'k1')])
    h.keySet.publish(await change(first, other))
    h.clock.ms += 1_000
    await expectRefused(await call(h, await token(k2, 'k2', h.clock.ms, { iss })))
  })
})

describe('the unknown-kid refetch', () => {
  it('a stranger’s kid holds back a real rotation for refreshCooldownSeconds only (default 5 s)', async () => {
    const name = newName()
    await serveKeys(name, [await jwk(k1, 'k1')])
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]))
    await expectRefused(await call(h, await token(stranger, 'nobody-knows', h.clock.ms)))
    // The provider rotates to k2 right after.
    await serveKeys(name, [await jwk(k1, 'k1'), await jwk(k2, 'k2')])
    h.clock.ms += 4_999
    await expectRefused(await call(h, await token(k2, 'k2', h.clock.ms)))
    expect(await fetchCount(name)).toBe(1)
    h.clock.ms += 1
    expect((await call(h, await token(k2, 'k2', h.clock.ms))).status).toBe(200)
    expect(await fetchCount(name)).toBe(2)
  })

  it('takes refreshCooldownSeconds as an option (1 s, as Envoy)', async () => {
    const name = newName()
    await serveKeys(name, [await jwk(k1, 'k1')])
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]), { refreshCooldownSeconds: 1 })
    await expectRefused(await call(h, await token(stranger, 'nobody-knows', h.clock.ms)))
    await serveKeys(name, [await jwk(k1, 'k1'), await jwk(k2, 'k2')])
    h.clock.ms += 1_000
    expect((await call(h, await token(k2, 'k2', h.clock.ms))).status).toBe(200)
  })

  it.each<[string, OidcJwtVerifierOptions, string]>([
    ['a cooldown under 1 s', { refreshCooldownSeconds: 0 }, 'refreshCooldownSeconds'],
    ['a cooldown that is not a number', { refreshCooldownSeconds: '5' as never }, 'refreshCooldownSeconds'],
    ['an infinite learned-key age', { learnedKeysMaxAgeSeconds: Infinity }, 'learnedKeysMaxAgeSeconds'],
    ['a negative learned-key age', { learnedKeysMaxAgeSeconds: -1 }, 'learnedKeysMaxAgeSeconds'],
    ['a fetch timeout of 0', { fetchTimeoutMs: 0 }, 'fetchTimeoutMs'],
    ['a JWKS size of 0 bytes', { maxJwksBytes: 0 }, 'maxJwksBytes'],
  ])('refuses %s at construction with a TypeError naming the option', (_, oidc, option) => {
    const make = () => edgeAuth({ keySet: staticKeySet({ routes: [], projects: {}, apiKeys: {} }), target, oidc })
    expect(make).toThrow(TypeError)
    expect(make).toThrow(option)
  })

  it('follows no redirect', async () => {
    const name = newName()
    const elsewhere = newName()
    await serveKeys(elsewhere, [await jwk(k1, 'k1'), await jwk(k2, 'k2')])
    await serve(name, { fail: 'redirect', to: elsewhere })
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]))
    await expectRefused(await call(h, await token(k2, 'k2', h.clock.ms)))
    expect(await fetchCount(name)).toBe(1)
    expect(await fetchCount(elsewhere)).toBe(0)
  })

  it('reads at most maxJwksBytes (default 256 KiB) of the JWKS', async () => {
    const name = newName()
    await serve(name, { jwks: { keys: [await jwk(k1, 'k1'), await jwk(k2, 'k2')], padding: 'x'.repeat(300_000) } })
    const h = harness(issuerEntry(name, [await jwk(k1, 'k1')]))
    await expectRefused(await call(h, await token(k2, 'k2', h.clock.ms)))
    expect(await fetchCount(name)).toBe(1)
    // The same document under a larger limit: the key is learned, so the size was the reason.
    const roomy = harness(issuerEntry(name, [await jwk(k1, 'k1')]), { maxJwksBytes: 400_000 })
    expect((await call(roomy, await token(k2, 'k2', roomy.clock.ms))).status).toBe(200)
  })
})
