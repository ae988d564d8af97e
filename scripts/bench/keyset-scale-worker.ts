/**
 * A measurement Worker for scripts/bench/keyset-scale.ts: writes a key set of N
 * keys into real KV and looks keys up through a fresh (cold) or a kept (warm)
 * KvKeySetStore. Timing happens outside, in Node: workerd does not advance the
 * clock during CPU work.
 */
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { writeKeySet } from '../../src/keyset/writer.js'

interface Env {
  KEYSET: KVNamespace
}

const ORG = '11111111-1111-4111-8111-111111111111'
const PROJECT = '22222222-2222-4222-8222-222222222222'
export const secretOf = (i: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`

let warm: KvKeySetStore | undefined
let reads = 0

function counting(kv: KVNamespace) {
  return { get: (key: string, options: { type: 'text'; cacheTtl?: number }) => (reads++, kv.get(key, options)) }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url)
    const n = Number(url.searchParams.get('n') ?? 0)
    const i = Number(url.searchParams.get('i') ?? 0)
    switch (url.pathname) {
      case '/noop':
        return new Response('ok')
      case '/write': {
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
        const route = { id: 'r', paths: ['/r'], target: { url: 'https://o.test', kind: 'function' as const, projectId: PROJECT, privacy: 'private' as const } }
        const result = await writeKeySet(env.KEYSET, { routes: [route], projects: { [PROJECT]: ORG }, apiKeys }, { source: 'sync' })
        warm = undefined
        return Response.json(result)
      }
      case '/lookup': {
        reads = 0
        const cold = url.searchParams.get('mode') === 'cold'
        const store = cold || !warm ? new KvKeySetStore(counting(env.KEYSET)) : warm
        if (!cold) warm = store
        const view = await store.current({ waitUntil() {} })
        const found = await view.findApiKey(await apiKeyDigest(secretOf(i)))
        return Response.json({ found: found?.accessKey ?? null, kvReads: reads })
      }
      default:
        return new Response('not found', { status: 404 })
    }
  },
}
