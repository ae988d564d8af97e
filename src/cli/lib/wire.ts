/**
 * The admin API's answers as the CLI reads them (docs/consumers.md,
 * docs/cli.md). Only the fields the CLI shows are typed; `--json` prints the
 * answers as the gateway sent them.
 */

export interface RouteTarget {
  url: string
  kind: 'function' | 'container'
  projectId: string
  organizationId?: string
  namespaceId?: string
  resourceId?: string
  resourceName?: string
  privacy: 'private' | 'public'
}

export interface RouteAuth {
  accept?: string[]
  oidcIssuers?: string[]
  anonymousConsumer?: string
  allowConsumers?: string[]
  allowGroups?: string[]
  [field: string]: unknown
}

export interface RouteJson {
  id: string
  paths: string[]
  methods?: string[]
  stripPath?: boolean
  target: RouteTarget
  auth?: RouteAuth
  [field: string]: unknown
}

/** A function or container `GET /resources` found, with the route target it makes. */
export interface ResourceJson {
  kind: 'function' | 'container'
  id: string
  name: string
  namespace_id: string
  namespace_name: string | null
  project_id: string
  privacy: string
  target: RouteTarget
}

export interface ConsumerJson {
  id: string
  username: string
  custom_id: string | null
  groups: string[]
  created_at: string
}

export interface CredentialJson {
  id: string
  consumer: { id: string }
  key: string
  algorithm: string
  rsa_public_key?: string
  created_at: string
  expires_at?: string | null
  /** Only in the answer that creates or replaces a secret. */
  secret?: string
}

export interface OidcIssuerJson {
  id: string
  issuer: string
  audiences: string[]
  jwks_uri: string
  algorithms: string[]
  jwks?: { keys: string[]; fetched_at: string | null }
}

export interface ApiKeyJson {
  access_key: string
  bearer: { type: 'application' | 'user'; id: string; name: string | null }
  kind: string | null
  description: string
  created_at: string | null
  expires_at: string | null
  captured: boolean
}

export interface MintedKeyJson {
  access_key: string
  secret_key: string
  application_id?: string | null
  user_id?: string | null
  expires_at?: string | null
  kind: string | null
}

export interface SyncStatusJson {
  lastSuccessAt: string | null
  lastError: { at: string; message: string } | null
  consecutiveFailures: number
  snapshotId: string | null
  counts: Record<string, number>
  warnings?: string[]
  durationMs: number
  writtenAt: string
}

export interface StatusJson {
  keySet: { snapshotId: string; generatedAt: string; source: string; apiKeys: number; shards: number } | null
  sync: SyncStatusJson | null
}

export interface SyncOutcomeJson {
  ok: boolean
  changed: boolean
  status: SyncStatusJson
}

export interface DoctorCheckJson {
  name: string
  ok: boolean
  detail: string
  /** What to do, when not ok. */
  fix?: string
}
