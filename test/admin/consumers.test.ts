import { env, exports } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { registryKeys } from '../../src/sync/registry.js'
import { ADMIN_PATH, admin, adminJson, clearKv, freshView, settled } from '../support/admin-api.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

beforeEach(async () => {
  await settled()
  await clearKv()
})

async function createConsumer(body: Record<string, unknown>) {
  const res = await adminJson('POST', '/consumers', body)
  expect(res.status).toBe(201)
  return res.body as { id: string; username: string; custom_id: string | null; groups: string[]; created_at: string }
}

describe('POST /consumers', () => {
  it('creates a consumer with a generated UUID and answers it with its Location', async () => {
    const res = await adminJson('POST', '/consumers', { username: 'alice', custom_id: 'crm-42', groups: ['staff', 'ops', 'staff'] })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ id: expect.stringMatching(UUID), username: 'alice', custom_id: 'crm-42', groups: ['staff', 'ops'], created_at: expect.any(String) })
    expect(res.headers.get('location')).toBe(`${ADMIN_PATH}/consumers/${res.body.id}`)
    expect(Number.isNaN(Date.parse(res.body.created_at))).toBe(false)
  })

  it('defaults custom_id to null and groups to none', async () => {
    expect(await createConsumer({ username: 'bob' })).toMatchObject({ custom_id: null, groups: [] })
  })

  it.each([
    ['no username', {}, 'username'],
    ['an empty username', { username: '' }, 'username: must not be empty'],
    ['a username of 129 characters', { username: 'u'.repeat(129) }, 'username: at most 128 characters'],
    ['a username with a control character', { username: 'al\nice' }, 'username: no control characters'],
    ['a username that is not a string', { username: 42 }, 'username: expected a string'],
    ['a group name with a space', { username: 'carol', groups: ['bad group'] }, 'groups.0'],
    ['groups that are not an array', { username: 'carol', groups: 'staff' }, 'groups: expected an array of group names'],
    ['an unknown field (a typo of custom_id)', { username: 'carol', customId: 'x' }, 'customId: unknown field'],
  ])('refuses %s with 400 invalid_body naming the field', async (_, body, detail) => {
    const res = await adminJson('POST', '/consumers', body)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.body).toMatchObject({ code: 'invalid_body', status: 400 })
    expect(res.body.detail).toContain(detail)
  })

  it('refuses a body that is not JSON (415 without the content type, 400 when unparsable)', async () => {
    const plain = await admin('POST', '/consumers', undefined, { 'content-type': 'text/plain' })
    expect(plain.status).toBe(415)
    const broken = await adminJson('POST', '/consumers', '{"username": ')
    expect(broken.status).toBe(400)
    expect(broken.body.code).toBe('invalid_body')
  })

  it('refuses a taken username, and a taken custom_id, with 409 consumer_exists', async () => {
    await createConsumer({ username: 'alice', custom_id: 'crm-1' })
    const sameName = await adminJson('POST', '/consumers', { username: 'alice' })
    expect(sameName.status).toBe(409)
    expect(sameName.body).toMatchObject({ code: 'consumer_exists', detail: expect.stringContaining('username') })
    const sameCustomId = await adminJson('POST', '/consumers', { username: 'alice2', custom_id: 'crm-1' })
    expect(sameCustomId.status).toBe(409)
    expect(sameCustomId.body).toMatchObject({ code: 'consumer_exists', detail: expect.stringContaining('custom_id') })
    // Usernames are case-sensitive, as in Kong.
    expect((await adminJson('POST', '/consumers', { username: 'Alice' })).status).toBe(201)
  })

  it('frees the username when the consumer is deleted', async () => {
    const alice = await createConsumer({ username: 'alice' })
    expect((await admin('DELETE', `/consumers/${alice.id}`)).status).toBe(204)
    const again = await createConsumer({ username: 'alice' })
    expect(again.id).not.toBe(alice.id)
  })

  it('ignores a stale username index left by a delete that stopped half-way', async () => {
    const { sha256Hex } = await import('../../src/keyset/digest.js')
    await env.KEYSET.put(registryKeys.consumerUsername(await sha256Hex('ghost')), JSON.stringify({ consumerId: crypto.randomUUID() }))
    expect((await adminJson('POST', '/consumers', { username: 'ghost' })).status).toBe(201)
  })

  it('needs the admin credential', async () => {
    const res = await exports.default.fetch(`https://gw.example${ADMIN_PATH}/consumers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"eve"}' })
    expect(res.status).toBe(401)
    expect((await env.KEYSET.list({ prefix: 'registry/' })).keys).toEqual([])
  })
})

describe('GET /consumers', () => {
  it('finds a consumer by id and by username, and answers 404 consumer_not_found otherwise', async () => {
    const alice = await createConsumer({ username: 'alice smith', groups: ['staff'] })
    expect((await adminJson('GET', `/consumers/${alice.id}`)).body).toEqual(alice)
    expect((await adminJson('GET', `/consumers/${encodeURIComponent('alice smith')}`)).body).toEqual(alice)
    expect((await adminJson('GET', `/consumers/${alice.id.toUpperCase()}`)).body).toEqual(alice)
    for (const missing of ['nobody', crypto.randomUUID()]) {
      const res = await adminJson('GET', `/consumers/${missing}`)
      expect(res.status).toBe(404)
      expect(res.body.code).toBe('consumer_not_found')
    }
  })

  it('lists every consumer in pages', async () => {
    const created = []
    for (let i = 0; i < 5; i++) created.push(await createConsumer({ username: `user-${i}` }))
    const first = await adminJson('GET', '/consumers?size=2')
    expect(first.body.data).toHaveLength(2)
    expect(first.body.offset).toEqual(expect.any(String))
    const seen = [...first.body.data]
    let offset = first.body.offset
    while (offset) {
      const page = await adminJson('GET', `/consumers?size=2&offset=${encodeURIComponent(offset)}`)
      seen.push(...page.body.data)
      offset = page.body.offset
    }
    expect(seen.map((c: { username: string }) => c.username).sort()).toEqual(created.map((c) => c.username).sort())
    expect((await adminJson('GET', '/consumers')).body.data).toHaveLength(5)
  })

  it.each(['0', '1001', 'x'])('refuses a page size of %s', async (size) => {
    const res = await adminJson('GET', `/consumers?size=${size}`)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_query', detail: expect.stringContaining('size') })
  })
})

describe('PUT /consumers/{consumer}/groups', () => {
  it('replaces the groups and the key set follows', async () => {
    const alice = await createConsumer({ username: 'alice', groups: ['staff'] })
    // The creation's background sync is over: the one the change starts is the last.
    await settled()
    const res = await adminJson('PUT', `/consumers/alice/groups`, { groups: ['ops', 'billing'] })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ...alice, groups: ['ops', 'billing'] })
    expect((await adminJson('GET', `/consumers/${alice.id}`)).body.groups).toEqual(['ops', 'billing'])
    await expect.poll(async () => (await (await freshView()).consumers())?.consumers[alice.id]?.groups, { timeout: 3000 }).toEqual(['ops', 'billing'])
  })

  it('refuses a bad group list and an unknown consumer', async () => {
    await createConsumer({ username: 'alice' })
    expect((await adminJson('PUT', '/consumers/alice/groups', { groups: ['a b'] })).status).toBe(400)
    expect((await adminJson('PUT', '/consumers/alice/groups', {})).status).toBe(400)
    expect((await adminJson('PUT', '/consumers/nobody/groups', { groups: [] })).status).toBe(404)
  })
})

describe('DELETE /consumers/{consumer}', () => {
  it('deletes the consumer, its credentials and their indexes, by username', async () => {
    const alice = await createConsumer({ username: 'alice', custom_id: 'crm-9' })
    const bob = await createConsumer({ username: 'bob' })
    for (const body of [{}, { algorithm: 'HS512' }, { key: 'alice-fixed-key' }]) {
      expect((await adminJson('POST', '/consumers/alice/jwt', body)).status).toBe(201)
    }
    expect((await adminJson('POST', '/consumers/bob/jwt', { key: 'bob-key' })).status).toBe(201)

    expect((await admin('DELETE', '/consumers/alice')).status).toBe(204)
    expect((await adminJson('GET', `/consumers/${alice.id}`)).status).toBe(404)
    expect((await adminJson('GET', `/consumers/${alice.id}/jwt`)).status).toBe(404)
    const left = (await env.KEYSET.list({ prefix: 'registry/' })).keys.map((k) => k.name)
    expect(left.filter((name) => name.includes(alice.id))).toEqual([])
    // Bob's consumer, username index, credential and key index remain; nothing of Alice's.
    expect(left).toHaveLength(4)
    expect(left).toContain(registryKeys.consumer(bob.id))
    // The key is free again.
    expect((await adminJson('POST', '/consumers/bob/jwt', { key: 'alice-fixed-key' })).status).toBe(201)
    expect((await admin('DELETE', '/consumers/alice')).status).toBe(404)
  })

  it('takes the consumer and its credentials out of the key set with the background sync', async () => {
    const alice = await createConsumer({ username: 'alice' })
    await adminJson('POST', '/consumers/alice/jwt', { key: 'alice-key' })
    await createConsumer({ username: 'bob' })
    await settled()
    expect((await adminJson('POST', '/sync')).status).toBe(200)
    expect(Object.keys((await (await freshView()).consumers())!.credentials)).toEqual(['alice-key'])
    // The only sync in flight now is the one the delete starts.
    await admin('DELETE', `/consumers/${alice.id}`)
    await expect.poll(async () => (await (await freshView()).consumers())?.credentials, { timeout: 3000 }).toEqual({})
    expect((await (await freshView()).consumers())?.consumers[alice.id]).toBeUndefined()
  })
})
