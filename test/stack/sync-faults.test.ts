/**
 * IAM down, the gateway up: with the emulator's fault switch on its IAM paths,
 * the sync fails and says which call, the last good key set keeps serving, and
 * the first sync after the fault clears is ok again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestStack, through, type TestStack } from './support.js'

let t: TestStack

beforeAll(async () => {
  // Short API timeouts: a hung IAM then costs ~2 × 1.5 s, not the production 4 × 10 s; and
  // the failing step of the sync Workflow is retried once after 1 s (production: 5 times from 2 s).
  t = await startTestStack({ iamApi: { timeoutMs: 1500, attempts: 2 }, syncStepRetries: { limit: 1, delaySeconds: 1 } })
})
afterEach(async () => {
  await t?.emulator.call('POST', '/emulator/faults', { mode: 'none' })
})
afterAll(() => t?.cleanup())

interface Status {
  keySet: { snapshotId: string } | null
  sync: { lastError: { at: string; message: string } | null; consecutiveFailures: number; snapshotId: string | null } | null
}

const demoCall = () => through(t.stack, '/hello', t.stack.secrets.apiKeys.demo!.secretKey)

describe.each([
  ['error500', /^GET \/iam\/v1alpha1\/[a-z-]+\?\S+: HTTP 500 \(internal_error: internal error\) \(after 2 attempts\)$/, 20_000],
  ['garbage', /^GET \/iam\/v1alpha1\/[a-z-]+\?\S+: HTTP 200 with a body that is not JSON$/, 20_000],
  ['hang', /^GET \/iam\/v1alpha1\/[a-z-]+\?\S+: no answer within 1500 ms \(after 2 attempts\)$/, 30_000],
] as const)('the IAM API set to %s', (mode, lastError, timeout) => {
  it(
    'fails the sync, names the failing call in the status, keeps serving the last good key set, and recovers',
    async () => {
      const good = await t.admin.call<Status>('GET', '/status')
      expect(good.sync?.lastError).toBeNull()
      await t.emulator.call('POST', '/emulator/faults', { mode, paths: 'iam' })

      const started = Date.now()
      const failing = t.admin.send<{ ok: boolean; status: Status['sync'] }>('POST', '/sync', {})
      // While the sync is failing (or hanging), the gateway answers from the key set it has.
      expect((await demoCall()).status).toBe(200)
      const failed = await failing
      const took = Date.now() - started
      expect(failed.status).toBe(502)
      expect(failed.body.ok).toBe(false)
      expect(failed.body.status?.lastError?.message).toMatch(lastError)

      const status = await t.admin.call<Status>('GET', '/status')
      expect(status.sync?.lastError?.message).toMatch(lastError)
      expect(status.sync?.consecutiveFailures).toBeGreaterThanOrEqual(1)
      expect(status.keySet?.snapshotId).toBe(good.keySet?.snapshotId)
      expect((await demoCall()).status).toBe(200)
      console.log(`[sync-faults] ${mode}: POST /sync answered 502 after ${took} ms`)

      await t.emulator.call('POST', '/emulator/faults', { mode: 'none' })
      const recovered = await t.admin.send<{ ok: boolean; changed: boolean }>('POST', '/sync', {})
      expect(recovered.status).toBe(200)
      expect(recovered.body).toMatchObject({ ok: true, changed: false })
      const after = await t.admin.call<Status>('GET', '/status')
      expect(after.sync).toMatchObject({ lastError: null, consecutiveFailures: 0, snapshotId: good.keySet?.snapshotId })
    },
    timeout,
  )
})
