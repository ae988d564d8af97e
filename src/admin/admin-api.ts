import { Hono } from 'hono/tiny'
import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { LegacyTokenPolicy } from '../authz/legacy-policy.js'
import { readManifest, type KeySetKvWriter } from '../keyset/writer.js'
import { requestIdOf } from '../middleware/edge-auth.js'
import { ApiCallError } from '../sync/api-error.js'
import { NotConfiguredError } from '../sync/from-env.js'
import type { IamApi } from '../sync/iam-api.js'
import type { Registry, RegistryKv } from '../sync/registry.js'
import type { ServerlessApi } from '../sync/serverless-api.js'
import type { UsageLedgerClient } from '../usage/usage-binding.js'
import { SYNC_STATUS_KEY, parseSyncStatus } from '../sync/status.js'
import { AdminError, problem } from './admin-http.js'
import { auditTo, consoleAdminLog, type AdminLog } from './audit-log.js'
import { apiKeyRoutes } from './api-keys-api.js'
import { captureRoutes } from './capture-api.js'
import { keySetChanged, syncApplied, type ChangeableKeySet, type WaitedSync } from './key-set-change.js'
import { legacyScheduleRoutes } from './legacy-schedule-api.js'
import { usageRoutes } from './usage-api.js'
import { consumerRoutes } from './consumers-api.js'
import { doctorRoutes, type DoctorInputs } from './doctor-api.js'
import { jwtCredentialRoutes } from './jwt-credentials-api.js'
import { oidcIssuerRoutes } from './oidc-issuers-api.js'
import { resourceRoutes } from './resources-api.js'
import { routeRoutes } from './routes-api.js'
import { buildOpenApi } from './openapi.js'
import { ADMIN_OPERATIONS } from './openapi-operations.js'

/** What an admin call asks of its sync. */
export interface SyncRequestOptions {
  /** The admin change that asked for it (recorded in the run's logs). */
  reason?: string | undefined
  /** Access keys to take out of the key set at once. */
  revokeAccessKeys?: string[] | undefined
}

/** What the admin API works with, built per request from the Worker's env. */
export interface AdminDependencies {
  /** The `KEYSET` namespace: key set, sync status and registry. */
  kv: KeySetKvWriter & RegistryKv
  registry: Registry
  /** The IAM API; reading it throws {@link NotConfiguredError} (503) when the gateway runs without IAM. */
  iam: IamApi
  /** The serverless API; as `iam`. */
  serverless: ServerlessApi
  /** The organisation the gateway serves (`SCW_ORGANIZATION_ID`); as `iam`. */
  organizationId: string
  /**
   * The IAM API authenticating with `secret` instead of `IAM_API_TOKEN` (same URL,
   * timeouts and redirect rule): proves that a registered secret is live. As `iam`.
   */
  iamAs: (secret: string) => IamApi
  /** The Worker secret `CREDENTIAL_ENCRYPTION_KEY` that seals HMAC credential secrets; unset → HMAC credentials cannot be created (503). */
  credentialEncryptionKey?: string | undefined
  /**
   * Runs one sync now (the Worker: a run of the sync Workflow, waited for). `revokeAccessKeys`
   * are taken out of their shards at once, before the run reads anything (a revocation).
   */
  sync: (request?: SyncRequestOptions) => Promise<WaitedSync>
  /** The key-set store this isolate's gateway serves from: told of every change ({@link keySetChanged}). */
  keySet?: ChangeableKeySet
  /** Milliseconds a change waits for its sync before answering `pending`. Default 10,000 (`CHANGE_SYNC_WAIT_MS`). */
  changeSyncWaitMs?: number
  /** `ALLOW_INSECURE_LOOPBACK_ORIGINS`: routes may send private requests to `http://` loopback origins. Default `false`. */
  allowInsecureLoopbackOrigins?: boolean
  /** The usage ledger; absent when the `USAGE` binding is not configured (the usage endpoints answer 503). */
  usage?: AdminUsage | undefined
  /** The `LEGACY_*` vars' schedule: the fallback while the registry holds none. Default none. */
  legacyTokens?: LegacyTokenPolicy
  /** `TARGET_URL_TEMPLATE`: where a route to a function or container found by name forwards to. Default `https://{domain_name}`. */
  targetUrlTemplate?: string
  /** What `GET /doctor` reports on besides IAM and the key set: the settings and which secrets are set. Absent: those checks say so. */
  doctor?: DoctorInputs
  clock?: () => number
}

/** The usage ledger, and the counts this isolate has not flushed yet. */
export interface AdminUsage {
  ledger: UsageLedgerClient
  /** Flushes this isolate's pending counts into the ledger. @returns whether there were any. */
  flushPending: () => Promise<boolean>
}

/** Options of {@link adminApi}. */
export interface AdminApiOptions {
  /** Runs first on every admin request, unknown paths included ({@link adminAuth} in the Worker); sets `adminCaller`. */
  auth: MiddlewareHandler
  /** Where audit lines and unexpected-error lines go. Default {@link consoleAdminLog} (JSON on the console). */
  log?: AdminLog
}

/** Where the admin API lives; routes may not claim it. */
export { ADMIN_PREFIX } from '../keyset/validate-routes.js'

/**
 * The admin API the `edgegw` CLI uses (docs/admin-api.md): status and sync, API
 * keys and legacy tokens, routes, consumers and their JWT credentials, OIDC
 * issuers (docs/consumers.md). Every request is authenticated first; every error
 * is `application/problem+json` with a stable `code` and the request id, unknown
 * paths included (404 `not_found`); bodies are strict and capped; every change
 * writes one audit line. Responses that carry a secret (a minted key or token, a
 * new HMAC credential) are `Cache-Control: no-store` and are the only time it is shown.
 */
export function adminApi(dependencies: (c: Context) => AdminDependencies, options: AdminApiOptions): Hono {
  const app = new Hono()
  const log = options.log ?? consoleAdminLog
  const audit = auditTo(log)

  app.use('*', async (c, next) => {
    c.header('x-request-id', requestIdOf(c))
    await next()
  })
  app.use('*', options.auth)

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
    const deps = dependencies(c)
    const outcome = await deps.sync()
    syncApplied(deps.keySet, outcome)
    if (outcome.ok) audit(c, 'sync.run', 'keyset')
    const { manifest: _, ...write } = outcome.write ?? {}
    // 202: the run goes on after the wait (a step being retried); GET /status tells how it ended.
    const running = outcome.state === 'running'
    return c.json(
      { ok: outcome.ok, state: outcome.state ?? 'complete', changed: outcome.write?.changed ?? false, write: outcome.write ? write : null, statusWritten: outcome.statusWritten, status: outcome.status },
      running ? 202 : outcome.ok ? 200 : 502,
    )
  })

  captureRoutes(app, dependencies, audit)
  apiKeyRoutes(app, dependencies, audit)
  routeRoutes(app, dependencies, audit)
  resourceRoutes(app, dependencies)
  consumerRoutes(app, dependencies, audit)
  jwtCredentialRoutes(app, dependencies, audit)
  oidcIssuerRoutes(app, dependencies, audit)
  usageRoutes(app, dependencies)
  legacyScheduleRoutes(app, dependencies, audit)
  doctorRoutes(app, dependencies)

  let description: Record<string, unknown> | undefined
  app.get('/openapi.json', (c) => {
    // Built once per isolate, from the schemas; the server is where this request came.
    description ??= buildOpenApi(ADMIN_OPERATIONS, { version: '1.0.0', serverUrl: '/' })
    const url = new URL(c.req.url)
    return c.json({ ...description, servers: [{ url: `${url.origin}${url.pathname.replace(/\/openapi\.json$/, '')}` }] })
  })

  // Last: any other path under the prefix is the admin API's 404, never the gateway's.
  app.all('*', () => {
    throw new AdminError(404, 'not_found', 'the admin API has no such endpoint (or not with this method)')
  })

  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse()
    if (error instanceof AdminError) return problem(c, error.status, error.code, error.message)
    if (error instanceof NotConfiguredError) return problem(c, 503, 'not_configured', error.message)
    if (error instanceof ApiCallError) {
      const status = error.status === 404 ? 404 : error.status === 400 ? 400 : 502
      return problem(c, status, status === 502 ? 'upstream_failed' : 'upstream_refused', error.message)
    }
    // The class only: a message may quote stored or sent data, a stack adds nothing an operator can act on.
    log({ type: 'error', request_id: requestIdOf(c), method: c.req.method, path: c.req.routePath, error: error instanceof Error ? error.name : typeof error })
    return problem(c, 500, 'internal_error', 'The admin API failed unexpectedly; the request id is in the log.')
  })
  return app
}
