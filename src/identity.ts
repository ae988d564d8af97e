/**
 * Who a request stands for once authenticated: the types every layer shares
 * (credentials produce them, authorisation reads them, the proxy forwards them,
 * the middleware sets them on the context).
 * @module
 */

/** How the caller proved who it is (`anonymous`: it did not, and the route's anonymous consumer stands in). */
export type AuthMethod = 'iam-api-key' | 'legacy-jwt' | 'consumer-jwt' | 'oidc-jwt' | 'anonymous'

/** Who the credential stands for: an IAM application or user, or (for a legacy JWT) the token itself. */
export interface EdgeAuthPrincipal {
  type: 'application' | 'user' | 'legacy-token' | 'consumer' | 'oidc-subject'
  id: string
  name?: string | undefined
}

/**
 * Who the gateway let through, set on the context as `c.var.edgeAuth`.
 * Holds identifiers only, never a secret.
 */
export interface EdgeAuthIdentity {
  method: AuthMethod
  /** The credential's public identifier: an API key's access key (`SCW…`), a legacy token's id. */
  credentialId: string
  /** The application or user the credential belongs to; for a legacy JWT, the token. */
  principal: EdgeAuthPrincipal
  /** The IAM organisation, for IAM credentials. */
  organizationId?: string | undefined
  /** For a legacy JWT, the namespace whose key signed it. */
  namespaceId?: string | undefined
  /** The key's recorded kind, when there is one. */
  keyKind?: 'personal' | 'ci' | 'service' | undefined
  /** The consumer, for consumer JWTs and the anonymous consumer. */
  consumer?: { id: string; username: string; customId?: string | undefined; groups: readonly string[] } | undefined
}
