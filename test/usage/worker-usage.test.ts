import { env, exports } from 'cloudflare:workers'
import { SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { adminJson, clearKv, settled } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'
import { workerWithVars } from '../support/worker-with-vars.js'

// Through the real Worker and its USAGE Durable Object (wrangler.toml): calls are counted
// in the isolate and flushed to the ledger, which GET /usage reads after flushing what
// this isolate still holds.
const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' }
const run = crypto.randomUUID().slice(0, 8)
const consumers: Record<string, { id: string; key: string; secret: Uint8Array }> = {}

beforeAll(async () => {
  await settled()
  await clearKv()
  const routes = [
    { id: 'usage-a', paths: ['/usage-a'], target, auth: { accept: ['consumer-jwt'] } },
    { id: 'usage-b', paths: ['/usage-b'], target, auth: { accept: ['consumer-jwt'] } },
  ]
  expect((await adminJson('PUT', '/routes', { routes })).status).toBe(200)
  for (const name of ['alice', 'bob']) {
    const consumer = await adminJson('POST', '/consumers', { username: `${name}-${run}` })
    const credential = await adminJson('POST', `/consumers/${consumer.body.id}/jwt`, { algorithm: 'HS256' })
    expect(credential.status).toBe(201)
    consumers[name] = { id: consumer.body.id, key: credential.body.key, secret: new TextEncoder().encode(credential.body.secret) }
  }
  await settled()
  expect((await adminJson('POST', '/sync')).body).toMatchObject({ ok: true })
})

const token = (name: string) => new SignJWT({ iss: consumers[name]!.key, exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'HS256' }).sign(consumers[name]!.secret)

async function call(path: string, headers: Record<string, string>): Promise<number> {
  const res = await exports.default.fetch(`https://gw.example${path}`, { headers })
  await res.arrayBuffer()
  return res.status
}

describe('usage through the Worker', () => {
  it('counts every accepted request per credential and route, never a refused one; GET /usage shows owner, routes and user agents', async () => {
    const alice = await token('alice')
    const bob = await token('bob')
    for (let i = 0; i < 5; i++) expect(await call('/usage-a', { authorization: `Bearer ${alice}`, 'user-agent': 'alice-app/1.0' })).toBe(200)
    for (let i = 0; i < 2; i++) expect(await call('/usage-b', { authorization: `Bearer ${alice}`, 'user-agent': `alice-cron/2 ${alice}` })).toBe(200)
    for (let i = 0; i < 3; i++) expect(await call('/usage-a', { authorization: `Bearer ${bob}` })).toBe(200)
    // Refused: a bad signature, no credential. Not counted.
    const forged = `${alice.slice(0, -4)}AAAA`
    for (let i = 0; i < 4; i++) expect(await call('/usage-a', { authorization: `Bearer ${forged}` })).toBe(401)
    expect(await call('/usage-b', {})).toBe(401)

    const usage = await adminJson('GET', '/usage?kind=consumer-jwt&since=1d&limit=1000')
    expect(usage.status).toBe(200)
    expect(usage.body.pending_flush).toMatch(/^(flushed|none)$/)
    const mine = usage.body.credentials.filter((u: { credential_id: string }) => u.credential_id === consumers.alice!.key || u.credential_id === consumers.bob!.key)
    mine.sort((a: { calls: number }, b: { calls: number }) => b.calls - a.calls)
    expect(mine).toEqual([
      {
        kind: 'consumer-jwt',
        credential_id: consumers.alice!.key,
        principal: { type: 'consumer', id: consumers.alice!.id, name: `alice-${run}` },
        namespace_id: null,
        calls: 7,
        first_seen: expect.any(String),
        last_seen: expect.any(String),
        routes: [
          { route: 'usage-a', calls: 5 },
          { route: 'usage-b', calls: 2 },
        ],
        user_agents: expect.arrayContaining(['alice-app/1.0', 'alice-cron/2 [redacted]']),
      },
      expect.objectContaining({ credential_id: consumers.bob!.key, calls: 3, routes: [{ route: 'usage-a', calls: 3 }], user_agents: [] }),
    ])
    expect(usage.text).not.toContain(alice)
  })

  it('GET /usage/summary counts the calls made since the previous summary', async () => {
    const before = await adminJson('GET', '/usage/summary')
    expect(before.status).toBe(200)
    const alice = await token('alice')
    for (let i = 0; i < 4; i++) expect(await call('/usage-a', { authorization: `Bearer ${alice}` })).toBe(200)
    const after = await adminJson('GET', '/usage/summary')
    const calls = (s: typeof after) => s.body.last_day.by_kind['consumer-jwt']?.calls ?? 0
    expect(calls(after) - calls(before)).toBe(4)
    expect(after.body.last_week.calls - before.body.last_week.calls).toBe(4)
    expect(after.body).toMatchObject({ schedule: { source: 'none', brownouts: [] }, next_brownout: null, brownout_now: null, next_refusal_at: null, legacy_creation_open: true })
  })

  it.each([
    ['kind=api-key', 'kind: expected one of iam-api-key, legacy-jwt, consumer-jwt, oidc-jwt, anonymous'],
    ['since=0d', 'since: expected 1d to 400d'],
    ['since=last-week', 'since: expected a number of days (7d) or a UTC day (2026-04-01)'],
    ['limit=0', 'limit: expected 1 to 1000'],
  ])('answers 400 invalid_query for ?%s', async (query, detail) => {
    const res = await adminJson('GET', `/usage?${query}`)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_query', detail })
  })

  it('counts nothing and answers 503 not_configured without the USAGE binding', async () => {
    const marker = newMarker()
    const alice = await token('alice')
    const before = await adminJson('GET', `/usage?credential=${encodeURIComponent(consumers.alice!.key)}&since=1d`)
    const res = await workerWithVars({ USAGE: undefined } as never, 'https://gw.example/usage-a', { headers: { authorization: `Bearer ${alice}`, 'x-test-marker': marker } })
    expect(res.status).toBe(200)
    expect(await originSaw(marker)).toBe(true)
    const off = await workerWithVars({ USAGE: undefined } as never, 'https://gw.example/__edgegw/admin/v1/usage', { headers: { 'x-auth-token': env.ADMIN_TOKEN! } })
    expect(off.status).toBe(503)
    expect(await off.json()).toMatchObject({ code: 'not_configured' })
    const after = await adminJson('GET', `/usage?credential=${encodeURIComponent(consumers.alice!.key)}&since=1d`)
    expect(after.body.credentials[0].calls).toBe(before.body.credentials[0].calls)
  })
})
