/**
 * The usage ledger's SQLite tables (Durable Object storage) and the writes of
 * one batch. docs/storage.md, "Usage ledger".
 */
import { USER_AGENTS_PER_DAY, utcDay, type UsageBatch } from './usage-batch.js'

/** Idempotent: run by every new instance of the ledger before its first call. */
export function createLedgerTables(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS usage_daily (
    day TEXT NOT NULL, kind TEXT NOT NULL, credential_id TEXT NOT NULL, route_id TEXT NOT NULL,
    calls INTEGER NOT NULL, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, credential_id, day, route_id))`)
  sql.exec('CREATE INDEX IF NOT EXISTS usage_daily_day ON usage_daily (day)')
  sql.exec(`CREATE TABLE IF NOT EXISTS usage_credential (
    kind TEXT NOT NULL, credential_id TEXT NOT NULL,
    principal_type TEXT NOT NULL, principal_id TEXT NOT NULL, principal_name TEXT, namespace_id TEXT,
    last_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, credential_id))`)
  sql.exec(`CREATE TABLE IF NOT EXISTS usage_user_agent (
    kind TEXT NOT NULL, credential_id TEXT NOT NULL, day TEXT NOT NULL, user_agent TEXT NOT NULL,
    PRIMARY KEY (kind, credential_id, day, user_agent))`)
  sql.exec('CREATE TABLE IF NOT EXISTS usage_dropped (day TEXT NOT NULL PRIMARY KEY, calls INTEGER NOT NULL)')
  sql.exec('CREATE TABLE IF NOT EXISTS usage_batch (id TEXT NOT NULL PRIMARY KEY, booked_at_ms INTEGER NOT NULL)')
}

/**
 * Books one batch unless its id was booked before (a flush retried after an
 * answer was lost). Call inside a transaction.
 * @returns whether it was booked now.
 */
export function bookBatch(sql: SqlStorage, batch: UsageBatch, nowMs: number): boolean {
  if (sql.exec('SELECT 1 FROM usage_batch WHERE id = ?', batch.id).toArray().length > 0) return false
  sql.exec('INSERT INTO usage_batch (id, booked_at_ms) VALUES (?, ?)', batch.id, nowMs)
  for (const e of batch.entries) {
    sql.exec(
      `INSERT INTO usage_daily (day, kind, credential_id, route_id, calls, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, credential_id, day, route_id) DO UPDATE SET calls = calls + excluded.calls,
         first_seen_ms = min(first_seen_ms, excluded.first_seen_ms), last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`,
      e.day, e.kind, e.credentialId, e.routeId, e.calls, e.firstSeenMs, e.lastSeenMs,
    )
    // Who the credential stands for, as last seen (an OIDC issuer's subjects vary; a key's bearer does not).
    sql.exec(
      `INSERT INTO usage_credential (kind, credential_id, principal_type, principal_id, principal_name, namespace_id, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, credential_id) DO UPDATE SET
         principal_type = iif(excluded.last_seen_ms >= last_seen_ms, excluded.principal_type, principal_type),
         principal_id = iif(excluded.last_seen_ms >= last_seen_ms, excluded.principal_id, principal_id),
         principal_name = iif(excluded.last_seen_ms >= last_seen_ms, excluded.principal_name, principal_name),
         namespace_id = coalesce(iif(excluded.last_seen_ms >= last_seen_ms, excluded.namespace_id, namespace_id), namespace_id, excluded.namespace_id),
         last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`,
      e.kind, e.credentialId, e.principal.type, e.principal.id, e.principal.name ?? null, e.namespaceId ?? null, e.lastSeenMs,
    )
    for (const agent of e.userAgents) {
      sql.exec(
        `INSERT OR IGNORE INTO usage_user_agent (kind, credential_id, day, user_agent)
         SELECT ?1, ?2, ?3, ?4 WHERE (SELECT count(*) FROM usage_user_agent WHERE kind = ?1 AND credential_id = ?2 AND day = ?3) < ?5`,
        e.kind, e.credentialId, e.day, agent, USER_AGENTS_PER_DAY,
      )
    }
  }
  if (batch.droppedCalls > 0) {
    sql.exec('INSERT INTO usage_dropped (day, calls) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET calls = calls + excluded.calls', utcDay(batch.cutAtMs), batch.droppedCalls)
  }
  return true
}

/** How long a booked batch id is remembered: far longer than any isolate keeps a batch. */
export const BATCH_ID_RETENTION_MS = 2 * 86_400_000

/** Deletes days before `oldestDay` and batch ids older than {@link BATCH_ID_RETENTION_MS}. */
export function pruneLedger(sql: SqlStorage, oldestDay: string, nowMs: number): void {
  sql.exec('DELETE FROM usage_daily WHERE day < ?', oldestDay)
  sql.exec('DELETE FROM usage_user_agent WHERE day < ?', oldestDay)
  sql.exec('DELETE FROM usage_dropped WHERE day < ?', oldestDay)
  sql.exec('DELETE FROM usage_credential WHERE last_seen_ms < ?', Date.parse(`${oldestDay}T00:00:00Z`))
  sql.exec('DELETE FROM usage_batch WHERE booked_at_ms < ?', nowMs - BATCH_ID_RETENTION_MS)
}
