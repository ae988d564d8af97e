/**
 * IAM conditions end to end: policies with conditions made in the emulator's IAM
 * (stored as Scaleway stores them), synced by the gateway, enforced at the edge on
 * the end user's request. Through the real stack over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorKey, pollUntil, registerAndSync, startTestStack, type ClientKey, type TestStack } from './support.js'

let t: TestStack

beforeAll(async () => {
  t = await startTestStack({ memoryTtlSeconds: 1 })
})
afterAll(() => t?.cleanup())

const rule = (sets: string[], condition: string) => [{ permission_set_names: sets, project_ids: [t.stack.fixture.projectId], condition }]

async function call(path: string, key: ClientKey, userAgent: string) {
  const res = await fetch(`${t.stack.gatewayUrl}${path}`, { headers: { 'x-auth-token': key.secretKey, 'user-agent': userAgent } })
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as { code?: string } }
}

/** Registers and syncs the key, then waits until the gateway's memory TTL has passed and it knows the key. */
async function handOver(key: ClientKey): Promise<void> {
  await registerAndSync(t.admin, key)
  await pollUntil(() => call('/hello', key, 'curl/8.5.0'), (r) => r.status !== 401, { timeoutMs: 5_000 })
}

interface StatusAnswer {
  sync: { ok: boolean; warnings?: string[] } | null
}

describe('conditions synced from IAM', () => {
  it('lets a key through only from the user agent its rule names, evaluated on the end user request', async () => {
    const key = await emulatorKey(t.emulator, t.stack.fixture.organizationId, rule(['FunctionsPrivateAccess'], 'request.user_agent.startsWith("stack-ci/")'))
    await handOver(key)
    expect((await call('/hello', key, 'stack-ci/1.0')).status).toBe(200)
    const refused = await call('/hello', key, 'curl/8.5.0')
    expect(refused.status).toBe(403)
    expect(refused.body.code).toBe('permission_denied')
    expect(refused.challenge).toContain('error="insufficient_scope"')
  })

  it('narrows a key to one function by its synced name (resource.name), beyond what Scaleway enforces', async () => {
    const key = await emulatorKey(t.emulator, t.stack.fixture.organizationId, rule(['FunctionsPrivateAccess', 'ContainersPrivateAccess'], 'resource.name == "hello"'))
    await handOver(key)
    expect((await call('/hello', key, 'curl/8.5.0')).status).toBe(200)
    const other = await call('/echo', key, 'curl/8.5.0')
    expect(other.status).toBe(403)
    expect(other.body.code).toBe('permission_denied')
  })

  it('leaves out a rule whose condition does not type-check, with a warning in the sync status, and the key is refused', async () => {
    const key = await emulatorKey(t.emulator, t.stack.fixture.organizationId, rule(['FunctionsPrivateAccess'], 'request.ipaddress == "203.0.113.7"'))
    await handOver(key)
    const status = await t.admin.call<StatusAnswer>('GET', '/status')
    expect(status.sync?.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/rule .*: the condition does not type-check: .*; the rule grants nothing$/)]))
    const refused = await call('/hello', key, 'curl/8.5.0')
    expect(refused.status).toBe(403)
    expect(refused.body.code).toBe('permission_denied')
  })
})
