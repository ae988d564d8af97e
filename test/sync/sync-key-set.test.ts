import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { KvKeySetStore, registerApiKey, syncKeySet, type SyncKeySetOptions } from '../../src/index.js'
import { Registry } from '../../src/sync/registry.js'

const ORG = '7719a78c-85c2-4eba-9a77-c5649ab96be8'
const ctx = { waitUntil: () => undefined }

describe('syncKeySet', () => {
  it.each<[string, unknown, RegExp]>([
    ['no options', undefined, /syncKeySet: options are required/],
    ['no KV namespace', { kv: {} }, /syncKeySet: options\.kv must be a KV namespace/],
    ['an empty IAM token', { kv: env.KEYSET, iam: { token: '', organizationId: ORG } }, /syncKeySet: options\.iam\.token is required/],
    ['an organisation that is not an id', { kv: env.KEYSET, iam: { token: 't', organizationId: 'acme' } }, /syncKeySet: options\.iam\.organizationId must be an organisation id/],
    ['an API URL that is not http(s)', { kv: env.KEYSET, iam: { token: 't', organizationId: ORG, apiUrl: 'ftp://iam' } }, /baseUrl must be an http\(s\) URL/],
  ])('refuses %s at once, naming the option', (_case, options, message) => {
    expect(() => syncKeySet(options as SyncKeySetOptions)).toThrow(TypeError)
    expect(() => syncKeySet(options as SyncKeySetOptions)).toThrow(message)
  })

  it('without IAM, writes a key set from the registry that kvKeySet reads: no more 503', async () => {
    const store = new KvKeySetStore(env.KEYSET)
    await expect(store.current(ctx)).rejects.toMatchObject({ code: 'keyset_unavailable' })
    const outcome = await syncKeySet({ kv: env.KEYSET })
    expect(outcome).toMatchObject({ ok: true, write: { changed: true } })
    expect(outcome.status.warnings).toEqual([expect.stringContaining('IAM is not configured')])
    expect((await new KvKeySetStore(env.KEYSET).current(ctx)).snapshotId).toBe(outcome.write!.snapshotId)
  })

  it('reports a failed IAM call in the outcome instead of throwing, and keeps the key set', async () => {
    const before = await syncKeySet({ kv: env.KEYSET })
    // Nothing listens on port 9 of 127.0.0.1: every call fails at once.
    const outcome = await syncKeySet({ kv: env.KEYSET, iam: { token: 'iam-secret-3c9d', organizationId: ORG, apiUrl: 'http://127.0.0.1:9', attempts: 1, timeoutMs: 1000 } })
    expect(outcome.ok).toBe(false)
    expect(outcome.status.lastError?.message).toMatch(/^GET \/iam\/v1alpha1\//)
    expect(JSON.stringify(outcome)).not.toContain('iam-secret-3c9d')
    expect((await new KvKeySetStore(env.KEYSET).current(ctx)).snapshotId).toBe(before.status.snapshotId)
  })
})

describe('registerApiKey', () => {
  it('records the digest of the secret, never the secret', async () => {
    const secretKey = '6F1C2A9E-3B7D-4C55-9A21-0D8E4F6B7C3A'
    await registerApiKey(env.KEYSET, { accessKey: 'SCWDEMO0000000000001', secretKey, kind: 'ci' })
    const captured = await new Registry(env.KEYSET).capturedKeys()
    // The digest of the lower-cased secret, as apiKeyDigest computes it (UUIDs are case-insensitive).
    expect(captured.get('SCWDEMO0000000000001')).toEqual({ digest: 'c6678c1f79a0da1297ecba9783d030b67d67558ffc9fc859edde54663e2c9548', kind: 'ci' })
    const stored = await env.KEYSET.get('registry/v1/api-key/SCWDEMO0000000000001', 'text')
    expect(stored?.toLowerCase()).not.toContain(secretKey.toLowerCase())
  })

  it.each<[string, { accessKey: string; secretKey: string }, RegExp]>([
    ['an access key of another shape', { accessKey: 'AKIA0000', secretKey: '6f1c2a9e-3b7d-4c55-9a21-0d8e4f6b7c3a' }, /accessKey must look like SCW/],
    ['a secret that is not a UUID', { accessKey: 'SCWDEMO0000000000001', secretKey: 'not-a-secret-3c9d' }, /secretKey must be an API key secret/],
  ])('refuses %s, without the secret in the message', async (_case, input, message) => {
    const error = await registerApiKey(env.KEYSET, input).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain(input.secretKey)
  })
})
