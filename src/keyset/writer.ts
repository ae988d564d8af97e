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
}

/**
 * Shards a snapshot into immutable, content-addressed parts and switches the
 * manifest to it: parts first, manifest last, so a reader sees the old snapshot
 * or the new one, never a mix. Writes nothing when the content is unchanged,
 * and only the parts whose content changed otherwise (KV allows one write a
 * second per key, and 1,000 writes a day on the free plan).
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

  const config = v.safeParse(ConfigPartSchema, { routes: snapshot.routes, projects: snapshot.projects, resources: snapshot.resources ?? {} })
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

  const previous = await readManifest(kv)
  const now = clock()
  const result: WriteKeySetResult = { changed: false, superseded: false, snapshotId, apiKeys: digests.length, shards: shardKeys.size, partsWritten: 0, partsDeleted: 0 }
  if (isSuperseded(previous, options.sourceReadAt)) return { ...result, superseded: true }
  if (previous?.snapshotId === snapshotId && expiredParts(previous, parts, now, graceMs).length === 0) return result

  const referencedBefore = new Set(previous ? referencedParts(previous) : [])
  const toWrite = [...parts].filter(([hash]) => !referencedBefore.has(hash))
  await inParallel(toWrite, options.concurrency ?? 6, ([hash, text]) => kv.put(kvKeys.part(hash), text))

  // Re-read just before switching: another writer may have switched meanwhile. Its
  // parts are retired with ours (none is lost from view), and a snapshot built from
  // later reads than ours is never replaced (KV has no compare-and-swap; this
  // narrows the race to the last read-then-write).
  const latest = await readManifest(kv)
  if (isSuperseded(latest, options.sourceReadAt)) {
    return { ...result, superseded: true, partsWritten: toWrite.length }
  }
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
  await inParallel(expired, options.concurrency ?? 6, (r) => kv.delete(kvKeys.part(r.hash)))
  return { ...result, changed: latest?.snapshotId !== snapshotId, partsWritten: toWrite.length, partsDeleted: expired.length }
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
