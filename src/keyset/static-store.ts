import * as v from 'valibot'
import { canonicalJson } from './canonical-json.js'
import { sha256Hex } from './digest.js'
import { ApiKeyRecordSchema, ConfigPartSchema, LegacyPartSchema, type ApiKeyRecord, type KeySetSource } from './schema.js'
import { ConsumersPartSchema, OidcPartSchema } from './jwt-schema.js'
import type { KeySetStore, KeySetView } from './store.js'

function optional<S extends v.GenericSchema>(value: unknown, schema: S, what: string): v.InferOutput<S> | undefined {
  if (value === undefined) return undefined
  const parsed = v.safeParse(schema, value)
  if (!parsed.success) throw new TypeError(`staticKeySet: invalid ${what}: ${v.summarize(parsed.issues)}`)
  return parsed.output
}

/**
 * A key-set store that serves one fixed snapshot from memory: for Hono apps on
 * Node, Bun or Deno, and for tests. The snapshot is validated once, here. Its
 * `snapshotId` is derived from its content (SHA-256 of its canonical JSON), so a
 * store built from other content is another snapshot: swapping one store for
 * another with a key removed ends every cached verification of that key at once,
 * and a store rebuilt from the same content keeps them.
 *
 * @throws {TypeError} when the snapshot does not fit the key-set schema.
 * @example
 * ```ts
 * app.use('/api/*', edgeAuth({ keySet: staticKeySet(snapshot), target }))
 * ```
 */
export function staticKeySet(source: KeySetSource): KeySetStore {
  const config = v.safeParse(ConfigPartSchema, { routes: source.routes, projects: source.projects, resources: source.resources ?? {}, ...(source.legacySchedule ? { legacySchedule: source.legacySchedule } : {}) })
  if (!config.success) throw new TypeError(`staticKeySet: invalid snapshot: ${v.summarize(config.issues)}`)
  const legacy = optional(source.legacy, LegacyPartSchema, 'legacy-token data')
  const consumers = optional(source.consumers, ConsumersPartSchema, 'consumers')
  const oidc = optional(source.oidc, OidcPartSchema, 'OIDC issuers')
  const keys = new Map<string, ApiKeyRecord>()
  for (const [digest, record] of Object.entries(source.apiKeys)) {
    const parsed = v.safeParse(ApiKeyRecordSchema, record)
    if (!parsed.success || !/^[0-9a-f]{64}$/.test(digest)) {
      throw new TypeError(`staticKeySet: invalid API key entry ${parsed.success ? digest.slice(0, 8) : ''}…`)
    }
    keys.set(digest, parsed.output)
  }
  const generatedAt = new Date().toISOString()
  let view: KeySetView | undefined
  return {
    // The id needs WebCrypto, which is asynchronous: the first call computes it (two
    // concurrent first calls each compute their own, neither awaits the other's).
    current: async () => {
      if (view) return view
      const snapshotId = await contentId({ config: config.output, legacy, consumers, oidc, apiKeys: Object.fromEntries(keys) })
      return (view ??= {
        snapshotId,
        generatedAt,
        routes: config.output.routes,
        organizationOf: (projectId) => (Object.hasOwn(config.output.projects, projectId) ? config.output.projects[projectId] : undefined),
        resource: (id) => (Object.hasOwn(config.output.resources, id) ? config.output.resources[id] : undefined),
        legacySchedule: config.output.legacySchedule,
        legacy: async () => legacy,
        consumers: async () => consumers,
        oidc: async () => oidc,
        findApiKey: async (digest) => keys.get(digest),
      })
    },
  }
}

/** `static-` and 32 hex digits of the SHA-256 of the canonical JSON of the parsed content. */
async function contentId(content: unknown): Promise<string> {
  return `static-${(await sha256Hex(canonicalJson(content))).slice(0, 32)}`
}
