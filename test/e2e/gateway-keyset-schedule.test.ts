import { env } from 'cloudflare:workers'
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { pkcs1PublicPem } from '../../src/emulator/serverless/signing.js'
import { createGateway, staticKeySet, type GatewayOptions, type KeySetSource } from '../../src/index.js'
import type { UsageBatch } from '../../src/usage/usage-batch.js'
import { UsageRecorder } from '../../src/usage/usage-recorder.js'
import { ORG, PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

// The legacy schedule the key set carries (set with PUT /legacy-schedule, synced) is the
// one the gateway applies: it replaces the configured one (the LEGACY_* vars, the
// legacyTokens option), and it bounds the verification cache.

const NS = 'a1111111-1111-4111-8111-111111111111'
const TOKEN_ID = 'e0000000-0000-4000-8000-000000000001'
const T0 = Date.parse('2026-06-01T10:00:00Z')
const REALM = 'Bearer realm="edge-auth-gateway"'

let key: CryptoKeyPair
let source: KeySetSource
let token: string

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
  token = await new SignJWT({ application_claim: [{ namespace_id: NS, application_id: '' }] })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer('SCALEWAY')
    .setAudience('functions')
    .setJti(TOKEN_ID)
    .setIssuedAt(T0 / 1000 - 60)
    .setExpirationTime(T0 / 1000 + 86_400)
    .sign(key.privateKey)
})

/** The gateway over a key set carrying `legacySchedule`, configured with `legacyTokens`, on a clock the test moves. */
function gateway(legacySchedule: KeySetSource['legacySchedule'], legacyTokens: GatewayOptions['legacyTokens'] = {}, usage?: UsageRecorder) {
  let now = T0
  const store = staticKeySet({ ...source, ...(legacySchedule ? { legacySchedule } : {}) })
  const app = createGateway({ keySet: () => store, originToken: () => env.ORIGIN_AUTH_TOKEN, allowInsecureLoopbackOrigins: true, legacyTokens, clock: () => now, accessLog: 'off', ...(usage ? { usage: () => usage } : {}) })
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  return {
    at: (ms: number) => void (now = ms),
    call: async () => {
      const marker = newMarker()
      const res = await app.request('https://gw.example/hello', { headers: { 'x-auth-token': token, 'x-test-marker': marker, 'user-agent': 'legacy-client/1' } }, env, ctx)
      return { res, reached: await originSaw(marker) }
    },
  }
}

describe('the schedule in the key set', () => {
  it('bounds the verification cache: a token accepted before a brownout of the key set is refused inside it, without reaching the origin', async () => {
    // The configured schedule has no brownout: only the key set's can end the cached entry.
    const gw = gateway({ brownouts: [{ start: '2026-06-01T10:01:00Z', end: '2026-06-01T10:02:00Z' }] }, {})
    const first = await gw.call()
    expect(first.res.status).toBe(200)
    expect(first.reached).toBe(true)

    gw.at(T0 + 90_000)
    const { res, reached } = await gw.call()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`${REALM}, error="invalid_token", error_description="Legacy tokens are refused during a scheduled brownout: migrate to an IAM API key."`)
    expect(res.headers.get('retry-after')).toBe('30')
    expect(await res.json()).toMatchObject({ status: 401, code: 'legacy_token_brownout' })
    expect(reached).toBe(false)

    gw.at(Date.parse('2026-06-01T10:02:00Z'))
    expect((await gw.call()).res.status).toBe(200)
  })

  it('replaces the configured schedule: a sunset configured in the past no longer refuses; the key set’s dates are the headers', async () => {
    const gw = gateway(
      { deprecatedAt: '2026-05-01T00:00:00Z', sunsetAt: '2026-12-01T00:00:00Z' },
      { deprecatedAt: '2026-01-01T00:00:00Z', sunsetAt: '2026-02-01T00:00:00Z', migrationGuideUrl: 'https://docs.example/migrate' },
    )
    const { res, reached } = await gw.call()
    expect(res.status).toBe(200)
    expect(reached).toBe(true)
    expect(res.headers.get('deprecation')).toBe(`@${Date.parse('2026-05-01T00:00:00Z') / 1000}`)
    expect(res.headers.get('sunset')).toBe('Tue, 01 Dec 2026 00:00:00 GMT')
    // The guide URL falls back to the configured one when the key set names none.
    expect(res.headers.get('link')).toBe('<https://docs.example/migrate>; rel="deprecation"; type="text/html"')
  })

  it('refuses after the key set’s sunset, though the configured schedule has none', async () => {
    const gw = gateway({ sunsetAt: '2026-06-01T09:00:00Z' })
    const { res, reached } = await gw.call()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`${REALM}, error="invalid_token", error_description="Legacy tokens are no longer accepted: use an IAM API key."`)
    expect(await res.json()).toMatchObject({ code: 'legacy_token_sunset' })
    expect(reached).toBe(false)
  })

  it('counts accepted legacy calls with the token’s namespace, and not the refused ones', async () => {
    const booked: UsageBatch[] = []
    const recorder = new UsageRecorder({ record: async (batches: UsageBatch[]) => void booked.push(...batches) }, { clock: () => T0 })
    const gw = gateway({ brownouts: [{ start: '2026-06-01T10:01:00Z', end: '2026-06-01T10:02:00Z' }] }, {}, recorder)
    expect((await gw.call()).res.status).toBe(200)
    expect((await gw.call()).res.status).toBe(200)
    gw.at(T0 + 90_000)
    expect((await gw.call()).res.status).toBe(401)
    await recorder.flush()
    expect(booked.flatMap((b) => b.entries)).toEqual([
      { day: '2026-06-01', kind: 'legacy-jwt', credentialId: TOKEN_ID, routeId: 'legacy-fn', calls: 2, firstSeenMs: T0, lastSeenMs: T0, principal: { type: 'legacy-token', id: TOKEN_ID }, namespaceId: NS, userAgents: ['legacy-client/1'] },
    ])
  })
})
