import type { Context } from 'hono'
import { decodeJwt } from 'jose'
import { aclAllows } from '../authz/acl.js'
import { CompiledConditions } from '../authz/condition-cache.js'
import type { ConditionRequest, ConditionResource } from '../authz/conditions.js'
import { grantsFor, invokePermissionSet } from '../authz/grants.js'
import { assertLegacyAllowed, effectiveLegacyPolicy, legacyDeprecationHeaders, nextLegacyRefusalAt, type LegacyTokenPolicy } from '../authz/legacy-policy.js'
import { verifyApiKey } from '../credentials/api-key.js'
import { ConsumerJwtVerifier } from '../credentials/consumer-jwt.js'
import { LEGACY_ISSUER, LegacyJwtVerifier } from '../credentials/legacy-jwt.js'
import { OidcJwtVerifier } from '../credentials/oidc-jwt.js'
import { VerificationCache, type VerifiedCredential } from '../credentials/verification-cache.js'
import { EdgeAuthError } from '../errors.js'
import { canonicalApiKeySecret } from '../keyset/digest.js'
import type { Consumer, RouteAuth } from '../keyset/jwt-schema.js'
import type { Target } from '../keyset/schema.js'
import type { KeySetView, StoreContext } from '../keyset/store.js'
import { takeBodyCredentials } from './body-credential/index.js'
import { credentialShape, extractCredential } from './extract.js'
import type { EdgeAuthIdentity } from './identity.js'
import type { ResolvedEdgeAuthOptions } from './options.js'
import { BoundedMap } from '../util/bounded-map.js'

/** What {@link Authenticator.authenticate} found: who, and the headers the response gets for it. */
export interface Authenticated {
  identity: EdgeAuthIdentity
  /** `Deprecation`, `Sunset`, `Link` for a legacy token, from the schedule in force; empty otherwise. */
  responseHeaders: readonly (readonly [string, string])[]
}

/** The legacy schedule in force for one key-set snapshot, and its response headers. */
interface LegacyPolicyOfSnapshot {
  snapshotId: string
  policy: LegacyTokenPolicy
  headers: [string, string][]
}

/** The checks of one request, in order: extract, verify (cached), authorise. */
export class Authenticator {
  readonly #legacy = new LegacyJwtVerifier()
  readonly #consumers = new ConsumerJwtVerifier()
  readonly #oidc: OidcJwtVerifier
  readonly #cache: VerificationCache
  readonly #conditions = new CompiledConditions()
  /**
   * API keys the key set does not hold, by canonical secret → the snapshot that did
   * not hold them: a client retrying with a deleted or mistyped key costs a lookup,
   * not a SHA-256 and a shard read, until the next snapshot (where the key may
   * exist). Bounded, least recently used forgotten first.
   */
  readonly #unknownKeys = new BoundedMap<string, string>(1024)
  #legacyPolicy: LegacyPolicyOfSnapshot | undefined

  constructor(private readonly options: ResolvedEdgeAuthOptions) {
    this.#oidc = new OidcJwtVerifier(options.oidc)
    this.#cache = new VerificationCache(options.verificationCache)
  }

  async authenticate(c: Context): Promise<Authenticated> {
    const target = this.options.target(c)
    if (!target) throw new Error('edgeAuth: options.target returned no target for this request')
    const auth = this.options.auth(c)
    // First: the body is read once, and what follows (the origin, the app) gets it without the key.
    const fromBody = await takeBodyCredentials(c, auth.bodyFields, auth.bodyMaxBytes)
    const keySet = await this.options.keySet(c).current(storeContext(c))
    const credential = extractCredential(c.req.raw, auth, fromBody)
    const identity = credential ? await this.#verify(c, credential.value, target, auth, keySet) : await anonymous(auth, keySet)
    if (identity.method === 'iam-api-key' && auth.keyKinds && !auth.keyKinds.includes(identity.keyKind!)) {
      throw new EdgeAuthError('permission_denied', `the route does not accept ${identity.keyKind} keys`, {
        credentialId: identity.credentialId,
        publicDetail: `This route accepts ${auth.keyKinds.join(' or ')} keys only; this is a ${identity.keyKind} key.`,
      })
    }
    if (!aclAllows(identity, auth)) {
      throw new EdgeAuthError('permission_denied', `${identity.principal.type} ${identity.principal.id} is not on the route's allow-list`, { credentialId: identity.credentialId })
    }
    return { identity, responseHeaders: identity.method === 'legacy-jwt' ? this.#legacyPolicyOf(keySet).headers : [] }
  }

  /**
   * The legacy schedule of a snapshot: the key set's, else the configured one
   * ({@link effectiveLegacyPolicy}). A new schedule is a new snapshot, so the
   * verification cache, keyed by snapshot, never serves an entry bounded by another schedule.
   */
  #legacyPolicyOf(keySet: KeySetView): LegacyPolicyOfSnapshot {
    let current = this.#legacyPolicy
    if (current?.snapshotId !== keySet.snapshotId) {
      const policy = effectiveLegacyPolicy(keySet.legacySchedule, this.options.legacyTokens)
      this.#legacyPolicy = current = { snapshotId: keySet.snapshotId, policy, headers: legacyDeprecationHeaders(policy) }
    }
    return current
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
    let verified = this.#cache.get(auth, cacheKey, keySet.snapshotId, now)
    if (!verified) {
      const result = isApiKey ? await this.#apiKey(value, target, keySet, now) : await this.#jwt(c, value, target, auth, keySet, now)
      verified = result.verified
      this.#cache.set(auth, cacheKey, keySet.snapshotId, verified, result.expiresAtMs, now)
    }
    if (verified.conditions) this.#assertConditions(c, verified, target, keySet, now)
    return verified.identity
  }

  async #apiKey(secret: string, target: Target, keySet: KeySetView, now: number): Promise<{ verified: VerifiedCredential; expiresAtMs: number | undefined }> {
    if (this.#unknownKeys.get(secret) === keySet.snapshotId) throw new EdgeAuthError('api_key_unknown', 'API key not in the key set')
    let key
    try {
      key = await verifyApiKey(secret, keySet, now)
    } catch (error) {
      if (error instanceof EdgeAuthError && error.code === 'api_key_unknown') this.#unknownKeys.set(secret, keySet.snapshotId)
      throw error
    }
    const organizationId = target.organizationId ?? keySet.organizationOf(target.projectId)
    const owner = key.owner && organizationId !== undefined && key.organizationId === organizationId
    const decision = owner ? { kind: 'allowed' as const } : grantsFor(key.grants, { target, organizationId, fullAccessAllowsInvoke: this.options.fullAccessAllowsInvoke })
    if (decision.kind === 'denied') {
      throw new EdgeAuthError('permission_denied', `${key.bearer.type} ${key.bearer.id} has no grant for ${target.kind} in project ${target.projectId}`, {
        requiredScope: invokePermissionSet(target.kind),
        credentialId: key.accessKey,
      })
    }
    const identity: EdgeAuthIdentity = { method: 'iam-api-key', credentialId: key.accessKey, principal: key.bearer, organizationId: key.organizationId, keyKind: key.kind ?? (key.bearer.type === 'user' ? 'personal' : 'service') }
    return {
      verified: decision.kind === 'conditional' ? { identity, conditions: decision.conditions } : { identity },
      expiresAtMs: key.expiresAt === null ? undefined : Date.parse(key.expiresAt),
    }
  }

  /** Rules are OR-ed: one condition that holds on this request is enough. Evaluated on every request, cached or not. */
  #assertConditions(c: Context, verified: VerifiedCredential, target: Target, keySet: KeySetView, now: number): void {
    const request: ConditionRequest = { ip: this.options.clientIp(c) ?? '', userAgent: c.req.header('user-agent') ?? '', time: new Date(now) }
    const resource = conditionResource(target, keySet, this.options.region)
    for (const source of verified.conditions ?? []) {
      if (this.#conditions.get(source, keySet.snapshotId)(request, resource)) return
    }
    const { identity } = verified
    throw new EdgeAuthError('permission_denied', `no condition of the grants of ${identity.principal.type} ${identity.principal.id} holds for this request`, {
      requiredScope: invokePermissionSet(target.kind),
      credentialId: identity.credentialId,
    })
  }

  /** Picks the verifier by the unverified `iss`; every claim is checked after the signature, by that verifier. */
  async #jwt(c: Context, token: string, target: Target, auth: RouteAuth, keySet: KeySetView, now: number): Promise<{ verified: VerifiedCredential; expiresAtMs: number | undefined }> {
    const iss = unverifiedIssuer(token)
    if (iss === LEGACY_ISSUER) {
      if (!auth.accept.includes('legacy-jwt')) throw new EdgeAuthError('credentials_unsupported', 'the route does not accept legacy tokens')
      const { policy } = this.#legacyPolicyOf(keySet)
      assertLegacyAllowed(policy, now)
      const legacy = await this.#legacy.verify(token, target, keySet, now)
      // Trusted until the token's exp or the schedule's next refusal (brownout, sunset), whichever comes first.
      return {
        verified: { identity: { method: 'legacy-jwt', credentialId: legacy.tokenId, principal: { type: 'legacy-token', id: legacy.tokenId }, namespaceId: legacy.namespaceId } },
        expiresAtMs: earliest(legacy.expiresAtMs, nextLegacyRefusalAt(policy, now)),
      }
    }
    const issuer = auth.accept.includes('oidc-jwt') ? OidcJwtVerifier.issuerFor(iss, await keySet.oidc(), auth) : undefined
    if (issuer) {
      const oidc = await this.#oidc.verify(token, issuer, auth, now)
      return { verified: { identity: { method: 'oidc-jwt', credentialId: issuer.id, principal: { type: 'oidc-subject', id: oidc.subject } } }, expiresAtMs: oidc.expiresAtMs }
    }
    if (!auth.accept.includes('consumer-jwt')) throw new EdgeAuthError('credentials_unsupported', 'the route does not accept this kind of JWT')
    const verified = await this.#consumers.verify(token, await keySet.consumers(), auth, this.options.credentialEncryptionKey(c), now)
    return { verified: { identity: consumerIdentity('consumer-jwt', verified.consumer, verified.credential.key) }, expiresAtMs: verified.expiresAtMs }
  }
}

/** What a condition sees of the target: the route's ids, completed from the synced resources. */
function conditionResource(target: Target, keySet: KeySetView, region: string): ConditionResource {
  const resource = target.resourceId === undefined ? undefined : keySet.resource(target.resourceId)
  return {
    id: target.resourceId ?? '',
    name: target.resourceName ?? resource?.name ?? '',
    namespaceId: target.namespaceId ?? resource?.namespaceId ?? '',
    namespaceName: resource?.namespaceName ?? '',
    kind: target.kind,
    projectId: target.projectId,
    region: resource?.region ?? region,
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
