import { exports } from 'cloudflare:workers'
import { afterEach, describe, expect, it } from 'vitest'
import { bulkAccessKey, bulkSecret } from '../../src/emulator/bulk-keys.js'
import { BASE, call, IAM, ok, unique } from './support.js'

const BULK = `${BASE}/emulator/bulk/api-keys`

describe('POST /emulator/bulk/api-keys', () => {
  it('makes keys whose access keys and secrets follow from their index, listed in access-key order', async () => {
    const app = await ok<{ id: string }>('POST', `${IAM}/applications`, { body: { name: unique('bulk') } })
    expect(await ok('POST', BULK, { body: { application_id: app.id, count: 250, start: 1000 } })).toEqual({
      created: 250,
      first_access_key: bulkAccessKey(1000),
      last_access_key: bulkAccessKey(1249),
    })
    // The same range again makes nothing (the keys exist).
    expect(await ok('POST', BULK, { body: { application_id: app.id, count: 10, start: 1240 } })).toMatchObject({ created: 0 })

    const page = await ok<{ api_keys: { access_key: string; secret_key: null; application_id: string }[]; total_count: number }>(
      'GET',
      `${IAM}/api-keys?application_id=${app.id}&order_by=access_key_asc&page=2&page_size=100`,
    )
    expect(page.total_count).toBe(250)
    expect(page.api_keys.map((k) => k.access_key)).toEqual(Array.from({ length: 100 }, (_, i) => bulkAccessKey(1100 + i)))
    expect(page.api_keys[0]).toMatchObject({ secret_key: null, application_id: app.id })

    // The derived secret is the key's: it authenticates (403 without a policy, not 401).
    const asKey = await call('GET', `${IAM}/users`, { token: bulkSecret(1100) })
    expect(asKey.status).toBe(403)
    expect((await call('GET', `${IAM}/users`, { token: bulkSecret(99_999_999) })).status).toBe(401)
  })

  it.each([
    [{ count: 0 }, 'count'],
    [{ count: 100_001 }, 'count'],
    [{ count: 1 }, 'user_id'],
  ])('refuses %o (%s)', async (body, argument) => {
    const answer = await call('POST', BULK, { body })
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ type: 'invalid_arguments' })
    expect(JSON.stringify(answer.body)).toContain(argument)
  })

  it('answers only the admin secret', async () => {
    expect((await call('POST', BULK, { token: null, body: { count: 1 } })).status).toBe(401)
  })
})

describe('the fault switch with after and times', () => {
  afterEach(async () => void (await call('POST', `${BASE}/emulator/faults`, { body: { mode: 'none' } })))

  it('serves `after` requests, fails `times`, then is off again', async () => {
    await ok('POST', `${BASE}/emulator/faults`, { body: { mode: 'error500', after: 2, times: 2 } })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const res = await exports.default.fetch(new Request(`${IAM}/users`, { headers: { 'x-auth-token': (await import('./support.js')).ADMIN } }))
      await res.body?.cancel()
      statuses.push(res.status)
    }
    expect(statuses).toEqual([200, 200, 500, 500, 200, 200])
    expect(await ok('GET', `${BASE}/emulator/faults`)).toEqual({ mode: 'none', paths: 'iam' })
  })
})

describe('POST /emulator/reset', () => {
  it('empties every table, turns faults off and seeds the owner again', async () => {
    const app = await ok<{ id: string }>('POST', `${IAM}/applications`, { body: { name: unique('gone') } })
    await ok('POST', `${BASE}/emulator/faults`, { body: { mode: 'error500', paths: 'all', after: 100 } })
    expect(await ok('POST', `${BASE}/emulator/reset`)).toEqual({ reset: true })
    expect((await call('GET', `${IAM}/applications/${app.id}`)).status).toBe(404)
    expect(await ok('GET', `${BASE}/emulator/faults`)).toEqual({ mode: 'none', paths: 'iam' })
    const users = await ok<{ users: { type: string }[] }>('GET', `${IAM}/users`)
    expect(users.users.map((u) => u.type)).toEqual(['owner'])
    const keys = await ok<{ api_keys: { access_key: string }[] }>('GET', `${IAM}/api-keys`)
    expect(keys.api_keys.map((k) => k.access_key)).toEqual([(await ok<{ admin_access_key: string }>('GET', `${BASE}/emulator/info`)).admin_access_key])
  })
})
