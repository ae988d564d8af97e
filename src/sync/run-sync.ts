import type { KeySetKvWriter } from '../keyset/writer.js'
import type { IamApi } from './iam-api.js'
import type { OwnerCalls } from './owner-client.js'
import type { RegistryKv } from './registry.js'
import type { ServerlessApi } from './serverless-api.js'
import { inPlaceRunner, syncRun, type SyncOutcome } from './sync-run.js'

export type { SyncOutcome } from './sync-run.js'

/** What a sync run in place needs. */
export interface SyncDependencies {
  kv: KeySetKvWriter & RegistryKv
  /** The key-set owner (`ownerStub(env.KEYSET_WRITER)`): the one writer of the key set. */
  owner: OwnerCalls
  /**
   * The IAM and serverless APIs and the organisation they are read for. Absent
   * when the gateway runs without IAM (no `IAM_API_TOKEN`): the key set is then
   * built from the registry alone (routes, consumers, OIDC issuers) and holds
   * no API key and no legacy token.
   */
  apis?: { iam: IamApi; serverless: ServerlessApi; organizationId: string }
  /** Milliseconds an OIDC JWKS fetch may take. Default 5000. */
  jwksTimeoutMs?: number
  /** For JWKS fetches. Default the global `fetch`. */
  fetch?: typeof fetch
  /** Seconds between status writes when nothing changed. Default 3600. */
  statusHeartbeatSeconds?: number
  /** Most subrequests a step makes. Default 400. */
  subrequestsPerStep?: number
  clock?: () => number
}

/**
 * One sync, its steps run in place, one after the other (the Worker runs them as a
 * Workflow: src/sync/workflow.ts). Reads IAM, the serverless API and the gateway's
 * registry, and has the key-set owner write what changed (nothing when nothing did).
 * On a failure nothing more of the key set is written, the last good snapshot keeps
 * serving, and the status says which call failed. A JWKS that cannot be fetched is
 * not a failed sync: that issuer's previous keys are kept and the status lists a warning.
 */
export function runSync(deps: SyncDependencies, request: { reason?: string; revokeAccessKeys?: string[] } = {}): Promise<SyncOutcome> {
  return syncRun(inPlaceRunner, `in-place-${crypto.randomUUID()}`, { reason: request.reason ?? 'in-place', requestedAt: Date.now(), revokeAccessKeys: request.revokeAccessKeys }, {
    sources: (meter) => ({ kv: meter.kv(deps.kv), owner: deps.owner, apis: deps.apis, fetch: deps.fetch ? meter.fetch(deps.fetch) : undefined }),
    ...(deps.subrequestsPerStep !== undefined ? { subrequestsPerStep: deps.subrequestsPerStep } : {}),
    ...(deps.statusHeartbeatSeconds !== undefined ? { statusHeartbeatSeconds: deps.statusHeartbeatSeconds } : {}),
    ...(deps.jwksTimeoutMs !== undefined ? { jwksTimeoutMs: deps.jwksTimeoutMs } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  })
}
