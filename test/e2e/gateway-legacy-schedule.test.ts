import { env } from 'cloudflare:workers'
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { pkcs1PublicPem } from '../../src/emulator/serverless/signing.js'
import { createGateway, staticKeySet, type GatewayOptions, type KeySetSource } from '../../src/index.js'
import { ORG, PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

// Legacy tokens through the whole gateway on a frozen clock: a token verified (and
// cached) before its exp, a brownout or the sunset is refused once that instant
// passes, with the refusal's code, challenge and Retry-After, and never reaches the origin.

const NS = 'a1111111-1111-4111-8111-111111111111'
const TOKEN_ID = 'e0000000-0000-4000-8000-000000000001'
const T0 = Date.parse('2026-06-01T10:00:00Z')
const REALM = 'Bearer realm="edge-auth-gateway"'
const invalidToken = (description: string) => `${REALM}, error="invalid_token", error_description="${description}"`

let key: CryptoKeyPair
let source: KeySetSource

beforeAll(async () => {
  key = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  source = {
    projects: { [PROJECT]: ORG },
    apiKeys: {},
    routes: [{ id: 'legacy-fn', paths: ['/hello'], target: { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, namespaceId: NS, privacy: 'private' } }],
    legacy: {
      namespaces: { [NS]: { kind: 'function', projectId: PROJECT, publicKeyPem: pkcs1PublicPem((await exportJWK(key.publicKey)) as JWK) } },
      tokens: { [TOKEN_ID]: { namespaceId: NS, expiresAt: null } },
    },
  }
})

function legacyToken(expSeconds?: number): Promise<string> {
  const jwt = new SignJWT({ application_claim: [{ namespace_id: NS, application_id: '' }] })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer('SCALEWAY')
    .setAudience('functions')
    .setJti(TOKEN_ID)
    .setIssuedAt(T0 / 1000 - 60)
  if (expSeconds !== undefined) jwt.setExpirationTime(expSeconds)
  return jwt.sign(key.privateKey)
}

/** The gateway on a clock the test moves, and one request through it. */
function gateway(legacyTokens: GatewayOptions['legacyTokens']) {
  let now = T0
  const store = staticKeySet(source)
  const app = createGateway({ keySet: () => store, originToken: () => env.ORIGIN_AUTH_TOKEN, allowInsecureLoopbackOrigins: true, legacyTokens, clock: () => now, accessLog: 'off' })
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  return {
    at: (ms: number) => void (now = ms),
    call: async (token: string) => {
      const marker = newMarker()
      const res = await app.request('https://gw.example/hello', { headers: { 'x-auth-token': token, 'x-test-marker': marker } }, env, ctx)
      return { res, reached: await originSaw(marker) }
    },
  }
}

interface Case {
  name: string
  schedule: GatewayOptions['legacyTokens']
  expSeconds?: number
  later: number
  code: string
  description: string
  retryAfter: string | null
}

const cases: Case[] = [
  {
    name: 'past its exp (and the clock tolerance)',
    schedule: {},
    expSeconds: T0 / 1000 + 10,
    later: T0 + 60_000,
    code: 'token_expired',
    description: 'The token has expired.',
    retryAfter: null,
  },
  {
    name: 'inside a brownout that started after it was verified',
    schedule: { brownouts: [{ start: '2026-06-01T10:01:00Z', end: '2026-06-01T10:31:00Z' }] },
    later: T0 + 120_000,
    code: 'legacy_token_brownout',
    description: 'Legacy tokens are refused during a scheduled brownout: migrate to an IAM API key.',
    retryAfter: String(29 * 60),
  },
  {
    name: 'after a sunset that came after it was verified',
    schedule: { sunsetAt: '2026-06-01T10:01:00Z' },
    later: T0 + 120_000,
    code: 'legacy_token_sunset',
    description: 'Legacy tokens are no longer accepted: use an IAM API key.',
    retryAfter: null,
  },
]

describe('a legacy token that the gateway has already accepted (and cached)', () => {
  it.each(cases)('is refused $name: 401 $code, and never reaches the origin', async ({ schedule, expSeconds, later, code, description, retryAfter }) => {
    const gw = gateway(schedule)
    const token = await legacyToken(expSeconds)
    const first = await gw.call(token)
    expect(first.res.status).toBe(200)
    expect(first.reached).toBe(true)

    gw.at(later)
    const { res, reached } = await gw.call(token)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(invalidToken(description))
    expect(res.headers.get('retry-after')).toBe(retryAfter)
    expect(await res.json()).toMatchObject({ status: 401, code })
    expect(reached).toBe(false)
  })
})

describe('a brownout refusal', () => {
  it.each([
    ['at the start of the window', Date.parse('2026-06-01T10:00:00Z'), '3600'],
    ['in its middle', Date.parse('2026-06-01T10:45:00Z'), '900'],
    ['half a second before its end (rounded up)', Date.parse('2026-06-01T10:59:59.500Z'), '1'],
  ])('carries Retry-After until the window ends, %s', async (_, nowMs, retryAfter) => {
    const gw = gateway({ brownouts: [{ start: '2026-06-01T10:00:00Z', end: '2026-06-01T11:00:00Z' }] })
    gw.at(nowMs)
    const { res, reached } = await gw.call(await legacyToken(Math.floor(nowMs / 1000) + 3600))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(invalidToken('Legacy tokens are refused during a scheduled brownout: migrate to an IAM API key.'))
    expect(res.headers.get('retry-after')).toBe(retryAfter)
    expect(await res.json()).toMatchObject({ status: 401, code: 'legacy_token_brownout' })
    expect(reached).toBe(false)
  })

  it('is over when the window ends: the same token goes through again', async () => {
    const gw = gateway({ brownouts: [{ start: '2026-06-01T10:00:00Z', end: '2026-06-01T11:00:00Z' }] })
    const token = await legacyToken(T0 / 1000 + 7200)
    expect((await gw.call(token)).res.status).toBe(401)
    gw.at(Date.parse('2026-06-01T11:00:00Z'))
    const { res, reached } = await gw.call(token)
    expect(res.status).toBe(200)
    expect(reached).toBe(true)
  })
})
