/**
 * Every operation of the admin API, for its OpenAPI description
 * (`GET /openapi.json`): the request schemas are the ones the endpoints check
 * bodies and queries with, imported from their modules; the answers are
 * described by the schemas below. A test checks that this list and the routes
 * the admin app registers are the same.
 */
import * as v from 'valibot'
import { CONSUMER_ALGORITHMS, OIDC_ALGORITHMS } from '../keyset/jwt-schema.js'
import { RouteSchema } from '../keyset/schema.js'
import { RotateKeyBody } from './api-keys-api.js'
import { MintKeyBody, MintTokenBody, RegisterKeyBody, RegisterNamespaceKeyBody } from './capture-api.js'
import { ConsumerBody, GroupsBody } from './consumers-api.js'
import { JwtCredentialBody } from './jwt-credential-input.js'
import { JwtCredentialPatchBody, JwtCredentialRotateBody } from './jwt-credentials-api.js'
import { ScheduleBody } from './legacy-schedule-api.js'
import { IssuerBody } from './oidc-issuers-api.js'
import type { AdminOperation } from './openapi.js'
import { ResourcesQuery } from './resources-api.js'
import { RouteBody, RoutePatchBody, RoutesBody } from './routes-api.js'

const Text = v.string()
const Time = v.pipe(v.string(), v.isoTimestamp())
const NullableTime = v.nullable(Time)
const Id = v.pipe(v.string(), v.uuid())
const Kind = v.nullable(v.picklist(['personal', 'ci', 'service']))

const ConsumerAnswer = v.object({ id: Id, username: Text, custom_id: v.nullable(Text), groups: v.array(Text), created_at: Time })
const CredentialAnswer = v.object({
  id: Id,
  consumer: v.object({ id: Id }),
  key: Text,
  algorithm: v.picklist(CONSUMER_ALGORITHMS),
  rsa_public_key: v.optional(Text),
  created_at: Time,
  expires_at: v.pipe(NullableTime, v.description('set by a rotation: from the first sync after it, tokens naming the credential are refused')),
})
const GeneratedSecret = {
  secret: v.optional(v.pipe(Text, v.description('a generated HMAC secret: sign with exactly this string (its UTF-8 bytes are the key); shown this once'))),
  secret_encoding: v.optional(v.literal('utf-8')),
  note: v.optional(Text),
}
const CreatedCredentialAnswer = v.object({ ...CredentialAnswer.entries, ...GeneratedSecret })
const RotatedCredentialAnswer = v.object({ ...CreatedCredentialAnswer.entries, previous: v.object({ id: Id, key: Text, expires_at: NullableTime }) })
const IssuerAnswer = v.object({
  id: Text,
  issuer: Text,
  audiences: v.array(Text),
  jwks_uri: Text,
  algorithms: v.array(v.picklist(OIDC_ALGORITHMS)),
  created_at: Time,
  updated_at: Time,
  jwks: v.optional(v.object({ keys: v.array(Text), fetched_at: v.nullable(Text) })),
})
/** What became of the sync a change started (`X-Edgegw-Sync`, docs/revocation.md). */
const SyncState = v.picklist(['synced', 'pending', 'failed'])
const UsageQuery = v.strictObject({
  kind: v.optional(v.picklist(['iam-api-key', 'legacy-jwt', 'consumer-jwt', 'oidc-jwt', 'anonymous'])),
  since: v.optional(v.pipe(Text, v.description('7d (default), 1d to 400d, or a day YYYY-MM-DD'))),
  credential: v.optional(Text),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
})
const UsageAnswer = v.looseObject({ since: Text, until: Text, credentials: v.array(v.looseObject({ kind: Text, credential_id: Text, calls: v.number() })), truncated: v.boolean(), dropped_calls: v.number(), pending_flush: Text })
const UsageSummaryAnswer = v.looseObject({ generated_at: Time, last_day: v.looseObject({}), last_week: v.looseObject({}), schedule: v.looseObject({}), legacy_creation_open: v.boolean(), pending_flush: Text })
const ScheduleAnswer = v.looseObject({ source: v.picklist(['registry', 'settings', 'none']), schedule: v.looseObject({}), updated_at: v.nullable(Text), legacy_creation_open: v.boolean() })
const SyncResult = v.object({ ok: v.boolean(), changed: v.boolean(), error: v.nullable(Text) })
const SyncStatusAnswer = v.looseObject({
  lastSuccessAt: v.nullable(Text),
  lastError: v.nullable(v.object({ at: Text, message: Text })),
  consecutiveFailures: v.number(),
  snapshotId: v.nullable(Text),
  counts: v.record(Text, v.number()),
  warnings: v.optional(v.array(Text)),
  durationMs: v.number(),
  writtenAt: Text,
})
const StatusAnswer = v.object({
  keySet: v.nullable(v.looseObject({ snapshotId: Text, generatedAt: Time, source: Text, apiKeys: v.number(), shards: v.number() })),
  sync: v.nullable(SyncStatusAnswer),
})
const SyncAnswer = v.looseObject({
  ok: v.boolean(),
  state: v.pipe(v.picklist(['complete', 'running']), v.description('running: the sync Workflow run goes on after the wait (202); GET /status tells how it ended')),
  changed: v.boolean(),
  statusWritten: v.boolean(),
  status: v.nullable(SyncStatusAnswer),
})
const IamKeyAnswer = v.looseObject({
  access_key: Text,
  secret_key: v.pipe(Text, v.description('shown this once')),
  application_id: v.nullish(Id),
  user_id: v.nullish(Id),
  description: Text,
  created_at: v.nullish(Text),
  expires_at: v.nullish(Text),
  default_project_id: Text,
  kind: Kind,
  note: v.optional(Text),
})
const RotatedKeyAnswer = v.object({
  ...IamKeyAnswer.entries,
  previous: v.object({ access_key: Text, expires_at: v.nullable(Text), error: v.optional(Text) }),
  sync: SyncResult,
})
const ApiKeyItem = v.object({
  access_key: Text,
  bearer: v.object({ type: v.picklist(['application', 'user']), id: Id, name: v.nullable(Text) }),
  kind: Kind,
  description: Text,
  created_at: v.nullable(Text),
  expires_at: v.nullable(Text),
  default_project_id: Text,
  captured: v.pipe(v.boolean(), v.description('whether the gateway holds the digest of its secret: only then does the key work at the edge')),
  captured_at: v.nullable(Text),
  captured_via: v.nullable(v.picklist(['mint', 'register'])),
})
const ApiKeysQuery = v.strictObject({ page: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))), page_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))), application_id: v.optional(Id) })
const ResourceAnswer = v.object({
  kind: v.picklist(['function', 'container']),
  id: Id,
  name: Text,
  namespace_id: Id,
  namespace_name: v.nullable(Text),
  project_id: Id,
  privacy: v.picklist(['private', 'public']),
  domain_name: Text,
  target: RouteSchema.entries.target,
})
const DoctorAnswer = v.object({ ok: v.boolean(), checks: v.array(v.object({ name: Text, ok: v.boolean(), detail: Text, fix: v.optional(Text) })) })
const Registered = (field: string) => v.object({ [field]: Text, registered: v.literal(true), replaced: v.boolean() })

const ok = (schema: v.GenericSchema, description = 'done') => ({ 200: { description, schema } })
const created = (schema: v.GenericSchema, extra: { noStore?: boolean; etag?: boolean } = {}) => ({ 201: { description: 'created', schema, ...extra } })
const none = { 204: { description: 'done, no body' } }

/** Every admin operation (paths under `/__edgegw/admin/v1`). */
export const ADMIN_OPERATIONS: readonly AdminOperation[] = [
  { method: 'get', path: '/status', summary: 'The key set served and the last sync', responses: ok(StatusAnswer) },
  { method: 'post', path: '/sync', summary: 'Run a sync now and wait for it (502 with the same body when it failed, 202 when it still runs after SYNC_WAIT_SECONDS)', responses: { ...ok(SyncAnswer), 202: { description: 'still running', schema: SyncAnswer } } },
  { method: 'get', path: '/doctor', summary: 'Checks of the setup, one per line', responses: ok(DoctorAnswer) },
  { method: 'get', path: '/openapi.json', summary: 'This description', responses: { 200: { description: 'an OpenAPI 3.1 document' } } },

  { method: 'get', path: '/api-keys', summary: "A page of the organisation's IAM API keys: bearer, kind, expiry, captured or not", query: { schema: ApiKeysQuery }, responses: ok(v.object({ data: v.array(ApiKeyItem), total_count: v.number(), page: v.number(), page_size: v.number() })) },
  { method: 'post', path: '/api-keys', summary: "Mint an IAM API key and capture its secret's digest", body: MintKeyBody, responses: created(IamKeyAnswer, { noStore: true }) },
  { method: 'post', path: '/api-keys/register', summary: "Capture the digest of a key minted elsewhere (proof of possession; never a silent replacement)", body: RegisterKeyBody, responses: { ...created(Registered('access_key')), ...ok(Registered('access_key'), 'captured again, or replaced') } },
  { method: 'post', path: '/api-keys/{accessKey}/rotate', summary: 'A new key for the same bearer; the old one expires at the end of the overlap', body: RotateKeyBody, responses: created(RotatedKeyAnswer, { noStore: true }) },
  { method: 'delete', path: '/api-keys/{accessKey}', summary: 'Delete the key in IAM, forget its digest, sync now', responses: ok(v.object({ access_key: Text, deleted: v.boolean(), capture_forgotten: v.boolean(), sync: SyncResult })) },
  { method: 'delete', path: '/api-keys/{accessKey}/capture', summary: 'Forget a captured digest', responses: none },
  { method: 'get', path: '/applications', summary: 'IAM applications with exactly this name', query: { schema: v.strictObject({ name: v.pipe(v.string(), v.maxLength(64)) }), required: ['name'] }, responses: ok(v.object({ data: v.array(v.object({ id: Id, name: Text, description: Text })) })) },
  { method: 'post', path: '/legacy-tokens', summary: "Mint a legacy serverless token and capture its namespace's public key", body: MintTokenBody, responses: created(v.looseObject({ id: Id, token: v.nullish(Text), public_key_captured: v.boolean() }), { noStore: true }) },
  { method: 'post', path: '/legacy-namespace-keys', summary: "Register a namespace's public key", body: RegisterNamespaceKeyBody, responses: { ...created(Registered('namespace_id')), ...ok(Registered('namespace_id'), 'registered again, or replaced') } },

  { method: 'get', path: '/routes', summary: 'The route table, with its ETag', responses: { 200: { description: 'the table', schema: v.object({ routes: v.array(RouteSchema) }), etag: true } } },
  { method: 'put', path: '/routes', summary: 'Replace the route table (If-Match: its ETag); answers once the change is synced', body: RoutesBody, ifMatch: true, responses: { 200: { description: 'replaced', schema: v.object({ routes: v.number(), sync: SyncState }), etag: true } } },
  { method: 'post', path: '/routes', summary: 'Add one route', body: RouteBody, responses: created(RouteSchema, { etag: true }) },
  { method: 'get', path: '/routes/{id}', summary: 'One route, with its ETag', responses: { 200: { description: 'the route', schema: RouteSchema, etag: true } } },
  { method: 'patch', path: '/routes/{id}', summary: 'Replace some fields of one route (If-Match: its ETag)', body: RoutePatchBody, ifMatch: true, responses: { 200: { description: 'changed', schema: RouteSchema, etag: true } } },
  { method: 'delete', path: '/routes/{id}', summary: 'Remove one route (If-Match: its ETag)', ifMatch: true, responses: none },
  { method: 'get', path: '/usage', summary: 'Who uses what: calls per credential, route and day (docs/migration.md)', query: { schema: UsageQuery }, responses: ok(UsageAnswer) },
  { method: 'get', path: '/usage/summary', summary: 'The legacy share of calls, legacy tokens still in use, the schedule in force', responses: ok(UsageSummaryAnswer) },
  { method: 'get', path: '/legacy-schedule', summary: 'The legacy-token schedule in force, and where it comes from', responses: ok(ScheduleAnswer) },
  { method: 'put', path: '/legacy-schedule', summary: 'Replace the legacy-token schedule (carried in the key set: no redeploy)', body: ScheduleBody, responses: ok(ScheduleAnswer) },
  { method: 'delete', path: '/legacy-schedule', summary: 'Remove the schedule set here (the LEGACY_* vars apply again)', responses: none },
  { method: 'get', path: '/resources', summary: 'Functions and containers by name, id or URL, with the route target each makes', query: { schema: ResourcesQuery }, responses: ok(v.object({ data: v.array(ResourceAnswer) })) },

  { method: 'post', path: '/consumers', summary: 'Add a consumer', body: ConsumerBody, responses: created(ConsumerAnswer) },
  { method: 'get', path: '/consumers', summary: 'A page of consumers', query: { schema: v.strictObject({ size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))), offset: v.optional(Text) }) }, responses: ok(v.object({ data: v.array(ConsumerAnswer), offset: v.nullable(Text) })) },
  { method: 'get', path: '/consumers/{consumer}', summary: 'One consumer, by id or username', responses: ok(ConsumerAnswer) },
  { method: 'delete', path: '/consumers/{consumer}', summary: 'Remove a consumer and its credentials', responses: none },
  { method: 'put', path: '/consumers/{consumer}/groups', summary: "Replace a consumer's groups", body: GroupsBody, responses: ok(ConsumerAnswer) },
  { method: 'post', path: '/consumers/{consumer}/jwt', summary: 'Add a JWT credential (a generated HMAC secret is shown this once)', body: JwtCredentialBody, responses: created(CreatedCredentialAnswer, { noStore: true }) },
  { method: 'get', path: '/consumers/{consumer}/jwt', summary: "A consumer's JWT credentials, never a secret", responses: ok(v.object({ data: v.array(CredentialAnswer) })) },
  { method: 'get', path: '/consumers/{consumer}/jwt/{credential}', summary: 'One credential, by id or key', responses: ok(CredentialAnswer) },
  { method: 'patch', path: '/consumers/{consumer}/jwt/{credential}', summary: 'Change a credential in place: key, a new or generated secret, a public key, expires_at', body: JwtCredentialPatchBody, responses: { 200: { description: 'changed', schema: CreatedCredentialAnswer, noStore: true } } },
  { method: 'post', path: '/consumers/{consumer}/jwt/{credential}/rotate', summary: 'A second credential; the old one stops at the end of the overlap', body: JwtCredentialRotateBody, responses: created(RotatedCredentialAnswer, { noStore: true }) },
  { method: 'delete', path: '/consumers/{consumer}/jwt/{credential}', summary: 'Remove a credential', responses: none },

  { method: 'get', path: '/oidc-issuers', summary: 'The OIDC issuers, with the JWKS keys synced', responses: ok(v.object({ data: v.array(IssuerAnswer) })) },
  { method: 'put', path: '/oidc-issuers/{id}', summary: 'Add (201) or replace (200) an OIDC issuer', body: IssuerBody, responses: { ...created(IssuerAnswer), ...ok(IssuerAnswer, 'replaced') } },
  { method: 'get', path: '/oidc-issuers/{id}', summary: 'One OIDC issuer', responses: ok(IssuerAnswer) },
  { method: 'delete', path: '/oidc-issuers/{id}', summary: 'Remove an OIDC issuer', responses: none },
]

export { ApiKeyItem as ApiKeyItemSchema, ConsumerAnswer as ConsumerAnswerSchema, CredentialAnswer as CredentialAnswerSchema }
