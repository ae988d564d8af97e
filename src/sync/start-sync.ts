/**
 * The one entry point that starts a sync: the Cron Trigger, every admin change and
 * `POST /sync` (`edgegw sync`) call {@link startSync}, which starts a run of the sync
 * Workflow. Runs that overlap are serialised by the key-set owner: one holds the
 * writer lease, the next waits, and any later one is covered by the waiting one.
 */
import { ownerStub } from './owner-client.js'
import { SYNC_STATUS_KEY, parseSyncStatus } from './status.js'
import type { SyncEnv, SyncParams } from './sync-env.js'
import type { SyncOutcome } from './sync-run.js'

/** What to sync for: a reason, and keys revoked through the admin API or the CLI. */
export interface StartSyncRequest {
  reason: string
  /** Access keys to take out of the key set at once, before the run reads anything. */
  revokeAccessKeys?: string[]
}

/** An outcome waited for: complete, or still running when the wait ended. */
export type WaitedOutcome = SyncOutcome & {
  /** `running`: the run had not finished when the wait ended; the status is the last recorded one. */
  state: 'complete' | 'running'
  /** The run that did the work (the covering one, when this one was covered). */
  instanceId: string
}

/** A started run. */
export interface SyncHandle {
  /** The Workflow instance id. */
  id: string
  /** Waits for the run's outcome (following a covering run) at most `timeoutMs` (default 25,000). */
  outcome(options?: { timeoutMs?: number }): Promise<WaitedOutcome>
}

/**
 * Starts a sync run (a `SyncWorkflow` instance).
 * @example
 * ```ts
 * ctx.waitUntil(startSync(env, 'consumer.create'))
 * const outcome = await (await startSync(env, { reason: 'cli' })).outcome()
 * ```
 */
export async function startSync(env: Pick<SyncEnv, 'SYNC_WORKFLOW' | 'KEYSET'>, request: string | StartSyncRequest): Promise<SyncHandle> {
  const { reason, revokeAccessKeys } = typeof request === 'string' ? { reason: request, revokeAccessKeys: undefined } : request
  const params: SyncParams = { reason, requestedAt: Date.now(), ...(revokeAccessKeys?.length ? { revokeAccessKeys: [...revokeAccessKeys] } : {}) }
  const instance = await env.SYNC_WORKFLOW.create({ params })
  return { id: instance.id, outcome: (options) => waitForSync(env, instance.id, options) }
}

/**
 * Polls a run until it completes (following the run that covered it), errs, or
 * `timeoutMs` pass.
 */
export async function waitForSync(env: Pick<SyncEnv, 'SYNC_WORKFLOW' | 'KEYSET'>, id: string, options: { timeoutMs?: number } = {}): Promise<WaitedOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 25_000)
  let current = id
  for (let poll = 0; ; poll++) {
    const state = await (await env.SYNC_WORKFLOW.get(current)).status()
    if (state.status === 'complete') {
      const outcome = state.output as SyncOutcome
      if (outcome.coveredBy && outcome.coveredBy !== current) {
        current = outcome.coveredBy
        continue
      }
      return { ...outcome, state: 'complete', instanceId: current }
    }
    const recorded = async () => parseSyncStatus(await env.KEYSET.get(SYNC_STATUS_KEY, { type: 'text' })) ?? null
    if (state.status === 'errored' || state.status === 'terminated') {
      return { ok: false, status: await recorded(), statusWritten: false, steps: [], state: 'complete', instanceId: current }
    }
    if (Date.now() >= deadline) return { ok: true, status: await recorded(), statusWritten: false, steps: [], state: 'running', instanceId: current }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, 25 * 2 ** poll)))
  }
}

/**
 * Starts a run and waits for it at most `timeoutMs`; when it completed having
 * committed, its outcome carries the owner's committed manifest (`write.manifest`),
 * which the admin API hands to this isolate's key-set store.
 * @example
 * ```ts
 * const outcome = await syncAndWait(env, { reason: 'api_key.revoke', revokeAccessKeys: [accessKey] }, { timeoutMs: 10_000 })
 * ```
 */
export async function syncAndWait(env: Pick<SyncEnv, 'SYNC_WORKFLOW' | 'KEYSET' | 'KEYSET_WRITER'>, request: StartSyncRequest, options: { timeoutMs?: number } = {}): Promise<WaitedOutcome> {
  const outcome = await (await startSync(env, request)).outcome(options)
  if (outcome.state !== 'complete' || !outcome.write) return outcome
  const { manifest } = await ownerStub(env.KEYSET_WRITER).manifest()
  return manifest ? { ...outcome, write: { ...outcome.write, manifest } } : outcome
}
