/**
 * One JSON document per KV key, with the document also in the key's metadata
 * when it fits: a `list` call then returns up to 1,000 documents and the sync
 * reads thousands of them in a few operations, while a change rewrites one
 * small value. docs/storage.md, "Registry documents".
 */
import * as v from 'valibot'
import { inParallel } from '../util/in-parallel.js'
import type { RegistryKv } from './registry.js'

/** Workers KV refuses metadata whose JSON is larger than this. */
export const KV_METADATA_MAX_BYTES = 1024

/** The metadata of a document too large to ride along: readers `get` the value. */
export const NOT_INLINE = { inline: false } as const

const encoder = new TextEncoder()

/**
 * Writes a document as the key's value, and as its metadata when its JSON fits
 * in 1,024 bytes. `metadata` is a more compact form of the same document, when
 * the caller has one (readers then pass the inverse as `fromMetadata`).
 */
export async function putDocument(kv: RegistryKv, key: string, document: unknown, metadata: unknown = document): Promise<void> {
  const fits = encoder.encode(JSON.stringify(metadata)).byteLength <= KV_METADATA_MAX_BYTES
  await kv.put(key, JSON.stringify(document), { metadata: fits ? metadata : NOT_INLINE })
}

/**
 * Reads one document; `undefined` when the key is absent.
 * @throws {RegistryDocumentError} when the value is not JSON or does not fit the schema.
 */
export async function getDocument<S extends v.GenericSchema>(kv: RegistryKv, key: string, schema: S): Promise<v.InferOutput<S> | undefined> {
  const text = await kv.get(key, { type: 'text' })
  if (text === null) return undefined
  return parseDocument(key, text, schema)
}

/** One page of documents under a prefix, in key order. */
export interface DocumentPage<T> {
  documents: { key: string; document: T }[]
  /** Keys whose value could not be read as a document (skipped). */
  unreadable: string[]
  /** Pass back to read the next page; absent on the last page. */
  cursor?: string
}

/**
 * Reads one page of documents: one `list` call, plus one `get` for each
 * document whose metadata does not hold it (too large, or written before
 * metadata was used).
 */
export async function listDocuments<S extends v.GenericSchema>(
  kv: RegistryKv,
  prefix: string,
  schema: S,
  options: { cursor?: string | undefined; limit?: number; fromMetadata?: (metadata: unknown) => unknown } = {},
): Promise<DocumentPage<v.InferOutput<S>>> {
  const page = await kv.list({ prefix, limit: options.limit ?? 1000, ...(options.cursor ? { cursor: options.cursor } : {}) })
  const slots: ({ key: string; document: v.InferOutput<S> } | undefined)[] = []
  const unreadable: string[] = []
  const toGet: { index: number; key: string }[] = []
  for (const { name, metadata } of page.keys) {
    const inline = v.safeParse(schema, options.fromMetadata ? options.fromMetadata(metadata) : metadata)
    if (inline.success) slots.push({ key: name, document: inline.output })
    else {
      toGet.push({ index: slots.length, key: name })
      slots.push(undefined)
    }
  }
  await inParallel(toGet, 6, async ({ index, key }) => {
    try {
      const document = await getDocument(kv, key, schema)
      // Deleted between the list and the get: nothing to read.
      if (document !== undefined) slots[index] = { key, document }
    } catch (error) {
      if (!(error instanceof RegistryDocumentError)) throw error
      unreadable.push(key)
    }
  })
  return {
    documents: slots.filter((slot): slot is { key: string; document: v.InferOutput<S> } => slot !== undefined),
    unreadable,
    ...(page.list_complete || !page.cursor ? {} : { cursor: page.cursor }),
  }
}

/** Every document under a prefix (pages of 1,000). */
export async function listAllDocuments<S extends v.GenericSchema>(
  kv: RegistryKv,
  prefix: string,
  schema: S,
  fromMetadata?: (metadata: unknown) => unknown,
): Promise<{ documents: v.InferOutput<S>[]; unreadable: string[] }> {
  const documents: v.InferOutput<S>[] = []
  const unreadable: string[] = []
  let cursor: string | undefined
  do {
    const page = await listDocuments(kv, prefix, schema, { cursor, ...(fromMetadata ? { fromMetadata } : {}) })
    for (const { document } of page.documents) documents.push(document)
    unreadable.push(...page.unreadable)
    cursor = page.cursor
  } while (cursor)
  return { documents, unreadable }
}

/** Every key name under a prefix. */
export async function listKeyNames(kv: RegistryKv, prefix: string): Promise<string[]> {
  const names: string[] = []
  let cursor: string | undefined
  do {
    const page = await kv.list({ prefix, limit: 1000, ...(cursor ? { cursor } : {}) })
    for (const { name } of page.keys) names.push(name)
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return names
}

/** A registry value that is not JSON or does not fit its schema. */
export class RegistryDocumentError extends Error {
  override readonly name = 'RegistryDocumentError'
}

function parseDocument<S extends v.GenericSchema>(key: string, text: string, schema: S): v.InferOutput<S> {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new RegistryDocumentError(`registry value ${key} is not JSON`)
  }
  const parsed = v.safeParse(schema, json)
  if (!parsed.success) throw new RegistryDocumentError(`registry value ${key} does not fit its schema: ${v.summarize(parsed.issues).slice(0, 200)}`)
  return parsed.output
}
