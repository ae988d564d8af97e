import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { readManifest } from '../../src/keyset/writer.js'
import { sealSecret } from '../../src/keyset/secret-box.js'
import { ConsumerRegistry, type ConsumerEntry, type JwtCredentialEntry } from '../../src/sync/consumer-registry.js'
import type { IamApi } from '../../src/sync/iam-api.js'
import { registryKeys, type RegistryKv } from '../../src/sync/registry.js'
import { KV_METADATA_MAX_BYTES, NOT_INLINE } from '../../src/sync/registry-documents.js'
import { runSync } from '../../src/sync/run-sync.js'
import type { ServerlessApi } from '../../src/sync/serverless-api.js'
import { clearKv, freshView, owner } from '../support/admin-api.js'
import { ORG } from '../support/fixtures.js'
import { RSA_4096_SPKI_PEM, keyPairFor } from '../support/jwt-keys.js'

const T0 = '2026-06-01T12:00:00.000Z'
const T1 = '2026-06-01T12:00:01.000Z'
const registry = () => new ConsumerRegistry(env.KEYSET)
const consumer = (username: string, extra: Partial<ConsumerEntry> = {}): ConsumerEntry => ({ id: crypto.randomUUID(), username, groups: [], createdAt: T0, ...extra })

async function hmacCredential(consumerId: string, key: string, extra: Partial<JwtCredentialEntry> = {}): Promise<JwtCredentialEntry> {
  const id = crypto.randomUUID()
  return { id, consumerId, key, algorithm: 'HS256', secret: await sealSecret(crypto.getRandomValues(new Uint8Array(32)), env.CREDENTIAL_ENCRYPTION_KEY!, id), createdAt: T0, ...extra }
}

/** Counts the KV operations the sync makes. */
class CountingRegistryKv implements RegistryKv {
  lists = 0
  gets: string[] = []
  constructor(private readonly kv: KVNamespace) {}
  get(key: string, options: { type: 'text' }) {
    this.gets.push(key)
    return this.kv.get(key, options)
  }
  put(key: string, value: string, options?: { metadata?: unknown }) {
    return this.kv.put(key, value, options)
  }
  delete(key: string) {
    return this.kv.delete(key)
  }
  list<M>(options: { prefix: string; cursor?: string | null; limit?: number }) {
    this.lists++
    return this.kv.list<M>(options)
  }
}

beforeEach(clearKv)

describe('the consumers part', () => {
  it('holds consumers by id and credentials by key, from the registry', async () => {
    const alice = await registry().createConsumer(consumer('alice', { customId: 'crm-1', groups: ['staff'] }))
    const bob = await registry().createConsumer(consumer('bob'))
    const hs = await registry().createCredential(await hmacCredential(alice.id, 'alice-hs'))
    const pair = await keyPairFor('ES256')
    const es = await registry().createCredential({ id: crypto.randomUUID(), consumerId: bob.id, key: 'bob-es', algorithm: 'ES256', publicKeyPem: pair.spki.trim(), createdAt: T0 })

    const outcome = await runSync({ kv: env.KEYSET, owner: owner() })
    expect(outcome.ok).toBe(true)
    expect(outcome.status!.counts).toMatchObject({ consumers: 2, jwtCredentials: 2, orphanedCredentials: 0, duplicateConsumers: 0, duplicateCredentialKeys: 0 })
    const part = await (await freshView()).consumers()
    expect(part).toEqual({
      consumers: {
        [alice.id]: { id: alice.id, username: 'alice', customId: 'crm-1', groups: ['staff'] },
        [bob.id]: { id: bob.id, username: 'bob', groups: [] },
      },
      credentials: {
        'alice-hs': { id: hs.id, consumerId: alice.id, key: 'alice-hs', algorithm: 'HS256', secret: hs.secret },
        'bob-es': { id: es.id, consumerId: bob.id, key: 'bob-es', algorithm: 'ES256', publicKeyPem: pair.spki.trim() },
      },
    })
  })

  it('has no consumers part when there is no consumer', async () => {
    await runSync({ kv: env.KEYSET, owner: owner() })
    expect((await readManifest(env.KEYSET))!.consumers).toBeUndefined()
    expect(await (await freshView()).consumers()).toBeUndefined()
  })

  it('drops a credential whose consumer is gone, and counts it', async () => {
    const alice = await registry().createConsumer(consumer('alice'))
    await registry().createCredential(await hmacCredential(alice.id, 'kept'))
    // A delete that stopped after the consumer document (never the order the registry uses, but KV may lose a write).
    await registry().createCredential(await hmacCredential(crypto.randomUUID(), 'orphan'))
    const outcome = await runSync({ kv: env.KEYSET, owner: owner() })
    expect(outcome.status!.counts).toMatchObject({ jwtCredentials: 1, orphanedCredentials: 1 })
    expect(Object.keys((await (await freshView()).consumers())!.credentials)).toEqual(['kept'])
  })

  it('leaves out a credential whose rotation expiry has passed at the sync, keeps one whose expiry is ahead, and never copies expiresAt into the key set', async () => {
    const alice = await registry().createConsumer(consumer('alice'))
    const now = Date.parse('2026-06-08T12:00:00.000Z')
    await registry().createCredential(await hmacCredential(alice.id, 'expired', { expiresAt: '2026-06-08T11:59:59.999Z' }))
    const overlapping = await registry().createCredential(await hmacCredential(alice.id, 'overlapping', { expiresAt: '2026-06-08T12:00:00.001Z' }))
    const outcome = await runSync({ kv: env.KEYSET, owner: owner(), clock: () => now })
    expect(outcome.status!.counts).toMatchObject({ jwtCredentials: 1, expiredCredentials: 1 })
    const part = (await (await freshView()).consumers())!
    expect(part.credentials).toEqual({ overlapping: { id: overlapping.id, consumerId: alice.id, key: 'overlapping', algorithm: 'HS256', secret: overlapping.secret } })

    // The next sync after its expiry drops the second one too.
    const later = await runSync({ kv: env.KEYSET, owner: owner(), clock: () => now + 1000 })
    expect(later.status!.counts).toMatchObject({ jwtCredentials: 0, expiredCredentials: 2 })
  })

  it('settles racing creations the same way every time: the oldest consumer and credential win', async () => {
    // Two creations that both passed the uniqueness check (KV has no transactions): written directly.
    const older = consumer('alice', { createdAt: T0 })
    const newer = consumer('alice', { createdAt: T1 })
    const { putDocument } = await import('../../src/sync/registry-documents.js')
    await putDocument(env.KEYSET, registryKeys.consumer(newer.id), newer)
    await putDocument(env.KEYSET, registryKeys.consumer(older.id), older)
    const first = await hmacCredential(older.id, 'same-key', { createdAt: T0 })
    const second = await hmacCredential(older.id, 'same-key', { createdAt: T1 })
    await putDocument(env.KEYSET, registryKeys.jwtCredential(older.id, second.id), second)
    await putDocument(env.KEYSET, registryKeys.jwtCredential(older.id, first.id), first)

    const outcome = await runSync({ kv: env.KEYSET, owner: owner() })
    expect(outcome.status!.counts).toMatchObject({ consumers: 1, duplicateConsumers: 1, jwtCredentials: 1, duplicateCredentialKeys: 1 })
    expect(outcome.status!.warnings).toEqual(expect.arrayContaining([expect.stringContaining('share a username'), expect.stringContaining('share a key')]))
    const part = (await (await freshView()).consumers())!
    expect(Object.keys(part.consumers)).toEqual([older.id])
    expect(part.credentials['same-key']!.id).toBe(first.id)
  })

  it('leaves out a registry value it cannot read, and says so', async () => {
    await registry().createConsumer(consumer('alice'))
    const broken = registryKeys.consumer(crypto.randomUUID())
    await env.KEYSET.put(broken, '{"id": "not a consumer"')
    const outcome = await runSync({ kv: env.KEYSET, owner: owner() })
    expect(outcome.ok).toBe(true)
    expect(outcome.status!.counts).toMatchObject({ consumers: 1, registryUnreadable: 1 })
    expect(outcome.status!.warnings).toContainEqual(expect.stringContaining(broken))
  })
})

describe('reading the registry', () => {
  it('reads small documents from list metadata alone: no get per consumer or credential', async () => {
    for (let i = 0; i < 30; i++) {
      const c = await registry().createConsumer(consumer(`user-${i}`))
      await registry().createCredential(await hmacCredential(c.id, `key-${i}`))
    }
    const kv = new CountingRegistryKv(env.KEYSET)
    const consumers = await new ConsumerRegistry(kv).allConsumers()
    const credentials = await new ConsumerRegistry(kv).allCredentials()
    expect(consumers.documents).toHaveLength(30)
    expect(credentials.documents).toHaveLength(30)
    expect(kv.lists).toBe(2)
    expect(kv.gets).toEqual([])
  })

  it('keeps an RSA-4096 credential in metadata (the public key as its base64 body), and reads back the same PEM', async () => {
    const alice = await registry().createConsumer(consumer('alice'))
    const created = await registry().createCredential({ id: crypto.randomUUID(), consumerId: alice.id, key: 'k'.repeat(64), algorithm: 'RS512', publicKeyPem: RSA_4096_SPKI_PEM, createdAt: T0 })
    expect(created.publicKeyPem).toBe(RSA_4096_SPKI_PEM)
    const [listed] = (await env.KEYSET.list({ prefix: registryKeys.jwtCredentialPrefix })).keys
    expect(listed!.metadata).toMatchObject({ id: created.id, spki: expect.stringMatching(/^MII[A-Za-z0-9+/=]+$/) })
    expect(JSON.stringify(listed!.metadata).length).toBeLessThanOrEqual(KV_METADATA_MAX_BYTES)
    const kv = new CountingRegistryKv(env.KEYSET)
    const [fromMetadata] = (await new ConsumerRegistry(kv).allCredentials()).documents
    expect(kv.gets).toEqual([])
    expect(fromMetadata).toEqual(created)
    expect(fromMetadata).toEqual(JSON.parse((await env.KEYSET.get(registryKeys.jwtCredential(alice.id, created.id)))!))
  })

  it('reads a document too large for metadata with one get', async () => {
    const large = consumer('many-groups', { groups: Array.from({ length: 100 }, (_, i) => `group-with-a-long-name-${i}`) })
    expect(JSON.stringify(large).length).toBeGreaterThan(KV_METADATA_MAX_BYTES)
    await registry().createConsumer(large)
    await registry().createConsumer(consumer('small'))
    const listed = await env.KEYSET.list({ prefix: registryKeys.consumerPrefix })
    expect(listed.keys.find((k) => k.name === registryKeys.consumer(large.id))!.metadata).toEqual(NOT_INLINE)
    const kv = new CountingRegistryKv(env.KEYSET)
    const all = await new ConsumerRegistry(kv).allConsumers()
    expect(all.documents.map((c) => c.username).sort()).toEqual(['many-groups', 'small'])
    expect(kv.gets).toEqual([registryKeys.consumer(large.id)])
    const outcome = await runSync({ kv: env.KEYSET, owner: owner() })
    expect((await (await freshView()).consumers())!.consumers[large.id]!.groups).toHaveLength(100)
    expect(outcome.status!.counts.consumers).toBe(2)
  })
})

describe('with and without IAM', () => {
  it('without IAM: a key set of routes, consumers and OIDC issuers only, and a warning that says so', async () => {
    await registry().createConsumer(consumer('alice'))
    const outcome = await runSync({ kv: env.KEYSET, owner: owner() })
    expect(outcome.ok).toBe(true)
    expect(outcome.status!.warnings).toContainEqual(expect.stringContaining('IAM is not configured'))
    expect(outcome.status!.counts.iamApiKeys).toBeUndefined()
    const manifest = (await readManifest(env.KEYSET))!
    expect(manifest).toMatchObject({ source: 'sync', apiKeys: { count: 0, shards: {} } })
    expect(manifest.legacy).toBeUndefined()
  })

  it('with IAM: consumers ride along with the API keys; an IAM failure writes nothing, consumers included', async () => {
    const empty = async () => []
    let failing = false
    const iam = {
      attempts: 1,
      listPage: async (list: string) => {
        if (failing && list === 'api-keys') throw new Error('GET /iam/v1alpha1/api-keys: HTTP 500')
        return { items: [], total: 0, last: true }
      },
      rulesPage: async () => ({ items: [], total: 0, last: true }),
    } as unknown as IamApi
    const serverless = { listNamespaces: empty, listResources: empty, listTokens: empty } as unknown as ServerlessApi
    const apis = { iam, serverless, organizationId: ORG }
    await registry().createConsumer(consumer('alice'))
    const ok = await runSync({ kv: env.KEYSET, owner: owner(), apis })
    expect(ok.ok).toBe(true)
    expect(ok.status!.warnings).toBeUndefined()
    expect(ok.status!.counts).toMatchObject({ iamApiKeys: 0, consumers: 1 })
    expect((await readManifest(env.KEYSET))!.legacy).toBeDefined()

    await registry().createConsumer(consumer('bob'))
    failing = true
    const failed = await runSync({ kv: env.KEYSET, owner: owner(), apis })
    expect(failed.ok).toBe(false)
    expect(failed.status!.lastError?.message).toContain('HTTP 500')
    expect(Object.values((await (await freshView()).consumers())!.consumers).map((c) => c.username)).toEqual(['alice'])
  })
})
