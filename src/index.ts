/**
 * edge-auth-gateway: IAM API keys (and, later, JWTs) checked at the edge, in front
 * of private serverless functions and containers.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { edgeAuth, kvKeySet } from 'edge-auth-gateway'
 *
 * const app = new Hono<{ Bindings: { KEYSET: KVNamespace } }>()
 * app.use('/fn/*', edgeAuth({ keySet: kvKeySet((env) => env.KEYSET), target }))
 * ```
 * @module
 */
export { edgeAuth } from './middleware/edge-auth.js'
export type { EdgeAuthOptions } from './middleware/options.js'
export type { VerificationCacheOptions } from './credentials/verification-cache.js'
export type { EdgeAuthIdentity, AuthMethod } from './middleware/identity.js'
export { problemResponse, bearerChallenge } from './middleware/problem.js'
export { EdgeAuthError, type EdgeAuthErrorCode, type EdgeAuthErrorDetails } from './errors.js'
export { createGateway, type GatewayOptions } from './gateway.js'
export type { KeySetStore, KeySetView, StoreContext } from './keyset/store.js'
export { KvKeySetStore, type KvKeySetStoreOptions, type KeySetKvReader } from './keyset/kv-store.js'
export { kvKeySet } from './keyset/kv-key-set.js'
export { staticKeySet } from './keyset/static-store.js'
export { writeKeySet, readManifest, type WriteKeySetOptions, type WriteKeySetResult, type KeySetKvWriter } from './keyset/writer.js'
export { apiKeyDigest } from './keyset/digest.js'
export type { ApiKeyRecord, Bearer, Grant, KeySetSource, Manifest, Route, Target } from './keyset/schema.js'
export { KEYSET_SCHEMA_VERSION } from './keyset/schema.js'
export { UsageRecorder, type UsageRecorderOptions, type UsageEvent } from './usage/usage-recorder.js'
export { usageRecorder, usageLedger, type UsageLedgerClient } from './usage/usage-binding.js'
export type { UsageBatch, UsageEntry, UsageSink } from './usage/usage-batch.js'
export type { LegacySchedule } from './keyset/legacy-schedule-schema.js'
