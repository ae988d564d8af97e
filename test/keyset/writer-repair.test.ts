import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { createGateway } from '../../src/gateway.js'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { readManifest, referencedParts, writeKeySet } from '../../src/keyset/writer.js'
import { clearKv } from '../support/admin-api.js'
import { CountingKv } from '../support/counting-kv.js'
import { secrets, testKeySet } from '../support/fixtures.js'

/** One request through a gateway whose key-set store has never read KV: a cold isolate. */
async function coldRequest(path: string): Promise<{ status: number; code: string | undefined }> {
  const app = createGateway({ keySet: () => new KvKeySetStore(env.KEYSET), originToken: () => env.ORIGIN_AUTH_TOKEN, allowInsecureLoopbackOrigins: true })
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  const res = await app.request(`https://gw.example${path}`, { headers: { 'x-auth-token': secrets.functions } }, env, ctx)
  const body = res.headers.get('content-type')?.includes('problem+json') ? ((await res.json()) as { code?: string }) : (await res.body?.cancel(), {})
  return { status: res.status, code: body.code }
}

/** The parts the stored manifest names that are not in KV. */
async function missingParts(): Promise<string[]> {
  const manifest = (await readManifest(env.KEYSET))!
  const missing: string[] = []
  for (const hash of referencedParts(manifest)) if ((await env.KEYSET.get(kvKeys.part(hash))) === null) missing.push(hash)
  return missing
}

let now = 0
const clock = () => now
let full: KeySetSource
/** `full` without one route: another config part. */
let reduced: KeySetSource

beforeEach(async () => {
  await clearKv()
  now = Date.parse('2026-06-01T00:00:00Z')
  full = await testKeySet()
  reduced = { ...full, routes: full.routes.filter((route) => route.id !== 'public-fn') }
})

describe('a part the manifest names, missing from KV', () => {
  it('is rewritten by a write of the same snapshot, which says so and writes nothing else', async () => {
    const first = await writeKeySet(env.KEYSET, full, { source: 'sync', clock })
    const manifest = (await readManifest(env.KEYSET))!
    await env.KEYSET.delete(kvKeys.part(manifest.config))
    expect(await coldRequest('/hello')).toEqual({ status: 503, code: 'keyset_unavailable' })

    const kv = new CountingKv(env.KEYSET)
    const result = await writeKeySet(kv, full, { source: 'sync', clock })
    expect(await coldRequest('/hello')).toEqual({ status: 200, code: undefined })
    expect(await missingParts()).toEqual([])
    expect(result).toMatchObject({ changed: false, snapshotId: first.snapshotId, partsWritten: 1, partsRepaired: 1, partsDeleted: 0 })
    expect(kv.puts).toEqual([kvKeys.part(manifest.config)])
    expect(kv.deletes).toEqual([])
  })

  it('is rewritten by a changed write that uses it again', async () => {
    await writeKeySet(env.KEYSET, full, { source: 'sync', clock })
    const shard = Object.values((await readManifest(env.KEYSET))!.apiKeys.shards)[0]!
    await env.KEYSET.delete(kvKeys.part(shard))
    const result = await writeKeySet(env.KEYSET, reduced, { source: 'sync', clock })
    expect(await missingParts()).toEqual([])
    expect(result).toMatchObject({ changed: true, partsRepaired: 1 })
  })

  it('costs reads, not writes, to look for when nothing is missing', async () => {
    await writeKeySet(env.KEYSET, full, { source: 'sync', clock })
    const kv = new CountingKv(env.KEYSET)
    const result = await writeKeySet(kv, full, { source: 'sync', clock })
    expect(result).toMatchObject({ changed: false, partsWritten: 0, partsRepaired: 0 })
    expect(kv.gets).toEqual([kvKeys.manifest])
    expect(kv.lists).toEqual([kvKeys.part('')])
    expect(kv.puts).toEqual([])
    expect(kv.deletes).toEqual([])
  })
})
