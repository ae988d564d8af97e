/**
 * The local stack's fixture (`fixtures/local-stack.json`): the organisation,
 * project, API keys and routes that `npm start` seeds into the gateway's KV.
 * The fixture holds no secret; each key's secret comes from the stack's secrets
 * file, and only its digest reaches KV.
 */
import { readFile } from 'node:fs/promises'
import * as v from 'valibot'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { ApiKeyRecordSchema, GrantSchema, RouteSchema, UuidSchema, type KeySetSource } from '../../src/keyset/schema.js'

const NonEmpty = v.pipe(v.string(), v.minLength(1, 'must not be empty'))

const FixtureKeySchema = v.strictObject({
  description: v.optional(v.string()),
  /** The key's public identifier, `SCW` and 17 of [0-9A-Z]. */
  accessKey: ApiKeyRecordSchema.entries.accessKey,
  /** The IAM application the key belongs to (its bearer). */
  application: v.strictObject({ id: UuidSchema, name: NonEmpty }),
  /** The rules IAM gives the application, compiled as the sync would. */
  grants: v.array(GrantSchema),
})

/** The shape of `fixtures/local-stack.json`, checked when the file is read. */
export const LocalStackFixtureSchema = v.strictObject({
  $comment: v.optional(v.string()),
  /** Where the fixture's route targets expect the demo origins; targets under it follow the real origins port. */
  originsUrl: v.pipe(v.string(), v.url(), v.regex(/^https?:\/\/[^/?#]+$/, 'must be a scheme and host[:port], without a path')),
  organizationId: UuidSchema,
  projectId: UuidSchema,
  /** The two demo keys, by role: `demo` may invoke, `noGrant` is authenticated and then refused. */
  keys: v.strictObject({ demo: FixtureKeySchema, noGrant: FixtureKeySchema }),
  routes: v.pipe(v.array(RouteSchema), v.minLength(1, 'must hold at least one route')),
})

/** A valid local-stack fixture. */
export type LocalStackFixture = v.InferOutput<typeof LocalStackFixtureSchema>
/** The role of a key in the fixture, also its name in the secrets file. */
export type FixtureKeyName = keyof LocalStackFixture['keys']
/** One key of the fixture. */
export type FixtureKey = LocalStackFixture['keys'][FixtureKeyName]

/** The fixture file is missing, is not JSON, or does not fit {@link LocalStackFixtureSchema}. */
export class FixtureError extends Error {
  override readonly name = 'FixtureError'
}

/**
 * Reads and checks a local-stack fixture file.
 *
 * @throws {FixtureError} naming the file and the first bad field (e.g. `keys.demo.accessKey`).
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
 * Checks a parsed fixture: its shape, then what the shape cannot say (one project,
 * distinct access keys).
 *
 * @param source Named in error messages (a file path).
 * @throws {FixtureError} naming the first bad field.
 */
export function parseLocalStackFixture(json: unknown, source: string): LocalStackFixture {
  const parsed = v.safeParse(LocalStackFixtureSchema, json)
  if (!parsed.success) {
    const issue = parsed.issues[0]
    const field = v.getDotPath(issue) ?? '(top level)'
    throw new FixtureError(`${source}: invalid field "${field}": ${issue.message}`)
  }
  const fixture = parsed.output
  fixture.routes.forEach((route, index) => {
    if (route.target.projectId !== fixture.projectId) {
      throw new FixtureError(`${source}: invalid field "routes.${index}.target.projectId": must be the fixture's projectId ${fixture.projectId}`)
    }
  })
  if (fixture.keys.demo.accessKey === fixture.keys.noGrant.accessKey) {
    throw new FixtureError(`${source}: invalid field "keys.noGrant.accessKey": the two keys share the access key ${fixture.keys.demo.accessKey}`)
  }
  return fixture
}

/** The key roles of a fixture, in a stable order: the names their secrets are kept under. */
export const FIXTURE_KEY_NAMES: readonly FixtureKeyName[] = ['demo', 'noGrant']

/**
 * Moves a target URL under the fixture's `originsUrl` to where the origins really
 * listen; any other URL is kept as it is.
 */
export function rebaseTargetUrl(url: string, fixtureOriginsUrl: string, originsUrl: string): string {
  const base = fixtureOriginsUrl.replace(/\/+$/, '')
  if (url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`)) return `${originsUrl.replace(/\/+$/, '')}${url.slice(base.length)}`
  return url
}

/** Inputs of {@link buildKeySetSource} besides the fixture. */
export interface KeySetSourceInputs {
  /** The secret of each fixture key, by role. */
  apiKeySecrets: Readonly<Record<FixtureKeyName, string>>
  /** Where the demo origins listen now, e.g. `http://127.0.0.1:8789`. */
  originsUrl: string
}

/**
 * Builds the key set `writeKeySet` stores: routes on the running origins, the
 * project → organisation map, and each key under the digest of its secret.
 *
 * @example
 * ```ts
 * const source = await buildKeySetSource(fixture, { apiKeySecrets: secrets.apiKeys, originsUrl })
 * await writeKeySet(kv, source, { source: 'fixture' })
 * ```
 */
export async function buildKeySetSource(fixture: LocalStackFixture, inputs: KeySetSourceInputs): Promise<KeySetSource> {
  const apiKeys: KeySetSource['apiKeys'] = {}
  for (const name of FIXTURE_KEY_NAMES) {
    const key = fixture.keys[name]
    apiKeys[await apiKeyDigest(inputs.apiKeySecrets[name])] = {
      accessKey: key.accessKey,
      bearer: { type: 'application', id: key.application.id, name: key.application.name },
      organizationId: fixture.organizationId,
      expiresAt: null,
      grants: key.grants,
    }
  }
  return {
    projects: { [fixture.projectId]: fixture.organizationId },
    apiKeys,
    routes: fixture.routes.map((route) => ({
      ...route,
      target: { ...route.target, url: rebaseTargetUrl(route.target.url, fixture.originsUrl, inputs.originsUrl) },
    })),
  }
}
