import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { LEGACY_SCHEDULE_KEY } from '../../src/sync/legacy-schedule-registry.js'
import { adminJson, clearKv, freshView, settled } from '../support/admin-api.js'
import { workerWithVars } from '../support/worker-with-vars.js'

// The test Worker has no IAM_API_TOKEN and no LEGACY_* vars: POST /legacy-tokens answers
// 503 not_configured while creation is open, so a 403 proves the cut-off was checked first.
const MINT = { product: 'functions', namespace_id: 'a1111111-1111-4111-8111-111111111111' }
const schedule = {
  deprecated_at: '2026-03-01T00:00:00Z',
  brownouts: [
    { start: '2027-02-01T09:00:00Z', end: '2027-02-01T10:00:00Z' },
    { start: '2027-01-15T09:00:00+01:00', end: '2027-01-15T10:00:00+01:00' },
  ],
  creation_cutoff_at: '2026-12-31T00:00:00Z',
  sunset_at: '2027-03-01T00:00:00Z',
}

beforeEach(async () => {
  await settled()
  await clearKv()
})

const adminWithVars = (vars: Record<string, string>, method: string, path: string, body?: unknown) =>
  workerWithVars(vars, `https://gw.example/__edgegw/admin/v1${path}`, {
    method,
    headers: { 'x-auth-token': env.ADMIN_TOKEN!, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })

describe('the legacy schedule at the admin API', () => {
  it('is none at first; PUT stores it in UTC, brownouts in order, and the sync carries it into the key set', async () => {
    expect((await adminJson('GET', '/legacy-schedule')).body).toMatchObject({ source: 'none', schedule: { sunset_at: null, brownouts: [] }, updated_at: null, legacy_creation_open: true })
    const put = await adminJson('PUT', '/legacy-schedule', schedule)
    expect(put.status).toBe(200)
    const stored = {
      deprecated_at: '2026-03-01T00:00:00.000Z',
      sunset_at: '2027-03-01T00:00:00.000Z',
      brownouts: [
        { start: '2027-01-15T08:00:00.000Z', end: '2027-01-15T09:00:00.000Z' },
        { start: '2027-02-01T09:00:00.000Z', end: '2027-02-01T10:00:00.000Z' },
      ],
      creation_cutoff_at: '2026-12-31T00:00:00.000Z',
      migration_guide_url: null,
    }
    expect(put.body).toMatchObject({ source: 'registry', schedule: stored, updated_at: expect.any(String), legacy_creation_open: true })
    await settled()
    expect((await adminJson('POST', '/sync')).body.ok).toBe(true)
    expect((await freshView()).legacySchedule).toEqual({
      deprecatedAt: stored.deprecated_at,
      sunsetAt: stored.sunset_at,
      brownouts: stored.brownouts,
      creationCutoffAt: stored.creation_cutoff_at,
    })
    expect((await adminJson('GET', '/legacy-schedule')).body).toMatchObject({ source: 'registry', in_key_set: true })
  })

  it('DELETE removes it (204), then there is none to remove (404 legacy_schedule_not_found)', async () => {
    await adminJson('PUT', '/legacy-schedule', schedule)
    const deleted = await adminJson('DELETE', '/legacy-schedule')
    expect(deleted.status).toBe(204)
    expect(await env.KEYSET.get(LEGACY_SCHEDULE_KEY)).toBeNull()
    const again = await adminJson('DELETE', '/legacy-schedule')
    expect(again.status).toBe(404)
    expect(again.body).toMatchObject({ code: 'legacy_schedule_not_found' })
  })

  it.each([
    ['a sunset before the deprecation', { deprecated_at: '2027-01-01T00:00:00Z', sunset_at: '2026-01-01T00:00:00Z' }, 'body: sunset_at must not come before deprecated_at'],
    ['a cut-off after the sunset', { creation_cutoff_at: '2027-01-01T00:00:00Z', sunset_at: '2026-01-01T00:00:00Z' }, 'body: creation_cutoff_at must not come after sunset_at'],
    ['a brownout that ends before it starts', { brownouts: [{ start: '2027-01-01T10:00:00Z', end: '2027-01-01T09:00:00Z' }] }, 'brownouts.0: a brownout must end after it starts'],
    ['a time that is not RFC 3339', { sunset_at: 'next friday' }, 'sunset_at: expected an RFC 3339 time'],
    ['an unknown field', { sunset: '2027-01-01T00:00:00Z' }, 'sunset: unknown field'],
    ['a guide URL that is not https', { migration_guide_url: 'http://docs.example' }, 'migration_guide_url: expected an https:// URL'],
  ])('refuses %s: 400 invalid_body, nothing stored', async (_, body, detail) => {
    const res = await adminJson('PUT', '/legacy-schedule', body)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'invalid_body', detail })
    expect(await env.KEYSET.get(LEGACY_SCHEDULE_KEY)).toBeNull()
  })
})

describe('the creation cut-off', () => {
  it('closes POST /legacy-tokens from the cut-off on: 403 legacy_creation_closed, before any call to the platform', async () => {
    expect((await adminJson('POST', '/legacy-tokens', MINT)).body).toMatchObject({ code: 'not_configured' })
    await adminJson('PUT', '/legacy-schedule', { creation_cutoff_at: '2026-01-01T00:00:00Z' })
    const closed = await adminJson('POST', '/legacy-tokens', MINT)
    expect(closed.status).toBe(403)
    expect(closed.headers.get('content-type')).toBe('application/problem+json')
    expect(closed.body).toMatchObject({ code: 'legacy_creation_closed', detail: 'legacy tokens can no longer be created (closed at 2026-01-01T00:00:00.000Z); create an IAM API key instead (POST /api-keys)' })
    // Closed, whatever the body.
    expect((await adminJson('POST', '/legacy-tokens', {})).body).toMatchObject({ code: 'legacy_creation_closed' })
    expect((await adminJson('GET', '/legacy-schedule')).body.legacy_creation_open).toBe(false)
  })

  it('comes from LEGACY_CREATION_CUTOFF_AT while no schedule is set, and a schedule set replaces it', async () => {
    const vars = { LEGACY_CREATION_CUTOFF_AT: '2026-01-01T00:00:00Z' }
    const closed = await adminWithVars(vars, 'POST', '/legacy-tokens', MINT)
    expect(closed.status).toBe(403)
    expect(await closed.json()).toMatchObject({ code: 'legacy_creation_closed' })
    expect(await (await adminWithVars(vars, 'GET', '/legacy-schedule')).json()).toMatchObject({ source: 'settings', schedule: { creation_cutoff_at: '2026-01-01T00:00:00Z' }, settings: { creation_cutoff_at: '2026-01-01T00:00:00Z' } })

    await adminJson('PUT', '/legacy-schedule', { creation_cutoff_at: '2099-01-01T00:00:00Z' })
    const open = await adminWithVars(vars, 'POST', '/legacy-tokens', MINT)
    expect(await open.json()).toMatchObject({ code: 'not_configured' })
  })
})
