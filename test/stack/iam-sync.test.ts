/**
 * The key set follows IAM: keys made in the emulator's IAM, handed to the
 * gateway once, synced; deleted, synced, refused. Through the real stack over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dumpKv, emulatorKey, pollUntil, registerAndSync, startTestStack, through, type PlatformEcho, type TestStack } from './support.js'

let t: TestStack
const projectRule = (sets: string[]) => [{ permission_set_names: sets, project_ids: [t.stack.fixture.projectId] }]

beforeAll(async () => {
  // A 1 s memory TTL: a warm isolate re-reads the manifest a second after it last did.
  t = await startTestStack({ memoryTtlSeconds: 1 })
})
afterAll(() => t?.cleanup())

interface SyncAnswer {
  ok: boolean
  changed: boolean
  write: { changed: boolean; partsWritten: number; partsDeleted: number; snapshotId: string }
  statusWritten: boolean
}

describe('keys made in IAM', () => {
  it('allows a key once registered and synced, and refuses it (401 api_key_unknown) once deleted in IAM and synced', async () => {
    const key = await emulatorKey(t.emulator, t.stack.fixture.organizationId, projectRule(['FunctionsPrivateAccess']))
    // Unknown to the gateway before it is handed over: IAM never returns a secret again.
    expect((await through(t.stack, '/hello', key.secretKey)).status).toBe(401)
    await registerAndSync(t.admin, key)

    const allowed = await pollUntil(() => through(t.stack, '/hello', key.secretKey), (r) => r.status === 200, { timeoutMs: 5_000 })
    const echo = JSON.parse(allowed.value.text) as PlatformEcho
    expect(echo.resource.name).toBe('hello')
    expect(echo.headers).toMatchObject({
      'x-consumer-id': key.applicationId,
      'x-consumer-username': key.applicationName,
      'x-credential-identifier': key.accessKey,
      'x-auth-method': 'iam-api-key',
    })
    expect(allowed.value.text).not.toContain(key.secretKey)

    await t.emulator.call('DELETE', `/iam/v1alpha1/api-keys/${key.accessKey}`)
    const sync = await t.admin.call<SyncAnswer>('POST', '/sync', {})
    expect(sync).toMatchObject({ ok: true, changed: true })
    const refused = await pollUntil(() => through(t.stack, '/hello', key.secretKey), (r) => r.status !== 200, { timeoutMs: 5_000 })
    expect(refused.value.status).toBe(401)
    expect(refused.value.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect(JSON.parse(refused.value.text)).toMatchObject({ status: 401, code: 'api_key_unknown' })
    expect(refused.value.text).not.toContain(key.secretKey)
  })

  it('refuses (403 permission_denied) a key whose application lacks the permission set, and allows what it has', async () => {
    const containersOnly = await emulatorKey(t.emulator, t.stack.fixture.organizationId, projectRule(['ContainersPrivateAccess']))
    const nothing = await emulatorKey(t.emulator, t.stack.fixture.organizationId, [])
    await registerAndSync(t.admin, containersOnly)
    await registerAndSync(t.admin, nothing)
    const echo = await pollUntil(() => through(t.stack, '/echo', containersOnly.secretKey), (r) => r.status === 200, { timeoutMs: 5_000 })
    expect(echo.value.status).toBe(200)
    for (const [key, path] of [[containersOnly, '/hello'], [nothing, '/hello'], [nothing, '/echo']] as const) {
      const res = await through(t.stack, path, key.secretKey)
      expect(res.status, `${key.applicationName} on ${path}`).toBe(403)
      expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
      expect(JSON.parse(res.text)).toMatchObject({ status: 403, code: 'permission_denied' })
    }
  })

  it('writes nothing to KV on a sync that changes nothing', async () => {
    const kv = await t.stack.gatewayKv()
    const first = await t.admin.call<SyncAnswer>('POST', '/sync', {})
    expect(first.ok).toBe(true)
    const before = await dumpKv(kv)
    const second = await t.admin.call<SyncAnswer>('POST', '/sync', {})
    const after = await dumpKv(kv)
    expect(second).toMatchObject({ ok: true, changed: false, statusWritten: false, write: { changed: false, partsWritten: 0, partsDeleted: 0, snapshotId: first.write.snapshotId } })
    expect(Object.keys(before).length).toBeGreaterThan(5)
    expect(after).toEqual(before)
  })
})
