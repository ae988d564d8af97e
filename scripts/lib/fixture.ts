/**
 * The local stack's fixture (`fixtures/local-stack.json`): what `npm start`
 * creates in the emulator (applications, policies, namespaces, a private
 * function and container) and in the gateway (keys, a legacy token, routes).
 * It holds no secret and no minted id: those are kept in the secrets file.
 */
import { readFile } from 'node:fs/promises'
import * as v from 'valibot'
import { GrantSchema, RouteSchema, UuidSchema, type Grant, type Route } from '../../src/keyset/schema.js'

const NonEmpty = v.pipe(v.string(), v.minLength(1, 'must not be empty'))
/** A serverless resource name, as the serverless API accepts it. */
const ServerlessName = v.pipe(v.string(), v.regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be lower-case letters, digits and dashes, at most 63'))

const ApplicationSchema = v.strictObject({
  /** The IAM application's name. */
  name: NonEmpty,
  description: v.optional(v.string(), ''),
  /** The rules of the application's policy, in the key set's own shape; none: no policy. */
  grants: v.array(GrantSchema),
})

const WorkloadSchema = {
  name: ServerlessName,
  privacy: v.optional(v.picklist(['private', 'public']), 'private'),
}

/** The shape of `fixtures/local-stack.json`, checked when the file is read. */
export const LocalStackFixtureSchema = v.strictObject({
  $comment: v.optional(v.string()),
  /** The emulator's organisation (`EMULATOR_ORGANIZATION_ID`, fixed at its first start). */
  organizationId: UuidSchema,
  /** The project every namespace, grant and route belongs to. */
  projectId: UuidSchema,
  region: v.optional(v.picklist(['fr-par', 'nl-ams', 'pl-waw']), 'fr-par'),
  /**
   * The four applications, by role: `gateway` bears `IAM_API_TOKEN`, `origin` bears
   * `ORIGIN_AUTH_TOKEN` (both keys minted through the emulator's IAM API);
   * `demo` and `noGrant` bear the client keys minted through the gateway's admin API.
   */
  applications: v.strictObject({ gateway: ApplicationSchema, origin: ApplicationSchema, demo: ApplicationSchema, noGrant: ApplicationSchema }),
  namespaces: v.strictObject({ functions: v.strictObject({ name: ServerlessName }), containers: v.strictObject({ name: ServerlessName }) }),
  functions: v.array(v.strictObject({ ...WorkloadSchema, runtime: v.optional(v.string(), 'node22') })),
  containers: v.array(v.strictObject({ ...WorkloadSchema, registryImage: v.optional(v.string()) })),
  /** A legacy token on the whole namespace of `product`, minted through the gateway (which captures the namespace key). */
  legacyToken: v.strictObject({ product: v.picklist(['functions', 'containers']), description: v.optional(v.string(), '') }),
  /** Routes; each target names a function or container of the fixture, completed with its ids at seeding. */
  routes: v.pipe(
    v.array(
      v.strictObject({
        id: RouteSchema.entries.id,
        paths: RouteSchema.entries.paths,
        methods: RouteSchema.entries.methods,
        stripPath: v.optional(v.boolean()),
        auth: RouteSchema.entries.auth,
        target: v.strictObject({ kind: v.picklist(['function', 'container']), name: ServerlessName }),
      }),
    ),
    v.minLength(1, 'must hold at least one route'),
  ),
})

/** A valid local-stack fixture. */
export type LocalStackFixture = v.InferOutput<typeof LocalStackFixtureSchema>
/** An application role, also its name in the secrets file. */
export type ApplicationRole = keyof LocalStackFixture['applications']
/** The application roles, in seeding order. */
export const APPLICATION_ROLES: readonly ApplicationRole[] = ['gateway', 'origin', 'demo', 'noGrant']
/** A route of the fixture, before its target is resolved. */
export type FixtureRoute = LocalStackFixture['routes'][number]

/** The fixture file is missing, is not JSON, or does not fit {@link LocalStackFixtureSchema}. */
export class FixtureError extends Error {
  override readonly name = 'FixtureError'
}

/**
 * Reads and checks a local-stack fixture file.
 *
 * @throws {FixtureError} naming the file and the first bad field (e.g. `applications.demo.name`).
 * @example
 * ```ts
 * const fixture = await readLocalStackFixture('fixtures/local-stack.json')
 * ```
 */
export async function readLocalStackFixture(path: string): Promise<LocalStackFixture> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new FixtureError(`${path}: cannot read the fixture file (${(cause as Error).message})`, { cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new FixtureError(`${path}: not valid JSON (${(cause as Error).message})`, { cause })
  }
  return parseLocalStackFixture(json, path)
}

/**
 * Checks a parsed fixture: its shape, then what the shape cannot say (grants on
 * this organisation, route targets that exist, distinct names).
 *
 * @param source Named in error messages (a file path).
 * @throws {FixtureError} naming the first bad field.
 */
export function parseLocalStackFixture(json: unknown, source: string): LocalStackFixture {
  const parsed = v.safeParse(LocalStackFixtureSchema, json)
  const fail = (field: string, message: string): never => {
    throw new FixtureError(`${source}: invalid field "${field}": ${message}`)
  }
  if (!parsed.success) return fail(v.getDotPath(parsed.issues[0]) ?? '(top level)', parsed.issues[0].message)
  const fixture = parsed.output
  for (const role of APPLICATION_ROLES) {
    fixture.applications[role].grants.forEach((grant, index) => {
      if (grant.scope.type === 'organization' && grant.scope.organizationId !== fixture.organizationId) {
        fail(`applications.${role}.grants.${index}.scope.organizationId`, `must be the fixture's organizationId ${fixture.organizationId}`)
      }
    })
  }
  const names = new Set(APPLICATION_ROLES.map((role) => fixture.applications[role].name))
  if (names.size !== APPLICATION_ROLES.length) fail('applications', 'the four applications need distinct names')
  for (const kind of ['functions', 'containers'] as const) {
    const seen = new Set<string>()
    fixture[kind].forEach((item, index) => {
      if (seen.has(item.name)) fail(`${kind}.${index}.name`, `"${item.name}" appears twice`)
      seen.add(item.name)
    })
  }
  fixture.routes.forEach((route, index) => {
    const list = route.target.kind === 'function' ? fixture.functions : fixture.containers
    if (!list.some((item) => item.name === route.target.name)) fail(`routes.${index}.target.name`, `no ${route.target.kind} named "${route.target.name}" in the fixture`)
  })
  return fixture
}

/** An IAM rule as the emulator's `POST /iam/v1alpha1/policies` takes it. */
export interface RuleSpec {
  permission_set_names: string[]
  project_ids?: string[]
  organization_id?: string
  condition?: string
}

/** One grant of the fixture as an IAM rule (the sync compiles it back into the same grant). */
export function grantToRule(grant: Grant): RuleSpec {
  const scope = grant.scope.type === 'projects' ? { project_ids: grant.scope.projectIds } : { organization_id: grant.scope.organizationId }
  return { permission_set_names: grant.permissionSets, ...scope, ...(grant.condition ? { condition: grant.condition } : {}) }
}

/** The ids the emulator gave the fixture's namespaces and workloads. */
export interface WorkloadIds {
  namespaces: { functions: string; containers: string }
  functions: Readonly<Record<string, string>>
  containers: Readonly<Record<string, string>>
}

/**
 * The gateway's routes: each fixture target becomes the emulator's platform
 * endpoint of that function or container (`{emulatorUrl}/platform/functions/{id}`),
 * with its namespace and resource ids (which legacy tokens and `resource.*` need).
 *
 * @throws {FixtureError} when a target has no id (the fixture changed since the first start).
 */
export function buildRoutes(fixture: LocalStackFixture, ids: WorkloadIds, emulatorUrl: string): Route[] {
  const routes = fixture.routes.map((route): v.InferInput<typeof RouteSchema> => {
    const product = route.target.kind === 'function' ? 'functions' : 'containers'
    const resourceId = ids[product][route.target.name]
    if (!resourceId) throw new FixtureError(`route "${route.id}": the ${route.target.kind} "${route.target.name}" was not created; after editing the fixture, reset the stack (rm -rf the state directory)`)
    const workload = fixture[product].find((item) => item.name === route.target.name)!
    return {
      id: route.id,
      paths: route.paths,
      ...(route.methods ? { methods: route.methods } : {}),
      stripPath: route.stripPath ?? true,
      auth: route.auth,
      target: {
        url: `${emulatorUrl.replace(/\/+$/, '')}/platform/${product}/${resourceId}`,
        kind: route.target.kind,
        projectId: fixture.projectId,
        organizationId: fixture.organizationId,
        namespaceId: ids.namespaces[product],
        resourceId,
        resourceName: route.target.name,
        privacy: workload.privacy,
      },
    }
  })
  // Parsed as the admin API and the registry parse them, so equal routes compare equal.
  return v.parse(v.array(RouteSchema), routes)
}
