import { parseStored } from '../util/stored-json.js'
import * as v from 'valibot'
import { inParallel } from '../util/in-parallel.js'
import { canonicalJson } from './canonical-json.js'
import { ConsumersPartSchema, OidcPartSchema } from './jwt-schema.js'
import { assertValidRoutes } from './validate-routes.js'
import { sha256Hex } from './digest.js'
import { kvKeys } from './kv-keys.js'
import {
  ApiKeyRecordSchema,
  ConfigPartSchema,
  KEYSET_SCHEMA_VERSION,
  LegacyPartSchema,
  ManifestSchema,
  Sha256HexSchema,
  type KeySetSource,
  type Manifest,
} from './schema.js'

/** The subset of a Workers KV binding the writer uses. */
export interface KeySetKvWriter {
  get(key: string, options: { type: 'text' }): Promise<string | null>
  put(key: string, value: string): Promise<void>
  delete(key: string): Promise<void>
  /** Lists the stored parts, to check that every part the manifest names exists (1,000 keys a call). */
  list(options: { prefix: string; cursor?: string | null }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>
}

/** Options of {@link writeKeySet}. */
export interface WriteKeySetOptions {
  /** Where the snapshot came from; recorded in the manifest. */
  source: Manifest['source']
  /** Most API keys a shard should hold; picks 16, 256 or 4,096 shards. Default 512. */
  maxKeysPerShard?: number
  /** Seconds a part stays in KV after it stopped being referenced, for readers of the previous manifest. Default 3600. */
  retireGraceSeconds?: number
  /** Parallel KV writes; a Worker may hold 6 connections open. Default 6. */
  concurrency?: number
  /**
   * When the sources of this snapshot were first read (ms). A stored snapshot built
   * from later reads is never replaced by this one: overlapping syncs (Cron, admin)
   * cannot bring back an older key set.
   */
  sourceReadAt?: number
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
}

/** What {@link writeKeySet} did, in KV operations. */
export interface WriteKeySetResult {
  /** `false` when the stored snapshot already had this content, or was newer: the manifest was not written. */
  changed: boolean
  /** `true` when a snapshot built from later reads was already stored; this one was dropped. */
  superseded: boolean
  snapshotId: string
  apiKeys: number
  shards: number
  partsWritten: number
  partsDeleted: number
  /** Parts the stored manifest named that were missing from KV and that this write put back (counted in `partsWritten` too). */
  partsRepaired: number
  /**
   * Parts the stored manifest names that are missing from KV and that this write
   * could not put back, because it does not hold them (a snapshot built from later
   * reads names them). Cold isolates answer 503 for what they hold until a sync
   * that has them runs. Empty when the key set is whole.
   */
  partsMissing: string[]
  /**
   * The manifest the key set has after this write: the one it switched to, or the
   * stored one that already held this snapshot. Absent when `superseded`. A reader in
   * the writer's isolate takes it as read (`KvKeySetStore.invalidate`), since
   * Cloudflare does not promise that a read, even where the write was made, sees it at once.
   */
  manifest?: Manifest
}

/**
 * Shards a snapshot into immutable, content-addressed parts and switches the
 * manifest to it: parts first, manifest last, so a reader sees the old snapshot
 * or the new one, never a mix. Writes nothing when the content is unchanged,
 * and only the parts whose content changed otherwise (KV allows one write a
 * second per key, and 1,000 writes a day on the free plan).
 *
 * Every write first checks, with reads only, that each part the stored manifest
 * names exists, and puts back the missing ones it holds (`partsRepaired`, or
 * `partsMissing` for those it does not hold). A retired part is deleted only
 * past its grace period, after the switch, and only if the manifest read after
 * the switch does not name it; a part the write brought back is looked at again
 * after the switch. So writers overlapping each other (Cron, admin changes)
 * leave the manifest naming a deleted part only in a narrow window, and the
 * next write repairs it (docs/storage.md, "Overlapping syncs").
 *
 * @throws {TypeError} when the snapshot does not fit the key-set schema; nothing is written then.
 * @example
 * ```ts
 * const result = await writeKeySet(env.KEYSET, snapshot, { source: 'sync' })
 * ```
 */
export async function writeKeySet(kv: KeySetKvWriter, snapshot: KeySetSource, options: WriteKeySetOptions): Promise<WriteKeySetResult> {
  const clock = options.clock ?? Date.now
  const maxKeysPerShard = options.maxKeysPerShard ?? 512
  const graceMs = 1000 * (options.retireGraceSeconds ?? 3600)

  const config = v.safeParse(ConfigPartSchema, { routes: snapshot.routes, projects: snapshot.projects, resources: snapshot.resources ?? {}, ...(snapshot.legacySchedule ? { legacySchedule: snapshot.legacySchedule } : {}) })
  if (!config.success) throw new TypeError(`writeKeySet: invalid routes or projects: ${v.summarize(config.issues)}`)
  assertValidRoutes(config.output.routes)

  const digests = Object.keys(snapshot.apiKeys).sort()
  const prefixLength = digests.length <= 16 * maxKeysPerShard ? 1 : digests.length <= 256 * maxKeysPerShard ? 2 : 3
  const shardKeys = new Map<string, Record<string, unknown>>()
  for (const digest of digests) {
    if (!v.is(Sha256HexSchema, digest)) throw new TypeError('writeKeySet: an API key is not indexed by a lower-case SHA-256 hex digest')
    const record = v.safeParse(ApiKeyRecordSchema, snapshot.apiKeys[digest])
    if (!record.success) throw new TypeError(`writeKeySet: invalid API key ${digest.slice(0, 8)}…: ${v.summarize(record.issues)}`)
    const prefix = digest.slice(0, prefixLength)
    let keys = shardKeys.get(prefix)
    if (!keys) shardKeys.set(prefix, (keys = {}))
    keys[digest] = record.output
  }

  const parts = new Map<string, string>()
  const addPart = async (value: unknown): Promise<string> => {
    const text = canonicalJson(value)
    const hash = (await sha256Hex(text)).slice(0, 32)
    parts.set(hash, text)
    return hash
  }
  const configHash = await addPart(config.output)
  const optionalPart = async (value: unknown, schema: v.GenericSchema, what: string): Promise<string | undefined> => {
    if (value === undefined) return undefined
    const parsed = v.safeParse(schema, value)
    if (!parsed.success) throw new TypeError(`writeKeySet: invalid ${what}: ${v.summarize(parsed.issues)}`)
    return addPart(parsed.output)
  }
  const legacyHash = await optionalPart(snapshot.legacy, LegacyPartSchema, 'legacy-token data')
  const consumersHash = await optionalPart(snapshot.consumers, ConsumersPartSchema, 'consumers')
  const oidcHash = await optionalPart(snapshot.oidc, OidcPartSchema, 'OIDC issuers')
  const shards: Record<string, string> = {}
  for (const [prefix, keys] of [...shardKeys].sort(([a], [b]) => a.localeCompare(b))) {
    shards[prefix] = await addPart({ keys })
  }
  const snapshotId = (await sha256Hex(canonicalJson({ config: configHash, legacy: legacyHash, consumers: consumersHash, oidc: oidcHash, prefixLength, shards }))).slice(0, 32)

  const concurrency = options.concurrency ?? 6
  const putParts = (hashes: readonly string[]) => inParallel(hashes, concurrency, (hash) => kv.put(kvKeys.part(hash), parts.get(hash)!))
  const previous = await readManifest(kv)
  const now = clock()
  const result: WriteKeySetResult = {
    changed: false,
    superseded: false,
    snapshotId,
    apiKeys: digests.length,
    shards: shardKeys.size,
    partsWritten: 0,
    partsDeleted: 0,
    partsRepaired: 0,
    partsMissing: [],
  }
  // A part the stored manifest names can be gone (a writer overlapping another
  // deleted it, or an operator did): cold isolates then answer 503 for it. Every
  // write looks, so an unchanged sync repairs it; parts are content-addressed, so
  // putting back one this snapshot holds cannot change the snapshot.
  const stored = previous ? await storedParts(kv) : new Set<string>()
  const missing = await missingParts(kv, previous ? referencedParts(previous) : [], stored, concurrency)
  const repairable = missing.filter((hash) => parts.has(hash))
  const unrepairable = missing.filter((hash) => !parts.has(hash))
  if (isSuperseded(previous, options.sourceReadAt)) {
    await putParts(repairable)
    return { ...result, superseded: true, partsWritten: repairable.length, partsRepaired: repairable.length, partsMissing: unrepairable }
  }
  if (previous?.snapshotId === snapshotId && expiredParts(previous, parts, now, graceMs).length === 0) {
    await putParts(repairable)
    return { ...result, partsWritten: repairable.length, partsRepaired: repairable.length, manifest: previous }
  }

  const referencedBefore = new Set(previous ? referencedParts(previous) : [])
  const toWrite = [...parts.keys()].filter((hash) => !referencedBefore.has(hash) || repairable.includes(hash))
  await putParts(toWrite)
  const written = { partsWritten: toWrite.length, partsRepaired: repairable.length }

  // Re-read just before switching: another writer may have switched meanwhile. Its
  // parts are retired with ours (none is lost from view), and a snapshot built from
  // later reads than ours is never replaced (KV has no compare-and-swap; this
  // narrows the race to the last read-then-write).
  const latest = await readManifest(kv)
  if (isSuperseded(latest, options.sourceReadAt)) return { ...result, ...written, superseded: true }
  // Only parts a previous generation retired, past their grace period: never one
  // this write retires, which a writer that read the manifest before this switch
  // may still be reusing.
  const expired = latest ? expiredParts(latest, parts, now, graceMs) : []
  const sinceNow = new Date(now).toISOString()
  const retiredBefore = latest?.retired ?? []
  const retired = [
    ...retiredBefore.filter((r) => !expired.includes(r) && !parts.has(r.hash)),
    ...(latest ? referencedParts(latest) : []).filter((hash) => !parts.has(hash) && !retiredBefore.some((r) => r.hash === hash)).map((hash) => ({ hash, since: sinceNow })),
  ]
  const manifest: Manifest = {
    schema: KEYSET_SCHEMA_VERSION,
    snapshotId,
    generatedAt: latest?.snapshotId === snapshotId ? latest.generatedAt : sinceNow,
    ...(options.sourceReadAt !== undefined ? { sourceReadAt: new Date(options.sourceReadAt).toISOString() } : {}),
    source: options.source,
    config: configHash,
    ...(legacyHash ? { legacy: legacyHash } : {}),
    ...(consumersHash ? { consumers: consumersHash } : {}),
    ...(oidcHash ? { oidc: oidcHash } : {}),
    apiKeys: { count: digests.length, prefixLength, shards },
    retired,
  }
  await kv.put(kvKeys.manifest, JSON.stringify(manifest))
  // A part this write brought back (it was in KV already, retired, or missing) may
  // have been deleted meanwhile by an overlapping writer that found it retired past
  // its grace: look again now that the manifest names it, and put back what is gone.
  const retiredSeen = new Set([...(previous?.retired ?? []), ...retiredBefore].map((r) => r.hash))
  const revived = toWrite.filter((hash) => stored.has(hash) || retiredSeen.has(hash) || repairable.includes(hash))
  const lost = await missingParts(kv, revived, new Set(), concurrency)
  await putParts(lost)
  const deleted = expired.length > 0 ? await deleteUnnamed(kv, expired.map((r) => r.hash), concurrency) : 0
  return {
    ...result,
    changed: latest?.snapshotId !== snapshotId,
    partsWritten: written.partsWritten + lost.length,
    partsRepaired: written.partsRepaired + lost.length,
    partsDeleted: deleted,
    manifest,
  }
}

/**
 * Deletes the parts the manifest, read again after this writer's switch, does not
 * name: a writer that overlapped this one may have written one of them again and
 * switched to a manifest naming it. Deletes nothing when that manifest cannot be read.
 */
async function deleteUnnamed(kv: KeySetKvWriter, hashes: readonly string[], concurrency: number): Promise<number> {
  const after = await readManifest(kv)
  if (!after) return 0
  const named = new Set(referencedParts(after))
  const deletable = hashes.filter((hash) => !named.has(hash))
  await inParallel(deletable, concurrency, (hash) => kv.delete(kvKeys.part(hash)))
  return deletable.length
}

/**
 * The named parts that are not in KV: a `get` for each one not `listed`, which
 * confirms what a `list` lacks (it lags writes made elsewhere). Reads only.
 */
async function missingParts(kv: KeySetKvWriter, named: readonly string[], listed: ReadonlySet<string>, concurrency: number): Promise<string[]> {
  const missing: string[] = []
  await inParallel([...new Set(named)].filter((hash) => !listed.has(hash)), concurrency, async (hash) => {
    if ((await kv.get(kvKeys.part(hash), { type: 'text' })) === null) missing.push(hash)
  })
  return missing.sort()
}

/** Retired parts past their grace period that the new snapshot does not use again. */
function expiredParts(manifest: Manifest, parts: ReadonlyMap<string, string>, now: number, graceMs: number): Manifest['retired'] {
  return manifest.retired.filter((r) => now - Date.parse(r.since) >= graceMs && !parts.has(r.hash))
}

/** Was the stored snapshot built from reads that started after ours? Then ours is older news. */
function isSuperseded(stored: Manifest | undefined, sourceReadAt: number | undefined): boolean {
  return sourceReadAt !== undefined && stored?.sourceReadAt !== undefined && Date.parse(stored.sourceReadAt) > sourceReadAt
}

/** Every part a manifest names. */
export function referencedParts(manifest: Manifest): string[] {
  const optional = [manifest.legacy, manifest.consumers, manifest.oidc].filter((hash): hash is string => hash !== undefined)
  return [manifest.config, ...optional, ...Object.values(manifest.apiKeys.shards)]
}

/** Reads the current manifest, or `undefined` when none is written or it is unreadable. */
export async function readManifest(kv: Pick<KeySetKvWriter, 'get'>): Promise<Manifest | undefined> {
  return parseStored(ManifestSchema, await kv.get(kvKeys.manifest, { type: 'text' }))
}

/** The hashes of every part in KV: one `list` per 1,000. */
async function storedParts(kv: Pick<KeySetKvWriter, 'list'>): Promise<Set<string>> {
  const prefix = kvKeys.part('')
  const listed = new Set<string>()
  let cursor: string | undefined
  do {
    const page = await kv.list({ prefix, ...(cursor ? { cursor } : {}) })
    for (const { name } of page.keys) listed.add(name.slice(prefix.length))
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return listed
}
