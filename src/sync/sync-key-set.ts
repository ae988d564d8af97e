import { ApiClient } from './api-client.js'
import { IamApi } from './iam-api.js'
import type { RegistryKv } from './registry.js'
import { syncSnapshot, type SnapshotSyncOutcome } from './snapshot-sync.js'
import { ServerlessApi } from './serverless-api.js'
import type { KeySetKvWriter } from '../keyset/writer.js'

/** The IAM side of {@link syncKeySet}: where to read API keys, policies and resources. */
export interface SyncIamOptions {
  /** An IAM API key secret that may read IAM and the serverless API of the organisation (e.g. `IAMReadOnly` + `FunctionsReadOnly` + `ContainersReadOnly`). */
  token: string
  /** The organisation whose API keys, policies and resources are synced. */
  organizationId: string
  /** Base URL of the IAM and serverless APIs. Default `https://api.scaleway.com`. */
  apiUrl?: string
  /** Region of the serverless API. Default `fr-par`. */
  region?: string
  /** Milliseconds one API call attempt may take. Default 10000. */
  timeoutMs?: number
  /** Attempts per API call (429, 5xx, timeouts). Default 4. */
  attempts?: number
}

/** Options of {@link syncKeySet}. */
export interface SyncKeySetOptions {
  /**
   * The KV namespace the middleware reads with `kvKeySet` (a Workers KV binding, or
   * anything with the same `get`/`put`/`delete`/`list`). It also holds the registry
   * the sync merges in: captured API-key digests ({@link registerApiKey}), routes,
   * consumers, OIDC issuers.
   */
  kv: KeySetKvWriter & RegistryKv
  /** Read IAM and the serverless API. Absent: the key set is built from the registry alone (no API key, no legacy token). */
  iam?: SyncIamOptions
  /** Milliseconds an OIDC issuer's JWKS fetch may take. Default 5000. */
  jwksTimeoutMs?: number
  /** Seconds between status writes when nothing changed (KV writes). Default 3600. */
  statusHeartbeatSeconds?: number
  /** Outbound fetch (IAM, serverless API, JWKS). Default the global `fetch`. */
  fetch?: typeof fetch
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Runs one sync into `kv`: what the gateway Worker's Cron Trigger does, as a call
 * your own Worker's `scheduled` handler can make. It reads IAM and the serverless
 * API (when `iam` is given) and the registry in `kv`, builds the key set and writes
 * it (nothing when unchanged; the last good key set keeps serving on failure).
 * Until the first successful sync, `kvKeySet` answers 503 `keyset_unavailable`.
 * It runs in one invocation (the whole key set in memory): right for a few thousand
 * keys; the gateway Worker syncs larger sets as a Workflow (docs/scale.md).
 *
 * A failed sync is not thrown: the outcome says `ok: false` and
 * `status.lastError` names the call that failed (never a credential).
 *
 * @throws {TypeError} at once, naming a bad option.
 * @example
 * ```ts
 * export default {
 *   fetch: app.fetch,
 *   scheduled(_controller, env, ctx) {
 *     ctx.waitUntil(syncKeySet({ kv: env.KEYSET, iam: { token: env.IAM_API_TOKEN, organizationId: env.SCW_ORGANIZATION_ID } }))
 *   },
 * } satisfies ExportedHandler<Bindings>
 * ```
 */
export function syncKeySet(options: SyncKeySetOptions): Promise<SnapshotSyncOutcome> {
  if (!options || typeof options !== 'object') throw new TypeError('syncKeySet: options are required')
  const { kv, iam } = options
  if (!kv || typeof kv.get !== 'function' || typeof kv.put !== 'function' || typeof kv.list !== 'function') {
    throw new TypeError('syncKeySet: options.kv must be a KV namespace (get, put, delete, list)')
  }
  let apis: Parameters<typeof syncSnapshot>[0]['apis']
  if (iam !== undefined) {
    if (typeof iam.token !== 'string' || iam.token === '') throw new TypeError('syncKeySet: options.iam.token is required (an IAM API key secret)')
    if (typeof iam.organizationId !== 'string' || !UUID.test(iam.organizationId)) throw new TypeError('syncKeySet: options.iam.organizationId must be an organisation id (UUID)')
    const client = new ApiClient({
      baseUrl: iam.apiUrl ?? 'https://api.scaleway.com',
      token: iam.token,
      ...(iam.timeoutMs === undefined ? {} : { timeoutMs: iam.timeoutMs }),
      ...(iam.attempts === undefined ? {} : { attempts: iam.attempts }),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
    apis = { iam: new IamApi(client), serverless: new ServerlessApi(client, iam.region ?? 'fr-par'), organizationId: iam.organizationId }
  }
  return syncSnapshot({
    kv,
    ...(apis ? { apis } : {}),
    ...(options.jwksTimeoutMs === undefined ? {} : { jwksTimeoutMs: options.jwksTimeoutMs }),
    ...(options.statusHeartbeatSeconds === undefined ? {} : { statusHeartbeatSeconds: options.statusHeartbeatSeconds }),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  })
}
