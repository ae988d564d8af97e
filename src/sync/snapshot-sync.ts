/**
 * The sync in one invocation, for a library user's own `scheduled` handler
 * (`syncKeySet`): the whole snapshot read and built in memory, then written with
 * `writeKeySet`. Right for a key set of a few thousand keys, a single writer and no
 * Durable Object; the gateway Worker runs the sync as a Workflow through the key-set
 * owner instead (src/sync/sync-run.ts, docs/scale.md).
 */
import { inParallel } from '../util/in-parallel.js'
import type { KeySetSource } from '../keyset/schema.js'
import { writeKeySet, type KeySetKvWriter, type WriteKeySetResult } from '../keyset/writer.js'
import { compileApiKeys, type IamSnapshot } from './compile-keys.js'
import { readContextSource } from './context.js'
import type { IamApi, IamRule } from './iam-api.js'
import { Registry, type RegistryKv } from './registry.js'
import type { ServerlessApi } from './serverless-api.js'
import { SYNC_STATUS_KEY, parseSyncStatus, statusNeedsWrite, type SyncStatus } from './status.js'

/** What a sync in one invocation needs. */
export interface SnapshotSyncDependencies {
  kv: KeySetKvWriter & RegistryKv
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
  clock?: () => number
}

/** The outcome of {@link syncSnapshot}. */
export interface SnapshotSyncOutcome {
  ok: boolean
  status: SyncStatus
  write?: WriteKeySetResult
  statusWritten: boolean
}

/**
 * One sync: read IAM, the serverless API and the gateway's registry (routes,
 * captured digests and keys, consumers and their JWT credentials, OIDC issuers),
 * fetch the OIDC issuers' JWKS, build the snapshot and write it (nothing when
 * unchanged). On an IAM, serverless or registry failure nothing of the key set
 * is written, the last good snapshot keeps serving, and the status says which
 * call failed. A JWKS that cannot be fetched is not a failed sync: that
 * issuer's previous keys are kept and the status lists a warning.
 */
export async function syncSnapshot(deps: SnapshotSyncDependencies): Promise<SnapshotSyncOutcome> {
  const clock = deps.clock ?? Date.now
  const started = clock()
  const previous = parseSyncStatus(await deps.kv.get(SYNC_STATUS_KEY, { type: 'text' }))
  let status: SyncStatus
  let write: WriteKeySetResult | undefined
  try {
    const sourceReadAt = clock()
    const source = await buildSnapshot(deps)
    write = await writeKeySet(deps.kv, source.snapshot, { source: 'sync', clock, sourceReadAt })
    if (write.partsRepaired > 0) source.warnings.push(`key set: ${write.partsRepaired} part(s) named by the manifest were missing from KV and have been rewritten`)
    const now = clock()
    status = {
      lastSuccessAt: new Date(now).toISOString(),
      lastError: null,
      consecutiveFailures: 0,
      snapshotId: write.snapshotId,
      counts: { ...source.counts, apiKeys: write.apiKeys, shards: write.shards, partsRepaired: write.partsRepaired },
      ...(source.warnings.length > 0 ? { warnings: source.warnings } : {}),
      durationMs: now - started,
      writtenAt: new Date(now).toISOString(),
    }
  } catch (error) {
    const now = clock()
    status = {
      lastSuccessAt: previous?.lastSuccessAt ?? null,
      lastError: { at: new Date(now).toISOString(), message: error instanceof Error ? error.message : String(error) },
      consecutiveFailures: (previous?.consecutiveFailures ?? 0) + 1,
      snapshotId: previous?.snapshotId ?? null,
      counts: previous?.counts ?? {},
      ...(previous?.warnings ? { warnings: previous.warnings } : {}),
      durationMs: now - started,
      writtenAt: new Date(now).toISOString(),
    }
  }
  const heartbeatMs = 1000 * (deps.statusHeartbeatSeconds ?? 3600)
  const statusWritten = statusNeedsWrite(previous, status, heartbeatMs, clock())
  if (statusWritten) await deps.kv.put(SYNC_STATUS_KEY, JSON.stringify(status))
  return { ok: status.lastError === null, status, ...(write ? { write } : {}), statusWritten }
}

async function buildSnapshot(deps: SnapshotSyncDependencies): Promise<{ snapshot: KeySetSource; counts: Record<string, number>; warnings: string[] }> {
  // IAM first: a sync that cannot read it fails on that call, before the serverless API's.
  const iam = deps.apis ? await readIamKeys(deps.apis, new Registry(deps.kv)) : undefined
  const context = await readContextSource({
    kv: deps.kv,
    serverless: deps.apis ? { api: deps.apis.serverless, organizationId: deps.apis.organizationId } : undefined,
    jwksTimeoutMs: deps.jwksTimeoutMs,
    fetch: deps.fetch,
    clock: deps.clock,
  })
  const warnings = iam ? iam.warnings : ['IAM is not configured (no IAM_API_TOKEN): the key set holds routes, consumers and OIDC issuers only']
  return {
    snapshot: { ...context.source, apiKeys: iam?.apiKeys ?? {} },
    counts: { ...iam?.counts, ...context.counts },
    warnings: [...warnings, ...context.warnings],
  }
}

/** The API keys IAM holds, compiled with their grants and the captured digests. */
async function readIamKeys(apis: NonNullable<SnapshotSyncDependencies['apis']>, registry: Registry) {
  const org = apis.organizationId
  const [apiKeys, applications, users, groups, policies] = await Promise.all([
    apis.iam.listApiKeys(org),
    apis.iam.listApplications(org),
    apis.iam.listUsers(org),
    apis.iam.listGroups(org),
    apis.iam.listPolicies(org),
  ])
  const rules = new Map<string, IamRule[]>()
  await inParallel(policies, 6, async (policy) => void rules.set(policy.id, await apis.iam.listRules(policy.id)))
  const iam: IamSnapshot = { organizationId: org, apiKeys, applications, users, groups, policies, rules }
  const compiled = compileApiKeys(iam, await registry.capturedKeys())
  return {
    apiKeys: compiled.apiKeys,
    warnings: compiled.warnings,
    counts: {
      iamApiKeys: apiKeys.length,
      keysWithoutDigest: compiled.withoutDigest,
      orphanedDigests: compiled.orphanedDigests,
      applications: applications.length,
      users: users.length,
      groups: groups.length,
      policies: policies.length,
    },
  }
}
