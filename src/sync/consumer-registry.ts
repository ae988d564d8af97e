import { parseStored } from '../util/stored-json.js'
/**
 * Consumers and their JWT credentials in the registry (Kong's consumers and jwt
 * credentials): one KV document per consumer and per credential, plus
 * uniqueness indexes keyed by the SHA-256 of a username, custom id or
 * credential key. docs/storage.md, "Consumers and JWT credentials".
 *
 * KV has no transactions: a uniqueness check is a read then a write, so two
 * creations racing in different locations may both succeed. The sync settles
 * such a tie deterministically (the oldest document wins; see
 * `buildConsumersPart`).
 */
import * as v from 'valibot'
import { sha256Hex } from '../keyset/digest.js'
import { ConsumerSchema, JwtCredentialSchema } from '../keyset/jwt-schema.js'
import { inParallel } from '../util/in-parallel.js'
import { registryKeys, type RegistryKv } from './registry.js'
import { getDocument, listAllDocuments, listDocuments, putDocument, type DocumentPage } from './registry-documents.js'

const IsoTime = v.pipe(v.string(), v.isoTimestamp())

/** A consumer as the registry stores it: the key-set shape plus when it was created. */
export const ConsumerEntrySchema = v.object({ ...ConsumerSchema.entries, createdAt: IsoTime })
export type ConsumerEntry = v.InferOutput<typeof ConsumerEntrySchema>

/**
 * A JWT credential as the registry stores it: the key-set shape (secret sealed)
 * plus when it was created and, once a rotation has replaced it, when it stops
 * working (`expiresAt`: the sync leaves it out of the key set from then on;
 * docs/consumers.md, "Rotating a credential").
 */
export const JwtCredentialEntrySchema = v.object({ ...JwtCredentialSchema.entries, createdAt: IsoTime, expiresAt: v.optional(IsoTime) })
export type JwtCredentialEntry = v.InferOutput<typeof JwtCredentialEntrySchema>

const PEM_HEADER = '-----BEGIN PUBLIC KEY-----'
const PEM_FOOTER = '-----END PUBLIC KEY-----'

/** The one PEM layout the registry stores (jose's `exportSPKI`: 64-character lines), so a key reads the same from a value and from metadata. */
export function canonicalSpkiPem(pem: string): string {
  const body = pem.replace(PEM_HEADER, '').replace(PEM_FOOTER, '').replace(/\s+/g, '')
  return `${PEM_HEADER}\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n${PEM_FOOTER}`
}

/**
 * A credential's metadata: the public key as its base64 body only (`spki`), which
 * saves the PEM armour and line breaks (an RSA-4096 key then fits KV's 1,024 bytes).
 */
function credentialMetadata(credential: JwtCredentialEntry): unknown {
  if (credential.publicKeyPem === undefined) return credential
  const { publicKeyPem, ...rest } = credential
  return { ...rest, spki: publicKeyPem.replace(PEM_HEADER, '').replace(PEM_FOOTER, '').replace(/\s+/g, '') }
}

function credentialFromMetadata(metadata: unknown): unknown {
  if (typeof metadata !== 'object' || metadata === null || typeof (metadata as { spki?: unknown }).spki !== 'string') return metadata
  const { spki, ...rest } = metadata as { spki: string }
  return { ...rest, publicKeyPem: canonicalSpkiPem(spki) }
}

const ConsumerIndexSchema = v.object({ consumerId: v.string() })
const KeyIndexSchema = v.object({ consumerId: v.string(), credentialId: v.string() })

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A username, custom id or credential key that another record already holds. */
export class RegistryConflictError extends Error {
  override readonly name = 'RegistryConflictError'
  constructor(
    readonly field: 'username' | 'custom_id' | 'key',
    message: string,
  ) {
    super(message)
  }
}

/** Reads and writes consumers and their JWT credentials. */
export class ConsumerRegistry {
  constructor(private readonly kv: RegistryKv) {}

  /**
   * Stores a new consumer after checking that its username (and custom id) are free.
   * @throws {RegistryConflictError} when another consumer holds the username or custom id.
   */
  async createConsumer(entry: ConsumerEntry): Promise<ConsumerEntry> {
    const consumer = v.parse(ConsumerEntrySchema, entry)
    const usernameKey = registryKeys.consumerUsername(await sha256Hex(consumer.username))
    const customIdKey = consumer.customId === undefined ? undefined : registryKeys.consumerCustomId(await sha256Hex(consumer.customId))
    if (await this.#indexedConsumer(usernameKey, (c) => c.username === consumer.username)) {
      throw new RegistryConflictError('username', `username: a consumer with this username already exists`)
    }
    if (customIdKey && (await this.#indexedConsumer(customIdKey, (c) => c.customId === consumer.customId))) {
      throw new RegistryConflictError('custom_id', `custom_id: a consumer with this custom_id already exists`)
    }
    // Indexes first: a consumer document is never visible without its claims.
    await this.kv.put(usernameKey, JSON.stringify({ consumerId: consumer.id }))
    if (customIdKey) await this.kv.put(customIdKey, JSON.stringify({ consumerId: consumer.id }))
    await putDocument(this.kv, registryKeys.consumer(consumer.id), consumer)
    return consumer
  }

  /** A consumer by id or, failing that, by username (as Kong looks them up). */
  async findConsumer(idOrUsername: string): Promise<ConsumerEntry | undefined> {
    if (UUID.test(idOrUsername)) {
      const byId = await getDocument(this.kv, registryKeys.consumer(idOrUsername.toLowerCase()), ConsumerEntrySchema)
      if (byId) return byId
    }
    return this.#indexedConsumer(registryKeys.consumerUsername(await sha256Hex(idOrUsername)), (c) => c.username === idOrUsername)
  }

  /** One page of consumers in id order; `limit` at most 1,000. */
  async listConsumers(options: { limit: number; cursor?: string | undefined }): Promise<DocumentPage<ConsumerEntry>> {
    return listDocuments(this.kv, registryKeys.consumerPrefix, ConsumerEntrySchema, options)
  }

  /** Every consumer, for the sync. */
  allConsumers(): Promise<{ documents: ConsumerEntry[]; unreadable: string[] }> {
    return listAllDocuments(this.kv, registryKeys.consumerPrefix, ConsumerEntrySchema)
  }

  /** Replaces a consumer's document (its username and custom id must not change). */
  async saveConsumer(entry: ConsumerEntry): Promise<ConsumerEntry> {
    const consumer = v.parse(ConsumerEntrySchema, entry)
    await putDocument(this.kv, registryKeys.consumer(consumer.id), consumer)
    return consumer
  }

  /**
   * Deletes a consumer and every credential it has: credentials first, so a
   * crash half-way leaves a consumer with fewer credentials, never credentials
   * without a consumer (which the sync would drop anyway).
   * @returns how many credentials were deleted.
   */
  async deleteConsumer(consumer: ConsumerEntry): Promise<number> {
    const credentials = await this.credentialsOf(consumer.id)
    await inParallel(credentials, 6, (credential) => this.deleteCredential(credential))
    await this.kv.delete(registryKeys.consumer(consumer.id))
    await this.#releaseIndex(registryKeys.consumerUsername(await sha256Hex(consumer.username)), ConsumerIndexSchema, (i) => i.consumerId === consumer.id)
    if (consumer.customId !== undefined) {
      await this.#releaseIndex(registryKeys.consumerCustomId(await sha256Hex(consumer.customId)), ConsumerIndexSchema, (i) => i.consumerId === consumer.id)
    }
    return credentials.length
  }

  /**
   * Stores a new credential after checking that its key is free across every consumer.
   * @throws {RegistryConflictError} when another credential holds the key.
   */
  async createCredential(entry: JwtCredentialEntry): Promise<JwtCredentialEntry> {
    const credential = v.parse(JwtCredentialEntrySchema, entry.publicKeyPem === undefined ? entry : { ...entry, publicKeyPem: canonicalSpkiPem(entry.publicKeyPem) })
    const indexKey = registryKeys.jwtKey(await sha256Hex(credential.key))
    const index = await this.#readIndex(indexKey, KeyIndexSchema)
    if (index) {
      const holder = await getDocument(this.kv, registryKeys.jwtCredential(index.consumerId, index.credentialId), JwtCredentialEntrySchema)
      if (holder?.key === credential.key) throw new RegistryConflictError('key', 'key: a JWT credential with this key already exists')
    }
    await this.kv.put(indexKey, JSON.stringify({ consumerId: credential.consumerId, credentialId: credential.id }))
    await putDocument(this.kv, registryKeys.jwtCredential(credential.consumerId, credential.id), credential, credentialMetadata(credential))
    return credential
  }

  /**
   * Replaces a credential (PATCH, or the expiry a rotation sets). A new key is
   * claimed in the index before the document changes, and the old key released
   * after, so a token naming either finds at most this credential.
   * @throws {RegistryConflictError} when another credential holds the new key.
   */
  async updateCredential(previous: JwtCredentialEntry, next: JwtCredentialEntry): Promise<JwtCredentialEntry> {
    if (next.id !== previous.id || next.consumerId !== previous.consumerId) throw new TypeError('updateCredential: the id and the consumer do not change')
    const credential = v.parse(JwtCredentialEntrySchema, next.publicKeyPem === undefined ? next : { ...next, publicKeyPem: canonicalSpkiPem(next.publicKeyPem) })
    const keyChanged = credential.key !== previous.key
    if (keyChanged) {
      const indexKey = registryKeys.jwtKey(await sha256Hex(credential.key))
      const index = await this.#readIndex(indexKey, KeyIndexSchema)
      if (index && index.credentialId !== credential.id) {
        const holder = await getDocument(this.kv, registryKeys.jwtCredential(index.consumerId, index.credentialId), JwtCredentialEntrySchema)
        if (holder?.key === credential.key) throw new RegistryConflictError('key', 'key: a JWT credential with this key already exists')
      }
      await this.kv.put(indexKey, JSON.stringify({ consumerId: credential.consumerId, credentialId: credential.id }))
    }
    await putDocument(this.kv, registryKeys.jwtCredential(credential.consumerId, credential.id), credential, credentialMetadata(credential))
    if (keyChanged) await this.#releaseIndex(registryKeys.jwtKey(await sha256Hex(previous.key)), KeyIndexSchema, (i) => i.credentialId === credential.id)
    return credential
  }

  /** A consumer's credentials, in id order. */
  async credentialsOf(consumerId: string): Promise<JwtCredentialEntry[]> {
    return (await listAllDocuments(this.kv, registryKeys.jwtCredentialsOf(consumerId), JwtCredentialEntrySchema, credentialFromMetadata)).documents
  }

  /** Every credential of every consumer, for the sync. */
  allCredentials(): Promise<{ documents: JwtCredentialEntry[]; unreadable: string[] }> {
    return listAllDocuments(this.kv, registryKeys.jwtCredentialPrefix, JwtCredentialEntrySchema, credentialFromMetadata)
  }

  /** A consumer's credential by id or, failing that, by key. */
  async findCredential(consumerId: string, idOrKey: string): Promise<JwtCredentialEntry | undefined> {
    if (UUID.test(idOrKey)) {
      const byId = await getDocument(this.kv, registryKeys.jwtCredential(consumerId, idOrKey.toLowerCase()), JwtCredentialEntrySchema)
      if (byId) return byId
    }
    const index = await this.#readIndex(registryKeys.jwtKey(await sha256Hex(idOrKey)), KeyIndexSchema)
    if (!index || index.consumerId !== consumerId) return undefined
    const byKey = await getDocument(this.kv, registryKeys.jwtCredential(consumerId, index.credentialId), JwtCredentialEntrySchema)
    return byKey?.key === idOrKey ? byKey : undefined
  }

  async deleteCredential(credential: JwtCredentialEntry): Promise<void> {
    await this.kv.delete(registryKeys.jwtCredential(credential.consumerId, credential.id))
    await this.#releaseIndex(registryKeys.jwtKey(await sha256Hex(credential.key)), KeyIndexSchema, (i) => i.credentialId === credential.id)
  }

  /** The consumer an index entry points to, if it still exists and still matches (an index may outlive a crashed delete). */
  async #indexedConsumer(indexKey: string, matches: (consumer: ConsumerEntry) => boolean): Promise<ConsumerEntry | undefined> {
    const index = await this.#readIndex(indexKey, ConsumerIndexSchema)
    if (!index) return undefined
    const consumer = await getDocument(this.kv, registryKeys.consumer(index.consumerId), ConsumerEntrySchema)
    return consumer && matches(consumer) ? consumer : undefined
  }

  async #readIndex<S extends v.GenericSchema>(key: string, schema: S): Promise<v.InferOutput<S> | undefined> {
    return parseStored(schema, await this.kv.get(key, { type: 'text' }))
  }

  /** Deletes an index entry only if it still points to the record being deleted. */
  async #releaseIndex<S extends v.GenericSchema>(key: string, schema: S, ours: (index: v.InferOutput<S>) => boolean): Promise<void> {
    const index = await this.#readIndex(key, schema)
    if (index === undefined || ours(index)) await this.kv.delete(key)
  }
}
