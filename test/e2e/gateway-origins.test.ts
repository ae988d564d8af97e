import { env, exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROJECT, secrets, seedKeySet, testKeySet } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'
import { workerWithVars } from '../support/worker-with-vars.js'

// The origin credential goes only to https:// private origins (http:// loopback origins
// when ALLOW_INSECURE_LOOPBACK_ORIGINS is set, as in these tests), and never comes back.
const TEST_ORIGIN_TOKEN = 'test-origin-credential-0f3c'

beforeAll(async () => {
  const source = await testKeySet()
  source.routes.push({ id: 'plain-http', paths: ['/plain'], target: { url: 'http://origin.invalid/functions/hello', kind: 'function', projectId: PROJECT, privacy: 'private' } })
  await seedKeySet(source)
})

const internalError = async (res: Response) => {
  expect(res.status).toBe(500)
  expect(res.headers.get('www-authenticate')).toBeNull()
  expect(await res.json()).toMatchObject({ status: 500, code: 'internal_error' })
}

describe('where the origin credential may go', () => {
  it('without ALLOW_INSECURE_LOOPBACK_ORIGINS, a private http:// loopback origin is refused with 500, never contacted', async () => {
    const marker = newMarker()
    const res = await workerWithVars({ ALLOW_INSECURE_LOOPBACK_ORIGINS: 'false' }, 'https://gw.example/hello', { headers: { 'x-auth-token': secrets.functions, 'x-test-marker': marker } })
    await internalError(res)
    expect(await originSaw(marker)).toBe(false)
  })

  it('without it, a public http:// origin (which gets no origin credential) is still served', async () => {
    const res = await workerWithVars({ ALLOW_INSECURE_LOOPBACK_ORIGINS: 'false' }, 'https://gw.example/public', { headers: { 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as OriginEcho).headers['x-auth-token']).toBeUndefined()
  })

  it('with it, a private http:// origin that is not loopback is still refused with 500', async () => {
    await internalError(await exports.default.fetch('https://gw.example/plain', { headers: { 'x-auth-token': secrets.functions } }))
  })

  it('with it, a private http:// loopback origin gets the origin credential', async () => {
    const res = await exports.default.fetch('https://gw.example/hello', { headers: { 'x-auth-token': secrets.functions } })
    expect(((await res.json()) as OriginEcho).headers['x-auth-token']).toBe('[origin credential: valid]')
  })
})

describe('an X-Auth-Token in the origin’s answer', () => {
  it('is removed before the client sees the answer', async () => {
    const res = await exports.default.fetch('https://gw.example/hello/reflect-credential', { headers: { 'x-auth-token': secrets.functions } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ reflected: true })
    expect(res.headers.get('x-auth-token')).toBeNull()
    expect([...res.headers].join('\n')).not.toContain(TEST_ORIGIN_TOKEN)
  })

  it('the origin did send it (the demo origin reflects what it received)', async () => {
    const res = await fetch(`${env.ORIGINS_URL}/functions/hello/reflect-credential`, { headers: { 'x-auth-token': TEST_ORIGIN_TOKEN } })
    expect(res.headers.get('x-auth-token')).toBe(TEST_ORIGIN_TOKEN)
  })
})
