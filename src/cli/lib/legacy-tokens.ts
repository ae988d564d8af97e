/**
 * The live legacy tokens, read from the serverless API, each with its scope
 * resolved (namespace, project, names), and what usage says of them: the inputs
 * of `edgegw migrate plan` and `finish`.
 */
import type { AdminClient } from './admin-client.js'
import type { LegacyTokenInfo, TokenUsage } from './migration-build.js'
import { ScalewayClient, type Product } from './scaleway-client.js'

interface TokenDoc {
  id: string
  namespace_id?: string | null
  function_id?: string | null
  container_id?: string | null
  description?: string | null
  expires_at?: string | null
}
interface NamespaceDoc {
  id: string
  name: string
  project_id: string
}
interface WorkloadDoc {
  id: string
  name: string
  namespace_id: string
}

/** One credential of `GET /usage`. */
export interface CredentialUsageJson {
  kind: string
  credential_id: string
  principal: { type: string; id: string; name: string | null }
  namespace_id: string | null
  calls: number
  first_seen: string
  last_seen: string
  routes: { route: string; calls: number }[]
  user_agents: string[]
}

/** `GET /usage` as a whole. */
export interface UsageJson {
  since: string
  until: string
  credentials: CredentialUsageJson[]
  truncated: boolean
  dropped_calls: number
  pending_flush: string
}

/** Every live legacy token of both products, its scope resolved. Tokens of deleted namespaces are left out. */
export async function listLegacyTokens(scw: ScalewayClient): Promise<LegacyTokenInfo[]> {
  const out: LegacyTokenInfo[] = []
  for (const product of ['functions', 'containers'] as const satisfies readonly Product[]) {
    const base = scw.serverless(product)
    const [tokens, namespaces, workloads] = await Promise.all([
      scw.list<TokenDoc>(`${base}/tokens`, 'tokens'),
      scw.list<NamespaceDoc>(`${base}/namespaces`, 'namespaces'),
      scw.list<WorkloadDoc>(`${base}/${product}`, product),
    ])
    const namespaceById = new Map(namespaces.map((n) => [n.id, n]))
    const workloadById = new Map(workloads.map((w) => [w.id, w]))
    const resource = product === 'functions' ? 'function' : 'container'
    for (const token of tokens) {
      const resourceId = (product === 'functions' ? token.function_id : token.container_id) ?? null
      const workload = resourceId ? workloadById.get(resourceId) : undefined
      const namespace = namespaceById.get(workload?.namespace_id ?? token.namespace_id ?? '')
      if (!namespace || (resourceId && !workload)) continue
      out.push({
        id: token.id,
        product,
        description: token.description ?? '',
        expiresAt: token.expires_at ?? null,
        scope: resourceId
          ? { kind: resource, product, project_id: namespace.project_id, namespace_id: namespace.id, resource_id: resourceId, label: `${resource} ${namespace.name}/${workload!.name}` }
          : { kind: 'namespace', product, project_id: namespace.project_id, namespace_id: namespace.id, resource_id: null, label: `${product} namespace ${namespace.name}` },
      })
    }
  }
  return out
}

/** Deletes a legacy token on the platform (it is refused from then on, at the edge after the next sync). */
export async function deleteLegacyToken(scw: ScalewayClient, product: Product, id: string): Promise<void> {
  await scw.call('DELETE', `${scw.serverless(product)}/tokens/${encodeURIComponent(id)}`)
}

/** Days back from today (UTC) that reach `sinceMs`, for `GET /usage?since=Nd` (1d is today). */
export function daysSince(sinceMs: number, nowMs: number): number {
  const day = (ms: number) => Math.floor(ms / 86_400_000)
  return Math.min(400, Math.max(1, day(nowMs) - day(sinceMs) + 1))
}

/** The legacy tokens' usage since an instant, by token id (`GET /usage?kind=legacy-jwt`). */
export async function legacyUsage(client: AdminClient, sinceMs: number, nowMs: number): Promise<Map<string, TokenUsage>> {
  const { body } = await client.call<UsageJson>('GET', '/usage', { query: { kind: 'legacy-jwt', since: `${daysSince(sinceMs, nowMs)}d`, limit: 1000 } })
  return new Map(
    body.credentials.map((c) => [c.credential_id, { calls: c.calls, lastSeen: c.last_seen, routes: c.routes.map((r) => r.route), userAgents: c.user_agents }]),
  )
}
