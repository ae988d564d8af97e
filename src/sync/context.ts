/**
 * What the key set holds besides API keys: routes and projects (the config part),
 * functions and containers, legacy namespaces and live tokens, consumers with their
 * JWT credentials, OIDC issuers with their JWKS. Org-sized, read whole in one sync
 * step from the gateway's registry, the serverless API and the issuers.
 */
import type { KeySetSource, LegacyPart, Resource } from '../keyset/schema.js'
import { partTexts, type KeySetKvWriter, type PartTexts } from '../keyset/writer.js'
import { inParallel } from '../util/in-parallel.js'
import { ConsumerRegistry } from './consumer-registry.js'
import { buildConsumersPart } from './consumers-part.js'
import { buildOidcPart, currentOidcPart } from './oidc-jwks.js'
import { OidcRegistry } from './oidc-registry.js'
import { readLegacySchedule } from './legacy-schedule-registry.js'
import { Registry, type RegistryKv } from './registry.js'
import type { ServerlessApi, ServerlessProduct } from './serverless-api.js'

/** What the context step reads with. */
export interface ContextSources {
  kv: RegistryKv & KeySetKvWriter
  /** The serverless API and the organisation; absent without IAM. */
  serverless?: { api: ServerlessApi; organizationId: string } | undefined
  /** Milliseconds an OIDC JWKS fetch may take. Default 5000. */
  jwksTimeoutMs?: number | undefined
  /** For JWKS fetches. Default the global `fetch`. */
  fetch?: typeof fetch | undefined
  clock?: (() => number) | undefined
}

/** The context, as part texts ready for the owner, with its counts and warnings. */
export interface Context {
  texts: PartTexts
  counts: Record<string, number>
  warnings: string[]
}

const PRODUCTS: readonly ServerlessProduct[] = ['functions', 'containers']
const KIND: Record<ServerlessProduct, Resource['kind']> = { functions: 'function', containers: 'container' }

/** The context before it is written: the key set's source without its API keys. */
export interface ContextSource {
  source: Omit<KeySetSource, 'apiKeys'>
  counts: Record<string, number>
  warnings: string[]
}

/**
 * Reads the context. A JWKS that cannot be fetched is a warning (the issuer keeps
 * its previous keys); a registry value that does not parse is left out with a warning.
 * @throws {ApiCallError} when the serverless API fails; {@link TypeError} when the routes do not fit the schema.
 */
export async function readContext(sources: ContextSources): Promise<Context> {
  const { source, counts, warnings } = await readContextSource(sources)
  return { texts: partTexts(source), counts, warnings }
}

/**
 * Reads the context as a key-set source (what {@link readContext} turns into part texts,
 * and what the one-invocation sync, src/sync/snapshot-sync.ts, adds its API keys to).
 * @throws as {@link readContext}.
 */
export async function readContextSource(sources: ContextSources): Promise<ContextSource> {
  const registry = new Registry(sources.kv)
  const consumerRegistry = new ConsumerRegistry(sources.kv)
  const [routes, consumers, credentials, issuers, legacySchedule] = await Promise.all([
    registry.routes(),
    consumerRegistry.allConsumers(),
    consumerRegistry.allCredentials(),
    new OidcRegistry(sources.kv).all(),
    readLegacySchedule(sources.kv),
  ])
  const warnings: string[] = []
  const serverless = sources.serverless ? await readServerless(sources.serverless.api, sources.serverless.organizationId, registry) : undefined
  const projects = serverless?.projects ?? {}
  for (const route of routes) {
    const organizationId = route.target.organizationId ?? sources.serverless?.organizationId
    if (organizationId) projects[route.target.projectId] ??= organizationId
  }
  const unreadable = [...consumers.unreadable, ...credentials.unreadable, ...issuers.unreadable]
  if (unreadable.length > 0) warnings.push(`${unreadable.length} registry value(s) unreadable and left out: ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', …' : ''}`)
  const consumersPart = buildConsumersPart(consumers.documents, credentials.documents, (sources.clock ?? Date.now)())
  warnings.push(...consumersPart.warnings)
  const oidc = await buildOidcPart(issuers.documents, {
    ...(sources.jwksTimeoutMs === undefined ? {} : { timeoutMs: sources.jwksTimeoutMs }),
    ...(sources.fetch ? { fetch: sources.fetch } : {}),
    ...(sources.clock ? { clock: sources.clock } : {}),
    previous: () => currentOidcPart(sources.kv),
  })
  warnings.push(...oidc.warnings)
  return {
    source: {
      routes,
      projects,
      resources: serverless?.resources ?? {},
      ...(serverless ? { legacy: serverless.legacy } : {}),
      ...(legacySchedule ? { legacySchedule: legacySchedule.schedule } : {}),
      ...(consumersPart.part ? { consumers: consumersPart.part } : {}),
      ...(oidc.part ? { oidc: oidc.part } : {}),
    },
    counts: {
      routes: routes.length,
      ...(serverless ? { resources: Object.keys(serverless.resources).length, legacyTokens: Object.keys(serverless.legacy.tokens).length } : {}),
      ...consumersPart.counts,
      ...oidc.counts,
      registryUnreadable: unreadable.length,
    },
    warnings,
  }
}

/** Functions, containers, their namespaces (with captured public keys) and live legacy tokens. */
async function readServerless(api: ServerlessApi, organizationId: string, registry: Registry) {
  const resources: Record<string, Resource> = {}
  const legacy: LegacyPart = { namespaces: {}, tokens: {} }
  const projects: Record<string, string> = {}
  const namespaceKeys = await registry.namespaceKeys()
  for (const product of PRODUCTS) {
    const [namespaces, items] = await Promise.all([api.listNamespaces(product, organizationId), api.listResources(product, organizationId)])
    const namespaceById = new Map(namespaces.map((ns) => [ns.id, ns]))
    for (const ns of namespaces) {
      projects[ns.project_id] = ns.organization_id
      const pem = namespaceKeys.get(ns.id)?.publicKeyPem
      legacy.namespaces[ns.id] = { kind: KIND[product], projectId: ns.project_id, ...(pem ? { publicKeyPem: pem } : {}) }
    }
    for (const item of items) {
      const ns = namespaceById.get(item.namespace_id)
      if (!ns) continue
      resources[item.id] = {
        kind: KIND[product],
        name: item.name,
        namespaceId: ns.id,
        namespaceName: ns.name,
        projectId: ns.project_id,
        region: api.region,
        privacy: item.privacy === 'public' ? 'public' : 'private',
      }
    }
    await inParallel(namespaces, 6, async (ns) => {
      for (const token of await api.listTokens(product, ns.id)) {
        const resourceId = token.function_id ?? token.container_id ?? undefined
        legacy.tokens[token.id] = { namespaceId: ns.id, ...(resourceId ? { resourceId } : {}), expiresAt: token.expires_at ?? null }
      }
    })
  }
  return { resources, legacy, projects }
}
