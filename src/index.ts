/**
 * edge-auth-gateway: IAM API keys, legacy serverless JWTs, consumer JWTs and OIDC
 * JWTs checked at the edge, in front of private serverless functions and containers.
 *
 * - {@link edgeAuth}: the Hono middleware;
 * - key-set stores: {@link kvKeySet} (Workers KV, filled by a sync) and
 *   {@link staticKeySet} (a snapshot in memory, any runtime);
 * - {@link syncKeySet} and {@link registerApiKey}: what fills the KV namespace, for
 *   an app's own `scheduled` handler;
 * - {@link createGateway}: the gateway's route table and forwarding as a Hono app.
 *
 * The deployable Worker is `edge-auth-gateway/worker`.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { edgeAuth, kvKeySet, type EdgeAuthVariables } from 'edge-auth-gateway'
 *
 * type Bindings = { KEYSET: KVNamespace }
 * const hello = new Hono<{ Bindings: Bindings; Variables: EdgeAuthVariables }>()
 * hello.use(edgeAuth<{ Bindings: Bindings }>({ keySet: kvKeySet((env) => env.KEYSET), target }))
 * hello.get('/whoami', (c) => c.json(c.var.edgeAuth))
 * ```
 * @module
 */
export { edgeAuth } from './middleware/edge-auth.js'
export type { EdgeAuthOptions, RouteAuthInput } from './middleware/options.js'
export type { VerificationCacheOptions } from './credentials/verification-cache.js'
export type { EdgeAuthIdentity, EdgeAuthPrincipal, AuthMethod } from './identity.js'
export type { EdgeAuthVariables } from './middleware/identity.js'
export { problemResponse, bearerChallenge } from './middleware/problem.js'
export { EdgeAuthError, type EdgeAuthErrorCode, type EdgeAuthErrorDetails } from './errors.js'
export { createGateway, type GatewayOptions, type GatewayVariables } from './gateway.js'
export type { KeySetStore, KeySetView, StoreContext } from './keyset/store.js'
export { KvKeySetStore, type KvKeySetStoreOptions, type KeySetKvReader } from './keyset/kv-store.js'
export { kvKeySet } from './keyset/kv-key-set.js'
export { staticKeySet } from './keyset/static-store.js'
export { writeKeySet, readManifest, type WriteKeySetOptions, type WriteKeySetResult, type KeySetKvWriter } from './keyset/writer.js'
export { apiKeyDigest } from './keyset/digest.js'
export type { ApiKeyRecord, Bearer, Grant, KeySetSource, Manifest, Resource, Route, Target } from './keyset/schema.js'
export { KEYSET_SCHEMA_VERSION } from './keyset/schema.js'
export { syncKeySet, type SyncKeySetOptions, type SyncIamOptions } from './sync/sync-key-set.js'
export { registerApiKey, type RegisterApiKeyInput } from './sync/register-api-key.js'
export type { SnapshotSyncOutcome as SyncOutcome } from './sync/snapshot-sync.js'
export type { SyncStatus } from './sync/status.js'
export type { RegistryKv } from './sync/registry.js'
export { UsageRecorder, type UsageRecorderOptions, type UsageEvent } from './usage/usage-recorder.js'
export { usageRecorder, usageLedger, type UsageLedgerClient } from './usage/usage-binding.js'
export type { UsageBatch, UsageEntry, UsageSink } from './usage/usage-batch.js'
export type { LegacySchedule } from './keyset/legacy-schedule-schema.js'
