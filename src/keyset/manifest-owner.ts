/**
 * The key-set owner: the one writer of the key set (docs/storage.md, "The key-set
 * owner"). A Durable Object (binding `KEYSET_WRITER`, one instance named
 * {@link KEYSET_OWNER_NAME}) that holds in SQLite the index of what the sync read,
 * builds the shards that changed, writes every part and switches the manifest. Each
 * call runs alone (`blockConcurrencyWhile`), so two syncs never interleave: one run
 * at a time holds the writer lease, a stale run is fenced off, and the manifest is
 * switched by compare-and-swap on the owner's own record of it.
 */
import { DurableObject } from 'cloudflare:workers'
import { SYNC_STATUS_KEY, nextStatus, parseSyncStatus, statusNeedsWrite, type RunReport, type SyncStatus } from '../sync/status.js'
import { sha256Hex } from './digest.js'
import type { Manifest } from './schema.js'
import { commitRun, committedManifest, collectParts, patchOut, verifyParts, type SnapshotParts, type SwitchResult } from './owner/commit.js'
import { applyPrincipals, clearIamKeys, confirmIamKeys, feedCaptures, feedIamKeys, markDirty, nextSuspects, type KeyRange } from './owner/index-feed.js'
import { begin, currentLease, hold, release, type BeginResult, type Lease } from './owner/lease.js'
import type { CaptureEntry, IamKeyEntry } from './owner/records.js'
import { migrate, readMeta } from './owner/schema.js'
import { buildShards, planShards, putPart, type BuildResult, type OwnerKv, type ShardPlan } from './owner/shards.js'

export { KEYSET_OWNER_NAME } from './owner/schema.js'

/** The bindings the owner uses. */
export interface ManifestOwnerEnv {
  KEYSET: KVNamespace
  /** Seconds a retired part stays in KV for readers of an older manifest. Default 3600. */
  KEYSET_RETIRE_GRACE_SECONDS?: string
}

/**
 * Every result carries the KV operations the owner made for it (its share of the
 * call's subrequests), and how many of them were writes (puts and deletes).
 */
export type Counted<T> = T & { kvOps: number; kvWrites: number }

/** The non-shard parts of a snapshot, as canonical JSON text. */
export interface PartTexts {
  config: string
  legacy?: string | undefined
  consumers?: string | undefined
  oidc?: string | undefined
}

/** One page of a listing ordered by access key, with the range it covers. */
export interface RangePage<T> {
  range: KeyRange
  items: T[]
}

/** What the owner holds, for the admin status and tests. */
export interface OwnerState {
  lease: Lease | null
  queued: string | null
  snapshotId: string | null
  index: { captures: number; iamKeys: number; principals: number; dirty: number; revocations: number }
  parts: { live: number; retired: number }
}

/** Parts deleted per alarm at most (each a KV delete). */
const COLLECT_BATCH = 200

/**
 * The key-set owner (see the module comment). Calls that need the lease take the
 * run id and throw `lease lost: …` when the run no longer holds it.
 */
export class ManifestOwner extends DurableObject<ManifestOwnerEnv> {
  /** Runs `task` alone, with the schema in place and KV counted. */
  async #exclusive<T extends object>(task: (sql: SqlStorage, kv: OwnerKv, now: number) => Promise<T> | T): Promise<Counted<T>> {
    // An error thrown out of blockConcurrencyWhile resets the object: it is carried out as a value.
    const settled = await this.ctx.blockConcurrencyWhile(async (): Promise<{ result: Counted<T> } | { error: unknown }> => {
      try {
        const sql = this.ctx.storage.sql
        migrate(sql)
        const kv = new CountedKv(this.env.KEYSET)
        const result = await task(sql, kv, Date.now())
        return { result: { ...result, kvOps: kv.ops, kvWrites: kv.writes } }
      } catch (error) {
        return { error }
      }
    })
    if ('error' in settled) throw settled.error
    return settled.result
  }

  /** As {@link #exclusive}, for the run holding the lease (renewed). */
  #asHolder<T extends object>(runId: string, task: (sql: SqlStorage, kv: OwnerKv, now: number, lease: Lease) => Promise<T> | T): Promise<Counted<T>> {
    return this.#exclusive((sql, kv, now) => task(sql, kv, now, hold(sql, runId, now)))
  }

  /** Asks for the writer lease (see src/keyset/owner/lease.ts). */
  begin(request: { runId: string; reason: string; requestedAt: number; leaseSeconds: number }): Promise<Counted<BeginResult>> {
    return this.#exclusive((sql, _kv, now) => begin(sql, { ...request, leaseMs: 1000 * request.leaseSeconds }, now))
  }

  /** Checks every part the committed manifest names is in KV; a missing one is written again by this run. */
  verifyParts(runId: string): Promise<Counted<{ missing: string[] }>> {
    return this.#asHolder(runId, (sql, kv) => verifyParts(sql, kv))
  }

  /** Writes the non-shard parts KV does not hold yet. @returns their hashes. */
  putParts(runId: string, texts: PartTexts): Promise<Counted<SnapshotParts & { written: number }>> {
    return this.#asHolder(runId, async (sql, kv, now) => {
      let written = 0
      const put = async (text: string | undefined): Promise<string | undefined> => {
        if (text === undefined) return undefined
        const hash = (await sha256Hex(text)).slice(0, 32)
        if (await putPart(sql, kv, hash, text, now)) written++
        return hash
      }
      const config = (await put(texts.config))!
      return { config, legacy: await put(texts.legacy), consumers: await put(texts.consumers), oidc: await put(texts.oidc), written }
    })
  }

  /** Stages org-sized sources (applications, users, groups, policies, rules, compiled principals) for this run. */
  stage(runId: string, kind: string, items: { id: string; doc: string }[]): Promise<Counted<{ staged: number }>> {
    return this.#asHolder(runId, (sql) => {
      for (const { id, doc } of items) sql.exec('INSERT INTO stage (kind, id, doc) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc', kind, id, doc)
      return { staged: items.length }
    })
  }

  /** What this run staged of one kind. */
  staged(runId: string, kind: string): Promise<Counted<{ items: { id: string; doc: string }[] }>> {
    return this.#asHolder(runId, (sql) => ({ items: sql.exec<{ id: string; doc: string }>('SELECT id, doc FROM stage WHERE kind = ? ORDER BY id', kind).toArray() }))
  }

  /** Replaces the principals with those staged (kind `principal`). */
  applyPrincipals(runId: string): Promise<Counted<{ changed: number; principals: number }>> {
    return this.#asHolder(runId, (sql) => applyPrincipals(sql))
  }

  /**
   * Brings the captured digests to what registry pages list; captures that left are
   * taken out of the committed key set at once (their shards only).
   */
  feedCaptures(runId: string, pages: RangePage<CaptureEntry>[]): Promise<Counted<{ changed: number; removed: number; shardsPatched: number }>> {
    return this.#asHolder(runId, async (sql, kv, now) => {
      let changed = 0
      const removed: CaptureEntry[] = []
      for (const page of pages) {
        const fed = feedCaptures(sql, page.range, page.items, now)
        changed += fed.changed
        removed.push(...fed.removed)
      }
      const patched = await patchOut(sql, kv, removed, { now, wait: sleep })
      if (patched.keysRemoved > 0) await this.#scheduleCollection()
      return { changed, removed: removed.length, shardsPatched: patched.shardsWritten }
    })
  }

  /** Brings the IAM keys to what pages of the listing hold; keys a page lacks become suspects. */
  feedIamKeys(runId: string, pages: RangePage<IamKeyEntry>[]): Promise<Counted<{ changed: number; suspects: number }>> {
    return this.#asHolder(runId, (sql) => {
      let changed = 0
      let suspects = 0
      for (const page of pages) {
        const fed = feedIamKeys(sql, page.range, page.items)
        changed += fed.changed
        suspects += fed.suspects
      }
      return { changed, suspects }
    })
  }

  /** Keys the listing missed, to read one by one. */
  suspects(runId: string, limit: number): Promise<Counted<{ accessKeys: string[] }>> {
    return this.#asHolder(runId, (sql) => ({ accessKeys: nextSuspects(sql, limit) }))
  }

  /** Settles suspects with what a direct read found (`null`: IAM no longer has the key). */
  confirmIamKeys(runId: string, results: { accessKey: string; key: IamKeyEntry | null }[]): Promise<Counted<{ changed: number }>> {
    return this.#asHolder(runId, (sql) => confirmIamKeys(sql, results))
  }

  /** Without IAM: no API key in the key set. */
  clearIamKeys(runId: string): Promise<Counted<{ changed: number }>> {
    return this.#asHolder(runId, (sql) => clearIamKeys(sql))
  }

  /** Plans the shards this run builds. */
  planShards(runId: string, options: { maxKeysPerShard?: number } = {}): Promise<Counted<ShardPlan & { todo: number }>> {
    return this.#asHolder(runId, (sql) => {
      const plan = planShards(sql, committedManifest(sql)?.apiKeys.prefixLength, options.maxKeysPerShard)
      return { ...plan, todo: sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM todo').one().n }
    })
  }

  /** Builds up to `max` planned shards (each new one a KV write). */
  buildShards(runId: string, options: { max: number; organizationId: string }): Promise<Counted<BuildResult>> {
    return this.#asHolder(runId, (sql, kv, now) => buildShards(sql, kv, options.max, options.organizationId, now))
  }

  /**
   * Switches the manifest to what this run built (after building what changes made
   * since its last build touched). Compare-and-swap on the owner's record: only the
   * lease holder switches, from the manifest the owner last committed.
   */
  commit(runId: string, input: { parts: SnapshotParts; sourceReadAt: number; organizationId: string }): Promise<Counted<SwitchResult & { lateShards: number }>> {
    return this.#asHolder(runId, async (sql, kv, now) => {
      let lateShards = 0
      for (;;) {
        const build = await buildShards(sql, kv, 64, input.organizationId, now)
        lateShards += build.built
        if (build.remaining === 0) break
      }
      const result = await commitRun(sql, kv, input.parts, { sourceReadAt: input.sourceReadAt, now, wait: sleep })
      await this.#scheduleCollection()
      return { ...result, lateShards }
    })
  }

  /**
   * Records how the run ended in the sync status (`sync/v1/status`, written only
   * when it changed or the heartbeat is due) and releases the lease. A run that lost
   * its lease records nothing.
   */
  finish(runId: string, report: RunReport & { heartbeatSeconds: number }): Promise<Counted<{ status: SyncStatus | null; statusWritten: boolean }>> {
    return this.#exclusive(async (sql, kv, now) => {
      if (currentLease(sql, now)?.runId !== runId) return { status: null, statusWritten: false }
      const previous = parseSyncStatus(await kv.get(SYNC_STATUS_KEY, { type: 'text' }))
      const status = nextStatus(previous, report)
      const statusWritten = statusNeedsWrite(previous, status, 1000 * report.heartbeatSeconds, report.at)
      if (statusWritten) await kv.put(SYNC_STATUS_KEY, JSON.stringify(status))
      release(sql, runId, now)
      return { status, statusWritten }
    })
  }

  /**
   * Revokes keys now, without the lease: their captures leave the index (and stay
   * out while a registry listing older than now may still show them), and the
   * shards holding them in the committed key set are rewritten without them.
   */
  revoke(accessKeys: string[]): Promise<Counted<{ keysRemoved: number; shardsWritten: number; snapshotId: string | null }>> {
    return this.#exclusive(async (sql, kv, now) => {
      const removed: CaptureEntry[] = []
      for (const accessKey of new Set(accessKeys)) {
        const row = sql.exec<{ digest: string }>('SELECT digest FROM captures WHERE access_key = ?', accessKey).toArray()[0]
        if (!row) continue
        sql.exec('INSERT INTO revocations (access_key, digest, at) VALUES (?, ?, ?) ON CONFLICT (access_key) DO UPDATE SET digest = excluded.digest, at = excluded.at', accessKey, row.digest, now)
        sql.exec('DELETE FROM captures WHERE access_key = ?', accessKey)
        markDirty(sql, row.digest)
        removed.push({ accessKey, digest: row.digest })
      }
      const patched = await patchOut(sql, kv, removed, { now, wait: sleep })
      if (patched.keysRemoved > 0) await this.#scheduleCollection()
      return { keysRemoved: patched.keysRemoved, shardsWritten: patched.shardsWritten, snapshotId: patched.snapshotId ?? committedManifest(sql)?.snapshotId ?? null }
    })
  }

  /**
   * The committed manifest, as the owner last switched it: what a sync or a revocation
   * left in KV, for the isolate that asked for it to take as read (`KvKeySetStore.invalidate`).
   */
  manifest(): Promise<Counted<{ manifest: Manifest | null }>> {
    return this.#exclusive((sql) => ({ manifest: committedManifest(sql) ?? null }))
  }

  /** What the owner holds now. */
  inspect(): Promise<Counted<OwnerState>> {
    return this.#exclusive((sql, _kv, now) => {
      const count = (table: string, where = '') => sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}${where}`).one().n
      return {
        lease: currentLease(sql, now) ?? null,
        queued: readMeta<{ runId: string }>(sql, 'queued')?.runId ?? null,
        snapshotId: committedManifest(sql)?.snapshotId ?? null,
        index: { captures: count('captures'), iamKeys: count('iam_keys'), principals: count('principals'), dirty: count('dirty'), revocations: count('revocations') },
        parts: { live: count('parts', ' WHERE retired_at IS NULL'), retired: count('parts', ' WHERE retired_at IS NOT NULL') },
      }
    })
  }

  /** Deletes parts retired past their grace period, never while a run holds the lease (it may reuse one). */
  override async alarm(): Promise<void> {
    const graceMs = 1000 * Number(this.env.KEYSET_RETIRE_GRACE_SECONDS || 3600)
    const next = await this.#exclusive(async (sql, kv, now) => {
      if (currentLease(sql, now)) return { at: now + 60_000 }
      const collected = await collectParts(sql, kv, { now, graceMs, max: COLLECT_BATCH })
      return { at: collected.deleted === COLLECT_BATCH ? now + 1000 : collected.nextDueAt }
    })
    if (next.at !== undefined) await this.ctx.storage.setAlarm(next.at)
  }

  async #scheduleCollection(): Promise<void> {
    const graceMs = 1000 * Number(this.env.KEYSET_RETIRE_GRACE_SECONDS || 3600)
    const oldest = this.ctx.storage.sql.exec<{ at: number | null }>('SELECT MIN(retired_at) AS at FROM parts WHERE retired_at IS NOT NULL').one().at
    if (oldest === null) return
    const due = oldest + graceMs
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > due) await this.ctx.storage.setAlarm(due)
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The owner's KV binding, each operation counted. */
class CountedKv implements OwnerKv {
  ops = 0
  writes = 0
  constructor(private readonly kv: KVNamespace) {}
  get(key: string, options: { type: 'text' }): Promise<string | null> {
    this.ops++
    return this.kv.get(key, options)
  }
  put(key: string, value: string): Promise<void> {
    this.ops++
    this.writes++
    return this.kv.put(key, value)
  }
  delete(key: string): Promise<void> {
    this.ops++
    this.writes++
    return this.kv.delete(key)
  }
  list(options: { prefix: string; cursor?: string | null }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }> {
    this.ops++
    return this.kv.list(options)
  }
}
