/**
 * Revocation, measured (docs/revocation.md): how long after a key is deleted in
 * IAM the gateway refuses it, with the sync run by the gateway's `scheduled`
 * handler on a timer, as the Cron Trigger runs it. Locally, KV has no
 * propagation delay, so the bound is the sync interval plus the memory TTL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorKey, pollUntil, registerAndSync, startTestStack, through, type ClientKey, type TestStack } from './support.js'

const SYNC_INTERVAL_SECONDS = 2
const MEMORY_TTL_SECONDS = 1
/** A sync's own duration, the request that starts the background refresh, and polling. */
const MARGIN_MS = 1_500
const BOUND_MS = 1000 * (SYNC_INTERVAL_SECONDS + MEMORY_TTL_SECONDS) + MARGIN_MS
const SAMPLES = 4

let t: TestStack
const scheduledRuns: string[] = []

beforeAll(async () => {
  t = await startTestStack({ syncIntervalSeconds: SYNC_INTERVAL_SECONDS, memoryTtlSeconds: MEMORY_TTL_SECONDS, onScheduledRun: (run) => scheduledRuns.push(run.outcome) })
})
afterAll(() => t?.cleanup())

async function allowedKey(): Promise<ClientKey> {
  const key = await emulatorKey(t.emulator, t.stack.fixture.organizationId, [{ permission_set_names: ['FunctionsPrivateAccess'], project_ids: [t.stack.fixture.projectId] }])
  await registerAndSync(t.admin, key)
  await pollUntil(() => through(t.stack, '/hello', key.secretKey), (r) => r.status === 200, { timeoutMs: BOUND_MS })
  return key
}

/** Deletes the key in IAM (then runs `afterDelete`) and measures until the gateway refuses it. */
async function revoke(key: ClientKey, afterDelete: () => Promise<unknown> = async () => {}): Promise<number> {
  await t.emulator.call('DELETE', `/iam/v1alpha1/api-keys/${key.accessKey}`)
  const deletedAt = Date.now()
  await afterDelete()
  const refused = await pollUntil(() => through(t.stack, '/hello', key.secretKey), (r) => r.status !== 200, { timeoutMs: 3 * BOUND_MS, intervalMs: 50 })
  expect(refused.value.status).toBe(401)
  expect(JSON.parse(refused.value.text)).toMatchObject({ code: 'api_key_unknown' })
  return Date.now() - deletedAt
}

describe('revocation of a key deleted in IAM', () => {
  it(`takes effect within the sync interval (${SYNC_INTERVAL_SECONDS} s) + the memory TTL (${MEMORY_TTL_SECONDS} s) + ${MARGIN_MS} ms, syncing through scheduled only`, async () => {
    const measured: number[] = []
    for (let sample = 0; sample < SAMPLES; sample++) {
      const key = await allowedKey()
      // Deletions land at different points of the timer's cycle.
      await new Promise((resolve) => setTimeout(resolve, 400 * sample))
      measured.push(await revoke(key))
    }
    console.log(`[revocation] scheduled every ${SYNC_INTERVAL_SECONDS} s, memory TTL ${MEMORY_TTL_SECONDS} s: refused after ${measured.join(', ')} ms (bound ${BOUND_MS} ms)`)
    for (const ms of measured) expect(ms).toBeLessThanOrEqual(BOUND_MS)
    expect(scheduledRuns.length).toBeGreaterThan(0)
    expect(scheduledRuns.every((outcome) => outcome === 'ok')).toBe(true)
  }, 60_000)

  it('takes effect on the next request after POST /sync returns, when it runs right after the deletion', async () => {
    const key = await allowedKey()
    await t.emulator.call('DELETE', `/iam/v1alpha1/api-keys/${key.accessKey}`)
    const deletedAt = Date.now()
    await t.admin.call('POST', '/sync', {})
    const next = await through(t.stack, '/hello', key.secretKey)
    console.log(`[revocation] POST /sync right after the deletion: refused on the next request, ${Date.now() - deletedAt} ms after the deletion`)
    expect(next.status).toBe(401)
    expect(JSON.parse(next.text)).toMatchObject({ code: 'api_key_unknown' })
  })
})
