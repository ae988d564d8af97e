/**
 * The emulator's SQLite schema (Durable Object storage). Every resource table
 * keeps its public JSON representation in `doc` and, beside it, the columns
 * that list calls filter and order on. Secrets never sit in a table: API keys
 * keep the SHA-256 digest of their secret; namespaces keep their signing key,
 * which is the platform's own secret in this play.
 */

/** Column list of a resource table, beside `seq`, `id` and `doc`. */
export const RESOURCE_TABLES = {
  api_keys: ['bearer_type', 'bearer_id', 'description', 'created_at', 'updated_at', 'expires_at', 'editable', 'secret_digest'],
  applications: ['organization_id', 'name', 'created_at', 'updated_at', 'editable'],
  users: ['organization_id', 'email', 'type', 'mfa', 'created_at', 'updated_at', 'last_login_at'],
  groups: ['organization_id', 'name', 'created_at', 'updated_at'],
  policies: ['organization_id', 'name', 'created_at', 'editable', 'principal_type', 'principal_id'],
  rules: ['policy_id', 'position'],
  namespaces: ['product', 'region', 'organization_id', 'project_id', 'name', 'created_at'],
  functions: ['region', 'namespace_id', 'organization_id', 'project_id', 'name', 'created_at'],
  containers: ['region', 'namespace_id', 'organization_id', 'project_id', 'name', 'created_at'],
  tokens: ['product', 'region', 'namespace_id', 'resource_id', 'created_at'],
} as const

/** A resource table's name. */
export type ResourceTableName = keyof typeof RESOURCE_TABLES

function resourceTableDdl(name: ResourceTableName): string[] {
  const columns = RESOURCE_TABLES[name].map((column) => `${column}`).join(', ')
  const ddl = [`CREATE TABLE IF NOT EXISTS ${name} (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, ${columns}, doc TEXT NOT NULL)`]
  for (const column of RESOURCE_TABLES[name]) {
    if (column.endsWith('_id') || column === 'name' || column === 'secret_digest' || column === 'product') {
      ddl.push(`CREATE INDEX IF NOT EXISTS ${name}_${column} ON ${name} (${column})`)
    }
  }
  return ddl
}

/** Ordered migrations; each runs once, inside the Durable Object's constructor. */
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    ...(Object.keys(RESOURCE_TABLES) as ResourceTableName[]).flatMap(resourceTableDdl),
    'CREATE TABLE IF NOT EXISTS namespace_keys (namespace_id TEXT PRIMARY KEY, private_jwk TEXT NOT NULL, public_pem TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
  ],
]

/** Brings the database to the latest schema version. Idempotent. */
export function migrate(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
  const row = sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()[0]
  let version = row?.version ?? 0
  if (row === undefined) sql.exec('INSERT INTO schema_version (version) VALUES (0)')
  while (version < MIGRATIONS.length) {
    for (const statement of MIGRATIONS[version] ?? []) sql.exec(statement)
    version += 1
    sql.exec('UPDATE schema_version SET version = ?', version)
  }
}

/** Reads a setting, or undefined. */
export function readSetting(sql: SqlStorage, key: string): string | undefined {
  return sql.exec<{ value: string }>('SELECT value FROM settings WHERE key = ?', key).toArray()[0]?.value
}

/** Writes a setting. */
export function writeSetting(sql: SqlStorage, key: string, value: string): void {
  sql.exec('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value)
}
