import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonApi } from '../../scripts/lib/json-api.js'
import { startStack, type RunningStack } from '../../scripts/lib/stack.js'

// Usage through the local stack: the gateway's isolate counts, the USAGE Durable Object
// (SQLite, persisted in the state directory) keeps the ledger across a restart.
let stateDir: string
let stack: RunningStack | undefined

interface CredentialUsage {
  kind: string
  credential_id: string
  principal: { type: string; id: string; name: string | null }
  namespace_id: string | null
  calls: number
  routes: { route: string; calls: number }[]
  user_agents: string[]
}

const start = async () => (stack = await startStack({ gatewayPort: 0, emulatorPort: 0, stateDir, syncIntervalSeconds: 0 }))
const admin = () => jsonApi(stack!.adminUrl, stack!.secrets.adminToken)
/** GET /usage (which first flushes what the gateway's isolate holds), by credential id. */
async function usage(): Promise<Map<string, CredentialUsage>> {
  const body = await admin().call<{ credentials: CredentialUsage[]; pending_flush: string }>('GET', '/usage?since=1d')
  expect(body.pending_flush).not.toBe('failed')
  return new Map(body.credentials.map((c) => [c.credential_id, c]))
}
async function send(path: string, times: number, secret?: string, userAgent = 'stack-usage-test/1'): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < times; i++) {
    const res = await fetch(`${stack!.gatewayUrl}${path}`, { headers: { 'user-agent': userAgent, ...(secret ? { 'x-auth-token': secret } : {}) } })
    await res.arrayBuffer()
    statuses.push(res.status)
  }
  return statuses
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'edgegw-stack-usage-'))
  await start()
})

afterAll(async () => {
  await stack?.dispose()
  await rm(stateDir, { recursive: true, force: true })
})

describe('usage in the local stack', () => {
  it('counts exactly the accepted requests per credential and route, keeps them across a restart, and adds the next ones', async () => {
    const { secrets } = stack!
    const demo = secrets.apiKeys.demo!
    const legacy = secrets.legacyToken!
    const before = await usage()
    const base = (id: string) => before.get(id)?.calls ?? 0

    expect(await send('/hello', 6, demo.secretKey)).toEqual(Array(6).fill(200))
    expect(await send('/echo', 4, demo.secretKey)).toEqual(Array(4).fill(200))
    expect(await send('/hello', 3, legacy.token, 'legacy-cron/0.9')).toEqual(Array(3).fill(200))
    // Refused: not counted.
    expect(await send('/hello', 2, secrets.apiKeys.noGrant!.secretKey)).toEqual([403, 403])
    expect(await send('/hello', 2)).toEqual([401, 401])

    const counted = await usage()
    const demoUsage = counted.get(demo.accessKey)!
    expect(demoUsage).toMatchObject({ kind: 'iam-api-key', principal: { type: 'application', id: secrets.applications.demo }, calls: base(demo.accessKey) + 10, user_agents: ['stack-usage-test/1'] })
    const routeId = (path: string) => stack!.routes.find((r) => r.paths.includes(path))!.id
    const routeCalls = (u: CredentialUsage | undefined, path: string) => u?.routes.find((r) => r.route === routeId(path))?.calls ?? 0
    expect(routeCalls(demoUsage, '/hello')).toBe(routeCalls(before.get(demo.accessKey), '/hello') + 6)
    expect(routeCalls(demoUsage, '/echo')).toBe(routeCalls(before.get(demo.accessKey), '/echo') + 4)
    const legacyUsage = counted.get(legacy.id)!
    expect(legacyUsage).toMatchObject({ kind: 'legacy-jwt', principal: { type: 'legacy-token', id: legacy.id }, namespace_id: legacy.namespaceId, calls: base(legacy.id) + 3, user_agents: ['legacy-cron/0.9'] })
    expect(counted.has(secrets.apiKeys.noGrant!.accessKey)).toBe(false)

    const summary = await admin().call<{ last_day: { legacy_calls: number; calls: number; legacy_share: number; legacy_tokens: { credential_id: string; namespace_id: string }[] } }>('GET', '/usage/summary')
    expect(summary.last_day.legacy_tokens).toContainEqual(expect.objectContaining({ credential_id: legacy.id, namespace_id: legacy.namespaceId }))
    expect(summary.last_day.legacy_share).toBeCloseTo(summary.last_day.legacy_calls / summary.last_day.calls, 10)

    // Restart with the same state directory: the ledger is on disk.
    await stack!.dispose()
    await start()
    const afterRestart = await usage()
    expect(afterRestart.get(demo.accessKey)?.calls).toBe(demoUsage.calls)
    expect(afterRestart.get(legacy.id)?.calls).toBe(legacyUsage.calls)

    expect(await send('/hello', 2, stack!.secrets.apiKeys.demo!.secretKey)).toEqual([200, 200])
    expect((await usage()).get(demo.accessKey)?.calls).toBe(demoUsage.calls + 2)
  })

  it('loses at most what the isolate held since its last flush when the stack stops without one', async () => {
    const demo = stack!.secrets.apiKeys.demo!
    const flushed = (await usage()).get(demo.accessKey)!.calls
    expect(await send('/hello', 3, demo.secretKey)).toEqual([200, 200, 200])
    await stack!.dispose()
    await start()
    const calls = (await usage()).get(demo.accessKey)!.calls
    expect(calls).toBeGreaterThanOrEqual(flushed)
    expect(calls).toBeLessThanOrEqual(flushed + 3)
  })
})
