/**
 * The writer lease: one sync run at a time reads into the index, builds and
 * switches the manifest. A run asks for it; while another holds it, the first to
 * ask waits its turn and any later one is covered by that waiting run (which will
 * read every source after they asked); once a lease expires (its run died), the run
 * that held it is fenced off: every later call of that run is refused, so a stale
 * run cannot switch the manifest.
 */
import { RUN_TABLES, readMeta, writeMeta } from './schema.js'

/** The lease a run holds. */
export interface Lease {
  runId: string
  reason: string
  /** When the run got the lease: it reads its sources after this (ms). */
  startedAt: number
  /** The lease ends here unless the run calls again (ms). */
  until: number
  /** How long each call of the run renews it for (ms). */
  ms: number
}

interface Queued {
  runId: string
  requestedAt: number
  seenAt: number
}

/** The answer to a run asking for the lease. */
export type BeginResult =
  | { state: 'granted'; startedAt: number }
  | { state: 'waiting'; activeRunId: string }
  | { state: 'covered'; by: string }

/** A waiting run that has not asked again for this long has given up (its workflow died). */
export const QUEUE_STALE_MS = 60_000
/** Clocks of the isolate that asked and of the owner may differ by this much: a run is covered only by one granted this long after it was asked for. */
export const CLOCK_SKEW_MS = 1000

/** A run that lost its lease (it expired and another run may hold it): it must stop. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError'
}

/** The lease, if one is held and has not expired. */
export function currentLease(sql: SqlStorage, now: number): Lease | undefined {
  const lease = readMeta<Lease>(sql, 'lease')
  return lease && lease.until >= now ? lease : undefined
}

/** Grants the lease, queues the run, or says which run covers it. Asking again while holding it renews it. */
export function begin(sql: SqlStorage, request: { runId: string; reason: string; requestedAt: number; leaseMs: number }, now: number): BeginResult {
  const lease = currentLease(sql, now)
  if (lease?.runId === request.runId) {
    writeMeta(sql, 'lease', { ...lease, until: now + lease.ms })
    return { state: 'granted', startedAt: lease.startedAt }
  }
  const granted = readMeta<{ runId: string; at: number }>(sql, 'lastGrant')
  if (granted && granted.runId !== request.runId && granted.at >= request.requestedAt + CLOCK_SKEW_MS) return { state: 'covered', by: granted.runId }
  const queued = readMeta<Queued>(sql, 'queued')
  if (lease) {
    if (queued && queued.runId !== request.runId && now - queued.seenAt < QUEUE_STALE_MS) {
      // The waiting run will be granted after now; it covers this one once now is clearly after this one's request.
      return now >= request.requestedAt + CLOCK_SKEW_MS ? { state: 'covered', by: queued.runId } : { state: 'waiting', activeRunId: lease.runId }
    }
    writeMeta(sql, 'queued', { runId: request.runId, requestedAt: request.requestedAt, seenAt: now })
    return { state: 'waiting', activeRunId: lease.runId }
  }
  writeMeta(sql, 'lease', { runId: request.runId, reason: request.reason, startedAt: now, until: now + request.leaseMs, ms: request.leaseMs } satisfies Lease)
  writeMeta(sql, 'lastGrant', { runId: request.runId, at: now })
  if (queued?.runId === request.runId) writeMeta(sql, 'queued', undefined)
  for (const table of RUN_TABLES) sql.exec(`DELETE FROM ${table}`)
  writeMeta(sql, 'plan', undefined)
  return { state: 'granted', startedAt: now }
}

/**
 * Checks that `runId` holds the lease and renews it.
 * @throws {LeaseLostError} when it does not (it expired, and another run may hold it).
 */
export function hold(sql: SqlStorage, runId: string, now: number): Lease {
  const lease = currentLease(sql, now)
  if (lease?.runId !== runId) throw new LeaseLostError(`lease lost: run ${runId} no longer holds the key-set writer lease${lease ? ` (run ${lease.runId} does)` : ''}`)
  const renewed = { ...lease, until: now + lease.ms }
  writeMeta(sql, 'lease', renewed)
  return renewed
}

/** Ends the lease of `runId` (no-op when it no longer holds it). */
export function release(sql: SqlStorage, runId: string, now: number): void {
  if (currentLease(sql, now)?.runId === runId) writeMeta(sql, 'lease', undefined)
}
