/**
 * A measurement Worker for scripts/bench/verify-cost.ts: verifies one token N
 * times through the gateway's own verifiers, with a new verifier each time
 * ("cold": the key is imported, or the HMAC secret opened, before the signature
 * check) or with one kept verifier ("cached": the key is already imported, only
 * the signature and claims are checked); plus what hono's `verify` does on each
 * request (it keeps no imported key). Timing happens outside, in Node: workerd
 * does not advance its clock during CPU work.
 */
import { verify as honoVerify } from 'hono/jwt'
import { verifyApiKey } from '../../../src/credentials/api-key.js'
import { ConsumerJwtVerifier } from '../../../src/credentials/consumer-jwt.js'
import { LegacyJwtVerifier } from '../../../src/credentials/legacy-jwt.js'
import * as v from 'valibot'
import { RouteAuthSchema } from '../../../src/keyset/jwt-schema.js'
import type { KeySetSource, Target } from '../../../src/keyset/schema.js'
import { staticKeySet } from '../../../src/keyset/static-store.js'
import type { KeySetView } from '../../../src/keyset/store.js'
import type { EdgeAuthIdentity } from '../../../src/middleware/identity.js'
import { UsageRecorder } from '../../../src/usage/usage-recorder.js'

/** One thing to verify. */
export interface VerifyCase {
  id: string
  kind: 'consumer' | 'legacy' | 'api-key' | 'hono' | 'usage'
  token: string
  /** Operations per verification call (`usage`: counts per call, each far too short to time alone). Default 1. */
  perCall?: number
  /** hono: the key `verify` is given (a string secret or a public JWK) and the algorithm. */
  honoKey?: unknown
  alg?: string
}

interface Env {
  CASES: { cases: VerifyCase[]; source: KeySetSource; encryptionKey: string; target: Target }
}

/** A route's default auth settings (every kind accepted, 30 s leeway). */
const auth = v.parse(RouteAuthSchema, {})
let view: KeySetView | undefined
const kept = new Map<string, ConsumerJwtVerifier | LegacyJwtVerifier>()

// What the gateway does per accepted request for usage: UsageRecorder.count, with its
// default bounds (a flush every 500 counts), here to a sink that books nothing.
const usage = new UsageRecorder({ record: async () => undefined })
const identities: EdgeAuthIdentity[] = Array.from({ length: 4 }, (_, i) => ({
  method: 'iam-api-key',
  credentialId: `SCW0BENCH0000000000${i}`,
  principal: { type: 'application', id: `55555555-5555-4555-8555-55555555555${i}` },
}))
let counted = 0

async function once(env: Env, c: VerifyCase, mode: 'cold' | 'cached'): Promise<void> {
  const { source, encryptionKey, target } = env.CASES
  view ??= await staticKeySet(source).current({ waitUntil() {} })
  const now = Date.now()
  switch (c.kind) {
    case 'consumer': {
      let verifier = mode === 'cached' ? (kept.get(c.id) as ConsumerJwtVerifier | undefined) : undefined
      if (!verifier) kept.set(c.id, (verifier = new ConsumerJwtVerifier()))
      await verifier.verify(c.token, await view.consumers(), auth, encryptionKey, now)
      return
    }
    case 'legacy': {
      let verifier = mode === 'cached' ? (kept.get(c.id) as LegacyJwtVerifier | undefined) : undefined
      if (!verifier) kept.set(c.id, (verifier = new LegacyJwtVerifier()))
      await verifier.verify(c.token, target, view, now)
      return
    }
    case 'api-key':
      await verifyApiKey(c.token, view, now)
      return
    case 'hono':
      await honoVerify(c.token, c.honoKey as string, c.alg as 'HS256')
      return
    case 'usage':
      for (let i = 0; i < (c.perCall ?? 1); i++) {
        counted += 1
        usage.count({ identity: identities[counted % identities.length]!, routeId: counted % 2 ? 'hello' : 'echo', userAgent: 'bench-client/1.0' }, (p) => void p.catch(() => undefined))
      }
      return
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url)
    if (url.pathname === '/noop') return new Response('ok')
    const c = env.CASES.cases.find((x) => x.id === url.searchParams.get('case'))
    if (!c) return new Response('unknown case', { status: 404 })
    const mode = url.searchParams.get('mode') === 'cold' ? 'cold' : 'cached'
    const n = Math.min(10_000, Math.max(1, Number(url.searchParams.get('n') ?? 1)))
    try {
      for (let i = 0; i < n; i++) await once(env, c, mode)
    } catch (error) {
      return new Response(`verification failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { status: 500 })
    }
    return Response.json({ verified: n })
  },
}
