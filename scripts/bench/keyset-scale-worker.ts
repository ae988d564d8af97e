/**
 * A measurement Worker for scripts/bench/keyset-scale.ts: builds a key set of N
 * API keys, writes it into KV with `writeKeySet` (the sync's write), and looks
 * keys up through a fresh (cold) or a kept (warm) `KvKeySetStore`. Timing happens
 * outside, in Node: workerd does not advance its clock during CPU work.
 *
 * - `GET /prepare?n=N`: makes N key records in memory (not timed: the sync gets
 *   its digests from the registry, it does not compute them);
 * - `GET /write`: `writeKeySet` of the prepared records;
 * - `GET /lookup?mode=cold|warm&i=I`: key I through a new store, or the kept one;
 * - `GET /kv-reads?i=I`: only the three KV reads a cold lookup of key I makes, unparsed;
 * - `GET /hold?i=I`: key I through a store kept for memory figures;
 * - `GET /touch-all?n=N`: one key of every shard through that kept store.
 */
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { writeKeySet, type KeySetKvWriter } from '../../src/keyset/writer.js'

interface KvBinding extends KeySetKvWriter {
  get(key: string, options: { type: 'text'; cacheTtl?: number }): Promise<string | null>
}

interface Env {
  KEYSET: KvBinding
}

const ORG = '11111111-1111-4111-8111-111111111111'
const PROJECT = '22222222-2222-4222-8222-222222222222'
export const secretOf = (i: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`

let prepared: KeySetSource['apiKeys'] | undefined
let warm: KvKeySetStore | undefined
let held: KvKeySetStore | undefined
let reads = 0

function counting(kv: KvBinding) {
  return { get: (key: string, options: { type: 'text'; cacheTtl?: number }) => (reads++, kv.get(key, options)) }
}

async function find(store: KvKeySetStore, i: number): Promise<string | null> {
  const view = await store.current({ waitUntil() {} })
  return (await view.findApiKey(await apiKeyDigest(secretOf(i))))?.accessKey ?? null
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    try {
      return await route(request, env)
    } catch (error) {
      // The bench's own Worker: say what failed, so a broken run names its cause.
      return new Response(`${request.method} ${new URL(request.url).pathname}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { status: 500 })
    }
  },
}

async function route(request: Request, env: Env): Promise<Response> {
  {
    const url = new URL(request.url)
    const n = Number(url.searchParams.get('n') ?? 0)
    const i = Number(url.searchParams.get('i') ?? 0)
    switch (url.pathname) {
      case '/noop':
        return Response.json({ ok: true })
      case '/prepare': {
        const apiKeys: KeySetSource['apiKeys'] = {}
        for (let k = 0; k < n; k++) {
          apiKeys[await apiKeyDigest(secretOf(k))] = {
            accessKey: `SCW${String(k).padStart(17, '0')}`,
            bearer: { type: 'application', id: '55555555-5555-4555-8555-555555555555', name: `app-${k % 100}` },
            organizationId: ORG,
            expiresAt: null,
            grants: [{ permissionSets: ['FunctionsPrivateAccess', 'ContainersPrivateAccess'], scope: { type: 'projects', projectIds: [PROJECT] } }],
          }
        }
        prepared = apiKeys
        return Response.json({ prepared: n })
      }
      case '/write': {
        if (!prepared) return new Response('prepare first', { status: 409 })
        const route = { id: 'r', paths: ['/r'], target: { url: 'https://o.test', kind: 'function' as const, projectId: PROJECT, privacy: 'private' as const } }
        const result = await writeKeySet(env.KEYSET, { routes: [route], projects: { [PROJECT]: ORG }, apiKeys: prepared }, { source: 'sync' })
        prepared = undefined
        warm = undefined
        return Response.json(result)
      }
      case '/lookup': {
        reads = 0
        const cold = url.searchParams.get('mode') === 'cold'
        const store = cold || !warm ? new KvKeySetStore(counting(env.KEYSET)) : warm
        if (!cold) warm = store
        return Response.json({ found: await find(store, i), kvReads: reads })
      }
      case '/kv-reads': {
        // The I/O share of a cold lookup: manifest, config part, then the key's shard, one after the other as the store reads them.
        const manifest = JSON.parse((await env.KEYSET.get(kvKeys.manifest, { type: 'text' })) ?? '{}') as { config: string; apiKeys: { prefixLength: number; shards: Record<string, string> } }
        const prefix = (await apiKeyDigest(secretOf(i))).slice(0, manifest.apiKeys.prefixLength)
        const config = await env.KEYSET.get(kvKeys.part(manifest.config), { type: 'text' })
        const shard = await env.KEYSET.get(kvKeys.part(manifest.apiKeys.shards[prefix]!), { type: 'text' })
        return Response.json({ bytes: (config?.length ?? 0) + (shard?.length ?? 0) })
      }
      case '/hold': {
        held ??= new KvKeySetStore(env.KEYSET)
        return Response.json({ found: await find(held, i) })
      }
      case '/touch-all': {
        held ??= new KvKeySetStore(env.KEYSET)
        const manifest = JSON.parse((await env.KEYSET.get(kvKeys.manifest, { type: 'text' })) ?? '{}') as { apiKeys?: { prefixLength: number; shards: Record<string, string> } }
        const { prefixLength = 1, shards = {} } = manifest.apiKeys ?? {}
        const wanted = new Set(Object.keys(shards))
        let looked = 0
        for (let k = 0; k < n && wanted.size > 0; k++) {
          const prefix = (await apiKeyDigest(secretOf(k))).slice(0, prefixLength)
          if (!wanted.delete(prefix)) continue
          if ((await find(held, k)) === null) return new Response(`key ${k} not found`, { status: 500 })
          looked++
        }
        return Response.json({ shardsTouched: looked })
      }
      default:
        return new Response('not found', { status: 404 })
    }
  }
}
