/**
 * What an isolate sends to the usage ledger: batches of counts per credential,
 * kind, route and UTC day (docs/migration.md, "Who uses what").
 */
import * as v from 'valibot'
import type { AuthMethod } from '../middleware/identity.js'

/** The credential kinds counted: the gateway's {@link AuthMethod}s. */
export const USAGE_KINDS = ['iam-api-key', 'legacy-jwt', 'consumer-jwt', 'oidc-jwt', 'anonymous'] as const satisfies readonly AuthMethod[]

/** The one ledger instance's name (`idFromName`): one ledger for the whole gateway. */
export const USAGE_LEDGER_NAME = 'usage-ledger/v1'

/** Distinct user agents kept per credential and day, in the isolate and in the ledger. */
export const USER_AGENTS_PER_DAY = 3

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(256))
const Ms = v.pipe(v.number(), v.integer(), v.minValue(0))

/** One credential's calls on one route during one UTC day, as one isolate counted them. */
export const UsageEntrySchema = v.object({
  /** `YYYY-MM-DD`, UTC. */
  day: v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/)),
  kind: v.picklist(USAGE_KINDS),
  /** The credential's public identifier: access key, legacy token id, consumer credential key, OIDC issuer id. */
  credentialId: Id,
  routeId: Id,
  calls: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** Milliseconds since the epoch. */
  firstSeenMs: Ms,
  lastSeenMs: Ms,
  /** Who the credential stands for: the bearer of an API key, the consumer, the OIDC subject, the token itself. */
  principal: v.object({ type: v.pipe(v.string(), v.maxLength(32)), id: Id, name: v.optional(v.pipe(v.string(), v.maxLength(256))) }),
  /** A legacy token's namespace. */
  namespaceId: v.optional(Id),
  /** Distinct user agents, cleaned ({@link cleanUserAgent}), at most {@link USER_AGENTS_PER_DAY}. */
  userAgents: v.pipe(v.array(v.pipe(v.string(), v.maxLength(255))), v.maxLength(USER_AGENTS_PER_DAY)),
})
export type UsageEntry = v.InferOutput<typeof UsageEntrySchema>

/** One flush of one isolate. The id makes a retried batch count once. */
export const UsageBatchSchema = v.object({
  id: v.pipe(v.string(), v.uuid()),
  /** Calls the isolate could not count because its map was full (`maxEntries`). */
  droppedCalls: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** When the batch was cut (ms): the day its dropped calls are booked on. */
  cutAtMs: Ms,
  entries: v.array(UsageEntrySchema),
})
export type UsageBatch = v.InferOutput<typeof UsageBatchSchema>

/** Where an isolate's batches go: the ledger's Durable Object (its RPC method), or a no-op in benchmarks. */
export interface UsageSink {
  /**
   * Books every batch not booked before (by id), atomically per call.
   * @throws when the ledger cannot be reached or fails: the caller keeps the batches and sends them again.
   */
  record(batches: UsageBatch[]): Promise<unknown>
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}
