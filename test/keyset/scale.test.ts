import { env } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { kvKeys } from '../../src/keyset/kv-keys.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { readManifest, writeKeySet } from '../../src/keyset/writer.js'
import { CountingKv } from '../support/counting-kv.js'
import { ORG, PROJECT, testKeySet } from '../support/fixtures.js'

const COUNT = 100_000

/** Deterministic UUID-shaped secrets, so the test can look one up. */
const secretOf = (i: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`

it(`shards ${COUNT.toLocaleString('en')} keys, and a cold lookup reads the manifest, the config and one shard`, { timeout: 120_000 }, async () => {
  const base = await testKeySet()
  const apiKeys: KeySetSource['apiKeys'] = {}
  for (let i = 0; i < COUNT; i++) {
    apiKeys[await apiKeyDigest(secretOf(i))] = {
      accessKey: `SCW${String(i).padStart(17, '0')}`,
      bearer: { type: 'application', id: '55555555-5555-4555-8555-555555555555' },
      organizationId: ORG,
      expiresAt: null,
      grants: [{ permissionSets: ['FunctionsPrivateAccess'], scope: { type: 'projects', projectIds: [PROJECT] } }],
    }
  }
  const result = await writeKeySet(env.KEYSET, { ...base, apiKeys }, { source: 'sync' })
  expect(result).toMatchObject({ changed: true, apiKeys: COUNT, shards: 256 })
  const manifest = (await readManifest(env.KEYSET))!
  expect(manifest.apiKeys.prefixLength).toBe(2)

  const kv = new CountingKv(env.KEYSET)
  const store = new KvKeySetStore(kv)
  const view = await store.current({ waitUntil() {} })
  const wanted = 73_421
  const digest = await apiKeyDigest(secretOf(wanted))
  expect((await view.findApiKey(digest))?.accessKey).toBe(`SCW${String(wanted).padStart(17, '0')}`)
  expect(kv.gets).toEqual([kvKeys.manifest, kvKeys.part(manifest.config), kvKeys.part(manifest.apiKeys.shards[digest.slice(0, 2)]!)])
  // The shard read is a small fraction of the set.
  const shardText = await env.KEYSET.get(kvKeys.part(manifest.apiKeys.shards[digest.slice(0, 2)]!))
  expect(shardText!.length).toBeLessThan(COUNT * 400 / 100)
})
