/** What the usage ledger answers: per-credential reports and per-kind totals, read from its SQLite tables. */
import type { USAGE_KINDS } from './usage-batch.js'

type UsageKind = (typeof USAGE_KINDS)[number]

/** Which credentials {@link queryReport} lists. */
export interface UsageReportQuery {
  /** First UTC day (`YYYY-MM-DD`), included. */
  sinceDay: string
  /** Last UTC day, included. */
  untilDay: string
  kind?: UsageKind | undefined
  credentialId?: string | undefined
  /** Credentials listed at most, most recently seen first. */
  limit: number
}

/** One credential's usage over the report's days. */
export interface CredentialUsage {
  kind: UsageKind
  credentialId: string
  principal: { type: string; id: string; name: string | null }
  namespaceId: string | null
  calls: number
  firstSeenMs: number
  lastSeenMs: number
  /** Calls per route, most called first. */
  routes: { routeId: string; calls: number }[]
  /** A few distinct user agents, most recent days first. */
  userAgents: string[]
}

/** Answer of {@link queryReport}. */
export interface UsageReport {
  credentials: CredentialUsage[]
  /** More credentials matched than `limit`. */
  truncated: boolean
  /** Calls isolates could not count (their map was full) in the report's days. */
  droppedCalls: number
}

/** Totals since a day, per kind, and the credentials of one kind seen since an instant. */
export interface UsageTotalsQuery {
  sinceDay: string
  /** Credentials whose last call is at or after this instant (ms) are "active". */
  activeSinceMs: number
  /** The kind whose active credentials are listed. */
  listKind: UsageKind
  listLimit: number
}

/** Answer of {@link queryTotals}. */
export interface UsageTotals {
  byKind: Partial<Record<UsageKind, { calls: number; activeCredentials: number }>>
  /** Active credentials of `listKind`, most calls first, with their calls since `sinceDay`. */
  listed: { credentialId: string; namespaceId: string | null; principal: { type: string; id: string; name: string | null }; calls: number; lastSeenMs: number }[]
  listedTruncated: boolean
  droppedCalls: number
}

const USER_AGENTS_REPORTED = 5

type Row = Record<string, SqlStorageValue>

/** Credentials' usage over a range of days. */
export function queryReport(sql: SqlStorage, q: UsageReportQuery): UsageReport {
  const filters = ['day >= ?', 'day <= ?']
  const params: SqlStorageValue[] = [q.sinceDay, q.untilDay]
  if (q.kind) {
    filters.push('kind = ?')
    params.push(q.kind)
  }
  if (q.credentialId) {
    filters.push('credential_id = ?')
    params.push(q.credentialId)
  }
  const rows = sql
    .exec<Row>(
      `SELECT kind, credential_id, sum(calls) AS calls, min(first_seen_ms) AS first_seen_ms, max(last_seen_ms) AS last_seen_ms
       FROM usage_daily WHERE ${filters.join(' AND ')} GROUP BY kind, credential_id ORDER BY last_seen_ms DESC, credential_id LIMIT ?`,
      ...params,
      q.limit + 1,
    )
    .toArray()
  const credentials = rows.slice(0, q.limit).map((row): CredentialUsage => {
    const kind = String(row.kind) as UsageKind
    const credentialId = String(row.credential_id)
    const who = principalOf(sql, kind, credentialId)
    const routes = sql
      .exec<Row>('SELECT route_id, sum(calls) AS calls FROM usage_daily WHERE kind = ? AND credential_id = ? AND day >= ? AND day <= ? GROUP BY route_id ORDER BY calls DESC, route_id', kind, credentialId, q.sinceDay, q.untilDay)
      .toArray()
      .map((r) => ({ routeId: String(r.route_id), calls: Number(r.calls) }))
    const userAgents = sql
      .exec<Row>(
        'SELECT user_agent FROM usage_user_agent WHERE kind = ? AND credential_id = ? AND day >= ? AND day <= ? GROUP BY user_agent ORDER BY max(day) DESC, user_agent LIMIT ?',
        kind, credentialId, q.sinceDay, q.untilDay, USER_AGENTS_REPORTED,
      )
      .toArray()
      .map((r) => String(r.user_agent))
    return { kind, credentialId, ...who, calls: Number(row.calls), firstSeenMs: Number(row.first_seen_ms), lastSeenMs: Number(row.last_seen_ms), routes, userAgents }
  })
  return { credentials, truncated: rows.length > q.limit, droppedCalls: dropped(sql, q.sinceDay, q.untilDay) }
}

/** Calls per kind since a day, and the active credentials of one kind. */
export function queryTotals(sql: SqlStorage, q: UsageTotalsQuery): UsageTotals {
  const byKind: UsageTotals['byKind'] = {}
  for (const row of sql.exec<Row>('SELECT kind, sum(calls) AS calls FROM usage_daily WHERE day >= ? GROUP BY kind', q.sinceDay)) {
    byKind[String(row.kind) as UsageKind] = { calls: Number(row.calls), activeCredentials: 0 }
  }
  const active = `SELECT kind, credential_id, sum(calls) AS calls, max(last_seen_ms) AS last_seen_ms FROM usage_daily WHERE day >= ? GROUP BY kind, credential_id HAVING max(last_seen_ms) >= ?`
  for (const row of sql.exec<Row>(`SELECT kind, count(*) AS n FROM (${active}) GROUP BY kind`, q.sinceDay, q.activeSinceMs)) {
    const totals = byKind[String(row.kind) as UsageKind]
    if (totals) totals.activeCredentials = Number(row.n)
  }
  const rows = sql.exec<Row>(`SELECT * FROM (${active}) WHERE kind = ? ORDER BY calls DESC, credential_id LIMIT ?`, q.sinceDay, q.activeSinceMs, q.listKind, q.listLimit + 1).toArray()
  const listed = rows.slice(0, q.listLimit).map((row) => {
    const credentialId = String(row.credential_id)
    return { credentialId, ...principalOf(sql, q.listKind, credentialId), calls: Number(row.calls), lastSeenMs: Number(row.last_seen_ms) }
  })
  return { byKind, listed, listedTruncated: rows.length > q.listLimit, droppedCalls: dropped(sql, q.sinceDay, '9999-12-31') }
}

function principalOf(sql: SqlStorage, kind: string, credentialId: string): Pick<CredentialUsage, 'principal' | 'namespaceId'> {
  const row = sql.exec<Row>('SELECT principal_type, principal_id, principal_name, namespace_id FROM usage_credential WHERE kind = ? AND credential_id = ?', kind, credentialId).toArray()[0]
  return {
    principal: { type: String(row?.principal_type ?? 'unknown'), id: String(row?.principal_id ?? ''), name: row?.principal_name == null ? null : String(row.principal_name) },
    namespaceId: row?.namespace_id == null ? null : String(row.namespace_id),
  }
}

function dropped(sql: SqlStorage, sinceDay: string, untilDay: string): number {
  const row = sql.exec<Row>('SELECT coalesce(sum(calls), 0) AS calls FROM usage_dropped WHERE day >= ? AND day <= ?', sinceDay, untilDay).toArray()[0]
  return Number(row?.calls ?? 0)
}
