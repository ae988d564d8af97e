import { parseStored } from '../util/stored-json.js'
import * as v from 'valibot'

/** KV key of the sync status (docs/storage.md). */
export const SYNC_STATUS_KEY = 'sync/v1/status'

export const SyncStatusSchema = v.object({
  /** Last time a sync succeeded, within `heartbeatSeconds` (an unchanged success is recorded at most that often). */
  lastSuccessAt: v.nullable(v.string()),
  /** The last failure, while it is the latest outcome; `null` once a sync succeeds. */
  lastError: v.nullable(v.object({ at: v.string(), message: v.string() })),
  /** Failures in a row since the last success. */
  consecutiveFailures: v.number(),
  snapshotId: v.nullable(v.string()),
  counts: v.record(v.string(), v.number()),
  /**
   * What went wrong without failing the sync (an OIDC JWKS that could not be
   * fetched, registry values left out); absent when nothing did. Messages carry
   * no credential material.
   */
  warnings: v.optional(v.array(v.string())),
  durationMs: v.number(),
  /** When this record was written. */
  writtenAt: v.string(),
})
export type SyncStatus = v.InferOutput<typeof SyncStatusSchema>

/** Parses a stored status; `undefined` when absent or unreadable. */
export function parseSyncStatus(text: string | null): SyncStatus | undefined {
  return parseStored(SyncStatusSchema, text)
}

/**
 * Should the new status be written? Only when something an operator would act on
 * changed (outcome, error, snapshot, counts, warnings) or the last success record is older
 * than the heartbeat: an unchanged sync then writes nothing to KV, which keeps
 * a five-minute cron far under KV's 1,000 writes a day.
 */
export function statusNeedsWrite(previous: SyncStatus | undefined, next: SyncStatus, heartbeatMs: number, nowMs: number): boolean {
  if (!previous) return true
  if ((previous.lastError === null) !== (next.lastError === null)) return true
  if (next.lastError && previous.lastError?.message !== next.lastError.message) return true
  if (next.lastError) return nowMs - Date.parse(previous.writtenAt) >= heartbeatMs
  if (previous.snapshotId !== next.snapshotId) return true
  if (JSON.stringify(previous.counts) !== JSON.stringify(next.counts)) return true
  if (JSON.stringify(previous.warnings ?? []) !== JSON.stringify(next.warnings ?? [])) return true
  return previous.lastSuccessAt === null || nowMs - Date.parse(previous.lastSuccessAt) >= heartbeatMs
}

/** How a run ended, as the sync reports it to the key-set owner, which records the status. */
export interface RunReport {
  ok: boolean
  /** Why it failed (no credential material). */
  error?: string | undefined
  counts: Record<string, number>
  warnings: string[]
  /** The snapshot the run committed. */
  snapshotId?: string | undefined
  /** When the run started and ended (ms). */
  startedAt: number
  at: number
}

/**
 * The status after a run: a success replaces the last error, a failure keeps the
 * last success, its snapshot, counts and warnings, and counts the failures in a row.
 */
export function nextStatus(previous: SyncStatus | undefined, report: RunReport): SyncStatus {
  const at = new Date(report.at).toISOString()
  if (report.ok) {
    return {
      lastSuccessAt: at,
      lastError: null,
      consecutiveFailures: 0,
      snapshotId: report.snapshotId ?? previous?.snapshotId ?? null,
      counts: report.counts,
      ...(report.warnings.length > 0 ? { warnings: report.warnings } : {}),
      durationMs: report.at - report.startedAt,
      writtenAt: at,
    }
  }
  return {
    lastSuccessAt: previous?.lastSuccessAt ?? null,
    lastError: { at, message: report.error ?? 'the sync failed' },
    consecutiveFailures: (previous?.consecutiveFailures ?? 0) + 1,
    snapshotId: previous?.snapshotId ?? null,
    counts: previous?.counts ?? {},
    ...(previous?.warnings ? { warnings: previous.warnings } : {}),
    durationMs: report.at - report.startedAt,
    writtenAt: at,
  }
}
