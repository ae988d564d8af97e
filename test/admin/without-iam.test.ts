import { beforeEach, expect, it } from 'vitest'
import { adminJson, clearKv, settled } from '../support/admin-api.js'

// The test Worker has no IAM_API_TOKEN: the gateway runs without IAM.
beforeEach(async () => {
  await settled()
  await clearKv()
})

it('answers 503 not_configured for the endpoints that need IAM', async () => {
  const mint = await adminJson('POST', '/api-keys', { application_id: crypto.randomUUID() })
  expect(mint.status).toBe(503)
  expect(mint.body).toMatchObject({ code: 'not_configured', detail: expect.stringContaining('IAM_API_TOKEN') })
  const register = await adminJson('POST', '/api-keys/register', { access_key: 'SCW00000000000000001', secret_key: crypto.randomUUID() })
  expect(register.status).toBe(503)
})

it('syncs the registry alone and reports that IAM is not configured', async () => {
  await adminJson('POST', '/consumers', { username: 'alice' })
  await settled()
  const sync = await adminJson('POST', '/sync')
  expect(sync.status).toBe(200)
  expect(sync.body.ok).toBe(true)
  expect(sync.body.status.warnings).toContainEqual(expect.stringContaining('IAM is not configured'))
  expect(sync.body.status.counts).toMatchObject({ consumers: 1, apiKeys: 0 })
  const status = await adminJson('GET', '/status')
  expect(status.body.keySet).toMatchObject({ source: 'sync', apiKeys: 0, consumersPart: expect.stringMatching(/^[0-9a-f]{32}$/), oidcPart: null })
})
