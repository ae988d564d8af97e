import { KEYSET_SCHEMA_VERSION } from './schema.js'

/** Every KV key the key set uses; docs/storage.md describes each value. */
export const kvKeys = {
  /** The manifest: names the parts of the current snapshot. Written last. */
  manifest: `keyset/v${KEYSET_SCHEMA_VERSION}/manifest`,
  /** An immutable part, addressed by the hash of its content. */
  part: (hash: string) => `keyset/v${KEYSET_SCHEMA_VERSION}/part/${hash}`,
} as const

/** Workers KV refuses a `cacheTtl` under 30 seconds. */
export const KV_MIN_CACHE_TTL_SECONDS = 30
