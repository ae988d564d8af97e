import type { Context } from 'hono'
import { decodeJwt } from 'jose'
import { aclAllows } from '../authz/acl.js'
import { anyGrantAllows, invokePermissionSet } from '../authz/grants.js'
import { assertLegacyAllowed, nextLegacyRefusalAt } from '../authz/legacy-policy.js'
import { verifyApiKey } from '../credentials/api-key.js'
import { ConsumerJwtVerifier } from '../credentials/consumer-jwt.js'
import { LEGACY_ISSUER, LegacyJwtVerifier } from '../credentials/legacy-jwt.js'
import { OidcJwtVerifier } from '../credentials/oidc-jwt.js'
import { VerificationCache } from '../credentials/verification-cache.js'
import { EdgeAuthError } from '../errors.js'
import { canonicalApiKeySecret } from '../keyset/digest.js'
import type { Consumer, RouteAuth } from '../keyset/jwt-schema.js'
import type { Target } from '../keyset/schema.js'
import type { KeySetView, StoreContext } from '../keyset/store.js'
import { credentialShape, extractCredential } from './extract.js'
import type { EdgeAuthIdentity } from './identity.js'
import type { ResolvedEdgeAuthOptions } from './options.js'

/** The checks of one request, in order: extract, verify (cached), authorise. */
export class Authenticator {
  readonly #legacy = new LegacyJwtVerifier()
  readonly #consumers = new ConsumerJwtVerifier()
  readonly #oidc: OidcJwtVerifier
  readonly #cache: VerificationCache

  constructor(private readonly options: ResolvedEdgeAuthOptions) {
    this.#oidc = new OidcJwtVerifier(options.oidc)
    this.#cache = new VerificationCache(options.verificationCache)
  }

  async authenticate(c: Context): Promise<EdgeAuthIdentity> {
    const target = this.options.target(c)
    if (!target) throw new Error('edgeAuth: options.target returned no target for this request')
    const auth = this.options.auth(c)
    const keySet = await this.options.keySet(c).current(storeContext(c))
    const credential = extractCredential(c.req.raw, auth)
    const identity = credential ? await this.#verify(c, credential.value, target, auth, keySet) : await anonymous(auth, keySet)
    if (!aclAllows(identity, auth)) {
      throw new EdgeAuthError('permission_denied', `${identity.principal.type} ${identity.principal.id} is not on the route's allow-list`, { credentialId: identity.credentialId })
    }
    return identity
  }

  async #verify(c: Context, raw: string, target: Target, auth: RouteAuth, keySet: KeySetView): Promise<EdgeAuthIdentity> {
    const now = this.options.clock()
    const isApiKey = credentialShape(raw) === 'api-key'
    if (isApiKey && !auth.accept.includes('api-key')) throw new EdgeAuthError('credentials_unsupported', 'the route does not accept API keys')
    // One key in any letter case is one credential, and one cache entry.
    const value = isApiKey ? canonicalApiKeySecret(raw) : raw
    // A verified credential is remembered per route, target and key-set snapshot: a
    // repeated one costs a lookup, not a SHA-256 and a shard read, nor a signature check.
    const cacheKey = `${target.kind}|${target.projectId}|${target.namespaceId ?? ''}|${target.resourceId ?? ''}|${value}`
    const cached = this.#cache.get(auth, cacheKey, keySet.snapshotId, now)
    if (cached) return cached
    const { identity, expiresAtMs } = isApiKey ? await this.#apiKey(value, target, keySet, now) : await this.#jwt(c, value, target, auth, keySet, now)
    this.#cache.set(auth, cacheKey, keySet.snapshotId, identity, expiresAtMs, now)
    return identity
  }

  async #apiKey(secret: string, target: Target, keySet: KeySetView, now: number): Promise<{ identity: EdgeAuthIdentity; expiresAtMs: number | undefined }> {
    const key = await verifyApiKey(secret, keySet, now)
    const organizationId = target.organizationId ?? keySet.organizationOf(target.projectId)
    const allowed =
      (key.owner && organizationId !== undefined && key.organizationId === organizationId) ||
      anyGrantAllows(key.grants, { target, organizationId, fullAccessAllowsInvoke: this.options.fullAccessAllowsInvoke })
    if (!allowed) {
      throw new EdgeAuthError('permission_denied', `${key.bearer.type} ${key.bearer.id} has no grant for ${target.kind} in project ${target.projectId}`, {
        requiredScope: invokePermissionSet(target.kind),
        credentialId: key.accessKey,
      })
    }
    return {
      identity: { method: 'iam-api-key', credentialId: key.accessKey, principal: key.bearer, organizationId: key.organizationId, keyKind: key.kind },
      expiresAtMs: key.expiresAt === null ? undefined : Date.parse(key.expiresAt),
    }
  }

  /** Picks the verifier by the unverified `iss`; every claim is checked after the signature, by that verifier. */
  async #jwt(c: Context, token: string, target: Target, auth: RouteAuth, keySet: KeySetView, now: number): Promise<{ identity: EdgeAuthIdentity; expiresAtMs: number | undefined }> {
    const iss = unverifiedIssuer(token)
    if (iss === LEGACY_ISSUER) {
      if (!auth.accept.includes('legacy-jwt')) throw new EdgeAuthError('credentials_unsupported', 'the route does not accept legacy tokens')
      assertLegacyAllowed(this.options.legacyTokens, now)
      const legacy = await this.#legacy.verify(token, target, keySet, now)
      // Trusted until the token's exp or the schedule's next refusal (brownout, sunset), whichever comes first.
      return {
        identity: { method: 'legacy-jwt', credentialId: legacy.tokenId, principal: { type: 'legacy-token', id: legacy.tokenId } },
        expiresAtMs: earliest(legacy.expiresAtMs, nextLegacyRefusalAt(this.options.legacyTokens, now)),
      }
    }
    const issuer = auth.accept.includes('oidc-jwt') ? OidcJwtVerifier.issuerFor(iss, await keySet.oidc(), auth) : undefined
    if (issuer) {
      const oidc = await this.#oidc.verify(token, issuer, auth, now)
      return { identity: { method: 'oidc-jwt', credentialId: issuer.id, principal: { type: 'oidc-subject', id: oidc.subject } }, expiresAtMs: oidc.expiresAtMs }
    }
    if (!auth.accept.includes('consumer-jwt')) throw new EdgeAuthError('credentials_unsupported', 'the route does not accept this kind of JWT')
    const verified = await this.#consumers.verify(token, await keySet.consumers(), auth, this.options.credentialEncryptionKey(c), now)
    return { identity: consumerIdentity('consumer-jwt', verified.consumer, verified.credential.key), expiresAtMs: verified.expiresAtMs }
  }
}

function consumerIdentity(method: 'consumer-jwt' | 'anonymous', consumer: Consumer, credentialId: string): EdgeAuthIdentity {
  return {
    method,
    credentialId,
    principal: { type: 'consumer', id: consumer.id, name: consumer.username },
    consumer: { id: consumer.id, username: consumer.username, customId: consumer.customId, groups: consumer.groups },
  }
}

/** No credential: the route's anonymous consumer, if it has one (Kong's `anonymous`). */
async function anonymous(auth: RouteAuth, keySet: KeySetView): Promise<EdgeAuthIdentity> {
  if (auth.anonymousConsumer === undefined) throw new EdgeAuthError('credentials_missing', 'no credential')
  const consumer = (await keySet.consumers())?.consumers[auth.anonymousConsumer]
  // A route naming a consumer that does not exist is misconfigured: a 500, not a pass and not a 401.
  if (!consumer) throw new Error(`the route's anonymous consumer ${auth.anonymousConsumer} does not exist`)
  return consumerIdentity('anonymous', consumer, 'anonymous')
}

function earliest(...instants: (number | undefined)[]): number | undefined {
  const known = instants.filter((at): at is number => at !== undefined)
  return known.length === 0 ? undefined : Math.min(...known)
}

function unverifiedIssuer(token: string): unknown {
  try {
    return decodeJwt(token).iss
  } catch (cause) {
    throw new EdgeAuthError('token_invalid', 'the token cannot be decoded', {}, { cause })
  }
}

function storeContext(c: Context): StoreContext {
  try {
    const executionCtx = c.executionCtx
    return { waitUntil: (promise) => executionCtx.waitUntil(promise) }
  } catch {
    // Outside Workers (Node, Bun, tests) there is no execution context: background work just runs.
    return { waitUntil: (promise) => void promise.catch(() => undefined) }
  }
}
