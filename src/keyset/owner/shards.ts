/**
 * Builds API-key shards from the index, one shard at a time: only the shards a
 * change touched (their digests are `dirty`), or every shard when the prefix length
 * changes. A shard is a part like any other (content-addressed, immutable), written
 * to KV only when no part of that content is there already.
 */
import * as v from 'valibot'
import { canonicalJson } from '../canonical-json.js'
import { sha256Hex } from '../digest.js'
import { kvKeys } from '../kv-keys.js'
import { ApiKeyRecordSchema, type ApiKeyRecord } from '../schema.js'
import { apiKeyRecord, type PrincipalRecord } from './records.js'
import { allPrefixes, prefixLengthFor, readMeta, writeMeta } from './schema.js'
import { currentEpoch } from './index-feed.js'

/** The build of the run holding the lease: the prefix length, and which changes it covers. */
export interface ShardPlan {
  prefixLength: number
  /** Keys the key set will hold. */
  count: number
  /** Every shard is built (the prefix length changed, or nothing was committed yet). */
  rebuildAll: boolean
  /** Dirty marks of this epoch or earlier are planned; later ones are picked up while building. */
  epoch: number
}

/** What a KV binding must do for the owner. */
export interface OwnerKv {
  get(key: string, options: { type: 'text' }): Promise<string | null>
  put(key: string, value: string): Promise<void>
  delete(key: string): Promise<void>
  list(options: { prefix: string; cursor?: string | null }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>
}

const JOINED = 'FROM captures c JOIN iam_keys k ON k.access_key = c.access_key'

/**
 * Plans the shards to build: those of the dirty digests (and of parts found missing),
 * or every prefix when the prefix length is not the committed one.
 */
export function planShards(sql: SqlStorage, committedPrefixLength: number | undefined, maxKeysPerShard?: number): ShardPlan {
  const count = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n ${JOINED}`).one().n
  const prefixLength = prefixLengthFor(count, maxKeysPerShard)
  const rebuildAll = committedPrefixLength !== prefixLength
  const epoch = currentEpoch(sql)
  sql.exec('DELETE FROM todo')
  sql.exec('DELETE FROM built')
  if (rebuildAll) {
    for (const prefix of allPrefixes(prefixLength)) sql.exec('INSERT INTO todo (prefix) VALUES (?)', prefix)
  } else {
    sql.exec('INSERT OR IGNORE INTO todo (prefix) SELECT DISTINCT substr(digest, 1, ?) FROM dirty', prefixLength)
    for (const prefix of readMeta<string[]>(sql, 'repair') ?? []) sql.exec('INSERT OR IGNORE INTO todo (prefix) VALUES (?)', prefix.slice(0, prefixLength))
  }
  // Marks made from now on belong to the next epoch: a shard they touch is built again.
  writeMeta(sql, 'epoch', epoch + 1)
  const plan: ShardPlan = { prefixLength, count, rebuildAll, epoch }
  writeMeta(sql, 'plan', plan)
  return plan
}

/** What one call of {@link buildShards} did. */
export interface BuildResult {
  built: number
  written: number
  /** Shards still to build. */
  remaining: number
  /** Records left out because they do not fit the key-set schema (IAM data the reader would refuse). */
  invalid: number
}

/**
 * Builds up to `max` planned shards, writing each new one to KV; a shard with no
 * key is dropped from the key set. Shards touched by changes marked since the plan
 * are planned again first.
 */
export async function buildShards(sql: SqlStorage, kv: OwnerKv, max: number, organizationId: string, now: number): Promise<BuildResult> {
  const plan = readMeta<ShardPlan>(sql, 'plan')
  if (!plan) throw new Error('no shard plan: plan before building')
  replanLateChanges(sql, plan)
  const prefixes = sql.exec<{ prefix: string }>('SELECT prefix FROM todo ORDER BY prefix LIMIT ?', max).toArray().map((r) => r.prefix)
  const principals = new Map<string, PrincipalRecord | undefined>()
  const principalOf = (id: string): PrincipalRecord | undefined => {
    if (!principals.has(id)) {
      const row = sql.exec<{ doc: string }>('SELECT doc FROM principals WHERE id = ?', id).toArray()[0]
      principals.set(id, row ? (JSON.parse(row.doc) as PrincipalRecord) : undefined)
    }
    return principals.get(id)
  }
  const result: BuildResult = { built: 0, written: 0, remaining: 0, invalid: 0 }
  for (const prefix of prefixes) {
    const keys: Record<string, ApiKeyRecord> = {}
    const rows = sql
      .exec<{ digest: string; kind: string | null; access_key: string; bearer_type: 'application' | 'user'; bearer_id: string; expires_at: string | null }>(
        `SELECT c.digest, c.kind, k.access_key, k.bearer_type, k.bearer_id, k.expires_at ${JOINED} WHERE c.digest >= ? AND c.digest < ? ORDER BY c.digest, c.access_key`,
        prefix,
        `${prefix}g`,
      )
      .toArray()
    for (const row of rows) {
      const record = apiKeyRecord(
        { accessKey: row.access_key, bearerType: row.bearer_type, bearerId: row.bearer_id, expiresAt: row.expires_at },
        { kind: (row.kind ?? undefined) as 'personal' | 'ci' | 'service' | undefined },
        principalOf(row.bearer_id),
        organizationId,
      )
      const checked = v.safeParse(ApiKeyRecordSchema, record)
      if (checked.success) keys[row.digest] = checked.output
      else result.invalid++
    }
    let hash = ''
    if (Object.keys(keys).length > 0) {
      const text = canonicalJson({ keys })
      hash = (await sha256Hex(text)).slice(0, 32)
      if (await putPart(sql, kv, hash, text, now)) result.written++
    }
    sql.exec('INSERT INTO built (prefix, hash) VALUES (?, ?) ON CONFLICT (prefix) DO UPDATE SET hash = excluded.hash', prefix, hash)
    sql.exec('DELETE FROM todo WHERE prefix = ?', prefix)
    result.built++
  }
  result.remaining = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM todo').one().n
  return result
}

/** Plans again the shards that changes marked after the plan touch (a revocation while this run builds). */
function replanLateChanges(sql: SqlStorage, plan: ShardPlan): void {
  const late = sql.exec<{ prefix: string }>('SELECT DISTINCT substr(digest, 1, ?) AS prefix FROM dirty WHERE epoch > ?', plan.prefixLength, plan.epoch).toArray()
  if (late.length === 0) return
  for (const { prefix } of late) {
    sql.exec('DELETE FROM built WHERE prefix = ?', prefix)
    sql.exec('INSERT OR IGNORE INTO todo (prefix) VALUES (?)', prefix)
  }
  const epoch = currentEpoch(sql)
  writeMeta(sql, 'epoch', epoch + 1)
  writeMeta(sql, 'plan', { ...plan, epoch })
}

/**
 * Puts a part into KV unless a part of that content is known to be there; a new part
 * is pending (retired now) until a manifest names it, so that the collector deletes it
 * if no manifest ever does. @returns whether it was written.
 */
export async function putPart(sql: SqlStorage, kv: OwnerKv, hash: string, text: string, now: number): Promise<boolean> {
  if (sql.exec('SELECT 1 FROM parts WHERE hash = ?', hash).toArray().length > 0) return false
  await kv.put(kvKeys.part(hash), text)
  sql.exec('INSERT INTO parts (hash, retired_at) VALUES (?, ?)', hash, now)
  return true
}

/** Keys the committed-to-be key set holds (for its manifest's count). */
export function keyCount(sql: SqlStorage): number {
  return sql.exec<{ n: number }>(`SELECT COUNT(*) AS n ${JOINED}`).one().n
}
