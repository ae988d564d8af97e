/**
 * The index of what the sync read, kept up to date by range: a page of a listing
 * ordered by access key covers the range from the previous page's last key to its
 * own, so a key in that range the page does not hold is gone from the listing. Only
 * what changed is written, and the digests whose record may have changed are marked
 * `dirty`, so that only their shards are built again (docs/storage.md).
 */
import { canonicalJson } from '../canonical-json.js'
import { readMeta } from './schema.js'
import type { CaptureEntry, IamKeyEntry, PrincipalRecord } from './records.js'

/** Access keys after `after` up to and including `until`; `null` is unbounded. */
export interface KeyRange {
  after: string | null
  until: string | null
}

/** How long a revocation keeps a capture out, in ms: longer than a registry listing may lag (KV `list`: 60 s). */
export const REVOCATION_HOLD_MS = 3_600_000

function rangeWhere(range: KeyRange): { sql: string; params: string[] } {
  const clauses: string[] = []
  const params: string[] = []
  if (range.after !== null) {
    clauses.push('access_key > ?')
    params.push(range.after)
  }
  if (range.until !== null) {
    clauses.push('access_key <= ?')
    params.push(range.until)
  }
  return { sql: clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '', params }
}

function inRange(accessKey: string, range: KeyRange): boolean {
  return (range.after === null || accessKey > range.after) && (range.until === null || accessKey <= range.until)
}

const UPSERT_DIRTY = 'ON CONFLICT (digest) DO UPDATE SET epoch = excluded.epoch'

/** Marks a digest dirty in the current epoch. */
export function markDirty(sql: SqlStorage, digest: string): void {
  sql.exec(`INSERT INTO dirty (digest, epoch) VALUES (?, ?) ${UPSERT_DIRTY}`, digest, currentEpoch(sql))
}

/** Marks the digest captured for an access key, if any. */
function markKeyDirty(sql: SqlStorage, accessKey: string): void {
  sql.exec(`INSERT INTO dirty (digest, epoch) SELECT digest, ? FROM captures WHERE access_key = ? ${UPSERT_DIRTY}`, currentEpoch(sql), accessKey)
}

/** The epoch changes are marked in; a build plan moves to the next one. */
export function currentEpoch(sql: SqlStorage): number {
  return readMeta<number>(sql, 'epoch') ?? 0
}

/**
 * Brings the captures in `range` to what one registry page lists. A capture a
 * revocation newer than it holds out counts as absent.
 * @returns the rows written and the captures that left the index (for a quick patch of their shards).
 */
export function feedCaptures(sql: SqlStorage, range: KeyRange, entries: readonly CaptureEntry[], now: number): { changed: number; removed: CaptureEntry[] } {
  sql.exec('DELETE FROM revocations WHERE at < ?', now - REVOCATION_HOLD_MS)
  const revoked = new Map(sql.exec<{ access_key: string; at: number }>('SELECT access_key, at FROM revocations').toArray().map((r) => [r.access_key, r.at]))
  const where = rangeWhere(range)
  const existing = new Map(
    sql.exec<{ access_key: string; digest: string; kind: string | null }>(`SELECT access_key, digest, kind FROM captures${where.sql}`, ...where.params).toArray().map((r) => [r.access_key, r]),
  )
  let changed = 0
  const seen = new Set<string>()
  for (const entry of entries) {
    const revokedAt = revoked.get(entry.accessKey)
    if (revokedAt !== undefined && revokedAt >= Date.parse(entry.capturedAt ?? '1970-01-01T00:00:00Z')) continue
    if (revokedAt !== undefined) sql.exec('DELETE FROM revocations WHERE access_key = ?', entry.accessKey)
    seen.add(entry.accessKey)
    const row = existing.get(entry.accessKey) ?? sql.exec<{ access_key: string; digest: string; kind: string | null }>('SELECT access_key, digest, kind FROM captures WHERE access_key = ?', entry.accessKey).toArray()[0]
    if (row && row.digest === entry.digest && (row.kind ?? undefined) === entry.kind) continue
    if (row) markDirty(sql, row.digest)
    sql.exec(
      'INSERT INTO captures (access_key, digest, kind, captured_at) VALUES (?, ?, ?, ?) ON CONFLICT (access_key) DO UPDATE SET digest = excluded.digest, kind = excluded.kind, captured_at = excluded.captured_at',
      entry.accessKey,
      entry.digest,
      entry.kind ?? null,
      entry.capturedAt ?? null,
    )
    markDirty(sql, entry.digest)
    changed++
  }
  const removed: CaptureEntry[] = []
  for (const [accessKey, row] of existing) {
    if (seen.has(accessKey) || !inRange(accessKey, range)) continue
    sql.exec('DELETE FROM captures WHERE access_key = ?', accessKey)
    markDirty(sql, row.digest)
    removed.push({ accessKey, digest: row.digest })
    changed++
  }
  return { changed, removed }
}

/**
 * Brings the IAM keys in `range` to what one page of the listing holds. A key of the
 * index the page does not hold becomes a suspect: it is deleted only once a direct
 * read confirms it is gone (an offset listing shifts when keys are deleted meanwhile).
 */
export function feedIamKeys(sql: SqlStorage, range: KeyRange, keys: readonly IamKeyEntry[]): { changed: number; suspects: number } {
  const where = rangeWhere(range)
  const existing = new Map(
    sql
      .exec<{ access_key: string; bearer_type: string; bearer_id: string; expires_at: string | null }>(`SELECT access_key, bearer_type, bearer_id, expires_at FROM iam_keys${where.sql}`, ...where.params)
      .toArray()
      .map((r) => [r.access_key, r]),
  )
  let changed = 0
  const seen = new Set<string>()
  for (const key of keys) {
    seen.add(key.accessKey)
    if (upsertIamKey(sql, key, existing.get(key.accessKey))) changed++
    sql.exec('DELETE FROM suspects WHERE access_key = ?', key.accessKey)
  }
  let suspects = 0
  for (const accessKey of existing.keys()) {
    if (seen.has(accessKey) || !inRange(accessKey, range)) continue
    sql.exec('INSERT OR IGNORE INTO suspects (access_key) VALUES (?)', accessKey)
    suspects++
  }
  return { changed, suspects }
}

/** Writes one IAM key if it is new or changed; @returns whether it did. */
function upsertIamKey(sql: SqlStorage, key: IamKeyEntry, row?: { bearer_type: string; bearer_id: string; expires_at: string | null }): boolean {
  const current = row ?? sql.exec<{ bearer_type: string; bearer_id: string; expires_at: string | null }>('SELECT bearer_type, bearer_id, expires_at FROM iam_keys WHERE access_key = ?', key.accessKey).toArray()[0]
  if (current && current.bearer_type === key.bearerType && current.bearer_id === key.bearerId && current.expires_at === key.expiresAt) return false
  sql.exec(
    'INSERT INTO iam_keys (access_key, bearer_type, bearer_id, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (access_key) DO UPDATE SET bearer_type = excluded.bearer_type, bearer_id = excluded.bearer_id, expires_at = excluded.expires_at',
    key.accessKey,
    key.bearerType,
    key.bearerId,
    key.expiresAt,
  )
  markKeyDirty(sql, key.accessKey)
  return true
}

/** Keys a listing missed, to read one by one. */
export function nextSuspects(sql: SqlStorage, limit: number): string[] {
  return sql.exec<{ access_key: string }>('SELECT access_key FROM suspects ORDER BY access_key LIMIT ?', limit).toArray().map((r) => r.access_key)
}

/** Settles suspects: a key IAM no longer has (`null`) leaves the index; one it has is kept, as IAM shows it. */
export function confirmIamKeys(sql: SqlStorage, results: readonly { accessKey: string; key: IamKeyEntry | null }[]): { changed: number } {
  let changed = 0
  for (const { accessKey, key } of results) {
    sql.exec('DELETE FROM suspects WHERE access_key = ?', accessKey)
    if (key) {
      if (upsertIamKey(sql, key)) changed++
      continue
    }
    if (sql.exec('SELECT 1 FROM iam_keys WHERE access_key = ?', accessKey).toArray().length === 0) continue
    markKeyDirty(sql, accessKey)
    sql.exec('DELETE FROM iam_keys WHERE access_key = ?', accessKey)
    changed++
  }
  return { changed }
}

/** Without IAM the key set holds no API key: every IAM key leaves the index. */
export function clearIamKeys(sql: SqlStorage): { changed: number } {
  sql.exec(`INSERT INTO dirty (digest, epoch) SELECT c.digest, ? FROM captures c JOIN iam_keys k ON k.access_key = c.access_key WHERE true ${UPSERT_DIRTY}`, currentEpoch(sql))
  return { changed: sql.exec('DELETE FROM iam_keys').rowsWritten }
}

/**
 * Replaces the principals with those staged by this run (`stage` rows of kind
 * `principal`), writing only those that changed and marking their keys dirty.
 */
export function applyPrincipals(sql: SqlStorage): { changed: number; principals: number } {
  const staged = new Map(sql.exec<{ id: string; doc: string }>("SELECT id, doc FROM stage WHERE kind = 'principal'").toArray().map((r) => [r.id, r.doc]))
  const current = new Map(sql.exec<{ id: string; doc: string }>('SELECT id, doc FROM principals').toArray().map((r) => [r.id, r.doc]))
  const touched: string[] = []
  for (const [id, doc] of staged) {
    if (current.get(id) === doc) continue
    sql.exec('INSERT INTO principals (id, doc) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc', id, doc)
    touched.push(id)
  }
  for (const id of current.keys()) {
    if (staged.has(id)) continue
    sql.exec('DELETE FROM principals WHERE id = ?', id)
    touched.push(id)
  }
  for (const id of touched) {
    sql.exec(`INSERT INTO dirty (digest, epoch) SELECT c.digest, ? FROM iam_keys k JOIN captures c ON c.access_key = k.access_key WHERE k.bearer_id = ? ${UPSERT_DIRTY}`, currentEpoch(sql), id)
  }
  return { changed: touched.length, principals: staged.size }
}

/** The stored form of a principal: canonical, so an unchanged one compares equal. */
export function principalDoc(record: PrincipalRecord): string {
  return canonicalJson(record)
}
