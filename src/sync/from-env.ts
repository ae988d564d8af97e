import type { GatewayEnv, GatewaySettings } from '../settings.js'
import { ApiClient } from './api-client.js'
import { IamApi } from './iam-api.js'
import { ownerStub } from './owner-client.js'
import { ServerlessApi } from './serverless-api.js'
import { readSyncSettings, type SyncEnv } from './sync-env.js'
import type { SyncRunOptions } from './sync-run.js'

/** A feature needs a secret or var that is not set. The admin API answers 503 with the message. */
export class NotConfiguredError extends Error {
  override readonly name = 'NotConfiguredError'
}

/** Is the gateway connected to IAM? Only when the `IAM_API_TOKEN` secret is set. */
export function iamConfigured(env: GatewayEnv): boolean {
  return Boolean(env.IAM_API_TOKEN)
}

/**
 * The IAM and serverless clients, from the Worker's settings and its `IAM_API_TOKEN` secret.
 * @throws {NotConfiguredError} when `IAM_API_TOKEN` or `SCW_ORGANIZATION_ID` is not set.
 */
export function apisFromEnv(env: GatewayEnv, settings: GatewaySettings, fetcher?: typeof fetch): { iam: IamApi; serverless: ServerlessApi; organizationId: string } {
  if (!env.IAM_API_TOKEN) throw new NotConfiguredError('IAM is not configured: set the IAM_API_TOKEN secret')
  if (!settings.organizationId) throw new NotConfiguredError('IAM is not configured: set SCW_ORGANIZATION_ID')
  const client = new ApiClient({ baseUrl: settings.iamApiUrl, token: env.IAM_API_TOKEN, timeoutMs: settings.iamApiTimeoutMs, attempts: settings.iamApiAttempts, ...(fetcher ? { fetch: fetcher } : {}) })
  return { iam: new IamApi(client), serverless: new ServerlessApi(client, settings.region), organizationId: settings.organizationId }
}

/**
 * The IAM client as {@link apisFromEnv} builds it (same URL, timeouts, attempts),
 * authenticating with `token` instead of `IAM_API_TOKEN`: the admin API proves
 * with it that a registered secret is live.
 * @throws {NotConfiguredError} as {@link apisFromEnv}.
 */
export function iamApiAs(env: GatewayEnv, settings: GatewaySettings, token: string): IamApi {
  apisFromEnv(env, settings)
  return new IamApi(new ApiClient({ baseUrl: settings.iamApiUrl, token, timeoutMs: settings.iamApiTimeoutMs, attempts: settings.iamApiAttempts }))
}

/**
 * The sync's settings and sources from the Worker's bindings: each step reads KV,
 * the owner and the APIs through its own meter. Without `IAM_API_TOKEN` the key set
 * is built from the registry alone (routes, consumers, OIDC issuers).
 * @throws {TypeError} when a sync var is out of range.
 */
export function syncOptionsFromEnv(env: SyncEnv, settings: GatewaySettings): SyncRunOptions {
  const sync = readSyncSettings(env)
  return {
    sources: (meter) => ({
      kv: meter.kv(env.KEYSET),
      owner: ownerStub(env.KEYSET_WRITER),
      apis: iamConfigured(env) ? apisFromEnv(env, settings, meter.fetch()) : undefined,
      fetch: meter.fetch(),
    }),
    subrequestsPerStep: sync.subrequestsPerStep,
    leaseSeconds: sync.leaseSeconds,
    statusHeartbeatSeconds: settings.statusHeartbeatSeconds,
    jwksTimeoutMs: settings.oidcJwksTimeoutMs,
    logSteps: sync.logSteps,
  }
}
