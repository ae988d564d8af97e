/**
 * Consumers at the admin API (Kong's `/consumers`), and how consumers and their
 * JWT credentials look on the wire. docs/consumers.md describes each endpoint.
 */
import type { Context, Hono } from 'hono'
import { base64url } from 'jose'
import * as v from 'valibot'
import { ConsumerSchema } from '../keyset/jwt-schema.js'
import { ConsumerRegistry, RegistryConflictError, type ConsumerEntry, type JwtCredentialEntry } from '../sync/consumer-registry.js'
import { AdminError, isoNow, parseBody, pathId } from './admin-http.js'
import { keySetChanged } from './key-set-change.js'
import type { AdminDependencies } from './admin-api.js'
import { idRules } from './admin-input.js'
import type { Audit } from './audit-log.js'

const GroupName = ConsumerSchema.entries.groups.wrapped.item
const Groups = v.pipe(
  v.array(GroupName, 'expected an array of group names'),
  v.maxLength(100, 'at most 100 groups'),
  v.transform((groups) => [...new Set(groups)]),
)
const Text = v.pipe(
  v.string('expected a string'),
  v.minLength(1, 'must not be empty'),
  v.maxLength(128, 'at most 128 characters'),
  v.regex(/^[^\p{Cc}]+$/u, 'no control characters'),
)

/** A request body of the admin API (also in its OpenAPI description). */
export const ConsumerBody = v.strictObject({ username: Text, custom_id: v.optional(Text), groups: v.optional(Groups, []) })
/** A request body of the admin API (also in its OpenAPI description). */
export const GroupsBody = v.strictObject({ groups: Groups })

/** A consumer on the wire (Kong's field names; times RFC 3339). */
export function consumerJson(consumer: ConsumerEntry) {
  return { id: consumer.id, username: consumer.username, custom_id: consumer.customId ?? null, groups: consumer.groups, created_at: consumer.createdAt }
}

/** A JWT credential on the wire, without any secret. */
export function credentialJson(credential: JwtCredentialEntry) {
  return {
    id: credential.id,
    consumer: { id: credential.consumerId },
    key: credential.key,
    algorithm: credential.algorithm,
    ...(credential.publicKeyPem ? { rsa_public_key: credential.publicKeyPem } : {}),
    created_at: credential.createdAt,
    /** Set by a rotation: from the first sync after it, tokens naming this credential are refused. */
    expires_at: credential.expiresAt ?? null,
  }
}

/** A generated secret in the answer that made it: the only time it is shown. */
export function generatedSecretJson(secret: string) {
  return { secret, secret_encoding: 'utf-8', note: 'The secret is shown once: sign with exactly this string as the HMAC key (its UTF-8 bytes). The gateway keeps it sealed and never returns it again.' }
}

/**
 * The consumer `{consumer}` names (an id, or a username).
 * @throws {AdminError} 400 `invalid_id`; 404 `consumer_not_found`.
 */
export async function consumerOfPath(c: Context, registry: ConsumerRegistry): Promise<ConsumerEntry> {
  const consumer = await registry.findConsumer(pathId(c, 'consumer', 'consumer', idRules.consumer))
  if (!consumer) throw new AdminError(404, 'consumer_not_found', 'no consumer has this id or username')
  return consumer
}

/** Adds the consumer endpoints to the admin app (their JWT credentials: jwt-credentials-api.ts). */
export function consumerRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies, audit: Audit): void {
  const registryOf = (c: Context) => new ConsumerRegistry(dependencies(c).kv)
  /** Every change is synced, and served by this isolate, before it answers (docs/revocation.md). */
  const changed = (c: Context) => keySetChanged(c, dependencies(c))
  const consumerOr404 = (c: Context) => consumerOfPath(c, registryOf(c))

  app.post('/consumers', async (c) => {
    const body = await parseBody(c, ConsumerBody)
    const consumer = await conflictsAs409(() =>
      registryOf(c).createConsumer({
        id: crypto.randomUUID(),
        username: body.username,
        ...(body.custom_id === undefined ? {} : { customId: body.custom_id }),
        groups: body.groups,
        createdAt: isoNow(dependencies(c).clock),
      }),
    )
    audit(c, 'consumer.create', consumer.id)
    await changed(c)
    c.header('location', `${new URL(c.req.url).pathname}/${consumer.id}`)
    return c.json(consumerJson(consumer), 201)
  })

  app.get('/consumers', async (c) => {
    const size = Number(c.req.query('size') ?? 100)
    if (!Number.isInteger(size) || size < 1 || size > 1000) throw new AdminError(400, 'invalid_query', 'size: expected an integer from 1 to 1000')
    const page = await registryOf(c).listConsumers({ limit: size, cursor: c.req.query('offset') })
    return c.json({ data: page.documents.map(({ document }) => consumerJson(document)), offset: page.cursor ?? null })
  })

  app.get('/consumers/:consumer', async (c) => c.json(consumerJson(await consumerOr404(c))))

  app.delete('/consumers/:consumer', async (c) => {
    const consumer = await consumerOr404(c)
    await registryOf(c).deleteConsumer(consumer)
    audit(c, 'consumer.delete', consumer.id)
    await changed(c)
    return c.body(null, 204)
  })

  app.put('/consumers/:consumer/groups', async (c) => {
    const body = await parseBody(c, GroupsBody)
    const consumer = await registryOf(c).saveConsumer({ ...(await consumerOr404(c)), groups: body.groups })
    audit(c, 'consumer.groups.replace', consumer.id)
    await changed(c)
    return c.json(consumerJson(consumer))
  })
}

/** A registry write; a username, custom id or key another record holds is 409 (`consumer_exists`, `credential_exists`). */
export async function conflictsAs409<T>(create: () => Promise<T>): Promise<T> {
  try {
    return await create()
  } catch (error) {
    if (error instanceof RegistryConflictError) throw new AdminError(409, error.field === 'key' ? 'credential_exists' : 'consumer_exists', error.message)
    throw error
  }
}
