/**
 * The SQLite schema of the key-set owner (src/keyset/manifest-owner.ts). Three groups
 * of tables (docs/storage.md, "The key-set owner"):
 *
 * - the **index**: what the sync last read of IAM and the registry, kept from one sync to
 *   the next so that a sync writes rows (and shards) only for what changed: `captures`
 *   (registry digests), `iam_keys`, `principals` (each bearer's compiled grants),
 *   `revocations` (keys revoked through the admin API, kept out while older reads may
 *   still list them), `dirty` (digests whose record may have changed since their shard
 *   was last built, with the epoch of the change: a change made while a run builds is
 *   built again);
 * - the **key set**: `parts` (every part in KV, with when it was retired; pending until a
 *   manifest names it), `meta` (the committed manifest, the lease, the build plan);
 * - the **run** holding the lease: `stage` (org-sized sources, read page by page),
 *   `suspects` (keys a listing missed, to confirm), `todo` and `built` (shards to build
 *   and built). They are emptied when a run begins.
 */

const SCHEMA: readonly (readonly string[])[] = [
  [
    'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS captures (access_key TEXT PRIMARY KEY, digest TEXT NOT NULL, kind TEXT, captured_at TEXT)',
    'CREATE INDEX IF NOT EXISTS captures_digest ON captures (digest)',
    'CREATE TABLE IF NOT EXISTS iam_keys (access_key TEXT PRIMARY KEY, bearer_type TEXT NOT NULL, bearer_id TEXT NOT NULL, expires_at TEXT)',
    'CREATE INDEX IF NOT EXISTS iam_keys_bearer ON iam_keys (bearer_id)',
    'CREATE TABLE IF NOT EXISTS principals (id TEXT PRIMARY KEY, doc TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS revocations (access_key TEXT PRIMARY KEY, digest TEXT NOT NULL, at INTEGER NOT NULL)',
    'CREATE TABLE IF NOT EXISTS dirty (digest TEXT PRIMARY KEY, epoch INTEGER NOT NULL)',
    'CREATE TABLE IF NOT EXISTS parts (hash TEXT PRIMARY KEY, retired_at INTEGER)',
    'CREATE TABLE IF NOT EXISTS stage (kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, id))',
    'CREATE TABLE IF NOT EXISTS suspects (access_key TEXT PRIMARY KEY)',
    'CREATE TABLE IF NOT EXISTS todo (prefix TEXT PRIMARY KEY)',
    'CREATE TABLE IF NOT EXISTS built (prefix TEXT PRIMARY KEY, hash TEXT NOT NULL)',
  ],
]

/** Tables a run starts with empty. */
export const RUN_TABLES = ['stage', 'suspects', 'todo', 'built'] as const

/** Brings the database to the latest schema. Idempotent and cheap: run on every call. */
export function migrate(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
  const row = sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()[0]
  let version = row?.version ?? 0
  if (row === undefined) sql.exec('INSERT INTO schema_version (version) VALUES (0)')
  while (version < SCHEMA.length) {
    for (const statement of SCHEMA[version] ?? []) sql.exec(statement)
    version += 1
    sql.exec('UPDATE schema_version SET version = ?', version)
  }
}

/** A JSON value of the `meta` table, or `undefined`. */
export function readMeta<T>(sql: SqlStorage, key: string): T | undefined {
  const row = sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]
  return row === undefined ? undefined : (JSON.parse(row.value) as T)
}

/** Writes (or, with `undefined`, deletes) a JSON value of the `meta` table. */
export function writeMeta(sql: SqlStorage, key: string, value: unknown): void {
  if (value === undefined) sql.exec('DELETE FROM meta WHERE key = ?', key)
  else sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, JSON.stringify(value))
}

/** The first `length` hex digits of a digest: its shard. */
export function prefixOf(digest: string, length: number): string {
  return digest.slice(0, length)
}

/** Every shard prefix of `length` hex digits: 16, 256 or 4,096. */
export function allPrefixes(length: number): string[] {
  return Array.from({ length: 16 ** length }, (_, i) => i.toString(16).padStart(length, '0'))
}

/**
 * Hex digits of the digest that select a shard, for `count` keys: 16, 256 or 4,096
 * shards, so that a shard holds about `maxKeysPerShard` keys at most (as `writeKeySet`).
 */
export function prefixLengthFor(count: number, maxKeysPerShard = 512): number {
  return count <= 16 * maxKeysPerShard ? 1 : count <= 256 * maxKeysPerShard ? 2 : 3
}

/**
 * The name of the one owner instance (per key-set schema generation). Here rather than in
 * manifest-owner.ts so that the sync's client (and what imports it in Node) need not load
 * `cloudflare:workers`.
 */
export const KEYSET_OWNER_NAME = 'keyset/v1'
