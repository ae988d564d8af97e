import type { ConsumersPart, OidcPart } from './jwt-schema.js'
import type { LegacySchedule } from './legacy-schedule-schema.js'
import type { ApiKeyRecord, LegacyPart, Resource, Route } from './schema.js'

/** The piece of the Workers execution context a store needs: somewhere to put background work. */
export interface StoreContext {
  /** Keeps a background promise (a refresh) alive after the response is sent. */
  waitUntil(promise: Promise<unknown>): void
}

/** One consistent snapshot of the key set, as a request sees it. */
export interface KeySetView {
  /** Content hash of the snapshot; changes whenever anything in it changes. */
  readonly snapshotId: string
  /** When the snapshot was built (ISO 8601). */
  readonly generatedAt: string
  /** The route table, in the order the writer stored it. */
  readonly routes: readonly Route[]
  /** The organisation that owns a project, when the key set knows the project. */
  organizationOf(projectId: string): string | undefined
  /** A function or container by id, when the sync has seen it. */
  resource(id: string): Resource | undefined
  /** The legacy-token schedule the key set carries; absent: the gateway's own (`LEGACY_*` vars, `legacyTokens` option) applies. */
  readonly legacySchedule?: LegacySchedule | undefined
  /**
   * Legacy serverless JWT material (namespace keys, live token ids); `undefined`
   * when the key set has none (it was not built by a sync).
   * @throws {EdgeAuthError} `keyset_unavailable` when the part cannot be read.
   */
  legacy(): Promise<LegacyPart | undefined>
  /**
   * Consumers and their JWT credentials; `undefined` when there are none.
   * @throws {EdgeAuthError} `keyset_unavailable` when the part cannot be read.
   */
  consumers(): Promise<ConsumersPart | undefined>
  /**
   * OIDC issuers and their JWKS; `undefined` when there are none.
   * @throws {EdgeAuthError} `keyset_unavailable` when the part cannot be read.
   */
  oidc(): Promise<OidcPart | undefined>
  /**
   * Finds an API key by the SHA-256 hex digest of its secret.
   * @throws {EdgeAuthError} `keyset_unavailable` when the part holding it cannot be read.
   */
  findApiKey(digest: string): Promise<ApiKeyRecord | undefined>
}

/**
 * Where the middleware gets its key set from. The KV-backed store is the one a
 * Worker uses; {@link staticKeySet} serves a fixed snapshot on any runtime.
 */
export interface KeySetStore {
  /**
   * The current snapshot. Warm calls resolve from memory and may schedule a
   * refresh through `context.waitUntil`; they never await work another request started.
   * @throws {EdgeAuthError} `keyset_unavailable` when no usable snapshot can be had.
   */
  current(context: StoreContext): Promise<KeySetView>
}
