import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pollUntil, startTestStack, through, type TestStack } from './support.js'

// The legacy schedule changes without a redeploy: set through the admin API, carried into
// the key set by the sync, applied by the running gateway once its memory TTL has passed.
let t: TestStack

beforeAll(async () => {
  t = await startTestStack({ memoryTtlSeconds: 1 })
})

afterAll(async () => {
  await t.cleanup()
})

describe('the legacy schedule through the local stack', () => {
  it('a brownout set with PUT /legacy-schedule refuses the legacy token after the sync; DELETE lets it through again', async () => {
    const legacy = t.stack.secrets.legacyToken!.token
    expect((await through(t.stack, '/hello', legacy)).status).toBe(200)

    const now = Date.now()
    const window = { start: new Date(now - 60_000).toISOString(), end: new Date(now + 600_000).toISOString() }
    await t.admin.call('PUT', '/legacy-schedule', { brownouts: [window], creation_cutoff_at: new Date(now - 1000).toISOString(), sunset_at: new Date(now + 86_400_000).toISOString() })
    await t.admin.call('POST', '/sync', {})
    const { value } = await pollUntil(() => through(t.stack, '/hello', legacy), (r) => r.status !== 200, { timeoutMs: 10_000, intervalMs: 250 })
    expect(value.status).toBe(401)
    expect(JSON.parse(value.text)).toMatchObject({ code: 'legacy_token_brownout' })
    expect(Number(value.headers.get('retry-after'))).toBeGreaterThan(500)
    // An IAM key is not affected.
    expect((await through(t.stack, '/hello', t.stack.secrets.apiKeys.demo!.secretKey)).status).toBe(200)

    const summary = await t.admin.call<{ brownout_now: unknown; legacy_creation_open: boolean; schedule: { source: string } }>('GET', '/usage/summary')
    expect(summary).toMatchObject({ brownout_now: { start: window.start, end: window.end }, legacy_creation_open: false, schedule: { source: 'registry' } })

    await t.admin.call('DELETE', '/legacy-schedule')
    await t.admin.call('POST', '/sync', {})
    const back = await pollUntil(() => through(t.stack, '/hello', legacy), (r) => r.status === 200, { timeoutMs: 10_000, intervalMs: 250 })
    expect(back.value.status).toBe(200)
  })
})
