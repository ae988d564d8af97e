/**
 * The bindings and vars of the sync (wrangler.toml): the Workflow that runs it, the
 * key-set owner it writes through, and their settings.
 */
import type { GatewayEnv } from '../settings.js'
import type { OwnerNamespace } from './owner-client.js'

/** What starts a sync run (the Workflow's params). */
export interface SyncParams {
  /** `cron`, `admin`, `cli`, or the admin change that asked for it. */
  reason: string
  /** When it was asked for (ms). */
  requestedAt: number
  /** Access keys revoked through the admin API or the CLI: taken out of the key set at once. */
  revokeAccessKeys?: string[]
}

/** The sync's bindings, beside the gateway's. */
export interface SyncBindings {
  /** The key-set owner's Durable Object namespace (`ManifestOwner`). */
  KEYSET_WRITER: OwnerNamespace
  /** The sync Workflow (`SyncWorkflow`). */
  SYNC_WORKFLOW: Workflow<SyncParams>
  /** Most subrequests one sync step makes (default 400; a paid invocation allows 1,000). */
  SYNC_STEP_SUBREQUESTS?: string
  /** Seconds the writer lease lasts without a call from its run (default 600). */
  SYNC_LEASE_SECONDS?: string
  /** `"true"`: one log line per sync step (start and end), for the scale benchmark. */
  SYNC_LOG_STEPS?: string
  /** Seconds `POST /sync` waits for the run it started before answering that it still runs (default 25). */
  SYNC_WAIT_SECONDS?: string
  /** Retries of a failed sync step, with exponential backoff (default 5). */
  SYNC_STEP_RETRIES?: string
  /** Seconds before a failed step's first retry, doubling after each (default 2). */
  SYNC_STEP_RETRY_DELAY_SECONDS?: string
  /** Seconds a retired part stays in KV (default 3600). */
  KEYSET_RETIRE_GRACE_SECONDS?: string
}

/** The Worker's whole environment. */
export type SyncEnv = GatewayEnv & SyncBindings

/** The sync's settings, checked. */
export interface SyncSettings {
  subrequestsPerStep: number
  leaseSeconds: number
  logSteps: boolean
  waitSeconds: number
  /** Retries of a failed step. */
  stepRetries: number
  /** Seconds before a failed step's first retry (doubling). */
  stepRetryDelaySeconds: number
}

/**
 * Reads the sync's vars.
 * @throws {TypeError} naming a var that is not a whole number in its range.
 */
export function readSyncSettings(env: Partial<SyncBindings>): SyncSettings {
  return {
    subrequestsPerStep: whole(env.SYNC_STEP_SUBREQUESTS, 'SYNC_STEP_SUBREQUESTS', 400, 20),
    leaseSeconds: whole(env.SYNC_LEASE_SECONDS, 'SYNC_LEASE_SECONDS', 600, 1),
    logSteps: env.SYNC_LOG_STEPS === 'true',
    waitSeconds: whole(env.SYNC_WAIT_SECONDS, 'SYNC_WAIT_SECONDS', 25, 0),
    stepRetries: whole(env.SYNC_STEP_RETRIES, 'SYNC_STEP_RETRIES', 5, 0),
    stepRetryDelaySeconds: whole(env.SYNC_STEP_RETRY_DELAY_SECONDS, 'SYNC_STEP_RETRY_DELAY_SECONDS', 2, 1),
  }
}

function whole(raw: string | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) throw new TypeError(`${name} must be a whole number of at least ${min}, got "${raw}"`)
  return value
}
