import { apiKeyDigest } from '../keyset/digest.js'
import { Registry, type RegistryKv } from './registry.js'

/** What {@link registerApiKey} records. */
export interface RegisterApiKeyInput {
  /** The key's access key (`SCW…`, 20 characters), as IAM lists it. */
  accessKey: string
  /** The key's secret (a UUID). Only its SHA-256 digest is stored. */
  secretKey: string
  /** The key's kind, for routes that accept only some kinds. */
  kind?: 'personal' | 'ci' | 'service'
}

/**
 * Records the digest of an IAM API key's secret in the registry in `kv`, so that
 * the next sync ({@link syncKeySet}) puts the key in the key set. IAM never returns
 * a secret after the key is created: the gateway knows only the keys whose secret
 * it was handed once (this call, or the gateway Worker's admin API). The secret
 * itself is not stored, and the key must still be listed by IAM at the sync.
 *
 * @throws {TypeError} when the access key or the secret does not look like one (the message never holds the secret).
 * @example
 * ```ts
 * await registerApiKey(env.KEYSET, { accessKey: 'SCWXXXXXXXXXXXXXXXXX', secretKey })
 * await syncKeySet({ kv: env.KEYSET, iam })
 * ```
 */
export async function registerApiKey(kv: RegistryKv, input: RegisterApiKeyInput, clock: () => number = Date.now): Promise<void> {
  if (!/^SCW[0-9A-Z]{17}$/.test(input.accessKey)) throw new TypeError('registerApiKey: accessKey must look like SCWXXXXXXXXXXXXXXXXX')
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(input.secretKey.trim())) throw new TypeError('registerApiKey: secretKey must be an API key secret (a UUID)')
  await new Registry(kv).captureKey(input.accessKey, {
    digest: await apiKeyDigest(input.secretKey),
    ...(input.kind ? { kind: input.kind } : {}),
    capturedAt: new Date(clock()).toISOString(),
    via: 'register',
  })
}
