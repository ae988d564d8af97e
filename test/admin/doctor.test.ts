import { env } from 'cloudflare:workers'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readSettings } from '../../src/settings.js'
import { NotConfiguredError } from '../../src/sync/from-env.js'
import { SYNC_STATUS_KEY } from '../../src/sync/status.js'
import { clearKv } from '../support/admin-api.js'
import { emulatorAdmin, emulatorOrganization } from '../support/emulator-admin.js'

// GET /doctor: one check per line; it answers (200) whatever fails, and never shows a secret's value.

let org: string
const allSet = { ORIGIN_AUTH_TOKEN: true, ADMIN_TOKEN: true, IAM_API_TOKEN: true, CREDENTIAL_ENCRYPTION_KEY: true }
const settings = () => readSettings({ KEYSET: env.KEYSET, SCW_ORGANIZATION_ID: org } as never)

beforeAll(async () => {
  org = await emulatorOrganization()
})
beforeEach(clearKv)

const byName = (checks: { name: string }[]): Record<string, any> => Object.fromEntries(checks.map((check) => [check.name, check]))

describe('GET /doctor', () => {
  it('all ok after a sync: settings, secrets, IAM reachable, key set fresh, the Cron', async () => {
    const { call } = emulatorAdmin(org, { doctor: { settings: settings(), secrets: allSet } })
    expect((await call('POST', '/sync')).status).toBe(200)
    const res = await call('GET', '/doctor')
    expect(res.status).toBe(200)
    expect(res.body.ok).toBe(true)
    expect(res.body.checks.map((c: { name: string }) => c.name)).toEqual(['settings', 'secrets', 'IAM reachable', 'key set fresh', 'Cron'])
    expect(res.body.checks.every((c: { ok: boolean; fix?: string }) => c.ok && c.fix === undefined)).toBe(true)
    expect(byName(res.body.checks)['IAM reachable'].detail).toMatch(/^the gateway's key reads the organisation's API keys \(\d+\)$/)
  })

  it('says what to do for each failure: secrets missing, no organisation, IAM not configured, no key set, no sync', async () => {
    const { call } = emulatorAdmin(org, {
      doctor: { settings: readSettings({ KEYSET: env.KEYSET } as never), secrets: { ...allSet, IAM_API_TOKEN: false, CREDENTIAL_ENCRYPTION_KEY: false } },
      get organizationId(): string {
        throw new NotConfiguredError('IAM is not configured: set the IAM_API_TOKEN secret')
      },
    })
    const res = await call('GET', '/doctor')
    expect(res.status).toBe(200)
    expect(res.body.ok).toBe(false)
    const checks = byName(res.body.checks)
    expect(checks.settings).toMatchObject({ ok: false, fix: 'set SCW_ORGANIZATION_ID in wrangler.toml [vars] and deploy' })
    expect(checks.secrets).toMatchObject({ ok: false, detail: expect.stringContaining('not set: IAM_API_TOKEN, CREDENTIAL_ENCRYPTION_KEY'), fix: 'npx wrangler secret put IAM_API_TOKEN; npx wrangler secret put CREDENTIAL_ENCRYPTION_KEY' })
    expect(checks['IAM reachable']).toMatchObject({ ok: false, detail: 'IAM is not configured: set the IAM_API_TOKEN secret' })
    expect(checks['key set fresh']).toMatchObject({ ok: false, detail: 'no key set yet', fix: expect.stringContaining('edgegw sync') })
    expect(checks.Cron).toMatchObject({ ok: false, detail: 'no sync has run', fix: expect.stringContaining('crons') })
  })

  it('a last sync older than the heartbeat and its margin: the Cron check fails; a failed last sync: the key set check says why', async () => {
    const { call } = emulatorAdmin(org, { doctor: { settings: settings(), secrets: allSet } })
    expect((await call('POST', '/sync')).status).toBe(200)
    const status = JSON.parse((await env.KEYSET.get(SYNC_STATUS_KEY))!)
    const old = new Date(Date.now() - (3600 + 16 * 60) * 1000).toISOString()
    await env.KEYSET.put(SYNC_STATUS_KEY, JSON.stringify({ ...status, lastSuccessAt: old, lastError: { at: old, message: 'IAM answered 500' } }))
    const checks = byName((await call('GET', '/doctor')).body.checks)
    expect(checks.Cron.ok).toBe(false)
    expect(checks['key set fresh']).toMatchObject({ ok: false, detail: expect.stringContaining('the last sync failed: IAM answered 500') })
  })
})
