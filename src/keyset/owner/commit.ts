/**
 * The manifest as the owner switches it: composed from the committed one and what a
 * run built (or a revocation patched), written to KV after every part it names, and
 * the parts it stops naming retired, to be deleted by the collector once no reader
 * can still hold a manifest that names them.
 */
import { canonicalJson } from '../canonical-json.js'
import { sha256Hex } from '../digest.js'
import { kvKeys } from '../kv-keys.js'
import { KEYSET_SCHEMA_VERSION, type Manifest } from '../schema.js'
import { readManifest, referencedParts, snapshotIdOf, storedParts } from '../writer.js'
import type { CaptureEntry } from './records.js'
import { keyCount, putPart, type OwnerKv, type ShardPlan } from './shards.js'
import { readMeta, writeMeta } from './schema.js'

/** The non-shard parts of a snapshot, by hash (written with `putParts` first). */
export interface SnapshotParts {
  config: string
  legacy?: string | undefined
  consumers?: string | undefined
  oidc?: string | undefined
}

/** What a switch did. */
export interface SwitchResult {
  /** The snapshot differs from the one committed before. */
  changed: boolean
  /** The manifest was written to KV (changed, or KV did not hold the committed one). */
  manifestWritten: boolean
  snapshotId: string
  apiKeys: number
  shards: number
}

/** The committed manifest, as the owner last switched it. */
export function committedManifest(sql: SqlStorage): Manifest | undefined {
  return readMeta<Manifest>(sql, 'manifest')
}

/** KV refuses more than one write a second to a key: the manifest is never written faster. */
const MANIFEST_WRITE_INTERVAL_MS = 1000

/**
 * Makes `next` the committed manifest: every part it names marked live, every part
 * the previous manifests (the committed one, and the one KV holds if another writer
 * put it there) named and it does not retired now, the manifest written to KV last.
 */
async function switchTo(sql: SqlStorage, kv: OwnerKv, next: Manifest, stored: Manifest | undefined, now: number, wait: (ms: number) => Promise<void>): Promise<void> {
  const lastWrite = readMeta<number>(sql, 'manifestWrittenAt') ?? 0
  if (now - lastWrite < MANIFEST_WRITE_INTERVAL_MS) await wait(MANIFEST_WRITE_INTERVAL_MS - (now - lastWrite))
  await kv.put(kvKeys.manifest, JSON.stringify(next))
  writeMeta(sql, 'manifestWrittenAt', Math.max(now, lastWrite + MANIFEST_WRITE_INTERVAL_MS))
  const named = new Set(referencedParts(next))
  for (const hash of named) sql.exec('INSERT INTO parts (hash, retired_at) VALUES (?, NULL) ON CONFLICT (hash) DO UPDATE SET retired_at = NULL', hash)
  const previous = committedManifest(sql)
  const before = new Map<string, number>()
  for (const manifest of [previous, stored]) {
    if (!manifest) continue
    for (const hash of referencedParts(manifest)) before.set(hash, now)
    for (const { hash, since } of manifest.retired) before.set(hash, Math.min(before.get(hash) ?? now, Date.parse(since)))
  }
  for (const [hash, since] of before) {
    if (named.has(hash)) continue
    sql.exec('INSERT INTO parts (hash, retired_at) VALUES (?, ?) ON CONFLICT (hash) DO UPDATE SET retired_at = COALESCE(retired_at, excluded.retired_at)', hash, since)
  }
  writeMeta(sql, 'manifest', next)
}

/**
 * Commits what the run holding the lease built: the shards of its plan over the
 * committed ones, and its other parts. Writes the manifest only when the snapshot
 * changed or KV lost it.
 */
export async function commitRun(
  sql: SqlStorage,
  kv: OwnerKv,
  parts: SnapshotParts,
  options: { sourceReadAt: number; now: number; wait: (ms: number) => Promise<void> },
): Promise<SwitchResult> {
  const plan = readMeta<ShardPlan>(sql, 'plan')
  if (!plan) throw new Error('no shard plan: plan and build before committing')
  if (sql.exec('SELECT 1 FROM todo LIMIT 1').toArray().length > 0) throw new Error('shards remain to be built')
  const committed = committedManifest(sql)
  const shards: Record<string, string> = plan.rebuildAll || !committed ? {} : { ...committed.apiKeys.shards }
  for (const { prefix, hash } of sql.exec<{ prefix: string; hash: string }>('SELECT prefix, hash FROM built').toArray()) {
    if (hash === '') delete shards[prefix]
    else shards[prefix] = hash
  }
  const sorted = Object.fromEntries(Object.entries(shards).sort(([a], [b]) => a.localeCompare(b)))
  const snapshotId = await snapshotIdOf(parts, plan.prefixLength, sorted)
  const stored = await readManifest(kv)
  const count = keyCount(sql)
  const result: SwitchResult = { changed: committed?.snapshotId !== snapshotId, manifestWritten: false, snapshotId, apiKeys: count, shards: Object.keys(sorted).length }
  if (result.changed || stored?.snapshotId !== snapshotId) {
    const same = committed?.snapshotId === snapshotId ? committed : stored?.snapshotId === snapshotId ? stored : undefined
    const manifest: Manifest = {
      schema: KEYSET_SCHEMA_VERSION,
      snapshotId,
      generatedAt: same?.generatedAt ?? new Date(options.now).toISOString(),
      sourceReadAt: new Date(options.sourceReadAt).toISOString(),
      source: 'sync',
      config: parts.config,
      ...(parts.legacy ? { legacy: parts.legacy } : {}),
      ...(parts.consumers ? { consumers: parts.consumers } : {}),
      ...(parts.oidc ? { oidc: parts.oidc } : {}),
      apiKeys: { count, prefixLength: plan.prefixLength, shards: sorted },
      retired: [],
    }
    await switchTo(sql, kv, manifest, stored, options.now, options.wait)
    result.manifestWritten = true
  }
  sql.exec('DELETE FROM dirty')
  sql.exec('DELETE FROM built')
  writeMeta(sql, 'plan', undefined)
  writeMeta(sql, 'repair', undefined)
  return result
}

/**
 * Takes keys out of the committed key set at once: each shard holding one is read
 * from KV, written again without it, and the manifest switched, without waiting for
 * a run (a revocation through the admin API, or captures a registry listing no
 * longer shows). Only those shards are written.
 */
export async function patchOut(sql: SqlStorage, kv: OwnerKv, removed: readonly CaptureEntry[], options: { now: number; wait: (ms: number) => Promise<void> }): Promise<{ shardsWritten: number; keysRemoved: number; snapshotId?: string }> {
  const committed = committedManifest(sql)
  if (!committed || removed.length === 0) return { shardsWritten: 0, keysRemoved: 0 }
  const { prefixLength } = committed.apiKeys
  const byPrefix = new Map<string, Set<string>>()
  for (const { digest } of removed) {
    const prefix = digest.slice(0, prefixLength)
    if (committed.apiKeys.shards[prefix] === undefined) continue
    byPrefix.set(prefix, (byPrefix.get(prefix) ?? new Set()).add(digest))
  }
  const shards = { ...committed.apiKeys.shards }
  let keysRemoved = 0
  let shardsWritten = 0
  for (const [prefix, digests] of [...byPrefix].sort(([a], [b]) => a.localeCompare(b))) {
    const text = await kv.get(kvKeys.part(shards[prefix]!), { type: 'text' })
    // A shard KV lost is rebuilt by the next run (it verifies every part); nothing to take out here.
    if (text === null) continue
    const shard = JSON.parse(text) as { keys: Record<string, unknown> }
    const before = Object.keys(shard.keys).length
    for (const digest of digests) delete shard.keys[digest]
    const taken = before - Object.keys(shard.keys).length
    if (taken === 0) continue
    keysRemoved += taken
    if (Object.keys(shard.keys).length === 0) {
      delete shards[prefix]
      continue
    }
    const next = canonicalJson(shard)
    const hash = (await sha256Hex(next)).slice(0, 32)
    if (await putPart(sql, kv, hash, next, options.now)) shardsWritten++
    shards[prefix] = hash
  }
  if (keysRemoved === 0) return { shardsWritten: 0, keysRemoved: 0 }
  const parts: SnapshotParts = { config: committed.config, legacy: committed.legacy, consumers: committed.consumers, oidc: committed.oidc }
  const snapshotId = await snapshotIdOf(parts, prefixLength, shards)
  const manifest: Manifest = {
    ...committed,
    snapshotId,
    generatedAt: new Date(options.now).toISOString(),
    apiKeys: { count: Math.max(0, committed.apiKeys.count - keysRemoved), prefixLength, shards },
    retired: [],
  }
  await switchTo(sql, kv, manifest, undefined, options.now, options.wait)
  return { shardsWritten, keysRemoved, snapshotId }
}

/**
 * Checks that every part the committed manifest names is in KV (a `list` per 1,000
 * parts, then a `get` for each the listing lacks, since a listing lags writes). A
 * missing part is forgotten, so the run writes it again: a shard by its prefix, any
 * other part when the run puts it. Parts the owner knows that KV lost are forgotten too.
 */
export async function verifyParts(sql: SqlStorage, kv: OwnerKv): Promise<{ missing: string[] }> {
  const committed = committedManifest(sql)
  const listed = await storedParts(kv)
  for (const { hash } of sql.exec<{ hash: string }>('SELECT hash FROM parts WHERE retired_at IS NOT NULL').toArray()) {
    if (!listed.has(hash)) sql.exec('DELETE FROM parts WHERE hash = ?', hash)
  }
  const missing: string[] = []
  for (const hash of committed ? referencedParts(committed) : []) {
    if (listed.has(hash) || (await kv.get(kvKeys.part(hash), { type: 'text' })) !== null) continue
    missing.push(hash)
    sql.exec('DELETE FROM parts WHERE hash = ?', hash)
  }
  const shardPrefixes = Object.entries(committed?.apiKeys.shards ?? {}).filter(([, hash]) => missing.includes(hash)).map(([p]) => p)
  if (shardPrefixes.length > 0) writeMeta(sql, 'repair', [...new Set([...(readMeta<string[]>(sql, 'repair') ?? []), ...shardPrefixes])])
  return { missing: missing.sort() }
}

/**
 * Deletes up to `max` parts retired for longer than `graceMs` (readers holding the
 * manifest that named them have long moved on). @returns how many it deleted and
 * when the next one falls due.
 */
export async function collectParts(sql: SqlStorage, kv: OwnerKv, options: { now: number; graceMs: number; max: number }): Promise<{ deleted: number; nextDueAt?: number }> {
  const due = sql.exec<{ hash: string }>('SELECT hash FROM parts WHERE retired_at IS NOT NULL AND retired_at <= ? ORDER BY retired_at LIMIT ?', options.now - options.graceMs, options.max).toArray()
  for (const { hash } of due) {
    await kv.delete(kvKeys.part(hash))
    sql.exec('DELETE FROM parts WHERE hash = ?', hash)
  }
  const next = sql.exec<{ at: number | null }>('SELECT MIN(retired_at) AS at FROM parts WHERE retired_at IS NOT NULL').one().at
  return { deleted: due.length, ...(next === null ? {} : { nextDueAt: next + options.graceMs }) }
}
