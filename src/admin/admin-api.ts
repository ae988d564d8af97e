import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { apiKeyDigest } from '../keyset/digest.js'
import { RouteSchema, type Route } from '../keyset/schema.js'
import { RESERVED_PREFIX, assertSecureTargets, assertValidRoutes } from '../keyset/validate-routes.js'
import { readManifest, type KeySetKvWriter } from '../keyset/writer.js'
import { ApiCallError } from '../sync/api-error.js'
import { NotConfiguredError } from '../sync/from-env.js'
import type { IamApi } from '../sync/iam-api.js'
import type { Registry, RegistryKv } from '../sync/registry.js'
import type { ServerlessApi } from '../sync/serverless-api.js'
import type { SyncOutcome } from '../sync/run-sync.js'
import { SYNC_STATUS_KEY, parseSyncStatus } from '../sync/status.js'
import { AdminError, isoNow, parseBody, problem } from './admin-http.js'
import { consumerRoutes } from './consumers-api.js'
import { oidcIssuerRoutes } from './oidc-issuers-api.js'

/** What the admin API works with, built per request from the Worker's env. */
export interface AdminDependencies {
  /** The `KEYSET` namespace: key set, sync status and registry. */
  kv: KeySetKvWriter & RegistryKv
  registry: Registry
  /** The IAM API; reading it throws {@link NotConfiguredError} (503) when the gateway runs without IAM. */
  iam: IamApi
  /** The serverless API; as `iam`. */
  serverless: ServerlessApi
  /** The Worker secret `CREDENTIAL_ENCRYPTION_KEY` that seals HMAC credential secrets; unset → HMAC credentials cannot be created (503). */
  credentialEncryptionKey?: string | undefined
  /** Runs one sync now. */
  sync: () => Promise<SyncOutcome>
  /** `ALLOW_INSECURE_LOOPBACK_ORIGINS`: routes may send private requests to `http://` loopback origins. Default `false`. */
  allowInsecureLoopbackOrigins?: boolean
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
 * The admin API the `edgegw` CLI uses: status and sync, API keys and legacy
 * tokens, routes, consumers and their JWT credentials, OIDC issuers
 * (docs/consumers.md). Responses that carry a secret (a minted key or token,
 * a new HMAC credential) are `Cache-Control: no-store` and are the only time it
 * is shown. Every request must already have passed {@link adminAuth}.
 */
export function adminApi(dependencies: (c: Context) => AdminDependencies): Hono {
  const app = new Hono()

  app.get('/status', async (c) => {
    const { kv } = dependencies(c)
    const [manifest, statusText] = await Promise.all([readManifest(kv), kv.get(SYNC_STATUS_KEY, { type: 'text' })])
    return c.json({
      keySet: manifest
        ? {
            snapshotId: manifest.snapshotId,
            generatedAt: manifest.generatedAt,
            source: manifest.source,
            apiKeys: manifest.apiKeys.count,
            shards: Object.keys(manifest.apiKeys.shards).length,
            consumersPart: manifest.consumers ?? null,
            oidcPart: manifest.oidc ?? null,
          }
        : null,
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
      assertSecureTargets(body.routes, { allowInsecureLoopbackOrigins: dependencies(c).allowInsecureLoopbackOrigins ?? false })
    } catch (error) {
      throw new AdminError(400, 'invalid_body', (error as Error).message)
    }
    await dependencies(c).registry.saveRoutes(body.routes as Route[])
    return c.json({ routes: body.routes.length, note: 'Routes take effect after the next sync.' })
  })

  consumerRoutes(app, dependencies)
  oidcIssuerRoutes(app, dependencies)

  app.onError((error) => {
    if (error instanceof AdminError) return problem(error.status, error.code, error.message)
    if (error instanceof NotConfiguredError) return problem(503, 'not_configured', error.message)
    if (error instanceof ApiCallError) {
      const status = error.status === 404 ? 404 : error.status === 400 ? 400 : 502
      return problem(status, status === 502 ? 'upstream_failed' : 'upstream_refused', error.message)
    }
    throw error
  })
  return app
}

const now = (deps: AdminDependencies) => isoNow(deps.clock)
