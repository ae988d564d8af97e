/**
 * `GET /resources`: the functions and containers of the organisation, found by
 * name, id or URL, each with the route target it makes, so `edgegw route add
 * --target function:hello` never asks anyone to copy an id. Read from the
 * serverless API of the gateway's region (names are not unique across
 * namespaces: every match is answered).
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import type { Target } from '../keyset/schema.js'
import type { Namespace, ServerlessProduct, ServerlessResource } from '../sync/serverless-api.js'
import type { AdminDependencies } from './admin-api.js'
import { AdminError, describeIssues } from './admin-http.js'

/** The default `TARGET_URL_TEMPLATE` (src/settings.ts): a workload's own endpoint on the platform. */
export const DEFAULT_TARGET_URL_TEMPLATE = 'https://{domain_name}'

/** The query of `GET /resources`: what to look for (at least one of `name`, `id`, `url`). */
export const ResourcesQuery = v.strictObject({
  kind: v.optional(v.picklist(['function', 'container'], 'expected function or container')),
  name: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(128, 'at most 128 characters'))),
  id: v.optional(v.pipe(v.string(), v.uuid('expected a UUID'))),
  url: v.optional(v.pipe(v.string(), v.maxLength(2048, 'at most 2048 characters'))),
})

/** A resource on the wire, with the target a route to it would have. */
export interface ResourceJson {
  kind: 'function' | 'container'
  id: string
  name: string
  namespace_id: string
  namespace_name: string | null
  project_id: string
  privacy: 'private' | 'public'
  domain_name: string
  target: Target
}

/**
 * The URL a route to this resource forwards to: `template` with `{domain_name}`,
 * `{product}` (`functions`/`containers`), `{id}`, `{name}` and `{namespace_id}`
 * filled in. `https://{domain_name}` on the platform; the local stack points it
 * at the emulator's `/platform/{product}/{id}`.
 */
export function targetUrl(template: string, resource: ServerlessResource, product: ServerlessProduct): string {
  const values: Record<string, string> = { domain_name: resource.domain_name, product, id: resource.id, name: resource.name, namespace_id: resource.namespace_id }
  return template.replace(/\{(domain_name|product|id|name|namespace_id)\}/g, (_, field: string) => encodeURIComponent(values[field]!).replace(/%2E/gi, '.'))
}

/** Adds `GET /resources`. */
export function resourceRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies): void {
  app.get('/resources', async (c) => {
    const parsed = v.safeParse(ResourcesQuery, c.req.query())
    if (!parsed.success) throw new AdminError(400, 'invalid_query', describeIssues(parsed.issues))
    const query = parsed.output
    if (query.name === undefined && query.id === undefined && query.url === undefined) throw new AdminError(400, 'invalid_query', 'name, id or url: one is required')
    const deps = dependencies(c)
    const template = deps.targetUrlTemplate ?? DEFAULT_TARGET_URL_TEMPLATE
    const host = query.url === undefined ? undefined : hostOf(query.url)
    const products: ServerlessProduct[] = query.kind === 'function' ? ['functions'] : query.kind === 'container' ? ['containers'] : ['functions', 'containers']
    const found: ResourceJson[] = []
    for (const product of products) {
      const [namespaces, resources] = await Promise.all([deps.serverless.listNamespaces(product, deps.organizationId), deps.serverless.listResources(product, deps.organizationId)])
      const byId = new Map<string, Namespace>(namespaces.map((n) => [n.id, n]))
      for (const resource of resources) {
        const matches =
          (query.name === undefined || resource.name === query.name) &&
          (query.id === undefined || resource.id.toLowerCase() === query.id.toLowerCase()) &&
          (host === undefined || (resource.domain_name !== '' && resource.domain_name.toLowerCase() === host) || targetUrl(template, resource, product) === query.url)
        const namespace = byId.get(resource.namespace_id)
        if (!matches || !namespace) continue
        const kind = product === 'functions' ? 'function' : 'container'
        const privacy = resource.privacy === 'public' ? 'public' : 'private'
        found.push({
          kind,
          id: resource.id,
          name: resource.name,
          namespace_id: resource.namespace_id,
          namespace_name: namespace.name,
          project_id: namespace.project_id,
          privacy,
          domain_name: resource.domain_name,
          target: {
            url: targetUrl(template, resource, product),
            kind,
            projectId: namespace.project_id,
            organizationId: namespace.organization_id,
            namespaceId: resource.namespace_id,
            resourceId: resource.id,
            resourceName: resource.name,
            privacy,
          },
        })
      }
    }
    return c.json({ data: found })
  })
}

function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase()
  } catch {
    throw new AdminError(400, 'invalid_query', 'url: not a URL')
  }
}
