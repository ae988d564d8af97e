import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { EMULATOR_INSTANCE } from '../../src/emulator/config.js'
import { call, IAM, info, ok, unique } from './support.js'

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

interface ApiKey {
  access_key: string
  secret_key: string | null
  description: string
  created_at: string
  updated_at: string
  expires_at: string | null
  default_project_id: string
  editable: boolean
  deletable: boolean
  managed: boolean
  creation_ip: string
  application_id?: string
  user_id?: string
}

describe('api-keys', () => {
  it('creates a key whose secret is shown once, then only as secret_key: null', async () => {
    const application = await ok<{ id: string }>('POST', `${IAM}/applications`, { body: { name: unique('bearer') } })
    const created = await ok<ApiKey>('POST', `${IAM}/api-keys`, { body: { application_id: application.id, description: 'ci key' } })
    expect(created.access_key).toMatch(/^SCW[A-Z0-9]{17}$/)
    expect(created.secret_key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    // Field order as the live API sends it, the bearer last and only the one set.
    expect(Object.keys(created)).toEqual(['access_key', 'secret_key', 'description', 'created_at', 'updated_at', 'expires_at', 'default_project_id', 'editable', 'deletable', 'managed', 'creation_ip', 'application_id'])
    expect(created.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    expect(created.default_project_id).toBe((await info()).default_project_id)

    const got = await ok<ApiKey>('GET', `${IAM}/api-keys/${created.access_key}`)
    expect(got.secret_key).toBeNull()
    expect('secret_key' in got).toBe(true)
    expect(got).toEqual({ ...created, secret_key: null })

    const listed = await ok<{ api_keys: ApiKey[]; total_count: number }>('GET', `${IAM}/api-keys?bearer_id=${application.id}`)
    expect(listed.total_count).toBe(1)
    expect(listed.api_keys).toEqual([{ ...created, secret_key: null }])
  })

  it('keeps only the SHA-256 digest of the secret in SQLite', async () => {
    const application = await ok<{ id: string }>('POST', `${IAM}/applications`, { body: { name: unique('bearer') } })
    const created = await ok<ApiKey>('POST', `${IAM}/api-keys`, { body: { application_id: application.id } })
    const secret = created.secret_key!
    const stub = env.EMULATOR.get(env.EMULATOR.idFromName(EMULATOR_INSTANCE))
    const rows = await runInDurableObject(stub, (_instance, state) => {
      const row = state.storage.sql.exec<{ secret_digest: string; doc: string }>('SELECT secret_digest, doc FROM api_keys WHERE id = ?', created.access_key).one()
      // Every cell of every table, to prove the secret is nowhere.
      const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").toArray()
      const cells = tables.flatMap((t) => state.storage.sql.exec(`SELECT * FROM ${t.name}`).toArray().flatMap((r) => Object.values(r).map(String)))
      return { row, cells }
    })
    expect(rows.row.secret_digest).toBe(await sha256Hex(secret))
    expect(rows.cells.some((cell) => cell.includes(secret))).toBe(false)
  })

  it('authenticates with the secret until the key is deleted', async () => {
    const application = await ok<{ id: string }>('POST', `${IAM}/applications`, { body: { name: unique('bearer') } })
    const key = await ok<ApiKey>('POST', `${IAM}/api-keys`, { body: { application_id: application.id } })
    // No policy: authenticated (403), not unknown (401).
    expect((await call('GET', `${IAM}/users`, { token: key.secret_key })).status).toBe(403)
    // UUIDs compare case-insensitively.
    expect((await call('GET', `${IAM}/users`, { token: key.secret_key!.toUpperCase() })).status).toBe(403)
    await ok('DELETE', `${IAM}/api-keys/${key.access_key}`, { status: 204 })
    const after = await call('GET', `${IAM}/users`, { token: key.secret_key })
    expect(after.status).toBe(401)
    expect(after.body).toEqual({ message: 'authentication is denied', method: 'api_key', reason: 'not_found', type: 'denied_authentication' })
    expect((await call('GET', `${IAM}/api-keys/${key.access_key}`)).status).toBe(404)
  })

  it('updates description and default_project_id, and nothing else', async () => {
    const { owner_user_id } = await info()
    const key = await ok<ApiKey>('POST', `${IAM}/api-keys`, { body: { user_id: owner_user_id, description: 'before' } })
    const project = crypto.randomUUID()
    const patched = await ok<ApiKey>('PATCH', `${IAM}/api-keys/${key.access_key}`, { body: { description: 'after', default_project_id: project } })
    expect(patched).toMatchObject({ access_key: key.access_key, secret_key: null, description: 'after', default_project_id: project, user_id: owner_user_id, created_at: key.created_at })
    expect(patched.updated_at >= key.updated_at).toBe(true)
    expect(await ok('GET', `${IAM}/api-keys/${key.access_key}`)).toEqual(patched)
  })

  it('refuses an expiry in the past and honours one in the future', async () => {
    const { owner_user_id } = await info()
    const past = await call('POST', `${IAM}/api-keys`, { body: { user_id: owner_user_id, expires_at: '2001-01-01T00:00:00Z' } })
    expect(past.status).toBe(400)
    expect(past.body).toMatchObject({ type: 'invalid_arguments', details: [{ argument_name: 'expires_at', reason: 'constraint' }] })
    const expiresAt = new Date(Date.now() + 1500)
    expiresAt.setMilliseconds(0)
    const key = await ok<ApiKey>('POST', `${IAM}/api-keys`, { body: { user_id: owner_user_id, expires_at: expiresAt.toISOString() } })
    expect(key.expires_at).toBe(expiresAt.toISOString().replace('.000Z', 'Z'))
    expect((await call('GET', `${IAM}/users`, { token: key.secret_key })).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt.getTime() - Date.now() + 50)))
    const expired = await call('GET', `${IAM}/users`, { token: key.secret_key })
    expect(expired.status).toBe(401)
    expect(expired.body).toMatchObject({ reason: 'expired', type: 'denied_authentication' })
    const listed = await ok<{ api_keys: ApiKey[] }>('GET', `${IAM}/api-keys?expired=true&user_id=${owner_user_id}`)
    expect(listed.api_keys.map((k) => k.access_key)).toContain(key.access_key)
  })

  it('lists the admin secret as the owner key, which cannot be deleted', async () => {
    const { admin_access_key, owner_user_id } = await info()
    const admin = await ok<ApiKey>('GET', `${IAM}/api-keys/${admin_access_key}`)
    expect(admin).toMatchObject({ user_id: owner_user_id, secret_key: null, deletable: false })
    const refused = await call('DELETE', `${IAM}/api-keys/${admin_access_key}`)
    expect(refused.status).toBe(403)
    expect(refused.body).toMatchObject({ type: 'permissions_denied' })
  })

  it.each([
    [{}, 'user_id'],
    [{ user_id: '5b2d0c7e-8f1a-4e3b-9c6d-2a4f7e1b0c9d', application_id: '5b2d0c7e-8f1a-4e3b-9c6d-2a4f7e1b0c9d' }, 'application_id'],
    [{ user_id: 'not-a-uuid' }, 'user_id'],
    [{ user_id: '5b2d0c7e-8f1a-4e3b-9c6d-2a4f7e1b0c9d', description: 'x'.repeat(201) }, 'description'],
  ])('refuses the body %j naming %s', async (body, argument) => {
    const res = await call<{ type: string; details: { argument_name: string }[] }>('POST', `${IAM}/api-keys`, { body })
    expect(res.status).toBe(400)
    expect(res.body.type).toBe('invalid_arguments')
    expect(res.body.details.map((d) => d.argument_name)).toContain(argument)
  })
})
