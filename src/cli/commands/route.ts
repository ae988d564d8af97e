/**
 * `edgegw route add|ls|show|rm`: the route table, one route at a time
 * (`POST /routes`, `GET`/`DELETE /routes/{id}` with `ETag` / `If-Match`).
 */
import type { Command } from 'commander'
import { contextOf } from '../lib/context.js'
import { UsageError } from '../lib/errors.js'
import { collect, examples, oneOf, seg } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { syncUnlessSkipped } from '../lib/sync.js'
import type { Column } from '../lib/table.js'
import { resolveTarget, targetLabel } from '../lib/target.js'
import type { RouteJson } from '../lib/wire.js'

/** The columns of `route ls`: scwgw's (RELATIVE URL, TARGET, HTTP_METHODS) after the id `route rm` takes, then what the route accepts. */
export const ROUTE_COLUMNS: Column<RouteJson>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'RELATIVE URL', value: (r) => r.paths.join(',') },
  { header: 'TARGET', value: (r) => targetLabel(r.target) },
  { header: 'HTTP_METHODS', value: (r) => (r.methods && r.methods.length > 0 ? r.methods.join(',') : 'All') },
  { header: 'AUTH', value: (r) => authLabel(r) },
]

function authLabel(route: RouteJson): string {
  const accept = route.auth?.accept
  const kinds = accept === undefined ? 'any credential' : accept.length === 0 ? 'none' : accept.join(',')
  const oidc = route.auth?.oidcIssuers?.length ? ` (oidc: ${route.auth.oidcIssuers.join(',')})` : ''
  const anonymous = route.auth?.anonymousConsumer ? ', anonymous allowed' : ''
  return `${kinds}${oidc}${anonymous}`
}

/** A route id from its path: `/app` → `app`, `/v1/billing` → `v1-billing`, `/` → `root`. */
export function routeIdFor(path: string): string {
  const id = path
    .replace(/^\/+|\/+$/g, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63)
  return id === '' ? 'root' : id
}

interface AddOptions {
  target: string
  id?: string
  jwt?: boolean
  apiKey?: boolean
  legacyJwt?: boolean
  oidc?: string[]
  methods?: string[]
  cors?: string[]
  stripPath: boolean
  anonymous?: string
  allowConsumer?: string[]
  allowGroup?: string[]
  kind?: string
  project?: string
  public?: boolean
  sync?: boolean
}

/** Registers `route` and its subcommands. */
export function registerRoute(program: Command, io: Io): void {
  const route = program
    .command('route')
    .description('Manage the routes: which paths go to which function or container, and which credentials they accept')
    .addHelpText('after', examples('edgegw route add /app --target function:hello --jwt', 'edgegw route ls', 'edgegw route show app', 'edgegw route rm app'))

  route
    .command('add')
    .description('Add a route; --target names a function or container (resolved through the serverless API) or a URL')
    .argument('<path>', 'the path prefix, e.g. /app (matched on segment boundaries)')
    .requiredOption('--target <target>', 'function:<name>, container:<name> (or <namespace>/<name>, or an id), or an https URL')
    .option('--id <id>', 'the route id (default: from the path, /app → app)')
    .option('--jwt', 'accept consumer JWTs (edgegw consumer / jwt)')
    .option('--api-key', 'accept IAM API key secrets')
    .option('--legacy-jwt', 'accept legacy serverless JWTs')
    .option('--oidc <issuer>', 'accept JWTs of this OIDC issuer id (repeatable)', collect)
    .option('-m, --methods <methods>', 'accepted HTTP methods, e.g. GET,POST (default: all)', collect)
    .option('--cors <origin>', 'allow this browser origin (repeatable)', collect)
    .option('--no-strip-path', 'forward the matched prefix too (default: removed, as Kong\'s strip_path)')
    .option('--anonymous <consumer>', 'a request without credential proceeds as this consumer (id or username)')
    .option('--allow-consumer <consumer>', 'only these consumers pass (ids or usernames; repeatable)', collect)
    .option('--allow-group <group>', 'only consumers of these groups pass (repeatable)', collect)
    .option('--kind <kind>', 'URL targets the gateway does not know: function or container', 'function')
    .option('--project <id>', 'URL targets the gateway does not know: the project id')
    .option('--public', 'URL targets the gateway does not know: a public origin (no origin credential)')
    .option('--no-sync', 'return without waiting for the sync that puts the route at the edge')
    .addHelpText(
      'after',
      examples(
        'edgegw route add /app --target function:hello --jwt',
        'edgegw route add /echo --target container:echo --api-key -m GET,POST',
        'edgegw route add /corp --target function:my-ns/api --oidc corp --allow-group staff',
        'edgegw route add /ext --target https://my-ns-api.functions.fnc.fr-par.scw.cloud --api-key',
      ) + '\nWithout --jwt, --api-key, --legacy-jwt or --oidc the route accepts every kind of credential.\n',
    )
    .action(async (path: string, options: AddOptions, command: Command) => {
      const ctx = contextOf(command, io)
      if (!path.startsWith('/')) throw new UsageError(`<path>: must start with /, got ${JSON.stringify(path)}`)
      const kind = oneOf(options.kind ?? 'function', ['function', 'container'] as const, '--kind')
      const target = await resolveTarget(ctx.client, options.target, { kind, ...(options.project ? { project: options.project } : {}), ...(options.public ? { public: true } : {}) })
      const accept = [
        ...(options.apiKey ? ['api-key'] : []),
        ...(options.legacyJwt ? ['legacy-jwt'] : []),
        ...(options.jwt ? ['consumer-jwt'] : []),
        ...(options.oidc?.length ? ['oidc-jwt'] : []),
      ]
      const auth = {
        ...(accept.length > 0 ? { accept } : {}),
        ...(options.oidc?.length ? { oidcIssuers: options.oidc } : {}),
        ...(options.anonymous ? { anonymousConsumer: options.anonymous } : {}),
        ...(options.allowConsumer ? { allowConsumers: options.allowConsumer } : {}),
        ...(options.allowGroup ? { allowGroups: options.allowGroup } : {}),
      }
      const body = {
        id: options.id ?? routeIdFor(path),
        paths: [path],
        ...(options.methods?.length ? { methods: options.methods.map((m) => m.toUpperCase()) } : {}),
        stripPath: options.stripPath,
        target,
        ...(Object.keys(auth).length > 0 ? { auth } : {}),
        ...(options.cors?.length ? { cors: { origins: options.cors } } : {}),
      }
      const { body: created } = await ctx.client.call<RouteJson>('POST', '/routes', { body })
      await syncUnlessSkipped(ctx, options)
      if (ctx.out.json) return ctx.out.writeJson(created)
      ctx.out.table(ROUTE_COLUMNS, [created], '')
    })

  route
    .command('ls')
    .description('List the routes')
    .addHelpText('after', examples('edgegw route ls', "edgegw route ls --json | jq -r '.[].id'"))
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const { body } = await ctx.client.call<{ routes: RouteJson[] }>('GET', '/routes')
      const routes = [...body.routes].sort((a, b) => (a.paths[0] ?? '').localeCompare(b.paths[0] ?? ''))
      if (ctx.out.json) return ctx.out.writeJson(routes)
      ctx.out.table(ROUTE_COLUMNS, routes, 'No routes yet: edgegw route add <path> --target function:<name>')
      if (routes.length > 0) ctx.out.note(`\nRelative URLs are served from the gateway's base URL: ${ctx.client.gatewayUrl}`)
    })

  route
    .command('show')
    .description('Show one route, with its ETag')
    .argument('<id>', 'the route id')
    .addHelpText('after', examples('edgegw route show app', 'edgegw route show app --json'))
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const { body, headers } = await ctx.client.call<RouteJson>('GET', `/routes/${seg(id)}`)
      if (ctx.out.json) return ctx.out.writeJson(body)
      const auth = body.auth ?? {}
      ctx.out.fields([
        ['id', body.id],
        ['paths', body.paths.join(', ')],
        ['methods', body.methods?.length ? body.methods.join(', ') : 'All'],
        ['strip path', body.stripPath ?? true],
        ['target', body.target.url],
        ['kind', body.target.kind],
        ['resource', body.target.resourceName ? `${body.target.resourceName} (${body.target.resourceId ?? '-'})` : body.target.resourceId],
        ['namespace', body.target.namespaceId],
        ['project', body.target.projectId],
        ['privacy', body.target.privacy],
        ['accepts', auth.accept ? auth.accept.join(', ') : 'any credential'],
        ['oidc issuers', auth.oidcIssuers?.join(', ')],
        ['anonymous', auth.anonymousConsumer],
        ['allow consumers', auth.allowConsumers?.join(', ')],
        ['allow groups', auth.allowGroups?.join(', ')],
        ['etag', headers.get('etag')],
      ])
    })

  route
    .command('rm')
    .description('Remove a route')
    .argument('<id>', 'the route id')
    .option('--if-match <etag>', 'remove it only if it is still this version (the ETag route show printed)')
    .option('--no-sync', 'return without waiting for the sync that removes the route at the edge')
    .addHelpText('after', examples('edgegw route rm app', 'edgegw route rm app --if-match \'"3f1c…"\''))
    .action(async (id: string, options: { ifMatch?: string; sync?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      await ctx.client.call('DELETE', `/routes/${seg(id)}`, { headers: options.ifMatch ? { 'if-match': options.ifMatch } : {} })
      await syncUnlessSkipped(ctx, options)
      if (ctx.out.json) return ctx.out.writeJson({ id, deleted: true })
      ctx.out.write(`Route ${id} removed.`)
    })
}
