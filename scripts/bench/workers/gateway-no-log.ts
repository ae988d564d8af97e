/**
 * Breakdown variant (`npm run bench -- --breakdown`): the gateway of
 * workers/gateway.ts without its access log, to tell what the log line costs.
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
  log: () => undefined,
})

export default app
