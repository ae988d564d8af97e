/**
 * Consumers' JWT credentials at the admin API (Kong's `/consumers/{consumer}/jwt`):
 * create, list, read, change in place (`PATCH`: the key, a new secret or public
 * key), rotate with an overlap, delete. docs/consumers.md describes each endpoint.
 *
 * A rotation makes a second credential and gives the old one an `expiresAt`;
 * the sync leaves a credential out of the key set once that time has passed, so
 * its tokens are refused from the first sync after the overlap.
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import { CONSUMER_ALGORITHMS } from '../keyset/jwt-schema.js'
import { ConsumerRegistry, type JwtCredentialEntry } from '../sync/consumer-registry.js'
import type { AdminDependencies } from './admin-api.js'
import { AdminError, isoNow, parseBody, pathId } from './admin-http.js'
import { idRules } from './admin-input.js'
import type { Audit } from './audit-log.js'
import { keySetChanged } from './key-set-change.js'
import { conflictsAs409, consumerOfPath, credentialJson, generatedSecretJson } from './consumers-api.js'
import { JwtCredentialBody, isHmac, prepareCredential } from './jwt-credential-input.js'

/** Ten years: a longer overlap is a typo. */
const MAX_OVERLAP_SECONDS = 10 * 365 * 86_400
const Time = v.pipe(v.string('expected an RFC 3339 time'), v.isoTimestamp('expected an RFC 3339 time'))

/**
 * The body of `PATCH /consumers/{consumer}/jwt/{credential}`: the fields to
 * change. A new `secret` (or `generate_secret: true`) or `rsa_public_key`
 * replaces the old one at once; a new `algorithm` needs one of them;
 * `expires_at` sets (or, `null`, clears) when the credential stops working.
 */
export const JwtCredentialPatchBody = v.strictObject({
  key: JwtCredentialBody.entries.key,
  algorithm: v.optional(v.picklist(CONSUMER_ALGORITHMS, `expected one of ${CONSUMER_ALGORITHMS.join(', ')}`)),
  secret: JwtCredentialBody.entries.secret,
  secret_is_base64: v.optional(v.boolean('expected true or false')),
  generate_secret: v.optional(v.literal(true, 'expected true')),
  rsa_public_key: JwtCredentialBody.entries.rsa_public_key,
  expires_at: v.optional(v.nullable(Time)),
})

/**
 * The body of `POST /consumers/{consumer}/jwt/{credential}/rotate`: how long the
 * old credential keeps working, and optionally the new one's key and material
 * (an HMAC secret is generated when none is given; an asymmetric credential
 * needs the new public key).
 */
export const JwtCredentialRotateBody = v.strictObject({
  overlap_seconds: v.pipe(v.number('expected a number of seconds'), v.integer('expected a whole number of seconds'), v.minValue(1, 'at least 1'), v.maxValue(MAX_OVERLAP_SECONDS, 'at most ten years')),
  key: JwtCredentialBody.entries.key,
  secret: JwtCredentialBody.entries.secret,
  secret_is_base64: v.optional(v.boolean('expected true or false'), false),
  rsa_public_key: JwtCredentialBody.entries.rsa_public_key,
})

/** Adds the JWT credential endpoints to the admin app. */
export function jwtCredentialRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies, audit: Audit): void {
  const registryOf = (c: Context) => new ConsumerRegistry(dependencies(c).kv)
  /** Credential changes reach the key set with the next sync: start one now, in the background. */
  /** Every change is synced, and served by this isolate, before it answers (docs/revocation.md). */
  const changed = (c: Context) => keySetChanged(c, dependencies(c))
  const credentialOr404 = async (c: Context): Promise<JwtCredentialEntry> => {
    const registry = registryOf(c)
    const consumer = await consumerOfPath(c, registry)
    const credential = await registry.findCredential(consumer.id, pathId(c, 'credential', 'credential', idRules.credential))
    if (!credential) throw new AdminError(404, 'credential_not_found', 'this consumer has no JWT credential with this id or key')
    return credential
  }

  app.post('/consumers/:consumer/jwt', async (c) => {
    const body = await parseBody(c, JwtCredentialBody)
    const deps = dependencies(c)
    const consumer = await consumerOfPath(c, registryOf(c))
    const prepared = await prepareCredential(body, { consumerId: consumer.id, encryptionKey: deps.credentialEncryptionKey, createdAt: isoNow(deps.clock) })
    const credential = await conflictsAs409(() => registryOf(c).createCredential(prepared.entry))
    audit(c, 'jwt_credential.create', credential.id)
    await changed(c)
    c.header('cache-control', 'no-store')
    return c.json({ ...credentialJson(credential), ...(prepared.secret === undefined ? {} : generatedSecretJson(prepared.secret)) }, 201)
  })

  app.get('/consumers/:consumer/jwt', async (c) => {
    const consumer = await consumerOfPath(c, registryOf(c))
    return c.json({ data: (await registryOf(c).credentialsOf(consumer.id)).map(credentialJson) })
  })

  app.get('/consumers/:consumer/jwt/:credential', async (c) => c.json(credentialJson(await credentialOr404(c))))

  app.patch('/consumers/:consumer/jwt/:credential', async (c) => {
    const body = await parseBody(c, JwtCredentialPatchBody)
    const deps = dependencies(c)
    const current = await credentialOr404(c)
    const algorithm = body.algorithm ?? current.algorithm
    if (body.secret !== undefined && body.generate_secret) throw new AdminError(400, 'invalid_body', 'generate_secret: not with secret (give one or the other)')
    if (body.generate_secret && !isHmac(algorithm)) throw new AdminError(400, 'invalid_body', `generate_secret: ${algorithm} credentials have a public key (rsa_public_key), not a secret`)
    if (body.secret_is_base64 !== undefined && body.secret === undefined) throw new AdminError(400, 'invalid_body', 'secret_is_base64: goes with secret')
    const material = body.secret !== undefined || body.generate_secret === true || body.rsa_public_key !== undefined
    if (algorithm !== current.algorithm && !material) throw new AdminError(400, 'invalid_body', `algorithm: a credential changing to ${algorithm} needs its new ${isHmac(algorithm) ? 'secret (or generate_secret)' : 'rsa_public_key'}`)
    let next: JwtCredentialEntry = { ...current, key: body.key ?? current.key, algorithm }
    let secret: string | undefined
    if (material) {
      // The same id: a sealed secret is bound to it.
      const prepared = await prepareCredential(
        { key: next.key, algorithm, secret: body.secret, secret_is_base64: body.secret_is_base64 ?? false, rsa_public_key: body.rsa_public_key },
        { consumerId: current.consumerId, id: current.id, encryptionKey: deps.credentialEncryptionKey, createdAt: current.createdAt },
      )
      next = { ...prepared.entry, ...(current.expiresAt === undefined ? {} : { expiresAt: current.expiresAt }) }
      secret = prepared.secret
    }
    if (body.expires_at !== undefined) {
      const { expiresAt: _, ...rest } = next
      next = body.expires_at === null ? rest : { ...rest, expiresAt: new Date(body.expires_at).toISOString() }
    }
    const updated = await conflictsAs409(() => registryOf(c).updateCredential(current, next))
    audit(c, 'jwt_credential.update', updated.id)
    await changed(c)
    c.header('cache-control', 'no-store')
    return c.json({ ...credentialJson(updated), ...(secret === undefined ? {} : generatedSecretJson(secret)) })
  })

  app.post('/consumers/:consumer/jwt/:credential/rotate', async (c) => {
    const body = await parseBody(c, JwtCredentialRotateBody)
    const deps = dependencies(c)
    const current = await credentialOr404(c)
    const now = (deps.clock ?? Date.now)()
    const prepared = await prepareCredential(
      { key: body.key, algorithm: current.algorithm, secret: body.secret, secret_is_base64: body.secret_is_base64, rsa_public_key: body.rsa_public_key },
      { consumerId: current.consumerId, encryptionKey: deps.credentialEncryptionKey, createdAt: new Date(now).toISOString() },
    )
    const registry = registryOf(c)
    const created = await conflictsAs409(() => registry.createCredential(prepared.entry))
    // The old credential ends with the overlap, never later than it would have anyway.
    const overlapEnd = now + body.overlap_seconds * 1000
    const expiresAt = new Date(current.expiresAt === undefined ? overlapEnd : Math.min(Date.parse(current.expiresAt), overlapEnd)).toISOString()
    const previous = await registry.updateCredential(current, { ...current, expiresAt })
    audit(c, 'jwt_credential.rotate', current.id)
    await changed(c)
    c.header('cache-control', 'no-store')
    return c.json(
      {
        ...credentialJson(created),
        ...(prepared.secret === undefined ? {} : generatedSecretJson(prepared.secret)),
        previous: { id: previous.id, key: previous.key, expires_at: previous.expiresAt ?? null },
      },
      201,
    )
  })

  app.delete('/consumers/:consumer/jwt/:credential', async (c) => {
    const credential = await credentialOr404(c)
    await registryOf(c).deleteCredential(credential)
    audit(c, 'jwt_credential.delete', credential.id)
    await changed(c)
    return c.body(null, 204)
  })
}
