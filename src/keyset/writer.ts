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
  /** When the sources of this snapshot were read (ms), recorded in the manifest: readers count it as a successful sync. */
  sourceReadAt?: number
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
}

/** What {@link writeKeySet} did, in KV operations. */
export interface WriteKeySetResult {
  /** `false` when the stored snapshot already had this content: the manifest was not written. */
  changed: boolean
  snapshotId: string
  apiKeys: number
  shards: number
  partsWritten: number
  partsDeleted: number
  /** Parts the stored manifest named that were missing from KV and that this write put back (counted in `partsWritten` too). */
  partsRepaired: number
  /**
   * The manifest the key set has after this write: the one it switched to, or the
   * stored one that already held this snapshot. A reader in the writer's isolate
   * takes it as read (`KvKeySetStore.invalidate`), since Cloudflare does not promise
   * that a read, even where the write was made, sees it at once.
   */
  manifest?: Manifest
}

/** The non-shard parts of a snapshot as canonical JSON, ready to be hashed and stored. */
export interface PartTexts {
  config: string
  legacy?: string | undefined
  consumers?: string | undefined
  oidc?: string | undefined
}

/**
 * Checks the non-shard parts of a snapshot against the key-set schema and
 * serialises them (canonical JSON: the same content is the same part).
 * @throws {TypeError} when a part does not fit the schema.
 */
export function partTexts(snapshot: Omit<KeySetSource, 'apiKeys'>): PartTexts {
  const config = v.safeParse(ConfigPartSchema, { routes: snapshot.routes, projects: snapshot.projects, resources: snapshot.resources ?? {}, ...(snapshot.legacySchedule ? { legacySchedule: snapshot.legacySchedule } : {}) })
  if (!config.success) throw new TypeError(`writeKeySet: invalid routes or projects: ${v.summarize(config.issues)}`)
  assertValidRoutes(config.output.routes)
  const optional = (value: unknown, schema: v.GenericSchema, what: string): string | undefined => {
    if (value === undefined) return undefined
    const parsed = v.safeParse(schema, value)
    if (!parsed.success) throw new TypeError(`writeKeySet: invalid ${what}: ${v.summarize(parsed.issues)}`)
    return canonicalJson(parsed.output)
  }
  return {
    config: canonicalJson(config.output),
    legacy: optional(snapshot.legacy, LegacyPartSchema, 'legacy-token data'),
    consumers: optional(snapshot.consumers, ConsumersPartSchema, 'consumers'),
    oidc: optional(snapshot.oidc, OidcPartSchema, 'OIDC issuers'),
  }
}

/**
 * Shards a snapshot into immutable, content-addressed parts and switches the
 * manifest to it: parts first, manifest last, so a reader sees the old snapshot
 * or the new one, never a mix. Writes nothing when the content is unchanged,
 * and only the parts KV does not hold otherwise (KV allows one write a second
 * per key, and 1,000 writes a day on the free plan).
 *
 * Every write first checks, with reads only, that each part the stored manifest
 * names exists, and puts back the missing ones it holds (`partsRepaired`). A
 * retired part is deleted only past its grace period, after the switch.
 *
 * One writer at a time: for fixtures, imports and key sets written from Node, Bun
 * or Deno. The Worker's sync writes through the key-set owner, a Durable Object
 * that serialises writers (src/keyset/manifest-owner.ts, docs/storage.md).
 *
 * @throws {TypeError} when the snapshot does not fit the key-set schema; nothing is written then.
 * @example
 * ```ts
 * const result = await writeKeySet(env.KEYSET, snapshot, { source: 'import' })
 * ```
 */
export async function writeKeySet(kv: KeySetKvWriter, snapshot: KeySetSource, options: WriteKeySetOptions): Promise<WriteKeySetResult> {
  const clock = options.clock ?? Date.now
  const maxKeysPerShard = options.maxKeysPerShard ?? 512
  const graceMs = 1000 * (options.retireGraceSeconds ?? 3600)
  const texts = partTexts(snapshot)

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
  const addPart = async (text: string | undefined): Promise<string | undefined> => {
    if (text === undefined) return undefined
    const hash = (await sha256Hex(text)).slice(0, 32)
    parts.set(hash, text)
    return hash
  }
  const configHash = (await addPart(texts.config))!
  const legacyHash = await addPart(texts.legacy)
  const consumersHash = await addPart(texts.consumers)
  const oidcHash = await addPart(texts.oidc)
  const shards: Record<string, string> = {}
  for (const [prefix, keys] of [...shardKeys].sort(([a], [b]) => a.localeCompare(b))) {
    shards[prefix] = (await addPart(canonicalJson({ keys })))!
  }
  const snapshotId = await snapshotIdOf({ config: configHash!, legacy: legacyHash, consumers: consumersHash, oidc: oidcHash }, prefixLength, shards)

  const concurrency = options.concurrency ?? 6
  const putParts = (hashes: readonly string[]) => inParallel(hashes, concurrency, (hash) => kv.put(kvKeys.part(hash), parts.get(hash)!))
  const previous = await readManifest(kv)
  const now = clock()
  const result: WriteKeySetResult = { changed: false, snapshotId, apiKeys: digests.length, shards: shardKeys.size, partsWritten: 0, partsDeleted: 0, partsRepaired: 0 }
  // A part the stored manifest names can be gone (an operator deleted it): cold
  // isolates then answer 503 for it. Every write looks, so an unchanged write
  // repairs it; parts are content-addressed, so putting one back changes nothing else.
  const stored = previous ? await storedParts(kv) : new Set<string>()
  const missing = await missingParts(kv, previous ? referencedParts(previous) : [], stored, concurrency)
  const repairable = missing.filter((hash) => parts.has(hash))
  const expired = previous ? expiredParts(previous, parts, now, graceMs) : []
  if (previous?.snapshotId === snapshotId && expired.length === 0) {
    await putParts(repairable)
    return { ...result, partsWritten: repairable.length, partsRepaired: repairable.length, manifest: previous }
  }

  const toWrite = [...parts.keys()].filter((hash) => !stored.has(hash) || repairable.includes(hash))
  await putParts(toWrite)
  const sinceNow = new Date(now).toISOString()
  const retiredBefore = previous?.retired ?? []
  const retired = [
    ...retiredBefore.filter((r) => !expired.includes(r) && !parts.has(r.hash)),
    ...(previous ? referencedParts(previous) : []).filter((hash) => !parts.has(hash) && !retiredBefore.some((r) => r.hash === hash)).map((hash) => ({ hash, since: sinceNow })),
  ]
  const manifest: Manifest = {
    schema: KEYSET_SCHEMA_VERSION,
    snapshotId,
    generatedAt: previous?.snapshotId === snapshotId ? previous.generatedAt : sinceNow,
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
  await inParallel(expired, concurrency, (r) => kv.delete(kvKeys.part(r.hash)))
  return { ...result, changed: previous?.snapshotId !== snapshotId, partsWritten: toWrite.length, partsRepaired: repairable.length, partsDeleted: expired.length, manifest }
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

/** Every part a manifest names. */
export function referencedParts(manifest: Manifest): string[] {
  const optional = [manifest.legacy, manifest.consumers, manifest.oidc].filter((hash): hash is string => hash !== undefined)
  return [manifest.config, ...optional, ...Object.values(manifest.apiKeys.shards)]
}

/** Reads the current manifest, or `undefined` when none is written or it is unreadable. */
export async function readManifest(kv: Pick<KeySetKvWriter, 'get'>): Promise<Manifest | undefined> {
  return parseStored(ManifestSchema, await kv.get(kvKeys.manifest, { type: 'text' }))
}

/**
 * A snapshot's id: a hash of its parts' hashes and its shard map. The one formula for
 * `writeKeySet` and the key-set owner (owner/commit.ts), so the same content has the same id.
 */
export async function snapshotIdOf(parts: { config: string; legacy?: string | undefined; consumers?: string | undefined; oidc?: string | undefined }, prefixLength: number, shards: Record<string, string>): Promise<string> {
  return (await sha256Hex(canonicalJson({ config: parts.config, legacy: parts.legacy, consumers: parts.consumers, oidc: parts.oidc, prefixLength, shards }))).slice(0, 32)
}

/** The hashes of every part in KV: one `list` per 1,000. */
export async function storedParts(kv: Pick<KeySetKvWriter, 'list'>): Promise<Set<string>> {
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
