/**
 * The capture endpoints: API keys minted or registered (the gateway keeps the
 * SHA-256 digest of their secret), legacy tokens minted and namespace public keys
 * registered. What is captured is never silently replaced. docs/admin-api.md,
 * "API keys and legacy tokens".
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import { importPkcs1PublicKey } from '../credentials/pkcs1.js'
import { apiKeyDigest } from '../keyset/digest.js'
import { CaptureExistsError } from '../sync/registry.js'
import type { AdminDependencies } from './admin-api.js'
import { AdminError, isoNow, parseBody, pathId } from './admin-http.js'
import { keySetChanged } from './key-set-change.js'
import { AccessKeyField, KeyKindField, ReplaceField, UuidField, idRules } from './admin-input.js'
import type { Audit } from './audit-log.js'
import { assertLegacyCreationOpen } from './legacy-schedule-api.js'
import { assertRegistrable, keyAsCompiled, provePossession } from './key-registration.js'

const Time = v.optional(v.pipe(v.string('expected an RFC 3339 time'), v.isoTimestamp('expected an RFC 3339 time')))
const Product = v.picklist(['functions', 'containers'], 'expected functions or containers')

/** A request body of the admin API (also in its OpenAPI description). */
export const MintKeyBody = v.pipe(
  v.strictObject({
    application_id: v.optional(UuidField),
    user_id: v.optional(UuidField),
    description: v.optional(v.pipe(v.string('expected a string'), v.maxLength(200, 'at most 200 characters')), ''),
    expires_at: Time,
    default_project_id: v.optional(UuidField),
    kind: KeyKindField,
  }),
  v.check((b) => (b.application_id === undefined) !== (b.user_id === undefined), 'exactly one of application_id and user_id is required'),
)

/** A request body of the admin API (also in its OpenAPI description). */
export const RegisterKeyBody = v.strictObject({ access_key: AccessKeyField, secret_key: UuidField, kind: KeyKindField, replace: ReplaceField })

/** A request body of the admin API (also in its OpenAPI description). */
export const MintTokenBody = v.pipe(
  v.strictObject({
    product: Product,
    namespace_id: v.optional(UuidField),
    function_id: v.optional(UuidField),
    container_id: v.optional(UuidField),
    description: v.optional(v.pipe(v.string('expected a string'), v.maxLength(200, 'at most 200 characters'))),
    expires_at: Time,
  }),
  v.check((b) => [b.namespace_id, b.function_id, b.container_id].filter(Boolean).length === 1, 'exactly one of namespace_id, function_id, container_id is required'),
)

/** A request body of the admin API (also in its OpenAPI description). */
export const RegisterNamespaceKeyBody = v.strictObject({
  product: Product,
  namespace_id: UuidField,
  public_key: v.pipe(v.string('expected a PEM string'), v.maxLength(16_384, 'at most 16384 characters')),
  replace: ReplaceField,
})

/** Adds the capture endpoints to the admin app. */
export function captureRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies, audit: Audit): void {
  /** Every change is synced, and served by this isolate, before it answers (docs/revocation.md). */
  const changed = (c: Context) => keySetChanged(c, dependencies(c))
  const now = (deps: AdminDependencies) => isoNow(deps.clock)

  app.post('/api-keys', async (c) => {
    const body = await parseBody(c, MintKeyBody)
    const deps = dependencies(c)
    const { kind, ...request } = body
    const created = await deps.iam.createApiKey(request)
    // The platform has just returned this secret: it is the truth, whatever was captured before.
    const { replaced } = await deps.registry.captureKey(created.access_key, { digest: await apiKeyDigest(created.secret_key), kind, capturedAt: now(deps), via: 'mint' }, { replace: true })
    audit(c, 'api_key.mint', created.access_key, { replaced })
    await changed(c)
    c.header('cache-control', 'no-store')
    return c.json({ ...created, kind: kind ?? null, note: 'The secret is shown once.' }, 201)
  })

  app.post('/api-keys/register', async (c) => {
    const body = await parseBody(c, RegisterKeyBody)
    const deps = dependencies(c)
    const organizationId = deps.organizationId
    // Whose key (404 from IAM when it does not exist), then whether the caller holds its secret.
    const key = await keyAsCompiled(deps.iam, organizationId, body.access_key)
    if (!key) throw new AdminError(400, 'invalid_body', 'access_key: IAM names no bearer for this key')
    assertRegistrable(key)
    await provePossession(deps.iamAs(body.secret_key), key, organizationId)
    const existing = await deps.registry.capturedKey(key.accessKey)
    const { replaced } = await capturing(async () =>
      deps.registry.captureKey(key.accessKey, { digest: await apiKeyDigest(body.secret_key), kind: body.kind, capturedAt: now(deps), via: 'register' }, { replace: body.replace }),
    )
    audit(c, 'api_key.register', key.accessKey, { replaced })
    await changed(c)
    return c.json({ access_key: key.accessKey, registered: true, replaced }, existing ? 200 : 201)
  })

  app.delete('/api-keys/:accessKey/capture', async (c) => {
    const accessKey = pathId(c, 'accessKey', 'access key', idRules.accessKey)
    if (!(await dependencies(c).registry.forgetKey(accessKey))) throw new AdminError(404, 'capture_not_found', `${accessKey}: no digest is captured for this key`)
    audit(c, 'api_key.capture.delete', accessKey)
    await changed(c)
    return c.body(null, 204)
  })

  app.post('/legacy-tokens', async (c) => {
    // Closed is closed, whatever the body says: checked first.
    await assertLegacyCreationOpen(dependencies(c))
    const body = await parseBody(c, MintTokenBody)
    const deps = dependencies(c)
    const { product, ...request } = body
    const created = await deps.serverless.createToken(product, request)
    const namespaceId = created.namespace_id ?? body.namespace_id
    let replaced = false
    if (created.public_key && namespaceId) {
      // The platform's key for the namespace, with a token it has just signed: it replaces any other.
      ;({ replaced } = await deps.registry.captureNamespaceKey(namespaceId, { kind: product === 'functions' ? 'function' : 'container', publicKeyPem: created.public_key, capturedAt: now(deps) }, { replace: true }))
    }
    audit(c, 'legacy_token.mint', created.id, { replaced })
    await changed(c)
    c.header('cache-control', 'no-store')
    return c.json({ ...created, public_key_captured: Boolean(created.public_key && namespaceId) }, 201)
  })

  app.post('/legacy-namespace-keys', async (c) => {
    const body = await parseBody(c, RegisterNamespaceKeyBody)
    const deps = dependencies(c)
    await assertUsablePublicKey(body.public_key)
    const existed = (await deps.registry.capturedNamespaceKey(body.namespace_id)) !== undefined
    const { replaced } = await capturing(() =>
      deps.registry.captureNamespaceKey(body.namespace_id, { kind: body.product === 'functions' ? 'function' : 'container', publicKeyPem: body.public_key.trim(), capturedAt: now(deps) }, { replace: body.replace }),
    )
    audit(c, 'legacy_namespace_key.register', body.namespace_id, { replaced })
    await changed(c)
    return c.json({ namespace_id: body.namespace_id, registered: true, replaced }, existed ? 200 : 201)
  })
}

/** A capture write; what is already captured and differs is 409 unless replacing was asked for. */
async function capturing<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if (error instanceof CaptureExistsError) throw new AdminError(409, 'capture_exists', `${error.message}; send "replace": true to replace it`)
    throw error
  }
}

/**
 * The legacy verifier reads namespace keys as PKCS#1 RSA public keys: anything
 * else would make every token of the namespace fail as `keyset_unavailable`.
 * @throws {AdminError} 400 `public_key_invalid`.
 */
async function assertUsablePublicKey(pem: string): Promise<void> {
  let key: CryptoKey
  try {
    key = await importPkcs1PublicKey(pem)
  } catch {
    throw new AdminError(400, 'public_key_invalid', 'public_key: not a PKCS#1 RSA public key (-----BEGIN RSA PUBLIC KEY-----), as the serverless platform shows it')
  }
  const bits = (key.algorithm as { modulusLength?: number }).modulusLength ?? 0
  if (bits < 2048) throw new AdminError(400, 'public_key_invalid', `public_key: an RSA key of at least 2048 bits is needed, got ${bits}`)
}
