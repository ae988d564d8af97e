import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { apiKeyDigest } from '../keyset/digest.js'
import { RouteSchema, type Route } from '../keyset/schema.js'
import { RESERVED_PREFIX, assertValidRoutes } from '../keyset/validate-routes.js'
import { readManifest, type KeySetKvWriter } from '../keyset/writer.js'
import { ApiCallError } from '../sync/api-error.js'
import type { IamApi } from '../sync/iam-api.js'
import type { Registry } from '../sync/registry.js'
import type { ServerlessApi } from '../sync/serverless-api.js'
import type { SyncOutcome } from '../sync/run-sync.js'
import { SYNC_STATUS_KEY, parseSyncStatus } from '../sync/status.js'

/** What the admin API works with, built per request from the Worker's env. */
export interface AdminDependencies {
  kv: KeySetKvWriter
  registry: Registry
  iam: IamApi
  serverless: ServerlessApi
  /** Runs one sync now. */
  sync: () => Promise<SyncOutcome>
  clock?: () => number
}

/** Where the admin API lives; routes may not claim it. */
export const ADMIN_PREFIX = `${RESERVED_PREFIX}/admin/v1`

const Uuid = v.pipe(v.string(), v.uuid())
const KeyKind = v.optional(v.picklist(['personal', 'ci', 'service']))

const MintKeyBody = v.pipe(
  v.object({
    application_id: v.optional(Uuid),
    user_id: v.optional(Uuid),
    description: v.optional(v.pipe(v.string(), v.maxLength(200)), ''),
    expires_at: v.optional(v.pipe(v.string(), v.isoTimestamp())),
    default_project_id: v.optional(Uuid),
    kind: KeyKind,
  }),
  v.check((b) => (b.application_id === undefined) !== (b.user_id === undefined), 'exactly one of application_id and user_id is required'),
)

const RegisterKeyBody = v.object({
  access_key: v.pipe(v.string(), v.regex(/^SCW[0-9A-Z]{17}$/, 'access_key must look like SCWXXXXXXXXXXXXXXXXX')),
  secret_key: Uuid,
  kind: KeyKind,
})

const MintTokenBody = v.pipe(
  v.object({
    product: v.picklist(['functions', 'containers']),
    namespace_id: v.optional(Uuid),
    function_id: v.optional(Uuid),
    container_id: v.optional(Uuid),
    description: v.optional(v.string()),
    expires_at: v.optional(v.pipe(v.string(), v.isoTimestamp())),
  }),
  v.check((b) => [b.namespace_id, b.function_id, b.container_id].filter(Boolean).length === 1, 'exactly one of namespace_id, function_id, container_id is required'),
)

const RegisterNamespaceKeyBody = v.object({
  product: v.picklist(['functions', 'containers']),
  namespace_id: Uuid,
  public_key: v.pipe(v.string(), v.startsWith('-----BEGIN', 'public_key must be a PEM')),
})

const RoutesBody = v.object({ routes: v.array(RouteSchema) })

/**
 * The admin API the `edgegw` CLI uses. Responses that carry a secret (a minted
 * key or token) are `Cache-Control: no-store` and are the only time it is shown.
 * Every request must already have passed {@link adminAuth}.
 */
export function adminApi(dependencies: (c: Context) => AdminDependencies): Hono {
  const app = new Hono()

  app.get('/status', async (c) => {
    const { kv } = dependencies(c)
    const [manifest, statusText] = await Promise.all([readManifest(kv), kv.get(SYNC_STATUS_KEY, { type: 'text' })])
    return c.json({
      keySet: manifest ? { snapshotId: manifest.snapshotId, generatedAt: manifest.generatedAt, source: manifest.source, apiKeys: manifest.apiKeys.count, shards: Object.keys(manifest.apiKeys.shards).length } : null,
      sync: parseSyncStatus(statusText) ?? null,
    })
  })

  app.post('/sync', async (c) => {
    const outcome = await dependencies(c).sync()
    return c.json({ ok: outcome.ok, changed: outcome.write?.changed ?? false, write: outcome.write ?? null, statusWritten: outcome.statusWritten, status: outcome.status }, outcome.ok ? 200 : 502)
  })

  app.post('/api-keys', async (c) => {
    const body = await parseBody(c, MintKeyBody)
    const deps = dependencies(c)
    const { kind, ...request } = body
    const created = await deps.iam.createApiKey(request)
    await deps.registry.captureKey(created.access_key, { digest: await apiKeyDigest(created.secret_key), kind, capturedAt: now(deps), via: 'mint' })
    c.executionCtx.waitUntil(deps.sync().catch(() => undefined))
    c.header('cache-control', 'no-store')
    return c.json({ ...created, kind: kind ?? null, note: 'The secret is shown once. The key works at the edge after the sync that has just been started.' }, 201)
  })

  app.post('/api-keys/register', async (c) => {
    const body = await parseBody(c, RegisterKeyBody)
    const deps = dependencies(c)
    // The key must exist in IAM; its secret cannot be checked against IAM, so the caller vouches for it.
    const key = await deps.iam.getApiKey(body.access_key)
    await deps.registry.captureKey(key.access_key, { digest: await apiKeyDigest(body.secret_key), kind: body.kind, capturedAt: now(deps), via: 'register' })
    return c.json({ access_key: key.access_key, registered: true }, 201)
  })

  app.delete('/api-keys/:accessKey/capture', async (c) => {
    await dependencies(c).registry.forgetKey(c.req.param('accessKey'))
    return c.body(null, 204)
  })

  app.post('/legacy-tokens', async (c) => {
    const body = await parseBody(c, MintTokenBody)
    const deps = dependencies(c)
    const { product, ...request } = body
    const created = await deps.serverless.createToken(product, request)
    const namespaceId = created.namespace_id ?? body.namespace_id
    if (created.public_key && namespaceId) {
      await deps.registry.captureNamespaceKey(namespaceId, { kind: product === 'functions' ? 'function' : 'container', publicKeyPem: created.public_key, capturedAt: now(deps) })
    }
    c.executionCtx.waitUntil(deps.sync().catch(() => undefined))
    c.header('cache-control', 'no-store')
    return c.json({ ...created, public_key_captured: Boolean(created.public_key && namespaceId) }, 201)
  })

  app.post('/legacy-namespace-keys', async (c) => {
    const body = await parseBody(c, RegisterNamespaceKeyBody)
    const deps = dependencies(c)
    await deps.registry.captureNamespaceKey(body.namespace_id, { kind: body.product === 'functions' ? 'function' : 'container', publicKeyPem: body.public_key, capturedAt: now(deps) })
    return c.json({ namespace_id: body.namespace_id, registered: true }, 201)
  })

  app.get('/routes', async (c) => c.json({ routes: await dependencies(c).registry.routes() }))

  app.put('/routes', async (c) => {
    const body = await parseBody(c, RoutesBody)
    try {
      assertValidRoutes(body.routes)
    } catch (error) {
      throw new AdminError(400, 'invalid_body', (error as Error).message)
    }
    await dependencies(c).registry.saveRoutes(body.routes as Route[])
    return c.json({ routes: body.routes.length, note: 'Routes take effect after the next sync.' })
  })

  app.onError((error, c) => {
    if (error instanceof AdminError) return problem(c, error.status, error.code, error.message)
    if (error instanceof ApiCallError) {
      const status = error.status === 404 ? 404 : error.status === 400 ? 400 : 502
      return problem(c, status, status === 502 ? 'upstream_failed' : 'upstream_refused', error.message)
    }
    throw error
  })
  return app
}

class AdminError extends Error {
  constructor(
    readonly status: 400 | 404 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

async function parseBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  if (!(c.req.header('content-type') ?? '').includes('application/json')) throw new AdminError(415, 'unsupported_media_type', 'send application/json')
  let json: unknown
  try {
    json = await c.req.json()
  } catch {
    throw new AdminError(400, 'invalid_body', 'the body is not valid JSON')
  }
  const parsed = v.safeParse(schema, json)
  // Issues name fields and expectations; they never echo a received value.
  if (!parsed.success) throw new AdminError(400, 'invalid_body', parsed.issues.map((i) => `${v.getDotPath(i) ?? 'body'}: ${i.expected ? `expected ${i.expected}` : i.message}`).join('; '))
  return parsed.output
}

function problem(c: Context, status: number, code: string, detail: string): Response {
  return new Response(JSON.stringify({ type: `urn:edge-auth-gateway:problem:${code}`, title: code, status, code, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  })
}

const now = (deps: AdminDependencies) => new Date((deps.clock ?? Date.now)()).toISOString()
