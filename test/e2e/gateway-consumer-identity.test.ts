import { env, exports } from 'cloudflare:workers'
import { SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { adminJson, clearKv, settled } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'

// Consumers whose names collide with another consumer's identity, through the real
// Worker: created with the admin API, synced, used at the gateway.
const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' }
const consumers: Record<string, { id: string; sign: () => Promise<string> }> = {}

async function consumer(name: string, username: string): Promise<void> {
  const created = await adminJson('POST', '/consumers', { username })
  expect(created.status).toBe(201)
  const credential = await adminJson('POST', `/consumers/${created.body.id}/jwt`, { algorithm: 'HS256' })
  expect(credential.status).toBe(201)
  const secret = new TextEncoder().encode(credential.body.secret)
  consumers[name] = {
    id: created.body.id,
    sign: () => new SignJWT({ iss: credential.body.key, exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'HS256' }).sign(secret),
  }
}

beforeAll(async () => {
  await clearKv()
  await consumer('alice', 'alice')
  // A username that is alice's id, and one that a header would carry as "admin".
  await consumer('mallory', consumers.alice!.id)
  await consumer('admin', 'admin')
  await consumer('spaced', ' admin ')
  await consumer('unicode', 'zoë')
  const routes = [
    { id: 'alice-by-id', paths: ['/by-id'], target, auth: { accept: ['consumer-jwt'], allowConsumers: [consumers.alice!.id] } },
    { id: 'alice-by-name', paths: ['/by-name'], target, auth: { accept: ['consumer-jwt'], allowConsumers: ['alice'] } },
    { id: 'open', paths: ['/open'], target, auth: { accept: ['consumer-jwt'] } },
  ]
  expect((await adminJson('PUT', '/routes', { routes })).status).toBe(200)
  await settled()
  expect((await adminJson('POST', '/sync')).body).toMatchObject({ ok: true })
})

const call = async (path: string, who: string, marker = newMarker()) =>
  exports.default.fetch(`https://gw.example${path}`, { headers: { authorization: `Bearer ${await consumers[who]!.sign()}`, 'x-test-marker': marker } })

describe('allowConsumers', () => {
  it("refuses a consumer whose username is the listed consumer's id", async () => {
    const marker = newMarker()
    const res = await call('/by-id', 'mallory', marker)
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway", error="insufficient_scope", error_description="The credential does not allow this call."')
    expect(await res.json()).toMatchObject({ code: 'permission_denied' })
    expect(await originSaw(marker)).toBe(false)
  })

  it.each([
    ['/by-id', 'alice', 200],
    ['/by-name', 'alice', 200],
    ['/by-name', 'mallory', 403],
  ])('%s as %s → %i', async (path, who, status) => {
    expect((await call(path, who)).status).toBe(status)
  })
})

describe('X-Consumer-Username', () => {
  it.each([
    ['admin', 'admin'],
    ['spaced', undefined],
    ['unicode', 'zoë'],
  ])('for %s is %s: a username a header would change is not sent', async (who, expected) => {
    const res = await call('/open', who)
    expect(res.status).toBe(200)
    const echo = (await res.json()) as OriginEcho
    expect(echo.headers['x-consumer-username']).toBe(expected)
    expect(echo.headers['x-consumer-id']).toBe(consumers[who]!.id)
  })
})
