/**
 * The `flow` project's helpers: the IAM emulator seeded in bulk, the gateway's
 * registry holding the digests, sync runs through the real Workflow, and the key set
 * as a cold isolate reads it.
 */
import { env } from 'cloudflare:workers'
import { vi } from 'vitest'
import { bulkAccessKey, bulkSecret } from '../../src/emulator/bulk-keys.js'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { registryKeys } from '../../src/sync/registry.js'
import { startSync, type StartSyncRequest, type WaitedOutcome } from '../../src/sync/start-sync.js'
import { clearKv, freshView } from '../support/admin-api.js'

/** The organisation the emulator serves (vitest.config.ts). */
export const ORG = env.SCW_ORGANIZATION_ID!

/** Calls the emulator with its admin secret. */
export async function emulator<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${env.EMULATOR_URL}${path}`, {
    method,
    headers: { 'x-auth-token': env.EMULATOR_ADMIN_SECRET, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return (text ? JSON.parse(text) : null) as T
}

/** Captures the digest of bulk keys `start` … `start + count - 1` in the gateway's registry, as a registration would. */
export async function captureBulk(start: number, count: number): Promise<void> {
  const capturedAt = new Date().toISOString()
  const indexes = Array.from({ length: count }, (_, i) => start + i)
  for (let i = 0; i < indexes.length; i += 500) {
    await Promise.all(
      indexes.slice(i, i + 500).map(async (index) => {
        const entry = { digest: await apiKeyDigest(bulkSecret(index)), capturedAt, via: 'register' as const }
        await env.KEYSET.put(registryKeys.apiKey(bulkAccessKey(index)), JSON.stringify(entry), { metadata: entry })
      }),
    )
  }
}

/**
 * A fresh world: the emulator reset, the gateway's KV and key-set owner emptied, one
 * application allowed to invoke functions of the organisation's projects, `count`
 * bulk keys of it made in IAM and captured by the gateway.
 */
export async function seed(count: number): Promise<{ applicationId: string }> {
  await clearKv()
  await emulator('POST', '/emulator/reset')
  const app = await emulator<{ id: string }>('POST', '/iam/v1alpha1/applications', { name: 'scale', organization_id: ORG })
  await emulator('POST', '/iam/v1alpha1/policies', {
    name: 'scale-invoke',
    organization_id: ORG,
    application_id: app.id,
    rules: [{ permission_set_names: ['FunctionsPrivateAccess'], organization_id: ORG }],
  })
  await emulator('POST', '/emulator/bulk/api-keys', { application_id: app.id, count })
  await captureBulk(0, count)
  return { applicationId: app.id }
}

/** One sync run through the Workflow, waited for. */
export async function sync(request: string | StartSyncRequest = 'test'): Promise<WaitedOutcome & { ms: number }> {
  const started = Date.now()
  const outcome = await (await startSync(env, request)).outcome({ timeoutMs: 110_000 })
  if (outcome.state !== 'complete') throw new Error('the sync run did not complete in time')
  return { ...outcome, ms: Date.now() - started }
}

/** The record of bulk key `index` as a cold isolate finds it (`undefined`: not in the key set). */
export async function lookup(index: number) {
  return (await freshView()).findApiKey(await apiKeyDigest(bulkSecret(index)))
}

/** The `sync.step.start` lines the Workflow logged while `run` ran (it runs in this isolate), as `[run, step]`. */
export async function stepStarts<T>(run: () => Promise<T>): Promise<{ result: T; starts: [string, string][] }> {
  const starts: [string, string][] = []
  const original = console.log
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    const text = args.map(String).join(' ')
    try {
      const line = JSON.parse(text) as { event?: string; run?: string; step?: string }
      if (line.event === 'sync.step.start') starts.push([line.run!, line.step!])
    } catch {
      // not a JSON line
    }
    original(...args)
  })
  try {
    return { result: await run(), starts }
  } finally {
    spy.mockRestore()
  }
}
