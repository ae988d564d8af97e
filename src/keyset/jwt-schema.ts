/**
 * Key-set shapes for bearer JWTs other than legacy tokens: Kong-style consumers
 * and their JWT credentials, and OIDC issuers with their synced JWKS.
 * docs/storage.md describes each part.
 */
import * as v from 'valibot'

/** Every algorithm a consumer credential may use (Kong's jwt plugin's set, plus EdDSA). */
export const CONSUMER_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const
export type ConsumerAlgorithm = (typeof CONSUMER_ALGORITHMS)[number]

/** Asymmetric algorithms accepted from OIDC providers (never HMAC: the "secret" would be public). */
export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const

const Id = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/))

/** A consumer: who a consumer JWT stands for (Kong's consumer). */
export const ConsumerSchema = v.object({
  id: v.pipe(v.string(), v.uuid()),
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  customId: v.optional(v.pipe(v.string(), v.maxLength(128))),
  /** ACL groups, for route allow-lists. */
  groups: v.optional(v.array(Id), []),
})
export type Consumer = v.InferOutput<typeof ConsumerSchema>

/**
 * An HMAC secret encrypted at rest: AES-256-GCM under a key derived (HKDF-SHA-256)
 * from the Worker secret `CREDENTIAL_ENCRYPTION_KEY`; base64url fields.
 */
export const SealedSecretSchema = v.object({ v: v.literal(1), iv: v.string(), ct: v.string() })
export type SealedSecret = v.InferOutput<typeof SealedSecretSchema>

/** A consumer's JWT credential (Kong's jwt credential): `key` is what the token's key claim carries. */
export const JwtCredentialSchema = v.object({
  id: v.pipe(v.string(), v.uuid()),
  consumerId: v.pipe(v.string(), v.uuid()),
  key: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  algorithm: v.picklist(CONSUMER_ALGORITHMS),
  /** HMAC algorithms: the sealed secret. */
  secret: v.optional(SealedSecretSchema),
  /** Asymmetric algorithms: the public key, SPKI PEM. */
  publicKeyPem: v.optional(v.pipe(v.string(), v.startsWith('-----BEGIN PUBLIC KEY-----'))),
})
export type JwtCredential = v.InferOutput<typeof JwtCredentialSchema>

/** Consumers and their credentials (key set part `consumers`). Credentials by key. */
export const ConsumersPartSchema = v.object({
  consumers: v.record(v.string(), ConsumerSchema),
  credentials: v.record(v.string(), JwtCredentialSchema),
})
export type ConsumersPart = v.InferOutput<typeof ConsumersPartSchema>

/** An OIDC provider the gateway trusts, with its JWKS as the last sync fetched it. */
export const OidcIssuerSchema = v.object({
  id: Id,
  issuer: v.pipe(v.string(), v.url()),
  audiences: v.pipe(v.array(v.string()), v.minLength(1)),
  jwksUri: v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//)),
  algorithms: v.optional(v.array(v.picklist(OIDC_ALGORITHMS)), ['RS256', 'ES256']),
  /** Public JWKs (kid required). */
  keys: v.array(v.looseObject({ kty: v.string(), kid: v.string() })),
  fetchedAt: v.nullable(v.string()),
})
export type OidcIssuer = v.InferOutput<typeof OidcIssuerSchema>

/** OIDC issuers by id (key set part `oidc`). */
export const OidcPartSchema = v.object({ issuers: v.record(Id, OidcIssuerSchema) })
export type OidcPart = v.InferOutput<typeof OidcPartSchema>

/** How a route takes credentials and whom it lets through. Every field has a default. */
export const RouteAuthSchema = v.object({
  /** Credential kinds the route accepts. */
  accept: v.optional(v.array(v.picklist(['api-key', 'legacy-jwt', 'consumer-jwt', 'oidc-jwt'])), ['api-key', 'legacy-jwt', 'consumer-jwt', 'oidc-jwt']),
  /**
   * Headers that carry a token besides `X-Auth-Token` and `Authorization: Bearer`.
   * A name is read in every spelling that is the same header to a CGI server (case,
   * `_` for `-`), as Kong reads `key_names`: `api_key` and `api-key` are one.
   */
  headerNames: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/))), []),
  /** Query parameters that carry a token (off by default: URLs end up in logs). */
  queryParameters: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._~-]+$/))), []),
  /** Cookies that carry a token (off by default). */
  cookies: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/))), []),
  /**
   * Top-level body fields that carry an API key (off by default; Kong's `key_in_body`):
   * read from `application/x-www-form-urlencoded`, JSON (`application/json`,
   * `…+json`) and `multipart/form-data` (a plain field) bodies of requests other
   * than GET and HEAD, and removed before the body reaches the origin.
   */
  bodyFields: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._~-]+$/))), []),
  /** Bytes of such a body read at most, when `bodyFields` is set; a larger one is refused (413 `body_too_large`). */
  bodyMaxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024 * 1024)), 64 * 1024),
  /** The consumer a request without any credential proceeds as (Kong's `anonymous`). */
  anonymousConsumer: v.optional(v.pipe(v.string(), v.uuid())),
  /** Consumer JWTs: the claim that names the credential (`iss`, as Kong). The header `kid` is the fallback. */
  keyClaim: v.optional(v.pipe(v.string(), v.minLength(1)), 'iss'),
  /** Consumer JWTs: refuse a token without `exp`. */
  requireExp: v.optional(v.boolean(), false),
  /** Consumer JWTs: refuse a token without `nbf` (Kong's `claims_to_verify: ["nbf"]`). */
  requireNbf: v.optional(v.boolean(), false),
  /** Consumer JWTs: refuse a token whose `exp` is more than this many seconds from now (Kong's `maximum_expiration`; its `iat` plays no part). */
  maxLifetimeSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  clockToleranceSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(300)), 30),
  /** Consumer allow-list: consumer ids or usernames; absent means every consumer. */
  allowConsumers: v.optional(v.array(v.string())),
  /** Consumer-group allow-list; absent means every group. */
  allowGroups: v.optional(v.array(Id)),
  /** IAM key kinds the route accepts (personal: a user's key; service, ci: an application's); absent means every kind. */
  keyKinds: v.optional(v.array(v.picklist(['personal', 'ci', 'service']))),
  /** OIDC issuer ids this route trusts; absent means none. */
  oidcIssuers: v.optional(v.array(Id), []),
})
export type RouteAuth = v.InferOutput<typeof RouteAuthSchema>
