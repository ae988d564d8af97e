import { inParallel } from '../util/in-parallel.js'
import type { KeySetSource, LegacyPart, Resource } from '../keyset/schema.js'
import { writeKeySet, type KeySetKvWriter, type WriteKeySetResult } from '../keyset/writer.js'
import { compileApiKeys, type IamSnapshot } from './compile-keys.js'
import type { IamApi, IamRule } from './iam-api.js'
import { Registry, type RegistryKv } from './registry.js'
import type { ServerlessApi, ServerlessProduct } from './serverless-api.js'
import { SYNC_STATUS_KEY, parseSyncStatus, statusNeedsWrite, type SyncStatus } from './status.js'

/** What a sync needs. */
export interface SyncDependencies {
  kv: KeySetKvWriter & RegistryKv
  iam: IamApi
  serverless: ServerlessApi
  /** The organisation whose keys, policies and resources are synced. */
  organizationId: string
  /** Seconds between status writes when nothing changed. Default 3600. */
  statusHeartbeatSeconds?: number
  clock?: () => number
}

/** The outcome of {@link runSync}. */
export interface SyncOutcome {
  ok: boolean
  status: SyncStatus
  write?: WriteKeySetResult
  statusWritten: boolean
}

const PRODUCTS: readonly ServerlessProduct[] = ['functions', 'containers']
const KIND: Record<ServerlessProduct, Resource['kind']> = { functions: 'function', containers: 'container' }

/**
 * One sync: read IAM, the serverless API and the gateway's registry, build the
 * snapshot and write it (nothing when unchanged). On any failure nothing of the
 * key set is written, the last good snapshot keeps serving, and the status says
 * which call failed.
 */
export async function runSync(deps: SyncDependencies): Promise<SyncOutcome> {
  const clock = deps.clock ?? Date.now
  const started = clock()
  const previous = parseSyncStatus(await deps.kv.get(SYNC_STATUS_KEY, { type: 'text' }))
  let status: SyncStatus
  let write: WriteKeySetResult | undefined
  try {
    const source = await buildSnapshot(deps)
    write = await writeKeySet(deps.kv, source.snapshot, { source: 'sync', clock })
    const now = clock()
    status = {
      lastSuccessAt: new Date(now).toISOString(),
      lastError: null,
      consecutiveFailures: 0,
      snapshotId: write.snapshotId,
      counts: { ...source.counts, apiKeys: write.apiKeys, shards: write.shards },
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
      durationMs: now - started,
      writtenAt: new Date(now).toISOString(),
    }
  }
  const heartbeatMs = 1000 * (deps.statusHeartbeatSeconds ?? 3600)
  const statusWritten = statusNeedsWrite(previous, status, heartbeatMs, clock())
  if (statusWritten) await deps.kv.put(SYNC_STATUS_KEY, JSON.stringify(status))
  return { ok: status.lastError === null, status, ...(write ? { write } : {}), statusWritten }
}

async function buildSnapshot(deps: SyncDependencies): Promise<{ snapshot: KeySetSource; counts: Record<string, number> }> {
  const org = deps.organizationId
  const registry = new Registry(deps.kv)
  const [apiKeys, applications, users, groups, policies] = await Promise.all([
    deps.iam.listApiKeys(org),
    deps.iam.listApplications(org),
    deps.iam.listUsers(org),
    deps.iam.listGroups(org),
    deps.iam.listPolicies(org),
  ])
  const rules = new Map<string, IamRule[]>()
  await inParallel(policies, 6, async (policy) => void rules.set(policy.id, await deps.iam.listRules(policy.id)))
  const iam: IamSnapshot = { organizationId: org, apiKeys, applications, users, groups, policies, rules }

  const resources: Record<string, Resource> = {}
  const legacy: LegacyPart = { namespaces: {}, tokens: {} }
  const projects: Record<string, string> = {}
  const [captured, namespaceKeys, routes] = await Promise.all([registry.capturedKeys(), registry.namespaceKeys(), registry.routes()])
  for (const product of PRODUCTS) {
    const [namespaces, items] = await Promise.all([deps.serverless.listNamespaces(product, org), deps.serverless.listResources(product, org)])
    const namespaceById = new Map(namespaces.map((ns) => [ns.id, ns]))
    for (const ns of namespaces) {
      projects[ns.project_id] = ns.organization_id
      const pem = namespaceKeys.get(ns.id)?.publicKeyPem
      legacy.namespaces[ns.id] = { kind: KIND[product], projectId: ns.project_id, ...(pem ? { publicKeyPem: pem } : {}) }
    }
    for (const item of items) {
      const ns = namespaceById.get(item.namespace_id)
      if (!ns) continue
      resources[item.id] = { kind: KIND[product], name: item.name, namespaceId: ns.id, projectId: ns.project_id, privacy: item.privacy === 'public' ? 'public' : 'private' }
    }
    await inParallel(namespaces, 6, async (ns) => {
      for (const token of await deps.serverless.listTokens(product, ns.id)) {
        const resourceId = token.function_id ?? token.container_id ?? undefined
        legacy.tokens[token.id] = { namespaceId: ns.id, ...(resourceId ? { resourceId } : {}), expiresAt: token.expires_at ?? null }
      }
    })
  }
  for (const route of routes) projects[route.target.projectId] ??= route.target.organizationId ?? org

  const compiled = compileApiKeys(iam, captured)
  return {
    snapshot: { routes, projects, resources, legacy, apiKeys: compiled.apiKeys },
    counts: {
      iamApiKeys: apiKeys.length,
      keysWithoutDigest: compiled.withoutDigest,
      orphanedDigests: compiled.orphanedDigests,
      applications: applications.length,
      users: users.length,
      groups: groups.length,
      policies: policies.length,
      routes: routes.length,
      resources: Object.keys(resources).length,
      legacyTokens: Object.keys(legacy.tokens).length,
    },
  }
}
