import { parseStored } from '../util/stored-json.js'
import * as v from 'valibot'
import { RouteSchema, type Route } from '../keyset/schema.js'
import type { CaptureEntry } from '../keyset/owner/records.js'
import type { CapturedKey } from './compile-keys.js'

/**
 * The gateway's own registry in KV: what it alone knows and IAM never returns
 * again (captured API-key digests, legacy namespace public keys), the routes
 * operators manage, and consumers, their JWT credentials and OIDC issuers
 * (src/sync/consumer-registry.ts, src/sync/oidc-registry.ts). docs/storage.md
 * lists each key.
 */
export const registryKeys = {
  apiKeyPrefix: 'registry/v1/api-key/',
  apiKey: (accessKey: string) => `registry/v1/api-key/${accessKey}`,
  namespaceKeyPrefix: 'registry/v1/namespace-key/',
  namespaceKey: (namespaceId: string) => `registry/v1/namespace-key/${namespaceId}`,
  routes: 'registry/v1/routes',
  /** A consumer document, by consumer id (docs/storage.md, "Consumers and JWT credentials"). */
  consumerPrefix: 'registry/v1/consumer/',
  consumer: (consumerId: string) => `registry/v1/consumer/${consumerId}`,
  /** Uniqueness index: SHA-256 hex of a username → consumer id. */
  consumerUsername: (usernameDigest: string) => `registry/v1/consumer-username/${usernameDigest}`,
  /** Uniqueness index: SHA-256 hex of a custom_id → consumer id. */
  consumerCustomId: (customIdDigest: string) => `registry/v1/consumer-custom-id/${customIdDigest}`,
  /** A JWT credential document, under its consumer. */
  jwtCredentialPrefix: 'registry/v1/jwt-credential/',
  jwtCredentialsOf: (consumerId: string) => `registry/v1/jwt-credential/${consumerId}/`,
  jwtCredential: (consumerId: string, credentialId: string) => `registry/v1/jwt-credential/${consumerId}/${credentialId}`,
  /** Uniqueness index: SHA-256 hex of a credential key → consumer and credential ids. */
  jwtKey: (keyDigest: string) => `registry/v1/jwt-key/${keyDigest}`,
  /** An OIDC issuer the operator trusts, by id. */
  oidcIssuerPrefix: 'registry/v1/oidc-issuer/',
  oidcIssuer: (issuerId: string) => `registry/v1/oidc-issuer/${issuerId}`,
} as const

const CapturedKeySchema = v.object({
  digest: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  kind: v.optional(v.picklist(['personal', 'ci', 'service'])),
  capturedAt: v.string(),
  via: v.picklist(['mint', 'register']),
})
export type CapturedKeyEntry = v.InferOutput<typeof CapturedKeySchema>

const NamespaceKeySchema = v.object({
  kind: v.picklist(['function', 'container']),
  publicKeyPem: v.pipe(v.string(), v.startsWith('-----BEGIN')),
  capturedAt: v.string(),
})
export type NamespaceKeyEntry = v.InferOutput<typeof NamespaceKeySchema>

/**
 * A capture endpoint would overwrite a digest or namespace key already captured,
 * and the caller did not ask for it (`replace`).
 */
export class CaptureExistsError extends Error {
  override readonly name = 'CaptureExistsError'
  constructor(
    readonly what: 'api-key' | 'namespace-key',
    readonly id: string,
  ) {
    super(what === 'api-key' ? `${id}: a digest is already captured for this key` : `${id}: a public key is already captured for this namespace`)
  }
}

/** Options of the capture writes. */
export interface CaptureOptions {
  /** Overwrite a different value already captured. Default false: {@link CaptureExistsError}. */
  replace?: boolean
}

/** The subset of KV the registry uses. */
export interface RegistryKv {
  get(key: string, options: { type: 'text' }): Promise<string | null>
  put(key: string, value: string, options?: { metadata?: unknown }): Promise<void>
  delete(key: string): Promise<void>
  list<M = unknown>(options: { prefix: string; cursor?: string | null; limit?: number }): Promise<{ keys: { name: string; metadata?: M }[]; list_complete: boolean; cursor?: string }>
}

/** Reads and writes the registry. */
export class Registry {
  constructor(private readonly kv: RegistryKv) {}

  /**
   * Every captured digest, by access key. Digests ride in the KV key's metadata,
   * so 100,000 keys cost 100 `list` calls, not 100,000 reads.
   */
  async capturedKeys(): Promise<Map<string, CapturedKey>> {
    const result = new Map<string, CapturedKey>()
    for await (const { name, metadata } of this.#list(registryKeys.apiKeyPrefix)) {
      const parsed = v.safeParse(CapturedKeySchema, metadata)
      if (parsed.success) result.set(name.slice(registryKeys.apiKeyPrefix.length), { digest: parsed.output.digest, kind: parsed.output.kind })
    }
    return result
  }

  /**
   * One page of captured digests (up to 1,000, in access-key order: KV lists keys
   * in order), for a sync that reads them across several steps. `last` is the last
   * access key the page listed, valid or not.
   */
  async capturedKeysPage(cursor?: string): Promise<{ entries: CaptureEntry[]; cursor?: string; done: boolean; last?: string }> {
    const page = await this.kv.list<unknown>({ prefix: registryKeys.apiKeyPrefix, ...(cursor ? { cursor } : {}), limit: 1000 })
    const entries: CaptureEntry[] = []
    for (const { name, metadata } of page.keys) {
      const parsed = v.safeParse(CapturedKeySchema, metadata)
      if (parsed.success) entries.push({ accessKey: name.slice(registryKeys.apiKeyPrefix.length), digest: parsed.output.digest, kind: parsed.output.kind, capturedAt: parsed.output.capturedAt })
    }
    const last = page.keys.at(-1)?.name.slice(registryKeys.apiKeyPrefix.length)
    return { entries, done: page.list_complete, ...(page.list_complete ? {} : { cursor: page.cursor }), ...(last ? { last } : {}) }
  }

  /**
   * Records the digest of a key's secret. KV has no compare-and-swap: two captures
   * racing in different locations may both pass the check; the last write wins.
   * @returns whether a different digest was replaced (the same digest again is not a replacement).
   * @throws {CaptureExistsError} when a different digest is captured and `replace` is not set.
   */
  async captureKey(accessKey: string, entry: CapturedKeyEntry, options: CaptureOptions = {}): Promise<{ replaced: boolean }> {
    const value = v.parse(CapturedKeySchema, entry)
    const existing = await this.capturedKey(accessKey)
    const replaced = existing !== undefined && existing.digest !== value.digest
    if (replaced && !options.replace) throw new CaptureExistsError('api-key', accessKey)
    await this.kv.put(registryKeys.apiKey(accessKey), JSON.stringify(value), { metadata: value })
    return { replaced }
  }

  /** The capture of one key; `undefined` when none (or unreadable, which a capture may then overwrite). */
  async capturedKey(accessKey: string): Promise<CapturedKeyEntry | undefined> {
    return parseStored(CapturedKeySchema, await this.kv.get(registryKeys.apiKey(accessKey), { type: 'text' }))
  }

  /** Forgets a key's digest. @returns whether there was one. */
  async forgetKey(accessKey: string): Promise<boolean> {
    const key = registryKeys.apiKey(accessKey)
    const existed = (await this.kv.get(key, { type: 'text' })) !== null
    if (existed) await this.kv.delete(key)
    return existed
  }

  /** Captured legacy namespace public keys, by namespace id. */
  async namespaceKeys(): Promise<Map<string, NamespaceKeyEntry>> {
    const result = new Map<string, NamespaceKeyEntry>()
    for await (const { name } of this.#list(registryKeys.namespaceKeyPrefix)) {
      const entry = parseStored(NamespaceKeySchema, await this.kv.get(name, { type: 'text' }))
      if (entry) result.set(name.slice(registryKeys.namespaceKeyPrefix.length), entry)
    }
    return result
  }

  /**
   * Records a namespace's public key (same race as {@link captureKey}).
   * @returns whether a different key was replaced.
   * @throws {CaptureExistsError} when a different key is captured and `replace` is not set.
   */
  async captureNamespaceKey(namespaceId: string, entry: NamespaceKeyEntry, options: CaptureOptions = {}): Promise<{ replaced: boolean }> {
    const value = v.parse(NamespaceKeySchema, entry)
    const existing = await this.capturedNamespaceKey(namespaceId)
    const replaced = existing !== undefined && existing.publicKeyPem.trim() !== value.publicKeyPem.trim()
    if (replaced && !options.replace) throw new CaptureExistsError('namespace-key', namespaceId)
    await this.kv.put(registryKeys.namespaceKey(namespaceId), JSON.stringify(value))
    return { replaced }
  }

  /** The captured public key of one namespace; `undefined` when none (or unreadable). */
  async capturedNamespaceKey(namespaceId: string): Promise<NamespaceKeyEntry | undefined> {
    return parseStored(NamespaceKeySchema, await this.kv.get(registryKeys.namespaceKey(namespaceId), { type: 'text' }))
  }

  /** The routes operators manage; `[]` before any were saved. A corrupt value is an error, not an empty table. */
  async routes(): Promise<Route[]> {
    const text = await this.kv.get(registryKeys.routes, { type: 'text' })
    if (text === null) return []
    const parsed = v.safeParse(v.array(RouteSchema), safeJson(text))
    if (!parsed.success) throw new Error(`registry routes are unreadable: ${v.summarize(parsed.issues).slice(0, 200)}`)
    return parsed.output
  }

  async saveRoutes(routes: Route[]): Promise<void> {
    await this.kv.put(registryKeys.routes, JSON.stringify(routes))
  }

  async *#list(prefix: string): AsyncGenerator<{ name: string; metadata?: unknown }> {
    let cursor: string | undefined
    do {
      const page = await this.kv.list({ prefix, ...(cursor ? { cursor } : {}), limit: 1000 })
      yield* page.keys
      cursor = page.list_complete ? undefined : page.cursor
    } while (cursor)
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
