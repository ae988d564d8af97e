/**
 * Variants (b) to (g): the gateway itself, `createGateway` from src/gateway.ts
 * with a `KvKeySetStore` over the Worker's `KEYSET` KV binding (`kvKeySet`),
 * exactly as src/worker.ts builds it, plus the credential encryption key that
 * opens consumers' sealed HMAC secrets. Access-log lines go to `console.log`, as
 * in production, unless the `ACCESS_LOG` binding says otherwise (the breakdown
 * variant x2 sets it to `off`, to tell what the log line costs). The admin API and
 * the sync are left out: they are not on the request path. Usage is counted per
 * accepted request (flushed to a no-op sink), unless `USAGE_COUNTING` is `off`. The bench origin is
 * `http://127.0.0.1`, allowed by the `ALLOW_INSECURE_LOOPBACK_ORIGINS` binding.
 */
import type { Hono } from 'hono'
import { createGateway } from '../../../src/gateway.js'
import { kvKeySet } from '../../../src/keyset/kv-key-set.js'
import type { KeySetKvReader } from '../../../src/keyset/kv-store.js'
import { UsageRecorder } from '../../../src/usage/usage-recorder.js'

interface Env {
  KEYSET: KeySetKvReader
  ORIGIN_AUTH_TOKEN: string
  CREDENTIAL_ENCRYPTION_KEY: string
  ACCESS_LOG?: 'all' | 'refusals' | 'off' | 'counted'
  ALLOW_INSECURE_LOOPBACK_ORIGINS?: string
  /** The condition variant (i) names the header its client address comes in, as `CLIENT_IP_HEADER` does. */
  CLIENT_IP_HEADER?: string
  /** `off`: no usage counting (the breakdown variant x3, to tell what counting costs). */
  USAGE_COUNTING?: 'on' | 'off'
}

// Built on the first request, when the bindings are known; kept for the isolate's life.
let app: ReturnType<typeof createGateway> | undefined
// Usage is counted as in production (UsageRecorder.count per accepted request, default
// bounds: a flush every 10 s or 500 requests), but flushed to a sink that books nothing:
// workerd serve has no Durable Object storage here, and the ledger runs outside the Worker's
// isolate in production (its RPC is a subrequest, as the origin's fetch is).
const usage = new UsageRecorder({ record: async () => undefined })

export default {
  fetch(request: Request, env: Env, ctx: Parameters<Hono['fetch']>[2]) {
    app ??= createGateway({
      keySet: kvKeySet<Env>((e) => e.KEYSET),
      originToken: (c) => (c.env as Env).ORIGIN_AUTH_TOKEN,
      credentialEncryptionKey: (c) => (c.env as Env).CREDENTIAL_ENCRYPTION_KEY,
      accessLog: env.ACCESS_LOG ?? 'all',
      allowInsecureLoopbackOrigins: env.ALLOW_INSECURE_LOOPBACK_ORIGINS === 'true',
      ...(env.CLIENT_IP_HEADER ? { clientIpHeader: env.CLIENT_IP_HEADER } : {}),
      ...(env.USAGE_COUNTING === 'off' ? {} : { usage: () => usage }),
    })
    return app.fetch(request, env, ctx)
  },
}
