/**
 * The key set's shapes, as stored in Workers KV (docs/storage.md) and as held in
 * memory. Every value read from KV is checked against these schemas: a value
 * that does not fit is unreadable, and the last good key set keeps serving.
 *
 * Objects are not strict on purpose: a reader ignores fields a newer writer
 * added, so the writer can be upgraded before the readers.
 */
import * as v from 'valibot'
import { RouteCorsSchema } from './cors-schema.js'
import { ConsumersPartSchema, OidcPartSchema, RouteAuthSchema } from './jwt-schema.js'
import { LegacyScheduleSchema } from './legacy-schedule-schema.js'

/** The schema generation; part of every KV key (`keyset/v1/…`). */
export const KEYSET_SCHEMA_VERSION = 1

const Uuid = v.pipe(v.string(), v.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i))
const Sha256Hex = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))
const PartHash = v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/))
const IsoTime = v.pipe(v.string(), v.isoTimestamp())
const HttpMethod = v.pipe(v.string(), v.regex(/^[A-Z]+$/))
const ShardPrefix = v.pipe(v.string(), v.regex(/^[0-9a-f]{1,3}$/))

/** One IAM rule compiled for a principal: permission sets on a scope, under an optional CEL condition. */
export const GrantSchema = v.object({
  permissionSets: v.array(v.string()),
  scope: v.variant('type', [
    v.object({ type: v.literal('organization'), organizationId: Uuid }),
    v.object({ type: v.literal('projects'), projectIds: v.array(Uuid) }),
  ]),
  /** A CEL expression; a grant with a condition the gateway cannot evaluate never allows. */
  condition: v.optional(v.string()),
})
export type Grant = v.InferOutput<typeof GrantSchema>

/** Who an API key belongs to. */
export const BearerSchema = v.object({
  type: v.picklist(['application', 'user']),
  id: Uuid,
  name: v.optional(v.string()),
})
export type Bearer = v.InferOutput<typeof BearerSchema>

/** What the gateway knows of one IAM API key. The secret itself is never stored. */
export const ApiKeyRecordSchema = v.object({
  /** The key's public identifier (`SCW…`), safe to log and to send to origins. */
  accessKey: v.pipe(v.string(), v.regex(/^SCW[0-9A-Z]{17}$/)),
  bearer: BearerSchema,
  organizationId: Uuid,
  /** Key kind (personal, CI, service), when recorded; routes may accept only some kinds. */
  kind: v.optional(v.picklist(['personal', 'ci', 'service'])),
  /** `null` when the key never expires. */
  expiresAt: v.nullable(IsoTime),
  /** Organisation owners pass every permission check, as in IAM. */
  owner: v.optional(v.boolean(), false),
  grants: v.array(GrantSchema),
})
export type ApiKeyRecord = v.InferOutput<typeof ApiKeyRecordSchema>

/** What a route forwards to. */
export const TargetSchema = v.object({
  url: v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//)),
  kind: v.picklist(['function', 'container']),
  projectId: Uuid,
  organizationId: v.optional(Uuid),
  namespaceId: v.optional(Uuid),
  resourceId: v.optional(Uuid),
  resourceName: v.optional(v.string()),
  /** A private origin gets the gateway's origin credential; a public one does not. */
  privacy: v.picklist(['private', 'public']),
})
export type Target = v.InferOutput<typeof TargetSchema>

/** One entry of the route table. */
export const RouteSchema = v.object({
  id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-_.]{0,62}$/i)),
  /** Path prefixes, matched on segment boundaries after normalisation. */
  paths: v.pipe(v.array(v.pipe(v.string(), v.regex(/^\/(?:[^/?#]+(?:\/[^/?#]+)*)?$/))), v.minLength(1)),
  /** Accepted methods; absent means every method. */
  methods: v.optional(v.array(HttpMethod)),
  /** Remove the matched prefix before forwarding (Kong's `strip_path`). */
  stripPath: v.optional(v.boolean(), true),
  target: TargetSchema,
  /** Credential sources, accepted kinds, anonymous consumer, allow-lists. */
  auth: v.optional(RouteAuthSchema, {}),
  /** CORS: preflights answered at the edge, responses decorated; absent means no CORS (docs/routes.md). */
  cors: v.optional(RouteCorsSchema),
})
export type Route = v.InferOutput<typeof RouteSchema>

/** A function or container the serverless API reported (for legacy tokens and `resource.*` conditions). */
export const ResourceSchema = v.object({
  kind: v.picklist(['function', 'container']),
  name: v.string(),
  namespaceId: Uuid,
  /** The namespace's name, for `resource.namespace_name` and the CLI. */
  namespaceName: v.optional(v.string()),
  projectId: Uuid,
  /** The region the sync read it from (`fr-par`), for `resource.region` / `resource.locality`. */
  region: v.optional(v.string()),
  privacy: v.picklist(['private', 'public']),
})
export type Resource = v.InferOutput<typeof ResourceSchema>

/** The small part every request needs: routes, the project → organisation map, the resource map. */
export const ConfigPartSchema = v.object({
  routes: v.array(RouteSchema),
  projects: v.record(Uuid, Uuid),
  resources: v.optional(v.record(Uuid, ResourceSchema), {}),
  /** The legacy-token schedule set through the admin API; absent: the `LEGACY_*` vars apply. */
  legacySchedule: v.optional(LegacyScheduleSchema),
})
export type ConfigPart = v.InferOutput<typeof ConfigPartSchema>

/** Legacy serverless JWT material: captured namespace public keys and the live token ids. */
export const LegacyPartSchema = v.object({
  namespaces: v.record(
    Uuid,
    v.object({
      kind: v.picklist(['function', 'container']),
      projectId: Uuid,
      /** PKCS#1 PEM, captured when a token was minted through the gateway, or registered. */
      publicKeyPem: v.optional(v.string()),
    }),
  ),
  /** Live tokens by id (the JWT's `jti`); a token absent here is revoked. */
  tokens: v.record(
    Uuid,
    v.object({ namespaceId: Uuid, resourceId: v.optional(Uuid), expiresAt: v.nullable(IsoTime) }),
  ),
})
export type LegacyPart = v.InferOutput<typeof LegacyPartSchema>

/** One shard of API keys: every key whose digest starts with the shard's prefix. */
export const ApiKeyShardSchema = v.object({
  keys: v.record(Sha256Hex, ApiKeyRecordSchema),
})
export type ApiKeyShard = v.InferOutput<typeof ApiKeyShardSchema>

/**
 * A shard's envelope as a reader checks it on read; each record is checked
 * against {@link ApiKeyRecordSchema} when it is first looked up, so a cold
 * lookup does not validate the ~400 records it does not need.
 */
export const ApiKeyShardEnvelopeSchema = v.object({
  keys: v.record(Sha256Hex, v.unknown()),
})

/**
 * The manifest names every part of one snapshot by content hash. It is written
 * last, so a reader sees either the old snapshot or the new one, never a mix.
 */
export const ManifestSchema = v.object({
  schema: v.literal(KEYSET_SCHEMA_VERSION),
  snapshotId: PartHash,
  generatedAt: IsoTime,
  /** When the sync began reading the sources of this snapshot; a writer never replaces a snapshot with a later one. */
  sourceReadAt: v.optional(IsoTime),
  source: v.picklist(['fixture', 'sync', 'import']),
  config: PartHash,
  /** The legacy-token part, once a sync has produced one. */
  legacy: v.optional(PartHash),
  /** Consumers and their JWT credentials, when there are any. */
  consumers: v.optional(PartHash),
  /** OIDC issuers and their JWKS, when there are any. */
  oidc: v.optional(PartHash),
  apiKeys: v.object({
    count: v.pipe(v.number(), v.integer(), v.minValue(0)),
    /** Hex digits of the digest that select a shard (1 → 16 shards, 2 → 256, 3 → 4096). */
    prefixLength: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3)),
    /** Non-empty shards only: a prefix absent here has no keys. */
    shards: v.record(ShardPrefix, PartHash),
  }),
  /** Parts no longer referenced, deleted by a later write once their grace period has passed. */
  retired: v.optional(v.array(v.object({ hash: PartHash, since: IsoTime })), []),
})
export type Manifest = v.InferOutput<typeof ManifestSchema>

/** A whole snapshot as a writer builds it, before it is sharded into parts. */
export interface KeySetSource {
  routes: v.InferInput<typeof RouteSchema>[]
  /** Project id → organisation id. */
  projects: Record<string, string>
  /** Functions and containers by id. */
  resources?: v.InferInput<typeof ConfigPartSchema>['resources']
  legacy?: v.InferInput<typeof LegacyPartSchema>
  /** The legacy-token schedule (docs/migration.md); absent: the gateway's `LEGACY_*` settings apply. */
  legacySchedule?: v.InferInput<typeof LegacyScheduleSchema>
  consumers?: v.InferInput<typeof ConsumersPartSchema>
  oidc?: v.InferInput<typeof OidcPartSchema>
  /** API keys by the SHA-256 hex digest of their secret. */
  apiKeys: Record<string, v.InferInput<typeof ApiKeyRecordSchema>>
}

export { Uuid as UuidSchema, Sha256Hex as Sha256HexSchema }
