/**
 * Variants (b) to (g): the gateway itself, `createGateway` from src/gateway.ts
 * with a `KvKeySetStore` over the Worker's `KEYSET` KV binding (`kvKeySet`),
 * exactly as src/worker.ts builds it, plus the credential encryption key that
 * opens consumers' sealed HMAC secrets. Access-log lines go to `console.log`, as
 * in production. The admin API and the sync are left out: they are not on the
 * request path.
 */
import { createGateway } from '../../../src/gateway.js'
import { kvKeySet } from '../../../src/keyset/kv-key-set.js'
import type { KeySetKvReader } from '../../../src/keyset/kv-store.js'

interface Env {
  KEYSET: KeySetKvReader
  ORIGIN_AUTH_TOKEN: string
  CREDENTIAL_ENCRYPTION_KEY: string
}

const app = createGateway({
  keySet: kvKeySet<Env>((env) => env.KEYSET),
  originToken: (c) => (c.env as Env).ORIGIN_AUTH_TOKEN,
  credentialEncryptionKey: (c) => (c.env as Env).CREDENTIAL_ENCRYPTION_KEY,
})

export default app
