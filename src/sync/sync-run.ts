/**
 * One sync, as a sequence of steps: each within one invocation's subrequest budget,
 * with a small result (cursors, counts, hashes) from which the next goes on. The
 * Workflow (src/sync/workflow.ts) runs them as durable steps, retried with backoff
 * and never redone once finished; `runSync` runs them in place. docs/storage.md, "The sync".
 *
 *   revoke?            keys revoked through the admin API leave their shards at once
 *   lease #n           the writer lease (wait #n between tries), or covered by another run
 *   verify             every part the committed manifest names is in KV
 *   captures #n        registry digests (removed ones leave their shards at once)
 *   context            routes, serverless resources, legacy tokens, consumers, OIDC → parts
 *   principals #n      applications, users, groups, policies, rules (staged)
 *   compile            each bearer's grants
 *   keys #n            API keys, in access-key order, by range
 *   confirm #n         keys a listing missed, read one by one
 *   plan, build #n     the shards a change touched
 *   commit             the manifest switched (compare-and-swap in the owner)
 *   finish             the status recorded, the lease released
 */
import type { BeginResult } from '../keyset/owner/lease.js'
import type { SnapshotParts, SwitchResult } from '../keyset/owner/commit.js'
import type { Manifest } from '../keyset/schema.js'
import type { KeySetKvWriter } from '../keyset/writer.js'
import { readContext } from './context.js'
import { capturesStart, compileStagedPrincipals, confirmSuspects, feedCaptures, feedIamKeys, feedPrincipals, iamKeysStart, principalsStart, type FeedContext } from './feeds.js'
import type { IamApi } from './iam-api.js'
import { countedOwner, type OwnerCalls } from './owner-client.js'
import type { RegistryKv } from './registry.js'
import type { ServerlessApi } from './serverless-api.js'
import type { SyncStatus } from './status.js'
import { SubrequestMeter } from './subrequests.js'

/** Runs named steps: durably in a Workflow, or in place. */
export interface StepRunner {
  /** Runs `task` as a step named `name` (unique within the run) and returns its (small, serialisable) result. */
  do<T>(name: string, task: () => Promise<T>): Promise<T>
  /** Waits, as a step of its own. */
  sleep(name: string, ms: number): Promise<void>
}

/** What starts a sync. */
export interface SyncRequest {
  /** `cron`, `admin`, `cli`, or what changed (`consumer.create`…): recorded in logs. */
  reason: string
  /** When the change that asked for it was made (ms): a run granted the lease after it covers it. */
  requestedAt: number
  /** Access keys to take out of the key set at once (revoked through the admin API or the CLI). */
  revokeAccessKeys?: string[] | undefined
}

/** What one step reads with; built afresh for every step, its subrequests counted on `meter`. */
export interface StepSources {
  kv: RegistryKv & KeySetKvWriter
  owner: OwnerCalls
  /** The IAM and serverless APIs; absent without IAM (no `IAM_API_TOKEN`). */
  apis?: { iam: IamApi; serverless: ServerlessApi; organizationId: string } | undefined
  /** For JWKS fetches. */
  fetch?: typeof fetch | undefined
}

/** Settings of a sync run. */
export interface SyncRunOptions {
  /** The step's sources, counted on the meter given. */
  sources: (meter: SubrequestMeter) => StepSources
  /** Most subrequests one step makes. Default 400 (a paid Worker invocation allows 1,000). */
  subrequestsPerStep?: number
  /** Seconds the writer lease lasts without a call from its run. Default 600. */
  leaseSeconds?: number
  /** Seconds between status writes when nothing changed. Default 3600. */
  statusHeartbeatSeconds?: number
  /** Milliseconds an OIDC JWKS fetch may take. Default 5000. */
  jwksTimeoutMs?: number
  /** Prints one JSON line per step (start and end): for the scale benchmark. Default false. */
  logSteps?: boolean
  clock?: () => number
}

/** One step's figures. */
export interface StepMetrics {
  step: string
  /** Subrequests the step made: fetches, KV operations, owner calls. */
  subrequests: number
  /** KV operations the owner made for the step (within the owner's own invocations). */
  ownerKvOps: number
  /** KV writes (puts and deletes) the step and the owner made: what a plan's daily write quota counts. */
  kvWrites: number
}

/** What a sync did. */
export interface SyncOutcome {
  ok: boolean
  /** The sync status as recorded (or as it stood, when this run recorded none). */
  status: SyncStatus | null
  /**
   * What the commit did. `manifest` (the committed manifest) is added by the caller
   * that waited for the run (`syncAndWait`), never carried between steps.
   */
  write?: (SwitchResult & { partsWritten: number; partsRepaired: number; partsDeleted: number; manifest?: Manifest | undefined }) | undefined
  statusWritten: boolean
  /** Another run read every source after this one was asked for: it covers this one. */
  coveredBy?: string | undefined
  /** Keys revoked at once by this run's request (`revokeAccessKeys`). */
  revoked?: { keysRemoved: number; shardsWritten: number } | undefined
  /** Captures the registry no longer lists, taken out of their shards at once (before the IAM listing). */
  removedAtOnce?: { captures: number; shardsWritten: number } | undefined
  steps: StepMetrics[]
}

/** How many times a run asks for the lease before it gives up (about 20 minutes of waiting; steps of one instance are limited). */
const MAX_LEASE_TRIES = 600

/** Waits between lease tries: 250 ms, doubling, at most 2 s (a waiting run starts soon after the lease frees). */
export const leaseBackoffMs = (attempt: number) => Math.min(2000, 250 * 2 ** attempt)

/**
 * Runs one sync: see the module comment. A failure after the lease was granted is
 * recorded in the status (the last good key set keeps serving) and returned as
 * `ok: false`; a run that lost its lease stops without writing anything more.
 */
export async function syncRun(runner: StepRunner, runId: string, request: SyncRequest, options: SyncRunOptions): Promise<SyncOutcome> {
  const clock = options.clock ?? Date.now
  const budget = options.subrequestsPerStep ?? 400
  const steps: StepMetrics[] = []
  const step = async <T extends object>(name: string, task: (sources: StepSources, feed: FeedContext) => Promise<T>): Promise<T> => {
    const { result, metrics } = await runner.do(name, async () => {
      if (options.logSteps) console.log(JSON.stringify({ event: 'sync.step.start', run: runId, step: name }))
      const meter = new SubrequestMeter(budget)
      const sources = options.sources(meter)
      const owner = countedOwner(sources.owner, meter)
      const result = await task({ ...sources, owner }, { runId, owner, meter })
      const metrics: StepMetrics = { step: name, subrequests: meter.used, ownerKvOps: meter.ownerKvOps, kvWrites: meter.kvWrites }
      if (options.logSteps) console.log(JSON.stringify({ event: 'sync.step', run: runId, ...metrics }))
      return { result, metrics }
    })
    steps.push(metrics)
    return result
  }

  const revoked = request.revokeAccessKeys?.length ? await step('revoke', (s) => s.owner.revoke(request.revokeAccessKeys!)) : undefined
  let lease: BeginResult | undefined
  for (let attempt = 0; attempt < MAX_LEASE_TRIES; attempt++) {
    lease = await step(`lease #${attempt}`, (s) => s.owner.begin({ runId, reason: request.reason, requestedAt: request.requestedAt, leaseSeconds: options.leaseSeconds ?? 600 }))
    if (lease.state !== 'waiting') break
    await runner.sleep(`wait #${attempt}`, leaseBackoffMs(attempt))
  }
  const base = { steps, ...(revoked ? { revoked: { keysRemoved: revoked.keysRemoved, shardsWritten: revoked.shardsWritten } } : {}) }
  if (lease?.state === 'covered') return { ok: true, status: null, statusWritten: false, coveredBy: lease.by, ...base }
  if (lease?.state !== 'granted') return { ok: false, status: null, statusWritten: false, ...base }
  const sourceReadAt = lease.startedAt
  const startedAt = clock()
  const counts: Record<string, number> = {}
  const warnings: string[] = []

  try {
    const verified = await step('verify', (s) => s.owner.verifyParts(runId))
    // Building the sources does no I/O: whether IAM is configured is known without a step.
    const probe = options.sources(new SubrequestMeter(budget)).apis
    const iam = { configured: probe !== undefined, organizationId: probe?.organizationId ?? '' }
    if (!iam.configured) warnings.push('IAM is not configured (no IAM_API_TOKEN): the key set holds routes, consumers and OIDC issuers only')

    const removedAtOnce = { captures: 0, shardsWritten: 0 }
    if (iam.configured) {
      for (let n = 0, cursor = capturesStart(); !cursor.done; n++) {
        const fed = await step(`captures #${n}`, (s, feed) => feedCaptures(feed, s.kv, cursor))
        if (fed.cursor.pages === cursor.pages) throw new Error('the captures feed made no progress within a step')
        removedAtOnce.captures += fed.removed
        removedAtOnce.shardsWritten += fed.shardsPatched
        cursor = fed.cursor
      }
    }
    const context = await step('context', async (s) => {
      const read = await readContext({
        kv: s.kv,
        serverless: s.apis ? { api: s.apis.serverless, organizationId: s.apis.organizationId } : undefined,
        jwksTimeoutMs: options.jwksTimeoutMs,
        fetch: s.fetch,
        clock,
      })
      const { kvOps: _ops, kvWrites: _writes, written, ...parts } = await s.owner.putParts(runId, read.texts)
      return { parts: parts as SnapshotParts, written, counts: read.counts, warnings: read.warnings }
    })
    Object.assign(counts, context.counts)
    warnings.push(...context.warnings)

    if (iam.configured) {
      for (let n = 0, cursor = principalsStart(); !cursor.done; n++) {
        cursor = (await step(`principals #${n}`, (s, feed) => feedPrincipals(feed, s.apis!.iam, iam.organizationId, cursor))).cursor
      }
      const compiled = await step('compile', (_s, feed) => compileStagedPrincipals(feed, iam.organizationId))
      Object.assign(counts, compiled.counts)
      warnings.push(...compiled.warnings)
      let keys = iamKeysStart()
      for (let n = 0; !keys.done; n++) keys = (await step(`keys #${n}`, (s, feed) => feedIamKeys(feed, s.apis!.iam, iam.organizationId, keys))).cursor
      counts.iamApiKeys = keys.total
      for (let n = 0, done = false; !done; n++) done = (await step(`confirm #${n}`, (s, feed) => confirmSuspects(feed, s.apis!.iam))).done
    } else {
      await step('no iam', (s) => s.owner.clearIamKeys(runId))
    }

    const plan = await step('plan', (s) => s.owner.planShards(runId))
    let partsWritten = context.written
    let invalid = 0
    for (let n = 0, remaining = plan.todo; remaining > 0; n++) {
      // Each new shard is one KV write of the owner's: as many as the budget allows.
      const built = await step(`build #${n}`, (s) => s.owner.buildShards(runId, { max: Math.max(1, budget - 10), organizationId: iam.organizationId }))
      partsWritten += built.written
      invalid += built.invalid
      remaining = built.remaining
    }
    if (invalid > 0) warnings.push(`${invalid} API key(s) left out: their IAM data does not fit the key-set schema`)
    const commit = await step('commit', (s) => s.owner.commit(runId, { parts: context.parts, sourceReadAt, organizationId: iam.organizationId }))
    Object.assign(counts, { apiKeys: commit.apiKeys, shards: commit.shards, partsRepaired: verified.missing.length })
    if (verified.missing.length > 0) warnings.push(`key set: ${verified.missing.length} part(s) named by the manifest were missing from KV and have been rewritten`)
    const finished = await step('finish', (s) =>
      s.owner.finish(runId, { ok: true, counts, warnings, snapshotId: commit.snapshotId, startedAt, at: clock(), heartbeatSeconds: options.statusHeartbeatSeconds ?? 3600 }),
    )
    const { kvOps: _ops, kvWrites: _writes, lateShards: _late, ...switched } = commit
    return {
      ok: true,
      status: finished.status,
      statusWritten: finished.statusWritten,
      write: { ...switched, partsWritten, partsRepaired: verified.missing.length, partsDeleted: 0 },
      ...(removedAtOnce.captures > 0 ? { removedAtOnce } : {}),
      ...base,
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const finished = await step('fail', (s) =>
      s.owner.finish(runId, { ok: false, error: message, counts, warnings, startedAt, at: clock(), heartbeatSeconds: options.statusHeartbeatSeconds ?? 3600 }),
    ).catch(() => ({ status: null, statusWritten: false }))
    return { ok: false, status: finished.status, statusWritten: finished.statusWritten, ...base }
  }
}

/** Runs steps in place, one after the other (tests, and a sync without Workflows). */
export const inPlaceRunner: StepRunner = {
  do: (_name, task) => task(),
  sleep: (_name, ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}
