import * as v from 'valibot'
import { EdgeAuthError } from '../errors.js'
import { SYNC_STATUS_KEY, parseSyncStatus } from '../sync/status.js'
import { ConsumersPartSchema, OidcPartSchema } from './jwt-schema.js'
import { KV_MIN_CACHE_TTL_SECONDS, kvKeys } from './kv-keys.js'
import { PartCache } from './part-cache.js'
import {
  ApiKeyRecordSchema,
  ApiKeyShardEnvelopeSchema,
  ConfigPartSchema,
  LegacyPartSchema,
  ManifestSchema,
  type ApiKeyRecord,
  type ConfigPart,
  type Manifest,
} from './schema.js'
import type { KeySetStore, KeySetView, StoreContext } from './store.js'
import { BoundedMap } from '../util/bounded-map.js'

/** The subset of a Workers KV binding the store reads. */
export interface KeySetKvReader {
  get(key: string, options: { type: 'text'; cacheTtl?: number }): Promise<string | null>
}

/** Options of {@link KvKeySetStore}; every field has a default. */
export interface KvKeySetStoreOptions {
  /** Seconds a snapshot in memory is used before the manifest is checked again, in the background. Default 30. */
  memoryTtlSeconds?: number
  /**
   * Seconds since the manifest was last read successfully after which requests stop
   * being served from memory and wait for KV; if KV still cannot be read they get 503.
   * Default 3600.
   */
  maxStalenessSeconds?: number
  /** `cacheTtl` of manifest reads, in seconds; KV's minimum is 30. Default 30. */
  manifestCacheTtlSeconds?: number
  /** `cacheTtl` of part reads, in seconds (parts are immutable). Default 3600. */
  partCacheTtlSeconds?: number
  /**
   * Seconds since the last successful IAM sync after which a synced key set is
   * too old to trust and requests get 503. Unset: no limit. The age is judged
   * from the sync status in KV (and the manifest's `sourceReadAt`), re-read before
   * refusing when this store's copy is older than `memoryTtlSeconds`, so an idle
   * isolate does not refuse on an old reading. Must exceed the sync interval plus
   * the sync's status heartbeat (an unchanged sync records its success at most
   * once per heartbeat) plus KV's propagation (up to 60 s).
   */
  maxSyncAgeSeconds?: number
  /** Parsed parts other than API-key shards (config, legacy, consumers, OIDC) kept in memory, least recently used evicted first. Default 16. */
  maxCachedParts?: number
  /**
   * API-key shards kept in memory, least recently used evicted first, bounded by
   * count and by the size of their JSON (a parsed shard takes about four times
   * that): an isolate holds at most this much of a large key set, and reads an
   * evicted shard again from KV (cached at the edge). Defaults: 256 shards, 8 MiB.
   */
  shardCache?: { maxEntries?: number; maxBytes?: number }
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
}

/** Where parsed parts are kept: {@link BoundedMap} (counted) or {@link PartCache} (counted and sized). */
interface PartMemo {
  get(hash: string): unknown
  set(hash: string, value: unknown, bytes: number): unknown
}

interface Loaded {
  manifest: Manifest
  view: KeySetView
  /** When the manifest was last read and found valid (ms). */
  confirmedAt: number
  /**
   * The latest successful sync this store has read (ms): the status's `lastSuccessAt`,
   * or when the sync that wrote the manifest read its sources, whichever is later.
   */
  syncedAt: number | undefined
}

/**
 * Refreshes that started this long ago (or one memory TTL, if shorter) are presumed
 * lost: a `waitUntil` promise may never settle once its request's context has ended.
 */
const REFRESH_ABANDONED_MS = 10_000

/**
 * How long after this isolate handled a manifest it wrote a read of KV may still
 * return an older one: Cloudflare says a change is "usually" visible at once where
 * it was made, later where the key was read recently, and up to 60 s elsewhere.
 * Added to the manifest's `cacheTtl`.
 */
const OWN_WRITE_LAG_MS = 60_000

/**
 * The key set as a Worker reads it: from Workers KV, through module memory.
 *
 * A warm request reads no KV: the snapshot and the parts already parsed are in
 * memory, and once `memoryTtlSeconds` pass the manifest is re-read in the
 * background (`waitUntil`). A cold request reads the manifest, the config part
 * and one API-key shard, with its own promises: no request ever awaits work
 * another request started (the Workers runtime forbids I/O across requests).
 *
 * @throws {TypeError} from the constructor when an option is out of range,
 *   including a cache TTL under KV's 30-second minimum.
 * @example
 * ```ts
 * const store = new KvKeySetStore(env.KEYSET, { memoryTtlSeconds: 30 })
 * ```
 */
export class KvKeySetStore implements KeySetStore {
  readonly #kv: KeySetKvReader
  readonly #memoryTtlMs: number
  readonly #maxStalenessMs: number
  readonly #manifestCacheTtl: number
  readonly #partCacheTtl: number
  readonly #maxSyncAgeMs: number | undefined
  readonly #clock: () => number
  readonly #parts: BoundedMap<string, unknown>
  readonly #shards: PartCache<unknown>
  /** Records already checked, by their raw object (dropped with their shard). */
  readonly #checked = new WeakMap<object, ApiKeyRecord>()
  #loaded: Loaded | undefined
  #refreshStartedAt: number | undefined
  #lastError: string | undefined
  /** Bumped by {@link invalidate}; the snapshot in memory is out of date while a read started since has not succeeded. */
  #generation = 0
  /** The latest generation at which a read started that then succeeded. */
  #confirmedGeneration = 0
  /** The manifest handed to {@link invalidate}, used by the next read instead of KV's. */
  #written: Manifest | undefined
  /** Until then (ms), a manifest read from KV that is older than the one in memory does not replace it. */
  #keepNewerUntil = 0

  constructor(kv: KeySetKvReader, options: KvKeySetStoreOptions = {}) {
    this.#kv = kv
    this.#memoryTtlMs = 1000 * positive('memoryTtlSeconds', options.memoryTtlSeconds ?? 30)
    this.#maxStalenessMs = 1000 * positive('maxStalenessSeconds', options.maxStalenessSeconds ?? 3600)
    if (this.#maxStalenessMs < this.#memoryTtlMs) {
      throw new TypeError('KvKeySetStore: maxStalenessSeconds must not be less than memoryTtlSeconds')
    }
    this.#manifestCacheTtl = kvCacheTtl('manifestCacheTtlSeconds', options.manifestCacheTtlSeconds ?? 30)
    this.#partCacheTtl = kvCacheTtl('partCacheTtlSeconds', options.partCacheTtlSeconds ?? 3600)
    // Other parts are counted, not sized: one of each per snapshot, and a request needs the current ones whole.
    this.#parts = new BoundedMap(positive('maxCachedParts', options.maxCachedParts ?? 16))
    // Shards are sized as well as counted: their number grows with the key set.
    this.#shards = new PartCache(options.shardCache)
    this.#clock = options.clock ?? Date.now
    this.#maxSyncAgeMs = options.maxSyncAgeSeconds === undefined ? undefined : 1000 * positive('maxSyncAgeSeconds', options.maxSyncAgeSeconds)
  }

  /** The last background refresh failure, if the latest attempt failed (no credential material). */
  get lastError(): string | undefined {
    return this.#lastError
  }

  /**
   * Tells the store that the key set has just changed (the admin API calls it once its
   * sync has written): the next {@link current} reads the key set before it answers,
   * instead of serving memory until `memoryTtlSeconds` have passed. If that read fails,
   * memory keeps serving as before (a KV outage is never a reason to refuse what
   * memory holds) and the following request tries again.
   *
   * @param written The manifest a writer in this isolate has just written (or found
   *   already holding its snapshot). The next read takes it as read, without reading
   *   the manifest back from KV, which Cloudflare does not promise to show at once even
   *   where it was written; and for the next `60 s + manifestCacheTtlSeconds` a manifest
   *   read from KV that is older than it does not replace it.
   * @example
   * ```ts
   * const outcome = await runSync(deps)
   * if (outcome.write) store.invalidate(outcome.write.manifest)
   * ```
   */
  invalidate(written?: Manifest): void {
    this.#generation += 1
    if (written !== undefined) this.#written = written
  }

  async current(context: StoreContext): Promise<KeySetView> {
    const now = this.#clock()
    const loaded = this.#loaded
    if (loaded && this.#confirmedGeneration < this.#generation) {
      const refreshed = await this.#refresh().catch(() => undefined)
      if (refreshed) return this.#fresh(refreshed, now)
    }
    if (loaded) {
      const age = now - loaded.confirmedAt
      if (age < this.#memoryTtlMs) return this.#fresh(loaded, now)
      // A sync age judged from memory older than the TTL may only mean this isolate
      // has not looked lately (it was idle): it reads KV now, below, before refusing.
      if (age < this.#maxStalenessMs && this.#syncAgeAllows(loaded, now)) {
        const started = this.#refreshStartedAt
        if (started === undefined || now - started > Math.min(REFRESH_ABANDONED_MS, this.#memoryTtlMs)) {
          this.#refreshStartedAt = now
          context.waitUntil(this.#refresh().catch(() => undefined).finally(() => (this.#refreshStartedAt = undefined)))
        }
        return this.#fresh(loaded, now)
      }
    }
    let refreshed: Loaded
    try {
      refreshed = await this.#refresh()
    } catch (cause) {
      throw new EdgeAuthError('keyset_unavailable', `key set unavailable: ${describe(cause)}`, { retryAfterSeconds: 30 }, { cause })
    }
    return this.#fresh(refreshed, now)
  }

  /** Refuses a synced key set whose last successful sync is older than allowed. */
  #fresh(loaded: Loaded, now: number): KeySetView {
    if (!this.#syncAgeAllows(loaded, now)) {
      const since = loaded.syncedAt === undefined ? 'never recorded' : new Date(loaded.syncedAt).toISOString()
      throw new EdgeAuthError('keyset_unavailable', `key set too old: last successful sync ${since}`, { retryAfterSeconds: 60 })
    }
    return loaded.view
  }

  /** Is the last successful sync this store has read recent enough (always, for a key set that no sync wrote)? */
  #syncAgeAllows(loaded: Loaded, now: number): boolean {
    if (this.#maxSyncAgeMs === undefined || loaded.manifest.source !== 'sync') return true
    return loaded.syncedAt !== undefined && now - loaded.syncedAt <= this.#maxSyncAgeMs
  }

  async #refresh(): Promise<Loaded> {
    const generation = this.#generation
    const written = this.#written
    try {
      const [manifest, syncedAt] = written ? [written, undefined] : await this.#readManifest()
      const now = this.#clock()
      if (written) this.#keepNewerUntil = now + OWN_WRITE_LAG_MS + 1000 * this.#manifestCacheTtl
      const previous = this.#loaded
      // For a while after this isolate's own write, this location's KV may still serve
      // an older manifest, and a writer's manifest may be older than one another writer
      // switched to since: no news then, only a sign that KV answers.
      const older = previous !== undefined && (written !== undefined || now < this.#keepNewerUntil) && builtBefore(manifest, previous.manifest)
      if (previous && (older || previous.manifest.snapshotId === manifest.snapshotId)) {
        previous.confirmedAt = Math.max(previous.confirmedAt, now)
        previous.syncedAt = latest(previous.syncedAt, syncedAt, syncReadAt(manifest))
        return this.#succeeded(previous, generation, written)
      }
      const config = await this.#part(manifest.config, ConfigPartSchema, 'config', this.#parts)
      const loaded: Loaded = { manifest, view: this.#view(manifest, config), confirmedAt: now, syncedAt: latest(syncedAt, syncReadAt(manifest)) }
      // A slower refresh must not replace a newer snapshot that finished first.
      if (!this.#loaded || this.#loaded.confirmedAt <= now) this.#loaded = loaded
      return this.#succeeded(loaded, generation, written)
    } catch (error) {
      this.#lastError = describe(error)
      throw error
    }
  }

  async #readManifest(): Promise<[Manifest, number | undefined]> {
    const [text, syncedAt] = await Promise.all([
      this.#kv.get(kvKeys.manifest, { type: 'text', cacheTtl: this.#manifestCacheTtl }),
      this.#maxSyncAgeMs === undefined ? undefined : this.#lastSyncSuccess(),
    ])
    if (text === null) throw new Error('no key set has been written yet (manifest missing)')
    return [parseJson(ManifestSchema, text, 'manifest'), syncedAt]
  }

  /** A read that started at `generation` succeeded: memory is up to date as of then. */
  #succeeded(loaded: Loaded, generation: number, written: Manifest | undefined): Loaded {
    this.#confirmedGeneration = Math.max(this.#confirmedGeneration, generation)
    if (written !== undefined && this.#written === written) this.#written = undefined
    this.#lastError = undefined
    return loaded
  }

  async #lastSyncSuccess(): Promise<number | undefined> {
    const status = parseSyncStatus(await this.#kv.get(SYNC_STATUS_KEY, { type: 'text', cacheTtl: this.#manifestCacheTtl }))
    return status?.lastSuccessAt ? Date.parse(status.lastSuccessAt) : undefined
  }

  #view(manifest: Manifest, config: ConfigPart): KeySetView {
    const { prefixLength, shards } = manifest.apiKeys
    return {
      snapshotId: manifest.snapshotId,
      generatedAt: manifest.generatedAt,
      routes: config.routes,
      organizationOf: (projectId) => (Object.hasOwn(config.projects, projectId) ? config.projects[projectId] : undefined),
      resource: (id) => (Object.hasOwn(config.resources, id) ? config.resources[id] : undefined),
      legacySchedule: config.legacySchedule,
      legacy: () => this.#optionalPart(manifest.legacy, LegacyPartSchema, 'legacy-token'),
      consumers: () => this.#optionalPart(manifest.consumers, ConsumersPartSchema, 'consumers'),
      oidc: () => this.#optionalPart(manifest.oidc, OidcPartSchema, 'OIDC'),
      findApiKey: async (digest) => {
        const hash = shards[digest.slice(0, prefixLength)]
        if (hash === undefined) return undefined
        let shard: v.InferOutput<typeof ApiKeyShardEnvelopeSchema>
        try {
          shard = await this.#part(hash, ApiKeyShardEnvelopeSchema, 'api-key shard', this.#shards)
        } catch (cause) {
          throw new EdgeAuthError('keyset_unavailable', `key set shard unavailable: ${describe(cause)}`, { retryAfterSeconds: 30 }, { cause })
        }
        if (!Object.hasOwn(shard.keys, digest)) return undefined
        return this.#record(hash, digest, shard.keys[digest])
      },
    }
  }

  /** A part the manifest may name; unreadable means unavailable (503), never "no such credential". */
  async #optionalPart<S extends v.GenericSchema>(hash: string | undefined, schema: S, what: string): Promise<v.InferOutput<S> | undefined> {
    if (hash === undefined) return undefined
    try {
      return await this.#part(hash, schema, what, this.#parts)
    } catch (cause) {
      throw new EdgeAuthError('keyset_unavailable', `${what} part unavailable: ${describe(cause)}`, { retryAfterSeconds: 30 }, { cause })
    }
  }

  /** Checks one record of a shard the first time it is looked up; the checked record replaces the raw one. */
  #record(hash: string, digest: string, raw: unknown): ApiKeyRecord {
    const checked = this.#checked.get(raw as object)
    if (checked) return checked
    const parsed = v.safeParse(ApiKeyRecordSchema, raw)
    if (!parsed.success) {
      throw new EdgeAuthError('keyset_unavailable', `api-key shard part ${hash}: record ${digest.slice(0, 8)}… does not fit the schema`, { retryAfterSeconds: 30 })
    }
    this.#checked.set(raw as object, parsed.output)
    return parsed.output
  }

  async #part<S extends v.GenericSchema>(hash: string, schema: S, what: string, cache: PartMemo): Promise<v.InferOutput<S>> {
    const cached = cache.get(hash)
    if (cached !== undefined) return cached as v.InferOutput<S>
    const text = await this.#kv.get(kvKeys.part(hash), { type: 'text', cacheTtl: this.#partCacheTtl })
    if (text === null) throw new Error(`${what} part ${hash} is missing`)
    const parsed = parseJson(schema, text, `${what} part ${hash}`)
    cache.set(hash, parsed, text.length)
    return parsed
  }
}

/** When the sync that wrote this manifest read its sources: a success the reader can see without the status. */
function syncReadAt(manifest: Manifest): number | undefined {
  return manifest.source === 'sync' && manifest.sourceReadAt !== undefined ? Date.parse(manifest.sourceReadAt) : undefined
}

/** Was `a` built from earlier reads than `b` (by `sourceReadAt`, else `generatedAt`)? */
function builtBefore(a: Manifest, b: Manifest): boolean {
  return Date.parse(a.sourceReadAt ?? a.generatedAt) < Date.parse(b.sourceReadAt ?? b.generatedAt)
}

function latest(...instants: (number | undefined)[]): number | undefined {
  const known = instants.filter((at): at is number => at !== undefined)
  return known.length === 0 ? undefined : Math.max(...known)
}

function parseJson<S extends v.GenericSchema>(schema: S, text: string, what: string): v.InferOutput<S> {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error(`${what} is not valid JSON`)
  }
  const result = v.safeParse(schema, json)
  if (!result.success) throw new Error(`${what} does not fit the schema: ${v.summarize(result.issues).slice(0, 300)}`)
  return result.output
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`KvKeySetStore: ${name} must be a positive number, got ${value}`)
  return value
}

function kvCacheTtl(name: string, value: number): number {
  if (!Number.isInteger(value) || value < KV_MIN_CACHE_TTL_SECONDS) {
    throw new TypeError(`KvKeySetStore: ${name} must be an integer of at least ${KV_MIN_CACHE_TTL_SECONDS} (the Workers KV minimum cacheTtl), got ${value}`)
  }
  return value
}
