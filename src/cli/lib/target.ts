/**
 * `--target` of `route add`: a URL, `function:<name>` or `container:<name>`.
 * Names are resolved by the gateway (`GET /resources`, from the serverless
 * API), so nobody copies ids by hand; `<namespace>/<name>` picks one of several
 * functions of the same name, and an id works too.
 */
import type { AdminClient } from './admin-client.js'
import { GatewayError, UsageError } from './errors.js'
import { isUuid } from './options.js'
import type { ResourceJson, RouteTarget } from './wire.js'

/** What a URL target needs besides the URL, when the gateway does not know the URL's resource. */
export interface UrlTargetOptions {
  kind?: 'function' | 'container'
  project?: string
  public?: boolean
}

/**
 * Resolves a `--target` into a route target.
 * @throws {UsageError} for a target that is neither a URL nor `function:`/`container:`, or a URL the gateway does not know without `--project`.
 * @throws {GatewayError} `resource_not_found` / `resource_ambiguous` when a name matches no resource, or several.
 */
export async function resolveTarget(client: AdminClient, spec: string, options: UrlTargetOptions): Promise<RouteTarget> {
  const named = /^(function|container):(.+)$/.exec(spec)
  if (named) {
    const kind = named[1] as 'function' | 'container'
    const ref = named[2]!
    const slash = ref.lastIndexOf('/')
    const namespace = slash > 0 ? ref.slice(0, slash) : undefined
    const name = slash > 0 ? ref.slice(slash + 1) : ref
    const query = isUuid(name) ? { kind, id: name } : { kind, name }
    const { body } = await client.call<{ data: ResourceJson[] }>('GET', '/resources', { query })
    const matches = body.data.filter((r) => namespace === undefined || r.namespace_name === namespace || r.namespace_id === namespace)
    if (matches.length === 0) throw new GatewayError(404, 'resource_not_found', `no ${kind} ${JSON.stringify(ref)} in the organisation (the serverless API of the gateway's region)`)
    if (matches.length > 1) {
      const candidates = matches.map((r) => `${kind}:${r.namespace_name ?? r.namespace_id}/${r.name} (${r.id})`).join(', ')
      throw new GatewayError(409, 'resource_ambiguous', `several ${kind}s are named ${JSON.stringify(name)}: use one of ${candidates}`)
    }
    return matches[0]!.target
  }
  if (/^https?:\/\//i.test(spec)) {
    try {
      new URL(spec)
    } catch {
      throw new UsageError(`--target: ${JSON.stringify(spec)} is not a URL`)
    }
    // A gateway without IAM cannot look the URL up: then --project says what it is.
    const known = await client.call<{ data: ResourceJson[] }>('GET', '/resources', { query: { url: spec } }).then(
      ({ body }) => body.data,
      (error: unknown) => {
        if (error instanceof GatewayError && error.code === 'not_configured') return []
        throw error
      },
    )
    if (known.length === 1) return { ...known[0]!.target, url: spec }
    if (!options.project) {
      throw new UsageError(`--target: the gateway knows no function or container at ${spec}; pass --project <project id> (and --kind container, --public when so), or use function:<name> / container:<name>`)
    }
    if (!isUuid(options.project)) throw new UsageError(`--project: expected a project id (UUID)`)
    return { url: spec, kind: options.kind ?? 'function', projectId: options.project, privacy: options.public ? 'public' : 'private' }
  }
  throw new UsageError(`--target: expected a URL, function:<name> or container:<name>, got ${JSON.stringify(spec)}`)
}

/** How a target reads in a table: `function:hello`, or its URL. */
export function targetLabel(target: RouteTarget): string {
  return target.resourceName ? `${target.kind}:${target.resourceName}` : target.url
}
